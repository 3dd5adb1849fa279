"""Turn per-system measurements into the side-by-side table and the scaling chart.

``python -m bench.report --chart out.png a.json b.json`` draws the chart from the
``--json`` files of one or more runs (runs of the same N are merged, later files
winning), and ``--table`` prints their tables again.
"""

import argparse
import json
import math
import sys
from pathlib import Path

MB = 1024 * 1024

# (label, getter, direction). Direction "lower"/"higher" says which value is better;
# each ratio column "A vs B" is oriented so that > 1 means A is better. "info" rows
# (hit counts, sizes both share) show A / B with no better side.
ROWS = [
    ("posts", lambda r: r["n"], "info"),
    ("raw corpus MB", lambda r: r["corpus_bytes"] / MB, "info"),
    ("full build s", lambda r: r["build_s"], "lower"),
    ("full build CPU s (tree)", lambda r: r["build_cpu_s"], "lower"),
    ("build posts/s", lambda r: r["posts_per_s"], "higher"),
    ("peak RSS build MB (tree)", lambda r: r["peak_rss_bytes"].get("build", 0) / MB, "lower"),
    ("peak RSS query MB (tree)", lambda r: r["peak_rss_bytes"].get("query", 0) / MB, "lower"),
    ("full build CPU s (cluster JVMs)", lambda r: r["cluster_cpu_s"]["build"], "lower"),
    ("peak RSS cluster build MB (JVMs)", lambda r: r["cluster_rss_bytes"]["build"] / MB, "lower"),
    ("peak RSS cluster query MB (JVMs)", lambda r: r["cluster_rss_bytes"]["query"] / MB, "lower"),
    ("index size MB", lambda r: r["index_bytes"] / MB, "lower"),
    ("index size MB, all copies", lambda r: r.get("index_bytes_all_copies", r["index_bytes"]) / MB, "info"),
    ("index / raw corpus", lambda r: r["index_bytes"] / r["corpus_bytes"], "lower"),
    ("incr. no change s (warm)", lambda r: r["incr_noop_s"], "lower"),
    ("incr. 1% changed s (warm)", lambda r: r["incr_1pct_s"], "lower"),
    ("incr. 1% warm, % of full", lambda r: 100 * r["incr_1pct_s"] / r["build_s"], "lower"),
    ("incr. no change s (cold)", lambda r: r["cold_noop_s"], "lower"),
    ("incr. 1% changed s (cold)", lambda r: r["cold_1pct_s"], "lower"),
    ("incr. 1% cold, % of full", lambda r: 100 * r["cold_1pct_s"] / r["build_s"], "lower"),
    (
        "incr. 1%: posts updated w/c",
        lambda r: f"{r['incr_1pct_report'].get('updated')}/{r['cold_1pct_report'].get('updated')}",
        "info",
    ),
    ("open index s", lambda r: r["open_s"], "lower"),
    ("query p50 ms", lambda r: r["query"]["p50_ms"], "lower"),
    ("query p95 ms", lambda r: r["query"]["p95_ms"], "lower"),
    ("query mean ms", lambda r: r["query"]["mean_ms"], "lower"),
]

ARROW = {"lower": "lower=better", "higher": "higher=better", "info": "info, a/b"}

# Table and chart order of the systems; opensearch-<K>n (K nodes) sort by K after these.
ORDER = ("ours", "baseline", "opensearch")

RATIO_NOTE = (
    'ratio "A vs B": > 1 means A is better on lower=/higher=better rows; info rows show A / B. '
    "Whoosh = zhsearch's embedded index, recipe = the baseline, OS Kn = zhsearch on a K-node OpenSearch cluster."
)


def system_order(names):
    """Systems in table order: zhsearch, baseline, then OpenSearch by node count."""

    def key(name):
        if name in ORDER:
            return (ORDER.index(name), 0)
        nodes = name.removeprefix("opensearch-").removesuffix("n")
        return (len(ORDER), int(nodes) if nodes.isdigit() else 0)

    return sorted(names, key=key)


def label(name, names=()):
    """Column heading of a system."""
    if name == "ours":
        return "zhsearch (Whoosh)" if any(n.startswith("opensearch") for n in names) else "zhsearch"
    if name.startswith("opensearch-") and name.endswith("n"):
        nodes = name.removeprefix("opensearch-").removesuffix("n")
        return f"OpenSearch {nodes} node{'s' if nodes != '1' else ''}"
    return {"opensearch": "OpenSearch"}.get(name, name)


def short(name):
    """Short name of a system for ratio headings."""
    if name.startswith("opensearch-") and name.endswith("n"):
        return f"OS {name.removeprefix('opensearch-')}"
    return {"ours": "Whoosh", "baseline": "recipe", "opensearch": "OS"}.get(name, name)


def ratio_pairs(names):
    """The ratio columns as ``(a, b)`` pairs: each system vs the baseline, Whoosh vs each OpenSearch,
    and each larger cluster vs the first (smallest) one."""
    pairs = [(n, "baseline") for n in names if n != "baseline" and "baseline" in names]
    clusters = [n for n in names if n.startswith("opensearch")]
    if "ours" in names:
        pairs += [("ours", n) for n in clusters]
    pairs += [(n, clusters[0]) for n in clusters[1:]]
    return pairs


def _value(getter, result):
    """Apply a getter, tolerating a missing or failed system."""
    if not result or "error" in result:
        return None
    try:
        return getter(result)
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def _ratio(a, b, direction):
    """Oriented ratio: > 1 means ``a`` is better (or, for info rows, a / b)."""
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return None
    num, den = (b, a) if direction == "lower" else (a, b)
    return num / den if den else None


