#!/usr/bin/python3
"""Offline prototypes of eviction and admission policies, to choose cacheproxy's default
from evidence before writing it in C++ (cache/gdsf_policy.*, docs/BENCHMARKS.md).

Replays a trace (the formats of hitratio_bench.py) through each named policy at 1, 5, 10
and 25% of the trace's unique bytes and prints request / byte hit ratios:

    scripts/policy_prototype.py ../shared/traces/bu98_proxy.tsv ../shared/traces/nasa_ksc_19950801.tsv
    scripts/policy_prototype.py --overhead 300 --policies lru,gdsf,gdsf-sketch TRACE...

--overhead adds bytes to every object's charge, as cacheproxy charges each entry's key,
metadata and records against the budget (about 185 bytes per entry on BU's replay; 365
before the store's format 2). --doorkeeper-bits models the sketch's doorkeeper as the bit
filter cacheproxy uses (16 bits per counter; 4 before), which can take a first request for
a second one, instead of an exact set.

Policies (see POLICIES): LRU and GDSF, each with or without a TinyLFU admission filter (a
count-min sketch of 4-bit counters with a doorkeeper, halved every 10 x width additions:
a new object may only evict victims it was requested more often than), and GDSF whose
new entries start with the sketch's frequency for their key ("history"), with the
frequency and size exponents of Cherkasova and Ciardo's parameterised GDSF.
"""
import argparse
import collections
import heapq
import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "hitratio_bench", Path(__file__).with_name("hitratio_bench.py"))
hb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hb)


class BloomDoor:
    """A doorkeeper as cacheproxy's FrequencySketch has it: bits_per_counter x width bits,
    two probed per key, so it can take a first request for a second one."""

    def __init__(self, width, bits_per_counter):
        self.m = width * bits_per_counter
        self.bits = bytearray(self.m)

    def _probes(self, o):
        h = hash((o, 0x5bd1e995)) & 0xFFFFFFFFFFFFFFFF
        return h % self.m, (h >> 32) * 2654435761 % self.m

    def __contains__(self, o):
        a, b = self._probes(o)
        return bool(self.bits[a] and self.bits[b])

    def add(self, o):
        a, b = self._probes(o)
        self.bits[a] = self.bits[b] = 1

    def clear(self):
        self.bits = bytearray(self.m)


# Doorkeeper bits per counter (--doorkeeper-bits); 0: an exact set (no false positives).
DOORKEEPER_BITS = 0


class Sketch:
    """Count-min sketch, 4 rows of 4-bit counters, doorkeeper, periodic halving."""

    def __init__(self, width, sample_mult=10, door=True):
        w = 1
        while w < width:
            w *= 2
        self.mask = w - 1
        self.rows = [[0] * w for _ in range(4)]
        self.sample = sample_mult * w
        self.adds = 0
        if not door:
            self.door = None
        elif DOORKEEPER_BITS:
            self.door = BloomDoor(w, DOORKEEPER_BITS)
        else:
            self.door = set()

    def _idx(self, o):
        h = hash((o, 0x9E3779B9)) & 0xFFFFFFFFFFFFFFFF
        return [((h >> (16 * i)) ^ (h * (i + 1) >> 7)) & self.mask for i in range(4)]

    def add(self, o):
        if self.door is not None and o not in self.door:
            self.door.add(o)
        else:
            idx = self._idx(o)
            m = min(self.rows[i][j] for i, j in enumerate(idx))
            if m < 15:
                for i, j in enumerate(idx):
                    if self.rows[i][j] == m:
                        self.rows[i][j] += 1
        self.adds += 1
        if self.adds >= self.sample:
            self.adds //= 2
            for r in self.rows:
                for j in range(len(r)):
                    r[j] >>= 1
            if self.door is not None:
                self.door.clear()

    def est(self, o):
        m = min(self.rows[i][j] for i, j in enumerate(self._idx(o)))
        return m + (1 if self.door is not None and o in self.door else 0)


