#!/usr/bin/python3
"""Hit-ratio benchmark: replay a request trace through a caching proxy and measure it.

The script starts a synthetic origin on 127.0.0.1 (its own process) that serves, for every
trace key, /obj/<key>?s=<size> with a body of exactly <size> bytes, Cache-Control:
max-age=86400, an ETag and a Last-Modified, and counts what reaches it. It then starts the
proxy (cacheproxy from build-bench/, or Debian's Squid, each with a fresh cache of the given
byte size), replays the trace through it over keep-alive connections, and reports:

  * request and byte hit ratio as measured at the origin (a request the origin never saw is
    a hit; conditional requests are counted apart as revalidations),
  * throughput and latency percentiles seen by the client,
  * the proxy's own counters (cacheproxy /stats, Squid's cache manager and access.log),
    next to the origin's figures, with a check that they agree,
  * offline bounds computed from the trace alone: infinite cache, LRU, GDSF, Belady
    (farthest next use) and Belady-Size (largest size x distance to next use), and each
    measured result as a fraction of Belady.

--sweep runs cache sizes of 1, 5, 10 and 25% of the trace's unique bytes and writes a
markdown table, JSON and PNG plots under --out. --render FILE.json redraws them from saved
JSON without running anything.

All traffic stays on 127.0.0.1. Every process the script starts is stopped before it exits.
See docs/BENCHMARKS.md.
"""

import argparse
import asyncio
import collections
import email.utils
import hashlib
import heapq
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_BIN = REPO / "build-bench" / "proxy" / "cacheproxy"
SQUID_BIN = "/usr/sbin/squid"
LOOPBACK = "127.0.0.1"
SWEEP_PERCENTS = (1, 5, 10, 25)
MiB = 1 << 20

# --------------------------------------------------------------------------------------------
# Traces
# --------------------------------------------------------------------------------------------