def _fmt(value):
    """Compact number formatting for the table."""
    if value is None:
        return "n/a"
    if isinstance(value, (int, str)):
        return str(value)
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _query_names(results, field):
    """Query names found in any system's ``query[field]``, in first-seen order."""
    names = {}
    for result in results:
        names.update(dict.fromkeys(((result or {}).get("query") or {}).get(field, {})))
    return list(names)


def _hit_rows(results):
    """One info row per query: how many posts each system found."""
    names = _query_names(results, "hits")
    return [(f"hits: {name}", (lambda r, n=name: r["query"]["hits"][n]), "info") for name in names]


def _latency_rows(results):
    """One row per query: median latency of that query in the timed runs."""
    names = _query_names(results, "median_ms_by_query")
    return [(f"median ms: {name}", (lambda r, n=name: r["query"]["median_ms_by_query"][n]), "lower") for name in names]


def table_rows(results):
    """Rows of ``(metric, {system: value}, {(a, b): ratio}, direction)`` for one corpus size.

    Rows no system has a value for (e.g. the cluster rows without OpenSearch) are left out.
    """
    names = system_order(results)
    pairs = ratio_pairs(names)
    measured = [results[n] for n in names]
    rows = []
    for metric, getter, direction in ROWS + _hit_rows(measured) + _latency_rows(measured):
        values = {n: _value(getter, results[n]) for n in names}
        if all(v is None for v in values.values()):
            continue
        ratios = {(a, b): _ratio(values[a], values[b], direction) for a, b in pairs}
        rows.append((metric, values, ratios, direction))
    return rows


def format_table(results):
    """The markdown table printed to stdout."""
    names = system_order(results)
    pairs = ratio_pairs(names)
    if pairs == [("ours", "baseline")]:
        heads = ["ratio"]  # the two-system table keeps its original heading
    else:
        heads = [f"{short(a)} vs {short(b)}" for a, b in pairs]
    lines = [
        "| " + " | ".join(["metric", *(label(n, names) for n in names), *heads, "direction"]) + " |",
        "|---|" + "---:|" * (len(names) + len(pairs)) + "---|",
    ]
    for metric, values, ratios, direction in table_rows(results):
        cells = [_fmt(values[n]) for n in names]
        cells += ["n/a" if ratios[p] is None else f"{ratios[p]:.2f}x" for p in pairs]
        lines.append("| " + " | ".join([metric, *cells, ARROW[direction]]) + " |")
    for name in names:
        result = results.get(name) or {}
        if result.get("error"):
            lines.append(f"\n{name} FAILED: {result['error']}")
        for key in ("cold_noop_report", "cold_1pct_report"):
            if isinstance(result.get(key), dict) and result[key].get("error"):
                lines.append(f"\n{name} {key.removesuffix('_report')} FAILED: {result[key]['error']}")
    return "\n".join(lines)


def merge_runs(run_lists):
    """One run per N from several runs' lists; a later run's systems replace an earlier one's."""
    merged = {}
    for runs in run_lists:
        for run in runs:
            into = merged.setdefault(run["n"], {**run, "results": {}})
            into["results"].update({k: v for k, v in run["results"].items() if "error" not in v})
    return [merged[n] for n in sorted(merged)]


def _tick(value, _position):
    """Label a log axis at 1, 2 and 5 times a power of ten only."""
    if value <= 0:
        return ""
    mantissa = value / 10 ** math.floor(math.log10(value))
    return f"{value:g}" if any(abs(mantissa - m) < 1e-6 for m in (1, 2, 5)) else ""


def plot(runs, path):
    """Build rate and query p95 against corpus size, every system measured, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    names = system_order({name for run in runs for name in run["results"]})
    sizes = [run["n"] for run in runs]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    panels = [
        ("full build, posts/s (higher is better)", lambda r: r["posts_per_s"]),
        ("query p95, ms (lower is better)", lambda r: r["query"]["p95_ms"]),
    ]
    for ax, (title, getter) in zip(axes, panels):
        for system in names:
            points = [(run["n"], _value(getter, run["results"].get(system))) for run in runs]
            points = [(n, v) for n, v in points if v is not None]
            if points:
                ax.plot(*zip(*points), marker="o", label=label(system, names))
                for n, v in points:
                    ax.annotate(f"{v:.3g}", (n, v), textcoords="offset points", xytext=(4, 4), fontsize="x-small")
        ax.set(title=title, xlabel="posts (N)", xscale="log", yscale="log")
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.yaxis.set_major_formatter(FuncFormatter(_tick))
        ax.yaxis.set_minor_formatter(FuncFormatter(_tick))
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv=None):
    """Chart and/or tables from the JSON files of earlier runs."""
    ap = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    ap.add_argument("json", nargs="+", type=Path, help="files written by python -m bench --json")
    ap.add_argument("--chart", type=Path, help="write the scaling chart to this PNG")
    ap.add_argument("--table", action="store_true", help="print one table per N")
    args = ap.parse_args(argv)
    runs = merge_runs(json.loads(p.read_text(encoding="utf-8"))["runs"] for p in args.json)
    if args.table:
        for run in runs:
            print(f"\n## N = {run['n']} (seed {run['seed']})\n\n{format_table(run['results'])}")
        print("\n" + RATIO_NOTE)
    if args.chart:
        plot(runs, args.chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
