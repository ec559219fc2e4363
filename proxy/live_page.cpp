#include "proxy/live_page.hpp"

namespace cacheproxy {

// The page is plain HTML, CSS and JavaScript in one raw string: edit it as such.
const std::string_view kLivePage = R"page(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cacheproxy: live statistics</title>
<style>
  :root { --fg: #1d2330; --muted: #667085; --card: #ffffff; --bg: #f2f4f7; --line: #d0d5dd;
          --hit: #12a150; --miss: #e0702b; --reval: #2e6fd8; --err: #c8283c; --byte: #7a4fd0; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; justify-content: space-between; align-items: baseline; flex-wrap: wrap;
           padding: 12px 20px; background: var(--fg); color: #fff; }
  header h1 { font-size: 18px; margin: 0; }
  header span { color: #c9d0dc; }
  main { padding: 16px 20px; display: grid; gap: 14px;
         grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px;
            padding: 12px 14px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted);
       margin: 0 0 8px; }
  table { width: 100%; border-collapse: collapse; }
  td, th { padding: 2px 0; text-align: left; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  .big { font-size: 26px; font-weight: 600; }
  .bar { height: 8px; background: #e4e7ec; border-radius: 4px; overflow: hidden; margin: 4px 0 8px; }
  .bar div { height: 100%; background: var(--reval); width: 0; }
  canvas { width: 100%; height: 200px; display: block; }
  .legend span { margin-right: 12px; } .legend i { display: inline-block; width: 10px;
    height: 10px; margin-right: 4px; border-radius: 2px; }
  #status.error { color: var(--err); font-weight: 600; }
  .hosts td:first-child { max-width: 260px; overflow: hidden; text-overflow: ellipsis;
    white-space: nowrap; }
</style>
</head>
<body data-drawn="0" data-updates="0">
<header>
  <h1>cacheproxy <span id="version"></span></h1>
  <span>up <b id="uptime">-</b> &middot; <span id="status">loading /stats&hellip;</span></span>
</header>
<main>
  <section>
    <h2>Request hit ratio</h2>
    <div class="big" id="req-ratio-now">-</div>
    <table>
      <tr><td>last 5 min</td><td class="n" id="req-ratio-5m">-</td></tr>
      <tr><td>last 60 min</td><td class="n" id="req-ratio-60m">-</td></tr>
      <tr><td>since start</td><td class="n" id="req-ratio-all">-</td></tr>
    </table>
  </section>
  <section>
    <h2>Byte hit ratio</h2>
    <div class="big" id="byte-ratio-now">-</div>
    <table>
      <tr><td>last 5 min</td><td class="n" id="byte-ratio-5m">-</td></tr>
      <tr><td>last 60 min</td><td class="n" id="byte-ratio-60m">-</td></tr>
      <tr><td>since start</td><td class="n" id="byte-ratio-all">-</td></tr>
    </table>
  </section>
  <section>
    <h2>Requests per second</h2>
    <div class="big" id="rps-now">-</div>
    <table>
      <tr><td>last 5 min</td><td class="n" id="rps-5m">-</td></tr>
      <tr><td>last 60 min</td><td class="n" id="rps-60m">-</td></tr>
      <tr><td>requests in total</td><td class="n" id="requests">-</td></tr>
    </table>
  </section>
  <section>
    <h2>Results since start</h2>
    <table>
      <tr><td>memory hits</td><td class="n" id="memory-hits">-</td></tr>
      <tr><td>disk hits</td><td class="n" id="disk-hits">-</td></tr>
      <tr><td>revalidated (304)</td><td class="n" id="revalidated">-</td></tr>
      <tr><td>misses</td><td class="n" id="misses">-</td></tr>
      <tr><td>errors (5xx by the proxy)</td><td class="n" id="errors">-</td></tr>
      <tr><td>denied</td><td class="n" id="denied">-</td></tr>
    </table>
  </section>
  <section>
    <h2>Cache</h2>
    <table>
      <tr><td>disk</td><td class="n"><span id="disk-bytes">-</span> of <span id="disk-budget">-</span></td></tr>
    </table>
    <div class="bar"><div id="disk-fill"></div></div>
    <table>
      <tr><td>memory</td><td class="n"><span id="memory-bytes">-</span> of <span id="memory-budget">-</span></td></tr>
    </table>
    <div class="bar"><div id="memory-fill"></div></div>
    <table>
      <tr><td>objects on disk</td><td class="n" id="disk-entries">-</td></tr>
      <tr><td>objects in memory</td><td class="n" id="memory-entries">-</td></tr>
      <tr><td>evictions</td><td class="n" id="evictions">-</td></tr>
    </table>
  </section>
  <section>
    <h2>Connections</h2>
    <table>
      <tr><td>client connections open</td><td class="n" id="connections">-</td></tr>
      <tr><td>CONNECT tunnels open</td><td class="n" id="tunnels">-</td></tr>
      <tr><td>tunnels in total</td><td class="n" id="tunnels-total">-</td></tr>
      <tr><td>connections in total</td><td class="n" id="connections-total">-</td></tr>
    </table>
  </section>
  <section class="wide">
    <h2>Requests per second, by result (10 s steps, last hour)</h2>
    <div class="legend"><span><i style="background:var(--hit)"></i>hits</span><span><i
      style="background:var(--reval)"></i>revalidated</span><span><i
      style="background:var(--miss)"></i>misses</span><span><i
      style="background:var(--err)"></i>errors</span></div>
    <canvas id="chart-requests" width="1000" height="200"></canvas>
  </section>
  <section class="wide">
    <h2>Hit ratios (10 s steps, last hour)</h2>
    <div class="legend"><span><i style="background:var(--hit)"></i>request hit ratio</span><span><i
      style="background:var(--byte)"></i>byte hit ratio</span></div>
    <canvas id="chart-ratios" width="1000" height="200"></canvas>
  </section>
  <section class="wide hosts">
    <h2>Top hosts by requests</h2>
    <table><thead><tr><th>host</th><th class="n">requests</th><th class="n">bytes saved</th></tr></thead>
      <tbody id="top-requests"></tbody></table>
  </section>
  <section class="wide hosts">
    <h2>Top hosts by bytes saved</h2>
    <table><thead><tr><th>host</th><th class="n">bytes saved</th><th class="n">requests</th></tr></thead>
      <tbody id="top-saved"></tbody></table>
  </section>
</main>
<script>
"use strict";
const POLL_MS = 3000;
const COLORS = { hit: [18, 161, 80], reval: [46, 111, 216], miss: [224, 112, 43],
                 err: [200, 40, 60], byte: [122, 79, 208] };
const rgb = c => `rgb(${c[0]},${c[1]},${c[2]})`;

function percent(x) { return (100 * x).toFixed(1) + " %"; }
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(1)) + " " + units[i];
}
function duration(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
  const m = Math.floor(s % 3600 / 60), sec = Math.floor(s % 60);
  return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + sec + "s";
}
// Shows `text` and keeps the raw number in data-value, for scripts and tests.
function show(id, value, text) {
  const el = document.getElementById(id);
  el.textContent = text === undefined ? String(value) : text;
  el.dataset.value = String(value);
}

function hostRows(id, rows, first, second, fmt1, fmt2) {
  const body = document.getElementById(id);
  body.replaceChildren();
  for (const row of rows) {
    const tr = document.createElement("tr");
    tr.dataset.host = row.host;
    tr.dataset.requests = String(row.requests);
    tr.dataset.bytesSaved = String(row.bytes_saved);
    for (const [text, cls] of [[row.host, ""], [fmt1(row[first]), "n"], [fmt2(row[second]), "n"]]) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  }
}

// Per-step figures from consecutive cumulative samples (fields as /stats lists them).
function steps(history) {
  const points = history.samples.concat([history.current]);
  const out = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1], b = points[i];
    const dt = (b[0] - a[0]) / 1000;
    if (dt <= 0) continue;
    const d = k => Math.max(0, b[k] - a[k]);
    const hits = d(2) + d(3), reval = d(4), misses = d(5), errors = d(6);
    const lookups = hits + reval + misses;
    const cached = d(7), fetched = d(8);
    out.push({ dt, hits: hits / dt, reval: reval / dt, misses: misses / dt, errors: errors / dt,
               reqRatio: lookups ? (hits + reval) / lookups : null,
               byteRatio: cached + fetched ? cached / (cached + fetched) : null });
  }
  return out;
}