def run(trace, cap, evict="lru", admit=False, hist=False, fexp=1.0, beta=1.0,
        bytes_per_counter=1024, overhead=0):
    """Returns (request hit ratio, byte hit ratio). admit: TinyLFU admission; hist: GDSF
    entries start at the sketch's frequency."""
    charge = [s + overhead for s in trace.size]
    body = trace.size
    used = hits = hit_bytes = 0
    sk = Sketch(max(64, cap // bytes_per_counter)) if (admit or hist) else None
    if evict == "lru":
        cache = collections.OrderedDict()
        for o in trace.ids:
            s = charge[o]
            if sk:
                sk.add(o)
            if o in cache:
                cache.move_to_end(o)
                hits += 1
                hit_bytes += body[o]
                continue
            if s > cap:
                continue
            need = used + s - cap
            if need > 0 and admit:
                victims, got = [], 0
                for v in cache:
                    victims.append(v)
                    got += charge[v]
                    if got >= need:
                        break
                f = sk.est(o)
                if any(sk.est(v) >= f for v in victims):
                    continue
            cache[o] = True
            used += s
            while used > cap:
                v, _ = cache.popitem(last=False)
                used -= charge[v]
    else:
        prio, freq, heap = {}, {}, []
        clock = 0.0
        for o in trace.ids:
            s = charge[o]
            if sk:
                sk.add(o)
            if o in prio:
                hits += 1
                hit_bytes += body[o]
                freq[o] += 1
            else:
                if s > cap:
                    continue
                need = used + s - cap
                if need > 0 and admit:
                    f, got, ok, popped = sk.est(o), 0, True, []
                    while got < need and heap:
                        p, v = heapq.heappop(heap)
                        if prio.get(v) != p:
                            continue
                        popped.append((p, v))
                        got += charge[v]
                        if sk.est(v) >= f:
                            ok = False
                            break
                    for item in popped:
                        heapq.heappush(heap, item)
                    if not ok:
                        continue
                freq[o] = max(1, sk.est(o)) if hist else 1
                used += s
            p = clock + freq[o] ** fexp / s ** beta
            prio[o] = p
            heapq.heappush(heap, (p, o))
            while used > cap:
                p, v = heapq.heappop(heap)
                if prio.get(v) != p:
                    continue
                clock = p
                del prio[v], freq[v]
                used -= charge[v]
    requested = sum(body[o] for o in trace.ids)
    return hits / len(trace.ids), hit_bytes / requested


POLICIES = {
    "lru": dict(evict="lru"),
    "lru+tinylfu": dict(evict="lru", admit=True),
    "gdsf": dict(evict="gdsf"),
    "gdsf+tinylfu": dict(evict="gdsf", admit=True),
    "gdsf-history": dict(evict="gdsf", hist=True),
    "gdsf-history+tinylfu": dict(evict="gdsf", hist=True, admit=True),
    "gdsf-history-f1.5": dict(evict="gdsf", hist=True, fexp=1.5),
    "gdsf-history-f2": dict(evict="gdsf", hist=True, fexp=2),
    "gdsf-history-f2-s1.2": dict(evict="gdsf", hist=True, fexp=2, beta=1.2),
    "gdsf-sketch-2-1.3": dict(evict="gdsf", hist=True, fexp=2, beta=1.3),  # the default before
    "gdsf-sketch": dict(evict="gdsf", hist=True, fexp=2.5, beta=1.45),  # cacheproxy's default
    "gdsf-bytes": dict(evict="gdsf", hist=True, fexp=2, beta=0.5),   # cacheproxy's byte knob
}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("traces", nargs="+")
    p.add_argument("--policies", default=",".join(POLICIES))
    p.add_argument("--percents", default="1,5,10,25")
    p.add_argument("--overhead", type=int, default=0, help="bytes charged per object on top")
    p.add_argument("--doorkeeper-bits", type=int, default=0,
                   help="doorkeeper as a two-probe bit filter of this many bits per counter, "
                        "as cacheproxy has it (16; 4 before), instead of an exact set")
    a = p.parse_args()
    global DOORKEEPER_BITS
    DOORKEEPER_BITS = a.doorkeeper_bits
    percents = [float(x) for x in a.percents.split(",")]
    for path in a.traces:
        t = hb.load_trace(path)
        unique = sum(t.size)
        print(f"{t.name}: request / byte hit ratio at " +
              ", ".join(f"{x:g}%" for x in percents) + f" of unique bytes, overhead {a.overhead}")
        for name in a.policies.split(","):
            cells = []
            for pc in percents:
                r, b = run(t, int(unique * pc / 100), overhead=a.overhead, **POLICIES[name])
                cells.append(f"{r * 100:5.1f}/{b * 100:5.1f}")
            print(f"  {name:22s} " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
