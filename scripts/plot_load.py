#!/usr/bin/env python3
"""Plots a load benchmark's results (the JSON scripts/load_bench.py writes) as two bar charts
side by side: the proxy's CPU time per request and requests per second, per case and proxy.

  scripts/plot_load.py docs/bench/load_interleaved.json     # -> docs/bench/load_interleaved.png

Needs matplotlib (Debian: python3-matplotlib). Only the numbers in the JSON are drawn; the
markdown table beside it has the spreads, latencies and checks.
"""
import argparse
import json
import sys
from pathlib import Path

COLORS = {"cacheproxy": "tab:blue", "trafficserver": "tab:green", "squid": "tab:orange",
          "direct": "tab:gray", "baseline": "tab:purple"}


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("json", type=Path)
    p.add_argument("--out", type=Path, help="PNG to write (default: beside the JSON)")
    args = p.parse_args()
    data = json.loads(args.json.read_text())
    results = data["results"]
    # Cases are the entries whose proxies have a requests/s (the file also holds peak RSS).
    cases = [c for c, by_proxy in results.items()
             if isinstance(by_proxy, dict) and "(2 cores)" not in c and c != "idle"
             and all(isinstance(v, dict) and "rps" in v for v in by_proxy.values())]
    proxies = []
    for case in cases:
        for proxy in results[case]:
            if proxy not in proxies:
                proxies.append(proxy)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("matplotlib missing: apt-get install python3-matplotlib")

    fig, axes = plt.subplots(1, 2, figsize=(15, 0.55 * len(cases) + 2.2), sharey=True)
    height = 0.8 / len(proxies)
    for ax, metric, title in ((axes[0], "cpu_us_per_request", "CPU µs per request (lower is better)"),
                              (axes[1], "rps", "requests/s (higher is better)")):
        for i, proxy in enumerate(proxies):
            ys = [k + i * height for k in range(len(cases))]
            xs = [results[c].get(proxy, {}).get(metric, 0) or 0 for c in cases]
            ax.barh(ys, xs, height=height, label=proxy, color=COLORS.get(proxy))
        ax.set_xscale("log")
        ax.set_title(title)
        ax.grid(axis="x", which="both", alpha=0.3)
    axes[0].set_yticks([k + 0.4 - height / 2 for k in range(len(cases))])
    axes[0].set_yticklabels(cases)
    axes[0].invert_yaxis()
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(proxies))
    meta = data.get("meta", {})
    fig.suptitle(f"{meta.get('commit', '')} · {meta.get('machine', '')} · proxy pinned to one "
                 f"core, medians of {meta.get('repeat', '?')} runs of {meta.get('duration_s', '?')} s")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    out = args.out or args.json.with_suffix(".png")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
