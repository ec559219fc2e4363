#!/usr/bin/env python3
"""Load benchmark of the hit and miss paths: cacheproxy against Squid and Traffic Server.

Starts, all on loopback and each with its own config, port and folders in a temporary
directory:
  * an origin: Debian's nginx serving 1 KiB, 16 KiB, 256 KiB and 4 MiB files with
    Cache-Control: max-age=3600, and /u/<anything>, where every URL is a distinct cacheable
    16 KiB object (the miss path);
  * the proxy under test: cacheproxy (Release build), Debian's Squid, Debian's Traffic Server,
    each with a memory cache of the same size;
  * wrk (Debian's) with scripts/load_bench.lua, sending absolute-form request lines.
The proxy is pinned to core 0 and wrk plus the origin to core 1 (taskset); a second, shorter
set of cases runs the proxy on both cores. Each case reports requests/s, p50/p99/p99.9
latency, MiB/s, the proxy's CPU time per request (utime+stime of all its processes from
/proc, before and after), the bottleneck (proxy when it used ~all of its cores), peak RSS
(VmHWM), and the origin's request count during the case (zero on a hit case: the hits were
hits), plus the proxy's own hit counters where it has them.

Nothing is installed here: scripts/install-deps.sh installs nginx-light, wrk, squid,
trafficserver and valgrind; build cacheproxy with 'scripts/build.sh release build'.

  scripts/load_bench.py --compare squid,trafficserver        # the full table (~25 min)
  scripts/load_bench.py --quick                              # a smoke run (~1 min)
  scripts/load_bench.py --profile                            # callgrind profile of hits
  scripts/load_bench.py --compare baseline --baseline-binary OLD/proxy/cacheproxy \\
      --interleave --no-direct --no-both-cores --cases hit,miss     # a change, before/after
Results: docs/bench/load_<tag>.json and .md (--out-dir to change).
"""

import argparse
import asyncio
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = ROOT / "scripts" / "load_bench.lua"
LOOPBACK = "127.0.0.1"
KiB = 1024
MiB = 1024 * KiB
SIZES = {"1k": 1 * KiB, "16k": 16 * KiB, "256k": 256 * KiB, "4m": 4 * MiB}
CLK_TCK = os.sysconf("SC_CLK_TCK")
PROXY_CORE = "0"
CLIENT_CORE = "1"
BOTH_CORES = "0,1"


def free_port():
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def need(binary, package):
    path = shutil.which(binary) or (binary if Path(binary).exists() else None)
    if not path:
        raise SystemExit(f"{binary} not found: install {package} (scripts/install-deps.sh)")
    return path


def wait_until(pred, timeout, what, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: process exited with {proc.returncode}")
        try:
            if pred():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def http_get(port, target, host=None, timeout=10):
    """One request over a fresh connection; returns (status, body)."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: {host or f'{LOOPBACK}:{port}'}\r\n"
                  "Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(1 << 20):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, body


def dechunk(body):
    """A chunked body's bytes (http_get returns the body as sent)."""
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


# ------------------------------------------------------------------------------------------
# Processes and /proc
# ------------------------------------------------------------------------------------------


class Managed:
    """A child in its own process group; stop() ends the group (and only it)."""

    def __init__(self, name, argv, log_path, cores=None, env=None, cwd=None):
        self.name = name
        self.log = open(log_path, "ab")
        self.log_path = log_path
        if cores:
            argv = ["taskset", "-c", cores, *argv]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=self.log,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     env=env, cwd=cwd)

    @property
    def pid(self):
        return self.proc.pid

    def poll(self):
        return self.proc.poll()

    def stop(self, grace=10.0):
        try:
            if self.proc.poll() is None:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout=grace)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self.proc.poll() is None:
                self.proc.wait(timeout=5)
        finally:
            self.log.close()

    def tail(self, n=15):
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def process_tree(root_pid):
    """root_pid and all its descendants."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def cpu_seconds(pids):
    """utime+stime of the processes (each counts all of its threads)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def memory_kib(pids, field):
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


# ------------------------------------------------------------------------------------------
# Origin: nginx
# ------------------------------------------------------------------------------------------