function prepare(canvas) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  return ctx;
}
function axes(ctx, w, h, pad, maxLabel, minLabel) {
  ctx.strokeStyle = "#d0d5dd";
  ctx.lineWidth = 1;
  ctx.fillStyle = "#667085";
  ctx.font = "12px sans-serif";
  for (let i = 0; i <= 4; i++) {
    const y = Math.round(pad + (h - 2 * pad) * i / 4) + 0.5;
    ctx.beginPath(); ctx.moveTo(pad * 3, y); ctx.lineTo(w - pad, y); ctx.stroke();
  }
  ctx.fillText(maxLabel, 4, pad + 4);
  ctx.fillText(minLabel, 4, h - pad);
}
// Counts pixels of exactly `color`: proof that a series was drawn, not just the axes.
function pixelsOf(ctx, w, h, color) {
  const data = ctx.getImageData(0, 0, w, h).data;
  let n = 0;
  for (let i = 0; i < data.length; i += 4)
    if (data[i] === color[0] && data[i + 1] === color[1] && data[i + 2] === color[2]) n++;
  return n;
}

function drawRequests(list) {
  const canvas = document.getElementById("chart-requests");
  const ctx = prepare(canvas), w = canvas.width, h = canvas.height, pad = 10;
  let max = 0;
  for (const s of list) max = Math.max(max, s.hits + s.reval + s.misses + s.errors);
  max = max > 0 ? max * 1.1 : 1;
  axes(ctx, w, h, pad, max.toFixed(max < 10 ? 1 : 0) + "/s", "0");
  const left = pad * 3, width = w - pad - left, slots = Math.max(list.length, 60);
  const barW = Math.max(1, Math.floor(width / slots) - 1);
  list.forEach((s, i) => {
    let y = h - pad;
    const x = left + Math.floor((slots - list.length + i) * width / slots);
    for (const [value, color] of [[s.hits, COLORS.hit], [s.reval, COLORS.reval],
                                  [s.misses, COLORS.miss], [s.errors, COLORS.err]]) {
      const bh = Math.round(value / max * (h - 2 * pad));
      if (bh <= 0) continue;
      ctx.fillStyle = rgb(color);
      ctx.fillRect(x, y - bh, barW, bh);
      y -= bh;
    }
  });
  let drawn = 0;
  for (const c of [COLORS.hit, COLORS.reval, COLORS.miss, COLORS.err]) drawn += pixelsOf(ctx, w, h, c);
  canvas.dataset.seriesPixels = String(drawn);
  return drawn;
}

