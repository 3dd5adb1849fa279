"""Build rate and query time of several systems at two archive sizes, as one chart.

``python -m bench.systems_chart RESULTS.json OUT.png`` reads a results file::

    {"systems": {"LABEL": {"N": {"build_s": seconds, "scale": "FILE.json"}, ...}, ...}}

where each ``scale`` file is what ``python -m bench.scale SMALL LARGE --json FILE`` wrote for
that system ("small" and "large": the figures of each size; its path is relative to the
results file). It draws, per system, the build rate (posts/s) and the mixed query set's warm
p95 against the number of posts, and prints the same figures as a table.
"""

import argparse
import json
import sys
from pathlib import Path


def figures(results_path):
    """{label: {posts: {"rate": posts/s, "p50", "p95", "first_ms"}}} from a results file."""
    results = json.loads(Path(results_path).read_text(encoding="utf-8"))
    out = {}
    for label, sizes in results["systems"].items():
        out[label] = {}
        scales = {}
        for n, entry in sizes.items():
            posts = int(n)
            file = Path(results_path).parent / entry["scale"]
            scale = scales.setdefault(file, json.loads(file.read_text(encoding="utf-8")))
            measured = next(m for m in (scale["small"], scale["large"]) if int(m["posts"]) == posts)
            out[label][posts] = {
                "rate": posts / entry["build_s"] if entry.get("build_s") else None,
                "p50": measured["p50"],
                "p95": measured["p95"],
                "first_ms": measured["first_ms"],
            }
    return out


def chart(data, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (rate_ax, p95_ax) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, sizes in data.items():
        posts = sorted(sizes)
        rated = [n for n in posts if sizes[n]["rate"]]
        rate_ax.plot(rated, [sizes[n]["rate"] for n in rated], marker="o", label=label)
        p95_ax.plot(posts, [sizes[n]["p95"] for n in posts], marker="o", label=label)
    for ax in (rate_ax, p95_ax):
        ax.set_xscale("log")
        ax.set_xlabel("posts (log)")
        ax.legend(fontsize=8)
    rate_ax.set_ylabel("full build, posts/s")
    rate_ax.set_title("Build rate")
    p95_ax.set_yscale("log")
    p95_ax.set_ylabel("mixed query set, warm p95, ms (log)")
    p95_ax.set_title("Query p95")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.systems_chart", description=__doc__.split("\n")[0])
    ap.add_argument("results", type=Path, help="the results file (see the module docstring)")
    ap.add_argument("chart", type=Path, help="the PNG to draw")
    args = ap.parse_args(argv)
    data = figures(args.results)
    chart(data, args.chart)
    print("| system | posts | build, posts/s | warm p50, ms | warm p95, ms | first query, ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, sizes in data.items():
        for n, f in sorted(sizes.items()):
            rate = f"{f['rate']:,.1f}" if f["rate"] else "—"
            print(f"| {label} | {n:,} | {rate} | {f['p50']:,.1f} | {f['p95']:,.1f} | {f['first_ms']:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