class Trace:
    """A request sequence: ids[i] is the object of request i, size[obj] its body size."""

    def __init__(self, name, names, ids, size):
        self.name = name
        self.names = names  # object id -> key string used in the URL
        self.ids = ids
        self.size = size

    def __len__(self):
        return len(self.ids)

    def head(self, n):
        if n is None or n >= len(self.ids):
            return self
        ids = self.ids[:n]
        used = sorted(set(ids))
        remap = {old: new for new, old in enumerate(used)}
        return Trace(self.name, [self.names[o] for o in used], [remap[i] for i in ids],
                     [self.size[o] for o in used])

    def stats(self):
        counts = collections.Counter(self.ids)
        unique_bytes = sum(self.size)
        requested = sum(self.size[i] for i in self.ids)
        sizes = sorted(self.size)
        return {
            "requests": len(self.ids),
            "unique_objects": len(self.size),
            "one_hit_objects": sum(1 for c in counts.values() if c == 1),
            "unique_bytes": unique_bytes,
            "requested_bytes": requested,
            "size_median": sizes[len(sizes) // 2] if sizes else 0,
            "size_max": sizes[-1] if sizes else 0,
        }


def load_trace(path, fmt="auto"):
    """Reads the TSV format of shared/traces (timestamp, key, size) or a Squid native
    access.log (time elapsed client code/status bytes method URL ...)."""
    with open(path, "r", encoding="utf-8", errors="replace") as f:
        lines = [ln for ln in f if ln.strip() and not ln.startswith("#")]
    if fmt == "auto":
        first = lines[0] if lines else ""
        fmt = "tsv" if len(first.rstrip("\n").split("\t")) == 3 else "squid"
    index, names, size, ids = {}, [], [], []

    def add(key, nbytes):
        obj = index.get(key)
        if obj is None:
            obj = index[key] = len(names)
            names.append(key)
            size.append(nbytes)
        elif nbytes > size[obj]:
            size[obj] = nbytes  # as the TSV traces: the largest size logged for the key
        ids.append(obj)

    if fmt == "tsv":
        for ln in lines:
            parts = ln.rstrip("\n").split("\t")
            if len(parts) != 3:
                raise SystemExit(f"{path}: not a timestamp<TAB>key<TAB>size line: {ln!r}")
            add(parts[1], int(parts[2]))
    elif fmt == "squid":
        for ln in lines:
            f = ln.split()
            if len(f) < 7 or f[5] != "GET" or "/" not in f[3]:
                continue
            status = f[3].split("/", 1)[1]
            if not (status.startswith("2") or status == "304"):
                continue
            url = f[6]
            # URLs may hold anything; the replay needs a path-safe stable key.
            add(hashlib.sha1(url.encode()).hexdigest()[:16], int(f[4]))
    else:
        raise SystemExit(f"unknown trace format {fmt}")
    # Keys whose every logged response was empty have nothing to cache: drop them.
    if any(s <= 0 for s in size):
        keep = [i for i in range(len(size)) if size[i] > 0]
        remap = {old: new for new, old in enumerate(keep)}
        ids = [remap[i] for i in ids if i in remap]
        names = [names[i] for i in keep]
        size = [size[i] for i in keep]
    if not ids:
        raise SystemExit(f"{path}: no usable requests")
    return Trace(Path(path).stem, names, ids, size)


# --------------------------------------------------------------------------------------------
# Offline bounds (no proxy): every simulation caches whole objects under a byte budget that
# counts body bytes only; an object larger than the budget is never cached.
# --------------------------------------------------------------------------------------------

NEVER = float("inf")


def next_uses(ids):
    """nxt[i] = index of the next request for ids[i] after i, or NEVER."""
    nxt = [NEVER] * len(ids)
    last = {}
    for i in range(len(ids) - 1, -1, -1):
        nxt[i] = last.get(ids[i], NEVER)
        last[ids[i]] = i
    return nxt


def sim_infinite(trace):
    seen, hits, hit_bytes = set(), 0, 0
    for o in trace.ids:
        if o in seen:
            hits += 1
            hit_bytes += trace.size[o]
        else:
            seen.add(o)
    return hits, hit_bytes


def sim_lru(trace, cap):
    cache = collections.OrderedDict()
    used = hits = hit_bytes = 0
    size = trace.size
    for o in trace.ids:
        if o in cache:
            cache.move_to_end(o)
            hits += 1
            hit_bytes += size[o]
            continue
        s = size[o]
        if s > cap:
            continue
        cache[o] = True
        used += s
        while used > cap:
            victim, _ = cache.popitem(last=False)
            used -= size[victim]
    return hits, hit_bytes


def sim_gdsf(trace, cap):
    """GreedyDual-Size-Frequency (Cherkasova 1998), cost 1: priority = L + freq / size,
    evict the lowest, L = the evicted priority. Squid's 'heap GDSF' is this idea."""
    size = trace.size
    prio, freq, heap = {}, {}, []
    clock = 0.0
    used = hits = hit_bytes = 0
    for o in trace.ids:
        s = size[o]
        if o in prio:
            hits += 1
            hit_bytes += s
            freq[o] += 1
        else:
            if s > cap:
                continue
            freq[o] = 1
            used += s
        p = clock + freq[o] / s
        prio[o] = p
        heapq.heappush(heap, (p, o))
        while used > cap:
            p, v = heapq.heappop(heap)
            if prio.get(v) != p:
                continue  # stale entry
            clock = p
            del prio[v]
            del freq[v]
            used -= size[v]
    return hits, hit_bytes


def sim_belady(trace, cap, nxt):
    """Belady with bypass: on a miss the object is admitted, then while over budget the
    cached object (the new one included) whose next request is farthest away is evicted."""
    size = trace.size
    cached, heap = {}, []
    used = hits = hit_bytes = 0
    for t, o in enumerate(trace.ids):
        n = nxt[t]
        if o in cached:
            hits += 1
            hit_bytes += size[o]
        else:
            if size[o] > cap or n == NEVER:
                continue  # never used again: Belady would evict it first
            used += size[o]
        cached[o] = n
        heapq.heappush(heap, (-n, o))
        while used > cap:
            negn, v = heapq.heappop(heap)
            if cached.get(v) != -negn:
                continue
            del cached[v]
            used -= size[v]
    return hits, hit_bytes


def sim_belady_size(trace, cap, nxt):
    """Belady-Size with bypass: on a miss the object is admitted, then while over budget the
    cached object (the new one included) with the largest size x (index of its next request
    - current index) is evicted; objects never requested again go first. Exact (no
    sampling)."""
    size = trace.size
    cached = {}  # object -> index of its next request (finite)
    dead = set()  # cached objects never requested again
    used = hits = hit_bytes = 0
    for t, o in enumerate(trace.ids):
        n = nxt[t]
        s = size[o]
        if o in cached:
            hits += 1
            hit_bytes += s
            if n == NEVER:
                del cached[o]
                dead.add(o)
            else:
                cached[o] = n
            continue
        if o in dead:  # cannot happen: dead objects are never requested again
            continue
        if s > cap or n == NEVER:
            continue
        cached[o] = n
        used += s
        while used > cap and dead:
            used -= size[dead.pop()]
        if used > cap:
            ranked = sorted(((size[v] * (nv - t), v) for v, nv in cached.items()), reverse=True)
            for _, v in ranked:
                del cached[v]
                used -= size[v]
                if used <= cap:
                    break
    return hits, hit_bytes


def offline_bounds(trace, cap, nxt=None, algos=("infinite", "lru", "gdsf", "belady",
                                                  "belady_size")):
    if nxt is None:
        nxt = next_uses(trace.ids)
    requests = len(trace.ids)
    req_bytes = sum(trace.size[o] for o in trace.ids)
    out = {}
    for name in algos:
        t0 = time.monotonic()
        if name == "infinite":
            h, hb = sim_infinite(trace)
        elif name == "lru":
            h, hb = sim_lru(trace, cap)
        elif name == "gdsf":
            h, hb = sim_gdsf(trace, cap)
        elif name == "belady":
            h, hb = sim_belady(trace, cap, nxt)
        elif name == "belady_size":
            h, hb = sim_belady_size(trace, cap, nxt)
        else:
            raise ValueError(name)
        out[name] = {"hits": h, "hit_bytes": hb, "request_hit_ratio": h / requests,
                     "byte_hit_ratio": hb / req_bytes if req_bytes else 0.0,
                     "seconds": round(time.monotonic() - t0, 2)}
    return out


# --------------------------------------------------------------------------------------------
# Synthetic origin (runs in its own process: `hitratio_bench.py __origin__`)
# --------------------------------------------------------------------------------------------

ORIGIN_CONTROL = "/_bench/counters"


def origin_main():
    counters = {"requests": 0, "full": 0, "full_bytes": 0, "conditional": 0,
                "not_modified": 0, "other": 0, "connections": 0}
    full_keys = collections.Counter()
    pattern = memoryview(bytes(range(256)) * 4096)  # 1 MiB of body bytes
    last_modified_ts = int(time.time()) - 7 * 86400
    last_modified = email.utils.formatdate(last_modified_ts, usegmt=True)
    date_cache = [0, ""]

    def http_date():
        now = int(time.time())
        if now != date_cache[0]:
            date_cache[0], date_cache[1] = now, email.utils.formatdate(now, usegmt=True)
        return date_cache[1]

    def head(status, reason, fields):
        lines = [f"HTTP/1.1 {status} {reason}", f"Date: {http_date()}"]
        lines += [f"{k}: {v}" for k, v in fields]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    async def session(reader, writer):
        counters["connections"] += 1
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        ConnectionError):
                    return
                lines = raw.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    return
                method, target, version = parts
                fields = {}
                for ln in lines[1:]:
                    if ":" in ln:
                        k, _, v = ln.partition(":")
                        fields[k.strip().lower()] = v.strip()
                if "content-length" in fields:
                    await reader.readexactly(int(fields["content-length"]))
                close = (fields.get("connection", "").lower() == "close"
                         or version == "HTTP/1.0"
                         and fields.get("connection", "").lower() != "keep-alive")
                path, _, query = target.partition("?")
                if path == ORIGIN_CONTROL:
                    body = json.dumps({**counters,
                                       "keys_fetched": len(full_keys)}).encode()
                    writer.write(head(200, "OK", [("Content-Type", "application/json"),
                                                  ("Content-Length", len(body)),
                                                  ("Cache-Control", "no-store")]) + body)
                    await writer.drain()
                    if close:
                        return
                    continue
                counters["requests"] += 1
                size = None
                if method in ("GET", "HEAD") and path.startswith("/obj/"):
                    for kv in query.split("&"):
                        if kv.startswith("s=") and kv[2:].isdigit():
                            size = int(kv[2:])
                if size is None:
                    counters["other"] += 1
                    writer.write(head(404, "Not Found", [("Content-Length", 0)]))
                    await writer.drain()
                    if close:
                        return
                    continue
                key = path[5:]
                etag = f'"{key}-{size}"'
                common = [("Cache-Control", "max-age=86400"), ("ETag", etag),
                          ("Last-Modified", last_modified)]
                inm = fields.get("if-none-match")
                ims = fields.get("if-modified-since")
                if inm is not None or ims is not None:
                    counters["conditional"] += 1
                    if inm is not None:
                        match = inm == "*" or etag in [t.strip().removeprefix("W/")
                                                       for t in inm.split(",")]
                    else:
                        parsed = email.utils.parsedate_to_datetime(ims) if ims else None
                        match = parsed is not None and parsed.timestamp() >= last_modified_ts
                    if match:
                        counters["not_modified"] += 1
                        writer.write(head(304, "Not Modified", common))
                        await writer.drain()
                        if close:
                            return
                        continue
                counters["full"] += 1
                full_keys[key] += 1
                fields_out = common + [("Content-Type", "application/octet-stream"),
                                       ("Content-Length", size)]
                if close:
                    fields_out.append(("Connection", "close"))
                writer.write(head(200, "OK", fields_out))
                if method == "GET":
                    counters["full_bytes"] += size
                    left = size
                    while left > 0:
                        n = min(left, len(pattern))
                        writer.write(pattern[:n])
                        left -= n
                        await writer.drain()
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def serve():
        server = await asyncio.start_server(session, LOOPBACK, 0, limit=1 << 16, backlog=512)
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        async with server:
            await server.serve_forever()

    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


# --------------------------------------------------------------------------------------------
# Processes and plain HTTP helpers (loopback only)
# --------------------------------------------------------------------------------------------