function drawRatios(list) {
  const canvas = document.getElementById("chart-ratios");
  const ctx = prepare(canvas), w = canvas.width, h = canvas.height, pad = 10;
  axes(ctx, w, h, pad, "100%", "0%");
  const left = pad * 3, width = w - pad - left, slots = Math.max(list.length, 60);
  let drawn = 0;
  for (const [key, color] of [["reqRatio", COLORS.hit], ["byteRatio", COLORS.byte]]) {
    ctx.fillStyle = rgb(color);
    ctx.strokeStyle = rgb(color);
    ctx.lineWidth = 2;
    ctx.beginPath();
    let started = false;
    list.forEach((s, i) => {
      if (s[key] === null) return;
      const x = left + Math.floor((slots - list.length + i + 0.5) * width / slots);
      const y = Math.round(h - pad - s[key] * (h - 2 * pad));
      if (started) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      started = true;
      ctx.fillRect(x - 2, y - 2, 5, 5);  // a dot per step: one step is visible too
    });
    ctx.stroke();
    drawn += pixelsOf(ctx, w, h, color);
  }
  canvas.dataset.seriesPixels = String(drawn);
  return drawn;
}

function render(s) {
  show("version", s.version);
  show("uptime", s.uptime_seconds, duration(s.uptime_seconds));
  const win = s.windows;
  for (const [key, name] of [["now", "now"], ["5m", "5m"], ["60m", "60m"]]) {
    show("req-ratio-" + name, win[key].request_hit_ratio, percent(win[key].request_hit_ratio));
    show("byte-ratio-" + name, win[key].byte_hit_ratio, percent(win[key].byte_hit_ratio));
    show("rps-" + name, win[key].requests_per_second, win[key].requests_per_second.toFixed(2));
  }
  show("req-ratio-all", s.request_hit_ratio, percent(s.request_hit_ratio));
  show("byte-ratio-all", s.byte_hit_ratio, percent(s.byte_hit_ratio));
  show("requests", s.requests);
  show("memory-hits", s.memory_hits);
  show("disk-hits", s.disk_hits);
  show("revalidated", s.refresh_unmodified);
  show("misses", s.misses);
  show("errors", s.errors);
  show("denied", s.denied);
  const c = s.cache;
  show("disk-bytes", c.disk_bytes, bytes(c.disk_bytes));
  show("disk-budget", c.disk_budget_bytes, bytes(c.disk_budget_bytes));
  show("memory-bytes", c.memory_bytes, bytes(c.memory_bytes));
  show("memory-budget", c.memory_budget_bytes, bytes(c.memory_budget_bytes));
  show("disk-entries", c.disk_entries);
  show("memory-entries", c.memory_entries);
  show("evictions", c.evictions);
  document.getElementById("disk-fill").style.width =
      Math.min(100, 100 * c.disk_bytes / Math.max(1, c.disk_budget_bytes)) + "%";
  document.getElementById("memory-fill").style.width =
      Math.min(100, 100 * c.memory_bytes / Math.max(1, c.memory_budget_bytes)) + "%";
  show("connections", s.active_connections);
  show("tunnels", s.tunnels_active);
  show("tunnels-total", s.tunnels);
  show("connections-total", s.client_connections);
  hostRows("top-requests", s.top_hosts.by_requests, "requests", "bytes_saved", String, bytes);
  hostRows("top-saved", s.top_hosts.by_bytes_saved, "bytes_saved", "requests", bytes, String);
  const list = steps(s.history);
  const a = drawRequests(list), b = drawRatios(list);
  document.body.dataset.drawn = a > 0 && b > 0 ? "1" : "0";
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const response = await fetch("/stats", { cache: "no-store" });
    if (!response.ok) throw new Error("/stats answered " + response.status);
    render(await response.json());
    document.body.dataset.updates = String(Number(document.body.dataset.updates) + 1);
    status.className = "";
    status.textContent = "updated " + new Date().toLocaleTimeString();
  } catch (e) {
    status.className = "error";
    status.textContent = "cannot read /stats: " + e.message;
  }
}
poll();
setInterval(poll, POLL_MS);
</script>
</body>
</html>
)page";

}  // namespace cacheproxy