class Origin:
    def __init__(self, workdir, cores):
        nginx = need("/usr/sbin/nginx", "nginx-light")
        self.dir = workdir / "origin"
        www = self.dir / "www"
        www.mkdir(parents=True)
        for name, size in SIZES.items():
            # Distinct bytes per position, so a truncated or shifted body would differ.
            (www / f"{name}.bin").write_bytes((bytes(range(256)) * (size // 256 + 1))[:size])
        self.port = free_port()
        temp = self.dir / "tmp"
        temp.mkdir()
        conf = f"""# generated by scripts/load_bench.py: the benchmark's origin
daemon off;
master_process off;
worker_processes 1;
pid {self.dir / 'nginx.pid'};
error_log {self.dir / 'error.log'} warn;
worker_rlimit_nofile 65536;
events {{ worker_connections 20000; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    open_file_cache max=100 inactive=600s;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    default_type application/octet-stream;
    server {{
        listen {LOOPBACK}:{self.port} backlog=4096;
        root {www};
        add_header Cache-Control "max-age=3600";
        location = /nginx_status {{ stub_status; }}
        # Every URL under /u/ is a distinct cacheable 16 KiB object: the miss path.
        location /u/ {{ rewrite ^ /16k.bin break; }}
    }}
}}
"""
        self.conf = self.dir / "nginx.conf"
        self.conf.write_text(conf)
        self.proc = Managed("nginx", [nginx, "-p", str(self.dir), "-c", str(self.conf),
                                      "-e", str(self.dir / "error.log")],
                            workdir / "nginx.log", cores=cores)
        wait_until(lambda: http_get(self.port, "/1k.bin")[0] == 200, 20, "nginx", self.proc)
        self.hostport = f"{LOOPBACK}:{self.port}"

    def requests(self):
        """Requests nginx has handled so far (stub_status), this one included."""
        _, body = http_get(self.port, "/nginx_status")
        m = re.search(rb"\n\s*(\d+)\s+(\d+)\s+(\d+)", body)
        return int(m.group(3))

    def stop(self):
        self.proc.stop(grace=5)


# ------------------------------------------------------------------------------------------
# Proxies under test
# ------------------------------------------------------------------------------------------


class CacheProxy:
    kind = "cacheproxy"

    def __init__(self, workdir, cores, memory_bytes, binary, threads, wrapper=()):
        if not Path(binary).exists():
            raise SystemExit(f"{binary} not found: build it with 'scripts/build.sh release "
                             "build'")
        self.dir = workdir / "cacheproxy"
        self.dir.mkdir(exist_ok=True)
        self.port = free_port()
        self.access_log = self.dir / "access.log"
        self.argv = [*wrapper, str(binary), f"--listen={LOOPBACK}:{self.port}",
                     f"--cache-dir={self.dir / 'cache'}", "--cache-size=2GiB",
                     f"--memory-cache-size={memory_bytes}",
                     f"--access-log={self.access_log}", f"--threads={threads}",
                     "--max-connections=30000", "--max-connections-per-client=30000",
                     "--stats-interval=1h"]
        self.proc = Managed("cacheproxy", self.argv, workdir / "cacheproxy.log", cores=cores)
        wait_until(lambda: http_get(self.port, "/stats", timeout=5)[0] == 200, 120,
                   "cacheproxy /stats", self.proc)
        self.pid = self.proc.pid

    def counters(self):
        status, body = http_get(self.port, "/stats")
        st = json.loads(body) if status == 200 else {}
        return {"memory_hits": st.get("memory_hits", 0), "disk_hits": st.get("disk_hits", 0),
                "misses": st.get("misses", 0), "errors": st.get("errors", 0),
                "stores": st.get("stores", 0), "stores_skipped": st.get("stores_skipped", 0)}

    def stop(self):
        self.proc.stop(grace=20)


class Squid:
    kind = "squid"

    def __init__(self, workdir, cores, memory_bytes):
        squid = need("/usr/sbin/squid", "squid")
        self.dir = workdir / "squid"
        (self.dir / "cache").mkdir(parents=True)
        self.port = free_port()
        self.access_log = self.dir / "access.log"
        conf = f"""# generated by scripts/load_bench.py: a caching forward proxy on loopback
http_port {LOOPBACK}:{self.port}
visible_hostname load-bench-squid
acl bench_clients src 127.0.0.1/32
http_access allow bench_clients
http_access deny all
cache_dir aufs {self.dir / 'cache'} 2048 16 64
cache_mem {memory_bytes} bytes
maximum_object_size 64 MB
maximum_object_size_in_memory 8 MB
dns_nameservers 127.0.0.1
pinger_enable off
icp_port 0
htcp_port 0
digest_generation off
pid_filename {self.dir / 'squid.pid'}
access_log stdio:{self.access_log} squid
cache_log {self.dir / 'cache.log'}
cache_store_log none
coredump_dir {self.dir}
logfile_rotate 0
shutdown_lifetime 1 seconds
max_filedescriptors 65536
client_persistent_connections on
server_persistent_connections on
"""
        if os.geteuid() == 0:
            conf += "cache_effective_user proxy\n"
        self.conf = self.dir / "squid.conf"
        self.conf.write_text(conf)
        if os.geteuid() == 0:
            for p in [self.dir, *self.dir.rglob("*")]:
                shutil.chown(p, "proxy", "proxy")
        init = subprocess.run([squid, "-N", "-z", "-f", str(self.conf)],
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=120,
                              start_new_session=True)
        if init.returncode != 0:
            raise RuntimeError(f"squid -z failed: {init.stderr.decode(errors='replace')}")
        self.proc = Managed("squid", [squid, "-N", "-f", str(self.conf)],
                            workdir / "squid.log", cores=cores)
        wait_until(lambda: http_get(self.port, "/squid-internal-mgr/info")[0] == 200, 60,
                   "squid", self.proc)
        self.pid = self.proc.pid
        self.log_offset = 0

    def counters(self):
        """Result codes of the access log lines written since the last call."""
        codes = {}
        try:
            with open(self.access_log, "rb") as f:
                f.seek(self.log_offset)
                data = f.read()
                self.log_offset += len(data)
        except OSError:
            return {}
        for line in data.splitlines():
            fields = line.split()
            if len(fields) > 3:
                code = fields[3].split(b"/")[0].decode()
                codes[code] = codes.get(code, 0) + 1
        return {"codes": codes}

    def stop(self):
        self.proc.stop(grace=10)


class TrafficServer:
    kind = "trafficserver"

    def __init__(self, workdir, cores, memory_bytes, threads):
        ts = need("/usr/bin/traffic_server", "trafficserver")
        self.dir = workdir / "trafficserver"
        etc = self.dir / "etc"
        for sub in ("etc", "run", "log", "cache", "var"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        for f in Path("/etc/trafficserver").iterdir():
            if f.is_file():
                shutil.copy(f, etc / f.name)
            elif f.is_dir():
                shutil.copytree(f, etc / f.name)
        self.port = free_port()
        # runroot.yaml: binaries and plugins from the package, everything writable here.
        (self.dir / "runroot.yaml").write_text("".join(
            f"{k}: {v}\n" for k, v in {
                "prefix": "/usr", "exec_prefix": "/usr", "bindir": "/usr/bin",
                "sbindir": "/usr/sbin", "sysconfdir": etc, "datadir": "/usr/share/trafficserver",
                "includedir": "/usr/include", "libdir": "/usr/lib/trafficserver",
                "libexecdir": "/usr/lib/trafficserver/modules", "localstatedir": self.dir / "var",
                "runtimedir": self.dir / "run", "logdir": self.dir / "log",
                "cachedir": self.dir / "cache", "mandir": "/usr/share/man",
                "infodir": "/usr/share/info"}.items()))
        user = "trafficserver"
        records = f"""# generated by scripts/load_bench.py: a caching forward proxy on loopback
CONFIG proxy.config.http.server_ports STRING {self.port}:ipv4:ip-in={LOOPBACK}
CONFIG proxy.config.url_remap.remap_required INT 0
CONFIG proxy.config.reverse_proxy.enabled INT 0
CONFIG proxy.config.http.cache.http INT 1
CONFIG proxy.config.http.cache.required_headers INT 2
CONFIG proxy.config.http.insert_request_via_str INT 1
CONFIG proxy.config.http.insert_response_via_str INT 0
CONFIG proxy.config.exec_thread.autoconfig INT 0
CONFIG proxy.config.exec_thread.limit INT {threads}
CONFIG proxy.config.exec_thread.affinity INT 0
CONFIG proxy.config.accept_threads INT 0
CONFIG proxy.config.task_threads INT 1
CONFIG proxy.config.cache.ram_cache.size INT {memory_bytes}
CONFIG proxy.config.cache.ram_cache_cutoff INT {8 * MiB}
CONFIG proxy.config.cache.max_doc_size INT 0
CONFIG proxy.config.net.connections_throttle INT 30000
CONFIG proxy.config.net.max_connections_in INT 30000
CONFIG proxy.config.http.keep_alive_no_activity_timeout_in INT 120
CONFIG proxy.config.http.server_session_sharing.match STRING both
CONFIG proxy.config.log.logging_enabled INT 3
CONFIG proxy.config.log.rolling_enabled INT 0
CONFIG proxy.config.log.periodic_tasks_interval INT 1
CONFIG proxy.config.diags.debug.enabled INT 0
CONFIG proxy.config.admin.user_id STRING {user}
CONFIG proxy.config.hostdb.host_file.path STRING /etc/hosts
"""
        (etc / "records.config").write_text(records)
        (etc / "remap.config").write_text("")
        # stats_over_http: /_stats tells how many misses were stored (cache_writes).
        (etc / "plugin.config").write_text("stats_over_http.so\n")
        (etc / "storage.config").write_text(f"{self.dir / 'cache'} 2048M\n")
        (etc / "ip_allow.yaml").write_text(
            "ip_allow:\n  - apply: in\n    ip_addrs: 127.0.0.1\n    action: allow\n"
            "  - apply: out\n    ip_addrs: 127.0.0.1\n    action: allow\n")
        (etc / "logging.yaml").write_text(
            "logging:\n  formats:\n    - name: squid\n      format: '%<cqtq> %<ttms> %<chi> "
            "%<crc>/%<pssc> %<psql> %<cqhm> %<cquc> %<caun> %<phr>/%<shn> %<psct>'\n"
            "  logs:\n    - filename: squid\n      format: squid\n      mode: ascii\n")
        if os.geteuid() == 0:
            for p in [self.dir, *self.dir.rglob("*")]:
                shutil.chown(p, user, user)
        env = dict(os.environ, TS_RUNROOT=str(self.dir / "runroot.yaml"))
        self.proc = Managed("trafficserver", [ts, "--run-root=" + str(self.dir / "runroot.yaml"),
                                              "--bind_stdout", str(self.dir / "log" / "out.log"),
                                              "--bind_stderr", str(self.dir / "log" / "err.log")],
                            workdir / "trafficserver.log", cores=cores, env=env)
        wait_until(lambda: self._ready(), 60, "traffic_server", self.proc)
        self.pid = self.proc.pid
        self.log_offset = 0

    def _ready(self):
        status, _ = http_get(self.port, "/", timeout=2)
        return status != 0

    def counters(self):
        codes = {}
        path = self.dir / "log" / "squid.log"
        try:
            with open(path, "rb") as f:
                f.seek(self.log_offset)
                data = f.read()
                self.log_offset += len(data)
        except OSError:
            return {}
        for line in data.splitlines():
            fields = line.split()
            if len(fields) > 3:
                code = fields[3].split(b"/")[0].decode()
                codes[code] = codes.get(code, 0) + 1
        return {"codes_logged_so_far": codes, **self.cache_writes()}

    def cache_writes(self):
        """Objects written to the cache so far (stats_over_http): past
        proxy.config.cache.agg_write_backlog Traffic Server drops cache writes, and those
        misses are relayed only."""
        try:
            status, body = http_get(self.port, "/_stats", timeout=10)
            stats = json.loads(dechunk(body))["global"]
            return {"stores": int(stats["proxy.process.cache.write.success"]),
                    "stores_skipped": int(stats["proxy.process.cache.write.backlog.failure"])}
        except (OSError, ValueError, KeyError):
            return {}

    def stop(self):
        self.proc.stop(grace=10)


class Direct:
    """No proxy: wrk straight at nginx, the ceiling."""
    kind = "direct"

    def __init__(self, origin):
        self.port = origin.port
        self.pid = origin.proc.pid

    def counters(self):
        return {}

    def stop(self):
        pass


# ------------------------------------------------------------------------------------------
# Cases
# ------------------------------------------------------------------------------------------


def plan(args):
    cases = []
    sizes = ["1k", "16k"] if args.quick else list(SIZES)
    concurrencies = [16] if args.quick else [1, 16, 128]
    for size in sizes:
        for c in concurrencies:
            cases.append({"name": f"hit {size} c{c}", "kind": "hit", "size": size, "conns": c})
    for c in concurrencies:
        cases.append({"name": f"miss 16k c{c}", "kind": "miss", "size": "16k", "conns": c})
    cases.append({"name": "hit 1k close c16", "kind": "close", "size": "1k", "conns": 16})
    return select(cases, args)


def select(cases, args):
    """The cases whose name contains one of --cases' comma-separated words (all if none)."""
    words = [w for w in (args.cases or "").split(",") if w]
    return [c for c in cases if not words or any(w in c["name"] for w in words)]


BOTH_CORE_CASES = [
    {"name": "hit 1k c128 (2 cores)", "kind": "hit", "size": "1k", "conns": 128},
    {"name": "hit 16k c128 (2 cores)", "kind": "hit", "size": "16k", "conns": 128},
    {"name": "miss 16k c128 (2 cores)", "kind": "miss", "size": "16k", "conns": 128},
]


def run_wrk(port, case, origin, duration, nonce, direct):
    prefix = "" if direct else f"http://{origin.hostport}"
    if case["kind"] == "miss":
        mode, target = "unique", f"{prefix}/u/"
    else:
        mode, target = "fixed", f"{prefix}/{case['size']}.bin"
    close = "close" if case["kind"] == "close" else "keep"
    argv = ["taskset", "-c", CLIENT_CORE, need("wrk", "wrk"), "-t1", f"-c{case['conns']}",
            f"-d{duration:g}s", "--timeout", "10s", "-s", str(LUA), f"http://{LOOPBACK}:{port}",
            "--", mode, target, origin.hostport, nonce, close]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    for line in out.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON "):])
    raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")


def warm(proxy, origin, direct):
    """Makes every fixed object a memory hit: one miss stores it, the next hits promote it."""
    if direct:
        return
    for name in SIZES:
        for _ in range(3):
            status, body = http_get(proxy.port, f"http://{origin.hostport}/{name}.bin",
                                    host=origin.hostport, timeout=30)
            if status != 200 or len(body) != SIZES[name]:
                raise RuntimeError(f"{proxy.kind}: warm-up of {name}.bin got {status}, "
                                   f"{len(body)} bytes")
    time.sleep(0.5)


def measure(proxy, origin, case, duration, nonce, cores_used):
    direct = proxy.kind == "direct"
    pids = process_tree(proxy.pid)
    cpu0 = cpu_seconds(pids)
    origin0 = origin.requests()
    own0 = proxy.counters()
    t0 = time.monotonic()
    w = run_wrk(proxy.port, case, origin, duration, nonce, direct)
    wall = time.monotonic() - t0
    pids = process_tree(proxy.pid)
    cpu = cpu_seconds(pids) - cpu0
    origin_requests = origin.requests() - origin0 - 1  # minus the stub_status request itself
    own1 = proxy.counters()
    seconds = w["duration_us"] / 1e6
    n = max(w["requests"], 1)
    errors = sum(v for k, v in w.items() if k.startswith("errors_"))
    cpu_share = cpu / wall / cores_used
    r = {
        "requests": w["requests"], "rps": w["requests"] / seconds,
        "mib_s": w["bytes"] / seconds / MiB,
        "p50_ms": w["p50_us"] / 1000, "p99_ms": w["p99_us"] / 1000,
        "p999_ms": w["p999_us"] / 1000, "errors": errors, "wrk": w,
        "cpu_us_per_request": cpu / n * 1e6, "cpu_share_of_cores": cpu_share,
        "bottleneck": "proxy" if cpu_share >= 0.90 else "client",
        "rss_kib": memory_kib(pids, "VmRSS"), "peak_rss_kib": memory_kib(pids, "VmHWM"),
        "origin_requests": origin_requests,
    }
    if direct:
        r["bottleneck"] = "origin" if cpu_share >= 0.90 else "client"
    if isinstance(proxy, CacheProxy):
        r["proxy_counters"] = {k: own1.get(k, 0) - own0.get(k, 0) for k in own1}
    elif own1:
        r["proxy_counters"] = own1
    if "stores" in own0 and "stores" in own1:
        r["stores"] = own1["stores"] - own0["stores"]
    if direct:
        pass
    elif case["kind"] in ("hit", "close"):
        # A hit case must not reach the origin (a handful of revalidations would be a bug too).
        r["hits_verified"] = origin_requests == 0 and errors == 0
    else:
        r["misses_verified"] = origin_requests >= w["requests"] * 0.99 and errors == 0
    return r


async def hold_idle(port, origin, count):
    """Opens count keep-alive connections, one hit each, and keeps them open."""
    request = (f"GET http://{origin.hostport}/1k.bin HTTP/1.1\r\nHost: {origin.hostport}\r\n"
               "\r\n").encode()
    conns = []
    sem = asyncio.Semaphore(200)
    failures = 0

    async def one():
        nonlocal failures
        async with sem:
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection(LOOPBACK, port), 20)
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 20)
                m = re.search(rb"(?i)content-length:\s*(\d+)", head)
                await asyncio.wait_for(reader.readexactly(int(m.group(1)) if m else 0), 20)
                conns.append(writer)
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, AttributeError):
                failures += 1

    await asyncio.gather(*(one() for _ in range(count)))
    return conns, failures


def idle_case(proxy, origin, count):
    pids = process_tree(proxy.pid)
    before = memory_kib(pids, "VmRSS")

    async def run():
        conns, failures = await hold_idle(proxy.port, origin, count)
        await asyncio.sleep(2)
        after = memory_kib(process_tree(proxy.pid), "VmRSS")
        for w in conns:
            w.close()
        await asyncio.sleep(0.5)
        return len(conns), failures, after

    held, failures, after = asyncio.run(run())
    pids = process_tree(proxy.pid)
    return {"connections": held, "failures": failures, "rss_before_kib": before,
            "rss_after_kib": after,
            "kib_per_connection": (after - before) / held if held else None,
            "peak_rss_kib": memory_kib(pids, "VmHWM")}


def start_proxy(kind, workdir, cores, args):
    threads = len(cores.split(","))
    if kind == "cacheproxy":
        return CacheProxy(workdir, cores, args.memory_cache_bytes, args.binary, threads)
    if kind == "baseline":
        if not args.baseline_binary:
            raise SystemExit("the baseline proxy needs --baseline-binary")
        proxy = CacheProxy(workdir, cores, args.memory_cache_bytes, args.baseline_binary, threads)
        proxy.kind = "baseline"
        return proxy
    if kind == "squid":
        return Squid(workdir, cores, args.memory_cache_bytes)
    if kind == "trafficserver":
        return TrafficServer(workdir, cores, args.memory_cache_bytes, threads)
    raise SystemExit(f"unknown proxy {kind}")


def run_suite(kind, cases, origin, args, workdir, cores, results, label):
    sub = workdir / f"{kind}-{label}"
    sub.mkdir()
    os.chmod(sub, 0o755)
    proxy = Direct(origin) if kind == "direct" else start_proxy(kind, sub, cores, args)
    cores_used = len(cores.split(","))
    try:
        warm(proxy, origin, kind == "direct")
        for case in cases:
            runs = []
            for rep in range(args.repeat):
                nonce = f"{kind}{label}{rep}{os.getpid()}{int(time.time())}"
                r = measure(proxy, origin, case, args.duration, nonce, cores_used)
                runs.append(r)
                print(f"  {kind:13} {case['name']:24} #{rep + 1}: {r['rps']:9.0f} req/s "
                      f"p99 {r['p99_ms']:7.2f} ms  cpu {r['cpu_us_per_request']:6.1f} us/req "
                      f"{r['bottleneck']:6} origin+{r['origin_requests']} err {r['errors']}",
                      flush=True)
            results.setdefault(case["name"], {})[kind] = summarize(runs)
        if (kind != "direct" and args.idle_connections and label == "pinned"
                and select([{"name": "idle"}], args)):
            r = idle_case(proxy, origin, args.idle_connections)
            print(f"  {kind:13} idle x{r['connections']}: "
                  f"{r['kib_per_connection'] or 0:.1f} KiB/connection "
                  f"({r['failures']} failed)", flush=True)
            results.setdefault("idle keep-alive", {})[kind] = r
        if kind != "direct":
            pids = process_tree(proxy.pid)
            results.setdefault("peak RSS", {})[f"{kind} {label}"] = memory_kib(pids, "VmHWM")
    finally:
        proxy.stop()


def run_interleaved(kinds, cases, origin, args, workdir, cores, results, label):
    """Like run_suite for several proxies at once, alternating them run by run (A B A B ...):
    a drift of the machine during the benchmark then touches every proxy alike, which
    matters when the difference measured is a few percent (--compare baseline). All the
    proxies stay started; only the one measured has load."""
    cores_used = len(cores.split(","))
    proxies = {}
    try:
        for kind in kinds:
            sub = workdir / f"{kind}-{label}"
            sub.mkdir()
            os.chmod(sub, 0o755)
            proxies[kind] = (Direct(origin) if kind == "direct"
                             else start_proxy(kind, sub, cores, args))
            warm(proxies[kind], origin, kind == "direct")
        for case in cases:
            runs = {kind: [] for kind in kinds}
            for rep in range(args.repeat):
                for kind, proxy in proxies.items():
                    nonce = f"{kind}{label}{rep}{os.getpid()}{int(time.time())}"
                    r = measure(proxy, origin, case, args.duration, nonce, cores_used)
                    runs[kind].append(r)
                    print(f"  {kind:13} {case['name']:24} #{rep + 1}: {r['rps']:9.0f} req/s "
                          f"p99 {r['p99_ms']:7.2f} ms  cpu {r['cpu_us_per_request']:6.1f} "
                          f"us/req {r['bottleneck']:6} origin+{r['origin_requests']} "
                          f"err {r['errors']}", flush=True)
            for kind in kinds:
                results.setdefault(case["name"], {})[kind] = summarize(runs[kind])
        for kind, proxy in proxies.items():
            if kind != "direct":
                pids = process_tree(proxy.pid)
                results.setdefault("peak RSS", {})[f"{kind} {label}"] = memory_kib(pids, "VmHWM")
    finally:
        for proxy in proxies.values():
            proxy.stop()


def summarize(runs):
    def med(key):
        return statistics.median(r[key] for r in runs)

    def spread(key):
        vals = [r[key] for r in runs]
        m = statistics.median(vals)
        return (max(vals) - min(vals)) / m * 100 if m else 0.0

    out = {k: med(k) for k in ("rps", "mib_s", "p50_ms", "p99_ms", "p999_ms",
                               "cpu_us_per_request", "cpu_share_of_cores")}
    out["rps_spread_pct"] = spread("rps")
    out["cpu_spread_pct"] = spread("cpu_us_per_request")
    out["peak_rss_kib"] = max(r["peak_rss_kib"] for r in runs)
    out["errors"] = sum(r["errors"] for r in runs)
    out["origin_requests"] = sum(r["origin_requests"] for r in runs)
    bottlenecks = {r["bottleneck"] for r in runs}
    out["bottleneck"] = "/".join(sorted(bottlenecks))
    for key in ("hits_verified", "misses_verified"):
        if key in runs[0]:
            out[key] = all(r[key] for r in runs)
    # Of a miss case's responses, how many the proxy stored: cacheproxy and Traffic Server
    # skip storing while their store is behind the disk.
    if "misses_verified" in runs[0] and all("stores" in r for r in runs):
        out["stored_pct"] = 100 * sum(r["stores"] for r in runs) / max(
            sum(r["requests"] for r in runs), 1)
    out["runs"] = runs
    return out


# ------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------


def pairs_ahead(cp, other, key, higher_is_better):
    """' (k/n)': in k of the n interleaved pairs of runs cacheproxy's `key` was better. The
    medians of a noisy case can hide how often one proxy is ahead run by run."""
    a, b = cp.get("runs", []), other.get("runs", [])
    n = min(len(a), len(b))
    if n == 0:
        return ""
    better = sum(1 for x, y in zip(a, b)
                 if (x[key] > y[key] if higher_is_better else x[key] < y[key]))
    return f" ({better}/{n})"


def markdown(results, kinds, meta):
    lines = [f"Command: `{meta['command']}`  ", f"Commit: {meta['commit']}  ",
             f"Machine: {meta['machine']}  ",
             f"Load average before / after: {meta['loadavg_before']} / {meta['loadavg_after']}  ",
             f"{meta['duration_s']:g} s x {meta['repeat']} per case: medians, spread = "
             "(max-min)/median of req/s. Proxy pinned to core 0, wrk and nginx to core 1, "
             "except the (2 cores) rows. CPU = the proxy's utime+stime per request (for direct: "
             "nginx's). Bottleneck: proxy when it used >= 90% of its cores. Verified: a hit case "
             "reached the origin 0 times, a miss case once per request, no errors.", "",
             "| case | proxy | req/s (spread) | MiB/s | p50 ms | p99 ms | p99.9 ms | CPU µs/req "
             "| bottleneck | verified |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    cases = [c for c in results if c not in ("idle keep-alive", "peak RSS")]
    for case in cases:
        for k in kinds:
            r = results[case].get(k)
            if not r:
                continue
            ok = r.get("hits_verified", r.get("misses_verified"))
            verified = "–" if ok is None else ("yes" if ok else "**NO**")
            lines.append(
                f"| {case} | {k} | {r['rps']:,.0f} ({r['rps_spread_pct']:.0f}%) | "
                f"{r['mib_s']:,.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                f"{r['p999_ms']:.2f} | {r['cpu_us_per_request']:.1f} | {r['bottleneck']} | "
                f"{verified} |")
    others = [k for k in kinds if k not in ("cacheproxy", "direct")]
    if "cacheproxy" in kinds and (others or "direct" in kinds):
        head, rule = "| case |", "|---|"
        for k in others:
            head += f" req/s vs {k} | CPU/req vs {k} | p99 vs {k} |"
            rule += "---:|---:|---:|"
        if "direct" in kinds:
            head += " req/s vs direct |"
            rule += "---:|"
        paired = meta.get("interleaved")
        lines += ["", "Ratios cacheproxy / other (req/s: higher is better; CPU per request and "
                  "p99: lower is better)" + (
                      "; in brackets, of the interleaved pairs of runs (cacheproxy's run and "
                      "the other's right after it), in how many cacheproxy was ahead"
                      if paired else "") + ":", "", head, rule]
        for case in cases:
            cp = results[case].get("cacheproxy")
            if not cp:
                continue
            row = f"| {case} |"
            for k in others:
                o = results[case].get(k)
                if not o:
                    row += " – | – | – |"
                    continue
                ahead = (lambda key, higher: pairs_ahead(cp, o, key, higher)) if paired else (
                    lambda key, higher: "")
                row += (f" {cp['rps'] / o['rps']:.2f}{ahead('rps', True)} |" if o["rps"]
                        else " – |")
                row += (f" {cp['cpu_us_per_request'] / o['cpu_us_per_request']:.2f}"
                        f"{ahead('cpu_us_per_request', False)} |"
                        if o["cpu_us_per_request"] else " – |")
                row += (f" {cp['p99_ms'] / o['p99_ms']:.2f}{ahead('p99_ms', False)} |"
                        if o["p99_ms"] else " – |")
            if "direct" in kinds:
                o = results[case].get("direct")
                row += f" {cp['rps'] / o['rps']:.2f} |" if o and o["rps"] else " – |"
            lines.append(row)
    stored = [(case, k, results[case][k]["stored_pct"]) for case in cases for k in kinds
              if "stored_pct" in results[case].get(k, {})]
    if stored:
        lines += ["", "Misses stored, of the responses (the rest were relayed only: the proxy's "
                  "store was behind the disk, so it skipped them):", "",
                  "| case | proxy | stored |", "|---|---|---:|"]
        lines += [f"| {case} | {k} | {pct:.1f}% |" for case, k, pct in stored]
    idle = results.get("idle keep-alive", {})
    if idle:
        lines += ["", "| idle keep-alive | connections held | RSS growth KiB per connection "
                  "| failed |", "|---|---:|---:|---:|"]
        for k, r in idle.items():
            lines.append(f"| {k} | {r['connections']} | {r['kib_per_connection'] or 0:.1f} | "
                         f"{r['failures']} |")
    rss = results.get("peak RSS", {})
    if rss:
        lines += ["", "| peak RSS (VmHWM, all processes) over the run | MiB |", "|---|---:|"]
        for k, v in rss.items():
            lines.append(f"| {k} | {v / 1024:.1f} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------
# Profile
# ------------------------------------------------------------------------------------------


def profile(args, workdir, origin, out_dir, tag):
    """Runs cacheproxy under callgrind, instruments only a window of hits, and saves the
    annotated profile with the instructions per request (deterministic, unlike time)."""
    valgrind = need("valgrind", "valgrind")
    results = {}
    for size in args.profile_sizes.split(","):
        sub = workdir / f"profile-{size}"
        sub.mkdir()
        out_file = sub / "callgrind.out"
        wrapper = (valgrind, "--tool=callgrind", f"--callgrind-out-file={out_file}")
        proxy = CacheProxy(sub, PROXY_CORE, args.memory_cache_bytes, args.binary, 1,
                           wrapper=wrapper)
        miss = size == "miss"
        try:
            if miss:
                case = {"name": "miss 16k c16", "kind": "miss", "size": "16k", "conns": 16}
            else:
                warm(proxy, origin, False)
                case = {"name": f"hit {size}", "kind": "hit", "size": size, "conns": 16}
            before = proxy.counters()
            # Counters zeroed now and dumped after wrk: the dump holds only the hits.
            subprocess.run(["callgrind_control", "-z", str(proxy.pid)], check=True,
                           capture_output=True)
            w = run_wrk(proxy.port, case, origin, args.profile_seconds, "p", False)
            subprocess.run(["callgrind_control", "-d", str(proxy.pid)], check=True,
                           capture_output=True)
            after = proxy.counters()
        finally:
            proxy.stop()
        dumps = [d for d in sorted(sub.glob("callgrind.out*"))
                 if "Trigger: Program termination" not in d.read_text(errors="replace")[:4000]]
        if not dumps:
            raise RuntimeError(f"no callgrind dump in {sub}")
        biggest = dumps[0]
        ir = 0
        for line in biggest.read_text(errors="replace").splitlines():
            if line.startswith("summary:") or line.startswith("totals:"):
                ir = max(ir, int(line.split()[1]))
        counter = "misses" if miss else "memory_hits"
        hits = after[counter] - before[counter]
        # Inclusive cost per function (what a function and all it calls cost), the top 150,
        # long template names cut: enough to choose the next optimization from.
        annotated = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100",
                                    str(biggest)], capture_output=True, text=True).stdout
        top = [ln[:300] for ln in annotated.splitlines() if re.match(r"^\s*[\d,]+ \(", ln)]
        what = "misses of 16k" if miss else f"memory hits of {size}"
        name = f"load_profile_{tag}_" + ("miss16k" if miss else f"hit{size}")
        if args.profile_raw:
            shutil.copy(biggest, out_dir / f"{name}.callgrind")
        (out_dir / f"{name}.txt").write_text(
            f"# callgrind, cacheproxy {git_commit()}, {what} at 16 connections (all threads): "
            f"{hits} requests, {ir} instructions, {ir / max(hits, 1):.0f} per request\n"
            "# inclusive instructions per function (the share is of the whole window)\n" +
            "\n".join(top[:150]) + "\n")
        results[size] = {"hits": hits, "instructions": ir,
                         "instructions_per_hit": ir / max(hits, 1)}
        print(f"  callgrind {what}: {ir / max(hits, 1):,.0f} instructions per request "
              f"({hits} requests) -> {out_dir / (name + '.txt')}", flush=True)
    return results


# ------------------------------------------------------------------------------------------


def git_commit():
    try:
        return subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return "unknown"


def machine():
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}"