def check_loopback(host):
    try:
        addr = socket.gethostbyname(host)
    except OSError:
        raise SystemExit(f"cannot resolve {host}")
    if not addr.startswith("127."):
        raise SystemExit(f"refusing to send traffic to {host} ({addr}): loopback only")
    return addr


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def http_get(port, target, timeout=10.0, host=None):
    """One GET on a fresh connection to 127.0.0.1:port; returns (status, body bytes)."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as s:
        req = (f"GET {target} HTTP/1.1\r\nHost: {host or f'{LOOPBACK}:{port}'}\r\n"
               "Connection: close\r\nAccept: */*\r\n\r\n")
        s.sendall(req.encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    headpart, _, body = data.partition(b"\r\n\r\n")
    status = int(headpart.split(b" ", 2)[1]) if headpart else 0
    if b"transfer-encoding: chunked" in headpart.lower():
        out, rest = b"", body
        while rest:
            line, _, rest = rest.partition(b"\r\n")
            n = int(line.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out, rest = out + rest[:n], rest[n + 2:]
        body = out
    return status, body


class Managed:
    """A child process in its own process group, always stopped by stop()."""

    def __init__(self, name, argv, log_path, **kw):
        self.name = name
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=kw.pop("stdout", self.log), stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True, **kw)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, grace=15.0, first_signal=signal.SIGTERM):
        try:
            if self.alive():
                try:
                    os.killpg(self.proc.pid, first_signal)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            # The group may hold helpers (Squid's) even after the leader exited.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self.proc.poll() is None:
                self.proc.wait(timeout=5)
        finally:
            self.log.close()

    def log_tail(self, n=20):
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def wait_until(pred, timeout, what, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.log_tail()}")
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


class Origin:
    def __init__(self, workdir):
        self.proc = Managed("origin", [sys.executable, str(Path(__file__).resolve()),
                                       "__origin__"],
                            workdir / "origin.log", stdout=subprocess.PIPE)
        line = self.proc.proc.stdout.readline()
        if not line.strip().isdigit():
            self.proc.stop()
            raise RuntimeError(f"origin did not start: {self.proc.log_tail()}")
        self.port = int(line)

    def counters(self):
        status, body = http_get(self.port, ORIGIN_CONTROL)
        if status != 200:
            raise RuntimeError(f"origin counters: status {status}")
        return json.loads(body)

    def stop(self):
        self.proc.stop(grace=5)


# --------------------------------------------------------------------------------------------
# Proxies under test
# --------------------------------------------------------------------------------------------


class CacheProxy:
    kind = "cacheproxy"

    def __init__(self, workdir, cache_bytes, memory_bytes, binary, extra_args):
        if not Path(binary).exists():
            raise SystemExit(f"{binary} not found: build it with "
                             "'scripts/build.sh release build-bench'")
        self.port = free_port()
        self.access_log = workdir / "cacheproxy_access.log"
        self.argv = [str(binary), f"--listen={LOOPBACK}:{self.port}",
                     f"--cache-dir={workdir / 'cacheproxy_cache'}",
                     f"--cache-size={cache_bytes}", f"--memory-cache-size={memory_bytes}",
                     f"--access-log={self.access_log}", *extra_args]
        self.config = {"cache_size": cache_bytes, "memory_cache_size": memory_bytes,
                       "argv": self.argv}
        self.proc = Managed("cacheproxy", self.argv, workdir / "cacheproxy.log")
        wait_until(lambda: http_get(self.port, "/stats", timeout=2)[0] == 200, 30,
                   "cacheproxy /stats", self.proc)

    def stats(self):
        status, body = http_get(self.port, "/stats")
        return json.loads(body) if status == 200 else {"error": f"status {status}"}

    def summary(self, st):
        """The proxy's own view in the origin's terms."""
        return {
            "requests": st.get("requests"),
            "hits": (st.get("memory_hits", 0) + st.get("disk_hits", 0)),
            "memory_hits": st.get("memory_hits"),
            "disk_hits": st.get("disk_hits"),
            "misses": st.get("misses"),
            "revalidations": st.get("revalidations"),
            "refresh_unmodified": st.get("refresh_unmodified"),
            "refresh_modified": st.get("refresh_modified"),
            "bytes_from_cache": st.get("bytes_from_cache"),
            "bytes_from_origin": st.get("bytes_from_origin"),
            "errors": st.get("errors"),
            "stores": st.get("stores"),
            "store_aborts": st.get("store_aborts"),
            "stores_skipped": st.get("stores_skipped"),
            "evictions": st.get("cache", {}).get("evictions"),
            "disk_bytes": st.get("cache", {}).get("disk_bytes"),
            "disk_entries": st.get("cache", {}).get("disk_entries"),
            "memory_bytes": st.get("cache", {}).get("memory_bytes"),
        }

    def stop(self):
        self.proc.stop(grace=20)


class Squid:
    kind = "squid"

    def __init__(self, workdir, cache_bytes, memory_bytes, store_type, watermarks):
        if not Path(SQUID_BIN).exists():
            raise SystemExit(f"{SQUID_BIN} not found: apt-get install squid")
        self.dir = workdir / "squid"
        self.dir.mkdir()
        (self.dir / "cache").mkdir()
        self.port = free_port()
        self.disk_mib = max(1, round(cache_bytes / MiB))
        self.access_log = self.dir / "access.log"
        low, high = watermarks
        if store_type == "rock":
            cache_dir = f"cache_dir rock {self.dir / 'cache'} {self.disk_mib} max-size=8388608"
        else:
            cache_dir = f"cache_dir {store_type} {self.dir / 'cache'} {self.disk_mib} 16 64"
        conf = f"""# generated by scripts/hitratio_bench.py: a plain caching forward proxy on loopback
