import sys, heapq, collections, hashlib
sys.path.insert(0, "/work/wt/evict/scripts")
import importlib.util
spec = importlib.util.spec_from_file_location("hb", "/work/wt/evict/scripts/hitratio_bench.py")
hb = importlib.util.module_from_spec(spec); spec.loader.exec_module(hb)

class Sketch:
    """count-min, 4 rows of 4-bit counters, halved every sample additions; doorkeeper bloom."""
    def __init__(self, width, sample_mult=10, door=True):
        w = 1
        while w < width: w *= 2
        self.w = w; self.mask = w - 1
        self.rows = [[0]*w for _ in range(4)]
        self.sample = sample_mult * w; self.adds = 0
        self.door = set() if door else None
    def _idx(self, o):
        h = hash((o, 0x9e3779b9)) & 0xffffffffffffffff
        return [((h >> (16*i)) ^ (h * (i+1) >> 7)) & self.mask for i in range(4)]
    def add(self, o):
        if self.door is not None and o not in self.door:
            self.door.add(o)
        else:
            idx = self._idx(o)
            m = min(self.rows[i][j] for i, j in enumerate(idx))
            if m < 15:
                for i, j in enumerate(idx):
                    if self.rows[i][j] == m: self.rows[i][j] += 1
        self.adds += 1
        if self.adds >= self.sample:
            self.adds //= 2
            for r in self.rows:
                for j in range(len(r)): r[j] >>= 1
            if self.door is not None: self.door.clear()
    def est(self, o):
        idx = self._idx(o)
        m = min(self.rows[i][j] for i, j in enumerate(idx))
        if self.door is not None and o in self.door: m += 1
        return m

def run(trace, cap, evict="lru", admit=False, hist=False, tie_admit=False, beta=1.0, mean=8192, sample_mult=10, door=True, freq_cap=None):
    size = trace.size
    used = hits = hit_bytes = 0
    sk = Sketch(max(64, cap // mean), sample_mult, door) if (admit or hist) else None
    if evict == "lru":
        cache = collections.OrderedDict()
        def victims(need):
            it = iter(cache)
            out = []; got = 0
            for v in it:
                out.append(v); got += size[v]
                if got >= need: break
            return out
        for o in trace.ids:
            s = size[o]
            if sk: sk.add(o)
            if o in cache:
                cache.move_to_end(o); hits += 1; hit_bytes += s; continue
            if s > cap: continue
            need = used + s - cap
            if need > 0 and sk:
                vs = victims(need)
                f = sk.est(o)
                if any(sk.est(v) >= f for v in vs):
                    continue
            cache[o] = True; used += s
            while used > cap:
                v, _ = cache.popitem(last=False); used -= size[v]
    else:  # gdsf
        prio, freq, heap = {}, {}, []
        clock = 0.0
        for o in trace.ids:
            s = size[o]
            if sk: sk.add(o)
            if o in prio:
                hits += 1; hit_bytes += s; freq[o] = max(freq[o] + 1, sk.est(o)) if (sk and hist == 'max') else freq[o] + 1
            else:
                if s > cap: continue
                need = used + s - cap
                if need > 0 and sk and admit:
                    # peek victims in priority order
                    f = sk.est(o); got = 0; ok = True; tmp = []
                    h2 = heap
                    # lazily: pop into tmp then push back
                    while got < need and h2:
                        p, v = heapq.heappop(h2)
                        if prio.get(v) != p: continue
                        tmp.append((p, v)); got += size[v]
                        if (sk.est(v) > f if tie_admit else sk.est(v) >= f): ok = False; break
                    for t in tmp: heapq.heappush(h2, t)
                    if not ok: continue
                freq[o] = (max(1, sk.est(o)) + (1 if hist == 'plus' else 0)) if (sk and hist) else 1
                used += s
            p = clock + freq[o] / (s ** beta)
            prio[o] = p
            heapq.heappush(heap, (p, o))
            while used > cap:
                p, v = heapq.heappop(heap)
                if prio.get(v) != p: continue
                clock = p; del prio[v]; del freq[v]; used -= size[v]
    n = len(trace.ids); rb = sum(size[o] for o in trace.ids)
    return hits / n, hit_bytes / rb

if __name__ == "__main__":
    configs = {
        "lru": dict(evict="lru"),
        "gdsf": dict(evict="gdsf"),
        "lru+tlfu": dict(evict="lru", admit=True),
        "gdsf+tlfu": dict(evict="gdsf", admit=True),
        "gdsf.5": dict(evict="gdsf", beta=0.5),
        "gdsf.5+tlfu": dict(evict="gdsf", admit=True, beta=0.5),
        "gdsf.7+tlfu": dict(evict="gdsf", admit=True, beta=0.7),
        "gdsf+tlfu-nodoor": dict(evict="gdsf", admit=True, door=False),
        "gdsf+hist": dict(evict="gdsf", hist=True),
        "h-plus": dict(evict="gdsf", hist="plus", mean=1024),
        "h-max": dict(evict="gdsf", hist="max", mean=1024),
        "h-m256": dict(evict="gdsf", hist=True, mean=256),
        "h-m512": dict(evict="gdsf", hist=True, mean=512),
        "h-m1k-nodoor": dict(evict="gdsf", hist=True, mean=1024, door=False),
        "h-m1k-s20": dict(evict="gdsf", hist=True, mean=1024, sample_mult=20),
        "h-m1k-s5": dict(evict="gdsf", hist=True, mean=1024, sample_mult=5),
        "h-m2k": dict(evict="gdsf", hist=True, mean=2048),
        "gdsf+hist-s50": dict(evict="gdsf", hist=True, sample_mult=50),
        "gdsf+hist-m1k": dict(evict="gdsf", hist=True, mean=1024),
        "gdsf+tlfu-tie": dict(evict="gdsf", admit=True, tie_admit=True),
        "gdsf+tlfu-tie+hist": dict(evict="gdsf", admit=True, tie_admit=True, hist=True),
        "gdsf.5+hist": dict(evict="gdsf", hist=True, beta=0.5),
        "gdsf.7+hist": dict(evict="gdsf", hist=True, beta=0.7),
    }
    sel = sys.argv[2].split(",") if len(sys.argv) > 2 else list(configs)
    for path in sys.argv[1].split(","):
        t = hb.load_trace(path)
        ub = sum(t.size)
        print(t.name)
        for name in sel:
            row = []
            for p in (1, 5, 10, 25):
                r, b = run(t, ub * p // 100, **configs[name])
                row.append(f"{r*100:5.1f}/{b*100:5.1f}")
            print(f"  {name:20s}", "  ".join(row), flush=True)