def loadavg():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def parse_size(text):
    m = re.fullmatch(r"(\d+)\s*(KiB|MiB|GiB|B)?", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"bad size {text!r}")
    return int(m.group(1)) * {"B": 1, None: 1, "KiB": KiB, "MiB": MiB, "GiB": 1024 * MiB}[
        m.group(2)]


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compare", default="", help="also run these: squid,trafficserver")
    p.add_argument("--proxies", default="cacheproxy",
                   help="the proxies to run (default cacheproxy); --compare adds to them")
    p.add_argument("--repeat", type=int, default=3, help="runs per case (default 3)")
    p.add_argument("--duration", type=float, default=5, help="seconds per run (default 5)")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: 1k and 16k at 16 connections, 1 run of 2 s, 500 idle")
    p.add_argument("--cases", default="",
                   help="only the cases whose name contains one of these comma-separated "
                   "words, e.g. 'miss' or 'hit 16k,close' (the idle case is named 'idle')")
    p.add_argument("--idle-connections", type=int, default=10000)
    p.add_argument("--no-direct", action="store_true", help="skip wrk straight at nginx")
    p.add_argument("--no-both-cores", action="store_true",
                   help="skip the cases with the proxy on both cores")
    p.add_argument("--memory-cache-size", dest="memory_cache_bytes", type=parse_size,
                   default=256 * MiB, help="every proxy's memory cache (default 256MiB)")
    p.add_argument("--binary", default=None, help="cacheproxy binary (default build/ "
                   "or build-bench/)")
    p.add_argument("--baseline-binary", default=None,
                   help="another cacheproxy build, run as the proxy 'baseline' (e.g. "
                   "--compare baseline to measure a change before and after in one run)")
    p.add_argument("--interleave", action="store_true",
                   help="alternate the proxies run by run instead of one after another "
                   "(for --compare baseline; skips the idle case)")
    p.add_argument("--profile", action="store_true",
                   help="only profile cacheproxy under callgrind (hits; misses with --profile-sizes)")
    p.add_argument("--profile-sizes", default="1k,16k",
                   help="hit sizes to profile; 'miss' profiles 16 KiB misses")
    p.add_argument("--profile-raw", action="store_true",
                   help="also keep each raw callgrind dump beside its summary")
    p.add_argument("--profile-seconds", type=int, default=10)
    p.add_argument("--out-dir", default=str(ROOT / "docs" / "bench"))
    p.add_argument("--tag", default=None, help="name of the result files")
    args = p.parse_args()
    if args.quick:
        args.repeat, args.duration = 1, 2
        args.idle_connections = min(args.idle_connections, 500)
    if args.binary is None:
        for cand in ("build/proxy/cacheproxy", "build-bench/proxy/cacheproxy"):
            if (ROOT / cand).exists():
                args.binary = str(ROOT / cand)
                break
        else:
            args.binary = str(ROOT / "build/proxy/cacheproxy")
    need("wrk", "wrk")
    need("taskset", "util-linux")
    if (os.cpu_count() or 1) < 2:
        raise SystemExit("needs 2 cores: the proxy on one, wrk and the origin on the other")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        args.idle_connections = min(args.idle_connections, hard - 1000)

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    kinds = [k for k in args.proxies.split(",") + args.compare.split(",") if k]
    tag = args.tag or ("quick" if args.quick else "_".join(kinds))
    meta = {"command": " ".join(["scripts/load_bench.py", *sys.argv[1:]]), "commit": git_commit(),
            "machine": machine(), "loadavg_before": loadavg(), "duration_s": args.duration,
            "repeat": args.repeat, "interleaved": args.interleave,
            "memory_cache_bytes": args.memory_cache_bytes,
            "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}
    workdir = Path(tempfile.mkdtemp(prefix="load_bench_"))
    os.chmod(workdir, 0o755)
    results = {}
    origin = None
    try:
        origin = Origin(workdir, CLIENT_CORE)
        if args.profile:
            meta["profile"] = profile(args, workdir, origin, out_dir, tag)
            meta["loadavg_after"] = loadavg()
            (out_dir / f"load_profile_{tag}.json").write_text(json.dumps(meta, indent=2))
            return 0
        cases = plan(args)
        if not args.no_direct:
            kinds_run = ["direct"] + kinds
        else:
            kinds_run = kinds
        if args.interleave:
            print(f"{', '.join(kinds_run)}: interleaved, proxy on core {PROXY_CORE}", flush=True)
            run_interleaved(kinds_run, cases, origin, args, workdir, PROXY_CORE, results,
                            "pinned")
        for kind in [] if args.interleave else kinds_run:
            print(f"{kind}: proxy on core {PROXY_CORE}" if kind != "direct" else
                  "direct: wrk straight at nginx", flush=True)
            run_suite(kind, cases, origin, args, workdir, PROXY_CORE, results, "pinned")
        if not args.no_both_cores and not args.quick:
            for kind in kinds:
                print(f"{kind}: proxy on cores {BOTH_CORES}", flush=True)
                run_suite(kind, select(BOTH_CORE_CASES, args), origin, args, workdir,
                          BOTH_CORES, results, "both-cores")
        meta["loadavg_after"] = loadavg()
        table = markdown(results, kinds_run, meta)
        print()
        print(table)
        (out_dir / f"load_{tag}.json").write_text(
            json.dumps({"meta": meta, "results": results}, indent=2))
        (out_dir / f"load_{tag}.md").write_text(table)
        print(f"wrote {out_dir / f'load_{tag}.json'} and .md")
        bad = [c for c, per in results.items() for k, r in per.items()
               if isinstance(r, dict) and (r.get("hits_verified") is False or r.get("errors"))]
        if bad:
            print(f"warning: unverified hits or errors in: {sorted(set(bad))}")
        return 0
    finally:
        if origin:
            origin.stop()
        if os.environ.get("LOAD_BENCH_KEEP"):
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