http_port {LOOPBACK}:{self.port}
visible_hostname hitratio-bench-squid
acl bench_clients src 127.0.0.1/32
http_access allow bench_clients
http_access deny all
{cache_dir}
cache_mem {memory_bytes} bytes
maximum_object_size 8 MB
minimum_object_size 0 bytes
cache_swap_low {low}
cache_swap_high {high}
# cache_replacement_policy and memory_replacement_policy are left at their default: lru
# No refresh_pattern overrides: the origin's max-age decides freshness.
refresh_pattern . 0 20% 4320
# Nothing leaves loopback: the origin is an IP literal, DNS would only go to 127.0.0.1.
dns_nameservers 127.0.0.1
pinger_enable off
icp_port 0
htcp_port 0
digest_generation off
via off
forwarded_for delete
strip_query_terms off
pid_filename {self.dir / 'squid.pid'}
access_log stdio:{self.access_log} squid
cache_log {self.dir / 'cache.log'}
cache_store_log none
coredump_dir {self.dir}
logfile_rotate 0
shutdown_lifetime 1 seconds
max_filedescriptors 4096
"""
        if os.geteuid() == 0:
            conf += "cache_effective_user proxy\n"
        self.conf = self.dir / "squid.conf"
        self.conf.write_text(conf)
        if os.geteuid() == 0:
            shutil.chown(workdir, "proxy", "proxy")
            for p in [self.dir, *self.dir.rglob("*")]:
                shutil.chown(p, "proxy", "proxy")
        self.config = {"cache_dir_mib": self.disk_mib, "cache_dir_bytes": self.disk_mib * MiB,
                       "cache_mem": memory_bytes, "store": store_type,
                       "cache_swap_low": low, "cache_swap_high": high,
                       "squid_conf": conf}
        init = subprocess.run([SQUID_BIN, "-N", "-z", "-f", str(self.conf)],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                              start_new_session=True)
        if init.returncode != 0:
            raise RuntimeError(f"squid -z failed: {init.stderr.decode(errors='replace')}")
        self.proc = Managed("squid", [SQUID_BIN, "-N", "-f", str(self.conf)],
                            workdir / "squid.log")
        wait_until(lambda: self._manager("counters") is not None, 60, "squid", self.proc)
        self.base = self._counters()

    def _manager(self, page):
        status, body = http_get(self.port, f"/squid-internal-mgr/{page}", timeout=5)
        return body.decode(errors="replace") if status == 200 else None

    def _counters(self):
        text = self._manager("counters") or ""
        out = {}
        for ln in text.splitlines():
            k, sep, v = ln.partition(" = ")
            if sep:
                try:
                    out[k.strip()] = float(v.strip())
                except ValueError:
                    pass
        return out

    def stats(self):
        now = self._counters()
        delta = {k: now[k] - self.base.get(k, 0) for k in now}
        codes = collections.Counter()
        code_bytes = collections.Counter()
        hier = collections.Counter()
        try:
            for ln in self.access_log.read_text(errors="replace").splitlines():
                f = ln.split()
                if len(f) > 8 and "/obj/" in f[6]:
                    code = f[3].split("/")[0]
                    codes[code] += 1
                    code_bytes[code] += int(f[4])
                    hier[f"{code} {f[8].split('/')[0]}"] += 1
        except OSError:
            pass
        storedir = [ln.strip() for ln in (self._manager("storedir") or "").splitlines()
                    if any(w in ln for w in ("Current Size", "Maximum Size", "Current entries",
                                             "Percent Used", "Store Entries",
                                             "Current Capacity"))]
        return {"counters_delta": delta, "storedir": storedir,
                "access_log_codes": dict(codes),
                "access_log_bytes": dict(code_bytes), "access_log_code_hier": dict(hier)}

    def summary(self, st):
        codes = st.get("access_log_codes", {})
        d = st.get("counters_delta", {})
        hit_codes = [c for c in codes if "HIT" in c and c != "TCP_REFRESH_UNMODIFIED"
                     and "REFRESH" not in c]
        hier = st.get("access_log_code_hier", {})
        return {
            "requests": sum(codes.values()),
            "hits": sum(codes[c] for c in hit_codes),
            # HIER_NONE: answered without contacting the origin (a TCP_MISS can be one, when
            # Squid joined another request's in-transit entry).
            "not_forwarded": sum(n for k, n in hier.items() if k.endswith("HIER_NONE")),
            "code_hier": hier,
            "memory_hits": codes.get("TCP_MEM_HIT", 0),
            "disk_hits": codes.get("TCP_HIT", 0),
            "misses": codes.get("TCP_MISS", 0),
            "refresh_unmodified": codes.get("TCP_REFRESH_UNMODIFIED", 0),
            "refresh_modified": codes.get("TCP_REFRESH_MODIFIED", 0),
            "mgr_client_requests": d.get("client_http.requests"),
            "mgr_client_hits": d.get("client_http.hits"),
            "mgr_server_requests": d.get("server.http.requests"),
            "mgr_hit_kbytes_out": d.get("client_http.hit_kbytes_out"),
            "mgr_kbytes_out": d.get("client_http.kbytes_out"),
            "mgr_server_kbytes_in": d.get("server.http.kbytes_in"),
            "codes": codes,
            "storedir": st.get("storedir"),
        }

    def stop(self):
        try:
            if self.proc.alive():
                subprocess.run([SQUID_BIN, "-k", "shutdown", "-f", str(self.conf)],
                               stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
                try:
                    self.proc.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            self.proc.stop(grace=10)


class RunningProxy:
    """A proxy the user already started (--proxy-address): only /stats is tried."""
    kind = "running"

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        check_loopback(host or LOOPBACK)
        self.port = int(port)
        self.config = {"address": address}

    def stats(self):
        try:
            status, body = http_get(self.port, "/stats")
            return json.loads(body) if status == 200 else {}
        except (OSError, ValueError):
            return {}

    def summary(self, st):
        return CacheProxy.summary(self, st) if "requests" in st else {}

    def stop(self):
        pass


# --------------------------------------------------------------------------------------------
# Client: N keep-alive connections pulling from one shared iterator over the trace
# --------------------------------------------------------------------------------------------


class ReplayError(Exception):
    pass


async def read_response(reader, state):
    head = await reader.readuntil(b"\r\n\r\n")
    state["head"] = True
    lines = head.split(b"\r\n")
    status_line = lines[0].split(b" ", 2)
    status = int(status_line[1])
    length, chunked = None, False
    close = status_line[0] == b"HTTP/1.0"
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        k = k.strip().lower()
        v = v.strip().lower()
        if k == b"content-length":
            length = int(v)
        elif k == b"transfer-encoding" and b"chunked" in v:
            chunked = True
        elif k == b"connection":
            close = b"close" in v or (close and b"keep-alive" not in v)
    got = 0
    if status in (204, 304) or 100 <= status < 200:
        pass
    elif chunked:
        while True:
            line = await reader.readuntil(b"\r\n")
            n = int(line.split(b";")[0].strip() or b"0", 16)
            if n == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                break
            while n:
                piece = await reader.read(min(n, 1 << 18))
                if not piece:
                    raise asyncio.IncompleteReadError(b"", n)
                n -= len(piece)
                got += len(piece)
            await reader.readexactly(2)
    elif length is not None:
        n = length
        while n:
            piece = await reader.read(min(n, 1 << 18))
            if not piece:
                raise asyncio.IncompleteReadError(b"", n)
            n -= len(piece)
            got += len(piece)
    else:
        while True:
            piece = await reader.read(1 << 18)
            if not piece:
                break
            got += len(piece)
        close = True
    return status, got, close


async def replay(trace, proxy_port, origin_port, concurrency, rate, timeout, progress):
    jobs = iter(range(len(trace.ids)))
    latencies = []
    errors = collections.Counter()
    error_examples = []
    retries = collections.Counter()
    retry_examples = []
    received = [0]
    done = [0]
    t0 = time.monotonic()
    host = f"{LOOPBACK}:{origin_port}"

    async def worker():
        reader = writer = None
        for i in jobs:
            if rate:
                delay = t0 + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            o = trace.ids[i]
            size = trace.size[o]
            url = f"http://{host}/obj/{trace.names[o]}?s={size}"
            req = (f"GET {url} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: hitratio-bench\r\n"
                   "Accept: */*\r\n\r\n").encode()
            for attempt in (1, 2):
                start = time.monotonic()
                state = {"head": False}
                try:
                    if writer is None:
                        reader, writer = await asyncio.wait_for(
                            asyncio.open_connection(LOOPBACK, proxy_port, limit=1 << 16),
                            timeout)
                        fresh = True
                    else:
                        fresh = False
                    state = {"head": False}
                    writer.write(req)
                    status, got, close = await asyncio.wait_for(
                        read_response(reader, state), timeout)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        asyncio.TimeoutError, ValueError, IndexError) as e:
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    kind = type(e).__name__
                    if state["head"]:
                        kind = "cut off after header: " + kind
                    # A keep-alive connection the proxy closed while idle (no byte of a
                    # response came back): retry once on a fresh connection. A response cut
                    # off after its header is an error, never retried.
                    if (attempt == 1 and not fresh and not state["head"]
                            and not isinstance(e, asyncio.TimeoutError)):
                        retries[kind] += 1
                        if len(retry_examples) < 10:
                            retry_examples.append(f"request {i} {url}: {kind} {e}")
                        continue
                    errors[kind] += 1
                    if len(error_examples) < 10:
                        error_examples.append(f"request {i} {url}: {kind} {e}")
                    break
                latencies.append(time.monotonic() - start)
                received[0] += got
                if status != 200 or got != size:
                    key = f"status {status}" if status != 200 else "short body"
                    errors[key] += 1
                    if len(error_examples) < 10:
                        error_examples.append(f"request {i} {url}: status {status}, "
                                              f"{got} of {size} bytes")
                if close:
                    writer.close()
                    reader = writer = None
                break
            done[0] += 1
            if progress and done[0] % 10000 == 0:
                el = time.monotonic() - t0
                print(f"    {done[0]}/{len(trace.ids)} requests, {done[0] / el:.0f}/s",
                      file=sys.stderr, flush=True)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - t0
    lat = sorted(latencies)

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000 if lat else None

    return {
        "requests": len(trace.ids), "completed": len(latencies), "errors": dict(errors),
        "error_examples": error_examples, "retries": dict(retries),
        "retry_examples": retry_examples, "seconds": round(elapsed, 3),
        "requests_per_second": round(len(latencies) / elapsed, 1) if elapsed else None,
        "mib_per_second": round(received[0] / MiB / elapsed, 2) if elapsed else None,
        "body_bytes": received[0],
        "latency_ms": {"p50": pct(50), "p90": pct(90), "p99": pct(99),
                       "max": lat[-1] * 1000 if lat else None},
    }


# --------------------------------------------------------------------------------------------
# One measured run
# --------------------------------------------------------------------------------------------


def run_proxy(kind, trace, cache_bytes, args):
    """Starts origin and proxy, replays, collects every figure, stops everything."""
    memory_bytes = min(cache_bytes, int(cache_bytes * args.memory_fraction))
    workdir = Path(tempfile.mkdtemp(prefix=f"hitratio-{kind}-"))
    origin = proxy = None
    wall0 = time.monotonic()
    try:
        origin = Origin(workdir)
        if kind == "cacheproxy" and args.proxy_address:
            proxy = RunningProxy(args.proxy_address)
        elif kind == "cacheproxy":
            proxy = CacheProxy(workdir, cache_bytes, memory_bytes, args.cacheproxy_bin,
                               args.cacheproxy_arg)
        elif kind == "squid":
            proxy = Squid(workdir, cache_bytes, memory_bytes, args.squid_store,
                          args.squid_watermarks)
        else:
            raise ValueError(kind)
        before_origin = origin.counters()
        before_stats = proxy.stats()
        print(f"  {kind}: replaying {len(trace)} requests, cache {cache_bytes} bytes "
              f"(memory {memory_bytes}), concurrency {args.concurrency}",
              file=sys.stderr, flush=True)
        client = asyncio.run(replay(trace, proxy.port, origin.port, args.concurrency,
                                    args.rate, args.timeout, not args.quiet))
        after_origin = origin.counters()
        stats = proxy.stats()
        if kind != "squid" and before_stats and "requests" in before_stats:
            base = proxy.summary(before_stats)
            summary = proxy.summary(stats)
            for k in ("requests", "hits", "memory_hits", "disk_hits", "misses",
                      "revalidations", "refresh_unmodified", "refresh_modified",
                      "bytes_from_cache", "bytes_from_origin", "errors"):
                if summary.get(k) is not None and base.get(k) is not None:
                    summary[k] -= base[k]
            # /stats counts the /stats requests themselves as requests to the proxy.
        else:
            summary = proxy.summary(stats)
        og = {k: after_origin[k] - before_origin.get(k, 0)
              for k in after_origin if isinstance(after_origin[k], int)}
        result = {
            "proxy": kind,
            "proxy_config": proxy.config,
            "client": client,
            "origin": og,
            "proxy_stats_raw": stats,
            "proxy_stats": summary,
        }
        result.update(measured_ratios(trace, client, og))
        result["agreement"] = agreement(kind, result)
        return result
    finally:
        try:
            if proxy is not None:
                proxy.stop()
        finally:
            if origin is not None:
                origin.stop()
            if args.keep_workdir:
                print(f"  kept {workdir}", file=sys.stderr)
            else:
                shutil.rmtree(workdir, ignore_errors=True)
        print(f"  {kind}: done in {time.monotonic() - wall0:.1f} s", file=sys.stderr,
              flush=True)


def measured_ratios(trace, client, og):
    requests = client["requests"]
    req_bytes = sum(trace.size[o] for o in trace.ids)
    full = og.get("full", 0)
    reval = og.get("conditional", 0)
    unmod = og.get("not_modified", 0)
    hits = requests - full - reval  # never seen at the origin
    return {
        "request_hit_ratio": hits / requests if requests else 0.0,
        # A revalidation answered 304 still saved the body.
        "request_hit_ratio_incl_304": (hits + unmod) / requests if requests else 0.0,
        "byte_hit_ratio": 1 - og.get("full_bytes", 0) / req_bytes if req_bytes else 0.0,
        "origin_hits": hits,
        "origin_full_fetches": full,
        "origin_revalidations": reval,
        "origin_not_modified": unmod,
        "requested_bytes": req_bytes,
    }


def agreement(kind, r):
    """Compares the proxy's own counters with what the origin and the client saw."""
    s = r["proxy_stats"]
    checks = []

    def check(name, proxy_value, bench_value, tolerance=0):
        if proxy_value is None or bench_value is None:
            return
        ok = abs(proxy_value - bench_value) <= tolerance
        checks.append({"what": name, "proxy": proxy_value, "bench": bench_value, "ok": ok})

    # Every request the client sent reached the proxy, answered in full or not.
    requests = r["client"]["requests"]
    if kind == "squid":
        check("requests (access.log)", s.get("requests"), requests)
        check("access.log HIER_NONE lines vs not seen at origin", s.get("not_forwarded"),
              r["origin_hits"])
        check("origin fetches (mgr server.http.requests)", s.get("mgr_server_requests"),
              r["origin_full_fetches"] + r["origin_revalidations"])
    elif s:
        check("requests", s.get("requests"), requests, tolerance=2)  # /stats polls count
        check("hits (memory+disk) vs not seen at origin", s.get("hits"), r["origin_hits"])
        check("misses+refresh_modified vs origin full fetches",
              (s.get("misses") or 0) + (s.get("refresh_modified") or 0),
              r["origin_full_fetches"])
        check("revalidations vs origin conditionals", s.get("revalidations"),
              r["origin_revalidations"])
        check("bytes_from_origin vs origin body bytes", s.get("bytes_from_origin"),
              r["origin"].get("full_bytes"))
        check("bytes_from_cache vs client bytes not from origin", s.get("bytes_from_cache"),
              r["client"]["body_bytes"] - r["origin"].get("full_bytes", 0))
    return checks


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def pct(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def fmt_ms(x):
    return "—" if x is None else f"{x:.1f}"


def size_label(cache_bytes, unique_bytes):
    return f"{100 * cache_bytes / unique_bytes:.3g}% ({cache_bytes / MiB:.1f} MiB)"


def run_table(point):
    """Markdown side-by-side table of one cache size."""
    off = point["offline"]
    runs = point["runs"]
    bel = off.get("belady", {})
    cols = [r["proxy"] for r in runs]
    lines = []
    hdr = "| | " + "".join(c + " | " for c in cols) + "LRU (offline) | GDSF (offline) | " \
          "Belady | Belady-Size | infinite |"
    lines.append(hdr)
    lines.append("|" + "---|" * (hdr.count("|") - 1))

    def offcells(metric):
        return " | ".join(pct(off.get(a, {}).get(metric))
                          for a in ("lru", "gdsf", "belady", "belady_size", "infinite"))

    lines.append("| request hit ratio | " + "".join(pct(r["request_hit_ratio"]) + " | "
                                                   for r in runs)
                 + offcells("request_hit_ratio") + " |")
    lines.append("| byte hit ratio | " + "".join(pct(r["byte_hit_ratio"]) + " | " for r in runs)
                 + offcells("byte_hit_ratio") + " |")
    blank = " | ".join("" for _ in range(5))
    if bel:
        lines.append("| request hit ratio / Belady | " + "".join(
            pct(r["request_hit_ratio"] / bel["request_hit_ratio"]) + " | " for r in runs)
            + " | ".join(pct(off[a]["request_hit_ratio"] / bel["request_hit_ratio"])
                         if a in off else "—"
                         for a in ("lru", "gdsf", "belady", "belady_size", "infinite"))
            + " |")
    if not runs:
        return "\n".join(lines)
    lines.append("| revalidations at origin (304) | " + " | ".join(
        f"{r['origin_revalidations']} ({r['origin_not_modified']})" for r in runs) + " | "
        + blank + " |")
    lines.append("| proxy's own hit ratio | " + " | ".join(
        pct(own_hit_ratio(r)) for r in runs) + " | " + blank + " |")
    lines.append("| /stats agrees with origin | " + " | ".join(
        ("yes" if all(c["ok"] for c in r["agreement"]) else "NO") if r["agreement"] else "—"
        for r in runs) + " | " + blank + " |")
    lines.append("| throughput (req/s) | " + " | ".join(
        f"{r['client']['requests_per_second']:.0f}" for r in runs) + " | " + blank + " |")
    for p in ("p50", "p90", "p99"):
        lines.append(f"| latency {p} (ms) | " + " | ".join(
            fmt_ms(r["client"]["latency_ms"][p]) for r in runs) + " | " + blank + " |")
    lines.append("| client errors | " + " | ".join(
        str(sum(r["client"]["errors"].values())) for r in runs) + " | " + blank + " |")
    return "\n".join(lines)


def own_hit_ratio(r):
    s = r["proxy_stats"]
    req = s.get("requests")
    if not req or s.get("hits") is None:
        return None
    return s["hits"] / req


def print_run_details(r):
    print(f"\n{r['proxy']}: {r['client']['completed']}/{r['client']['requests']} requests in "
          f"{r['client']['seconds']:.1f} s ({r['client']['requests_per_second']:.0f} req/s, "
          f"{r['client']['mib_per_second']:.1f} MiB/s), latency p50/p90/p99 "
          f"{fmt_ms(r['client']['latency_ms']['p50'])}/"
          f"{fmt_ms(r['client']['latency_ms']['p90'])}/"
          f"{fmt_ms(r['client']['latency_ms']['p99'])} ms")
    print(f"  origin: {r['origin_full_fetches']} full fetches "
          f"({r['origin'].get('full_bytes', 0)} bytes), {r['origin_revalidations']} "
          f"conditional ({r['origin_not_modified']} answered 304), "
          f"{r['origin'].get('connections', 0)} connections, "
          f"{r['origin'].get('keys_fetched', 0)} distinct keys fetched")
    print(f"  measured at origin: request hit ratio {pct(r['request_hit_ratio'])} "
          f"(with 304s {pct(r['request_hit_ratio_incl_304'])}), byte hit ratio "
          f"{pct(r['byte_hit_ratio'])}")
    s = r["proxy_stats"]
    if r["proxy"] == "squid":
        print(f"  squid access.log codes: {s.get('code_hier')}")
        print(f"  squid manager counters: client requests {s.get('mgr_client_requests')}, "
              f"hits {s.get('mgr_client_hits')}, server requests "
              f"{s.get('mgr_server_requests')}, hit KiB out {s.get('mgr_hit_kbytes_out')} of "
              f"{s.get('mgr_kbytes_out')}")
        print(f"  squid storedir at the end: {'; '.join(s.get('storedir') or [])}")
    elif s:
        print("  /stats: " + ", ".join(f"{k} {v}" for k, v in s.items() if v is not None))
    for c in r["agreement"]:
        mark = "ok" if c["ok"] else "DISAGREES"
        print(f"  check {c['what']}: proxy {c['proxy']} / bench {c['bench']}: {mark}")
    if r["client"]["errors"]:
        print(f"  CLIENT ERRORS: {r['client']['errors']}")
        for e in r["client"]["error_examples"]:
            print(f"    {e}")


def render_sweep(doc, out_dir):
    """Markdown table and PNG plots of a sweep document."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = doc["trace"]["name"]
    pts = doc["points"]
    proxies = []
    for p in pts:
        for r in p["runs"]:
            if r["proxy"] not in proxies:
                proxies.append(r["proxy"])
    offl = ("lru", "gdsf", "belady", "belady_size", "infinite")
    titles = {"cacheproxy": "cacheproxy", "squid": "Squid", "running": "proxy",
              "lru": "LRU (offline)", "gdsf": "GDSF (offline)", "belady": "Belady",
              "belady_size": "Belady-Size", "infinite": "infinite"}
    md = [f"Trace `{name}` ({doc['trace']['stats']['requests']} requests"
          f"{', first ' + str(doc['limit']) if doc.get('limit') else ''}; unique bytes "
          f"{doc['trace']['stats']['unique_bytes'] / MiB:.1f} MiB), concurrency "
          f"{doc['concurrency']}.", ""]
    for metric, label in (("request_hit_ratio", "Request hit ratio"),
                          ("byte_hit_ratio", "Byte hit ratio")):
        md.append(f"{label}:")
        md.append("")
        hdr = "| cache size | " + " | ".join(titles[p] for p in proxies) + " | " + \
              " | ".join(titles[a] for a in offl) + " | " + \
              " | ".join(f"{titles[p]} / Belady" for p in proxies) + " |"
        md.append(hdr)
        md.append("|" + "---|" * (hdr.count("|") - 1))
        for p in pts:
            runs = {r["proxy"]: r for r in p["runs"]}
            bel = p["offline"]["belady"][metric]
            row = [size_label(p["cache_bytes"], doc["trace"]["stats"]["unique_bytes"])]
            row += [pct(runs[x][metric]) if x in runs else "—" for x in proxies]
            row += [pct(p["offline"][a][metric]) for a in offl]
            row += [pct(runs[x][metric] / bel) if x in runs and bel else "—" for x in proxies]
            md.append("| " + " | ".join(row) + " |")
        md.append("")
    md.append("Replay figures (throughput, latency, agreement of the proxy's counters with "
              "the origin):")
    md.append("")
    md.append("| cache size | proxy | req/s | p50 ms | p90 ms | p99 ms | revalidations | "
              "errors | counters agree | wall s |")
    md.append("|---|---|---|---|---|---|---|---|---|---|")
    for p in pts:
        for r in p["runs"]:
            c = r["client"]
            agree = ("yes" if all(x["ok"] for x in r["agreement"]) else "NO") \
                if r["agreement"] else "—"
            md.append(f"| {p['percent']}% | {titles[r['proxy']]} | "
                      f"{c['requests_per_second']:.0f} | {fmt_ms(c['latency_ms']['p50'])} | "
                      f"{fmt_ms(c['latency_ms']['p90'])} | {fmt_ms(c['latency_ms']['p99'])} | "
                      f"{r['origin_revalidations']} | {sum(c['errors'].values())} | {agree} | "
                      f"{r.get('wall_seconds', 0):.0f} |")
    table = "\n".join(md) + "\n"
    (out_dir / f"{name}_sweep.md").write_text(table)
    pngs = []
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib missing (apt-get install python3-matplotlib): no plots",
              file=sys.stderr)
        return table, pngs
    styles = {"cacheproxy": dict(marker="o", lw=2.2, color="tab:blue"),
              "squid": dict(marker="s", lw=2.2, color="tab:orange"),
              "running": dict(marker="o", lw=2.2, color="tab:blue"),
              "lru": dict(marker=".", ls="--", color="tab:gray"),
              "gdsf": dict(marker=".", ls="--", color="tab:olive"),
              "belady": dict(marker="^", ls=":", color="tab:green"),
              "belady_size": dict(marker="v", ls=":", color="tab:purple"),
              "infinite": dict(ls="-.", color="black")}
    xs = [p["percent"] for p in pts]
    for metric, label, fname in (("request_hit_ratio", "request hit ratio", "hitratio"),
                                 ("byte_hit_ratio", "byte hit ratio", "bytehitratio")):
        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
        for x in proxies:
            ys = [next((r[metric] for r in p["runs"] if r["proxy"] == x), math.nan)
                  for p in pts]
            ax.plot(xs, [100 * y for y in ys], label=titles[x], **styles[x])
        for a in offl:
            if a == "gdsf":
                continue
            ax.plot(xs, [100 * p["offline"][a][metric] for p in pts], label=titles[a],
                    **styles[a])
        ax.set_xscale("log")
        ax.set_xticks(xs)
        ax.set_xticklabels([f"{x}%" for x in xs])
        ax.set_xlabel("cache size (% of the trace's unique bytes)")
        ax.set_ylabel(f"{label} (%)")
        ax.set_ylim(bottom=0)
        ax.grid(True, alpha=0.3)
        lim = f", first {doc['limit']} requests" if doc.get("limit") else ""
        ax.set_title(f"{name}: {label} vs cache size (concurrency {doc['concurrency']}{lim})",
                     fontsize=10)
        ax.legend(fontsize=8, loc="lower right")
        fig.tight_layout()
        path = out_dir / f"{name}_{fname}.png"
        fig.savefig(path)
        plt.close(fig)
        pngs.append(str(path))
    return table, pngs


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_size(text, unique_bytes):
    text = text.strip()
    if text.endswith("%"):
        return max(1, int(unique_bytes * float(text[:-1]) / 100))
    units = {"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "kb": 1000, "mb": 1000_000,
             "gb": 1000_000_000, "b": 1}
    low = text.lower()
    for u, m in units.items():
        if low.endswith(u):
            return int(float(low[:-len(u)]) * m)
    return int(text)


def provenance(args, kinds):
    """What was measured: the repository state and the binaries, for the results JSON."""
    info = {"host_cpus": os.cpu_count()}

    def git(*a):
        try:
            return subprocess.run(["git", "-C", str(REPO), *a], capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""
    info["git_head"] = git("rev-parse", "--short", "HEAD")
    info["git_dirty"] = [ln[3:] for ln in git("status", "--porcelain").splitlines()
                         if ln[3:].startswith(("proxy/", "cache/"))]
    if "cacheproxy" in kinds and not args.proxy_address:
        try:
            st = Path(args.cacheproxy_bin).stat()
            info["cacheproxy_bin"] = args.cacheproxy_bin
            info["cacheproxy_bin_mtime"] = time.strftime("%Y-%m-%d %H:%M:%S",
                                                         time.gmtime(st.st_mtime))
        except OSError:
            pass
    if "squid" in kinds:
        try:
            out = subprocess.run([SQUID_BIN, "-v"], capture_output=True, text=True,
                                 timeout=10).stdout
            info["squid_version"] = out.splitlines()[0] if out else ""
        except (OSError, subprocess.SubprocessError):
            pass
    return info


def build_parser():
    p = argparse.ArgumentParser(
        prog="hitratio_bench.py",
        description="Replay a request trace through cacheproxy (and optionally Squid) "
        "against a synthetic loopback origin; report request/byte hit ratios measured at "
        "the origin, the proxy's own counters, throughput, latency, and offline bounds "
        "(infinite, LRU, GDSF, Belady, Belady-Size).",
        epilog="Examples:\n"
        "  scripts/hitratio_bench.py ../shared/traces/bu98_proxy.tsv --cache-size 5%% "
        "--compare squid\n"
        "  scripts/hitratio_bench.py ../shared/traces/nasa_ksc_19950801.tsv --sweep "
        "--compare squid\n"
        "  scripts/hitratio_bench.py access.log --format squid --proxy-address "
        "127.0.0.1:3128 --cache-size 1GiB\n"
        "  scripts/hitratio_bench.py TRACE --offline-only --cache-size 10%%\n"
        "  scripts/hitratio_bench.py --render docs/bench/bu98_proxy_sweep.json\n"
        "Traffic goes to 127.0.0.1 only. See docs/BENCHMARKS.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("trace", nargs="?",
                   help="trace file: TSV 'timestamp<TAB>key<TAB>size' (shared/traces) or a "
                   "Squid native access.log")
    p.add_argument("--format", choices=("auto", "tsv", "squid"), default="auto",
                   help="trace format (default: auto-detect). A Squid log keeps GET lines "
                   "with status 2xx/304; key = SHA-1 of the URL, size = the largest byte "
                   "count logged for it")
    p.add_argument("--cache-size", default="5%",
                   help="cache size: bytes (with optional KiB/MiB/GiB/KB/MB/GB) or a "
                   "percentage of the trace's unique bytes (default 5%%). cacheproxy gets "
                   "exactly this --cache-size; Squid gets it rounded to whole MiB")
    p.add_argument("--memory-fraction", type=float, default=0.125,
                   help="memory tier (cacheproxy --memory-cache-size, Squid cache_mem) as a "
                   "fraction of the cache size, capped at the cache size (default 0.125)")
    p.add_argument("--proxy", choices=("cacheproxy", "squid", "none"), default="cacheproxy",
                   help="proxy to measure (default cacheproxy, started from --cacheproxy-bin "
                   "with its own temp cache dir); 'none' runs only the offline bounds")
    p.add_argument("--compare", choices=("squid",), action="append", default=[],
                   help="also measure Squid (/usr/sbin/squid with a generated config) on the "
                   "same trace and size, and print both side by side")
    p.add_argument("--proxy-address", metavar="127.0.0.1:PORT",
                   help="replay through this already-running proxy instead of starting "
                   "cacheproxy (its /stats is read if it has one; loopback only)")
    p.add_argument("--cacheproxy-bin", default=str(DEFAULT_BIN),
                   help=f"cacheproxy binary (default {DEFAULT_BIN.relative_to(REPO)})")
    p.add_argument("--cacheproxy-arg", action="append", default=[], metavar="ARG",
                   help="extra argument for cacheproxy, repeatable "
                   "(e.g. --cacheproxy-arg=--threads=2)")
    p.add_argument("--squid-store", choices=("aufs", "ufs", "rock"), default="aufs",
                   help="Squid cache_dir type (default aufs: the ufs layout with I/O threads)")
    p.add_argument("--squid-watermarks", default="90,95", metavar="LOW,HIGH",
                   help="Squid cache_swap_low,cache_swap_high (default 90,95: Squid's own)")
    p.add_argument("--concurrency", type=int, default=8,
                   help="client keep-alive connections, each taking the next trace request "
                   "from one shared iterator (default 8)")
    p.add_argument("--limit", type=int, metavar="N", help="replay only the first N requests")
    p.add_argument("--rate", type=float, metavar="R", help="cap at R requests per second")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="per-request client timeout in seconds (default 60)")
    p.add_argument("--sweep", action="store_true",
                   help="run cache sizes of 1, 5, 10, 25%% of the trace's unique bytes and "
                   "write <out>/<trace>_sweep.{json,md} and <trace>_{hitratio,bytehitratio}"
                   ".png")
    p.add_argument("--sweep-percents", default=",".join(map(str, SWEEP_PERCENTS)),
                   help="cache sizes of --sweep, in %% of unique bytes (default 1,5,10,25)")
    p.add_argument("--offline-only", action="store_true",
                   help="compute the offline bounds only (same as --proxy none)")
    p.add_argument("--out", default=str(REPO / "docs" / "bench"),
                   help="output directory for JSON, markdown and PNG (default docs/bench/)")
    p.add_argument("--render", metavar="SWEEP.json",
                   help="redraw the table and plots of a saved sweep JSON; runs nothing")
    p.add_argument("--keep-workdir", action="store_true",
                   help="keep each run's temp dir (logs, access.log, squid.conf)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return p


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "__origin__":
        origin_main()
        return 0
    args = build_parser().parse_args()
    if args.render:
        doc = json.loads(Path(args.render).read_text())
        table, pngs = render_sweep(doc, Path(args.out) if args.out else
                                   Path(args.render).parent)
        print(table)
        for p in pngs:
            print(f"wrote {p}")
        return 0
    if not args.trace:
        build_parser().error("a trace file is required")
    low, _, high = args.squid_watermarks.partition(",")
    args.squid_watermarks = (int(low), int(high))
    if args.offline_only:
        args.proxy = "none"
    kinds = [] if args.proxy == "none" else [args.proxy]
    kinds += [k for k in args.compare if k not in kinds]
    if args.proxy_address and "squid" in kinds and args.proxy == "squid":
        build_parser().error("--proxy-address replaces the started cacheproxy, not squid")
    if args.memory_fraction < 0:
        build_parser().error("--memory-fraction must be >= 0")

    full = load_trace(args.trace, args.format)
    trace = full.head(args.limit)
    ts = trace.stats()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"trace {trace.name}: {ts['requests']} requests, {ts['unique_objects']} objects "
          f"({100 * ts['one_hit_objects'] / ts['unique_objects']:.1f}% requested once), unique "
          f"{ts['unique_bytes'] / MiB:.1f} MiB, requested {ts['requested_bytes'] / MiB:.1f} MiB",
          file=sys.stderr)
    wall0 = time.monotonic()
    nxt = next_uses(trace.ids)
    if args.sweep:
        percents = [float(x) if "." in x else int(x) for x in args.sweep_percents.split(",")]
        sizes = [(pc, max(1, int(ts["unique_bytes"] * pc / 100))) for pc in percents]
    else:
        cb = parse_size(args.cache_size, ts["unique_bytes"])
        sizes = [(round(100 * cb / ts["unique_bytes"], 3), cb)]
    points = []
    for pc, cb in sizes:
        print(f"cache size {size_label(cb, ts['unique_bytes'])}: offline bounds...",
              file=sys.stderr, flush=True)
        off = offline_bounds(trace, cb, nxt)
        runs = []
        for kind in kinds:
            t0 = time.monotonic()
            r = run_proxy(kind, trace, cb, args)
            r["wall_seconds"] = round(time.monotonic() - t0, 1)
            runs.append(r)
        point = {"percent": pc, "cache_bytes": cb, "offline": off, "runs": runs}
        points.append(point)
        print(f"\n== {trace.name}, cache {size_label(cb, ts['unique_bytes'])}, "
              f"concurrency {args.concurrency}"
              f"{', first ' + str(args.limit) + ' requests' if args.limit else ''} ==")
        print(run_table(point))
        for r in runs:
            print_run_details(r)
        sys.stdout.flush()
    doc = {
        "trace": {"path": str(args.trace), "name": trace.name, "stats": ts},
        "limit": args.limit, "concurrency": args.concurrency, "rate": args.rate,
        "memory_fraction": args.memory_fraction,
        "command": " ".join(["scripts/hitratio_bench.py"] + sys.argv[1:]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "wall_seconds": round(time.monotonic() - wall0, 1),
        "provenance": provenance(args, kinds),
        "points": points,
    }
    if args.sweep:
        path = out_dir / f"{trace.name}_sweep.json"
    else:
        rate = [f"r{args.rate:g}"] if args.rate else []
        tag = "_".join([trace.name, f"{sizes[0][0]:g}pct", f"c{args.concurrency}", *rate,
                        *kinds])
        path = out_dir / f"{tag}.json"
    path.write_text(json.dumps(doc, indent=1, default=str) + "\n")
    print(f"\nwrote {path}")
    if args.sweep:
        table, pngs = render_sweep(doc, out_dir)
        print(f"wrote {out_dir / (trace.name + '_sweep.md')}")
        for p in pngs:
            print(f"wrote {p}")
    print(f"wall time {doc['wall_seconds']:.1f} s")
    bad = any(not all(c["ok"] for c in r["agreement"]) or r["client"]["errors"]
              for pt in points for r in pt["runs"])
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
