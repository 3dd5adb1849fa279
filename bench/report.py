"""Turn per-system measurements into the side-by-side table and the scaling chart."""

MB = 1024 * 1024

# (label, getter, direction). Direction "lower"/"higher" says which value is better;
# the ratio is always oriented so that > 1 means zhsearch is better. "info" rows
# (hit counts, sizes both share) show zhsearch / baseline with no better side.
ROWS = [
    ("posts", lambda r: r["n"], "info"),
    ("raw corpus MB", lambda r: r["corpus_bytes"] / MB, "info"),
    ("full build s", lambda r: r["build_s"], "lower"),
    ("full build CPU s (tree)", lambda r: r["build_cpu_s"], "lower"),
    ("build posts/s", lambda r: r["posts_per_s"], "higher"),
    ("peak RSS build MB (tree)", lambda r: r["peak_rss_bytes"].get("build", 0) / MB, "lower"),
    ("peak RSS query MB (tree)", lambda r: r["peak_rss_bytes"].get("query", 0) / MB, "lower"),
    ("index size MB", lambda r: r["index_bytes"] / MB, "lower"),
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

ARROW = {"lower": "lower=better", "higher": "higher=better", "info": "info, z/b"}


def _value(getter, result):
    """Apply a getter, tolerating a missing or failed system."""
    if not result or "error" in result:
        return None
    try:
        return getter(result)
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def _ratio(ours, base, direction):
    """Oriented ratio: > 1 means zhsearch better (or, for info rows, zhsearch/baseline)."""
    if not isinstance(ours, (int, float)) or not isinstance(base, (int, float)):
        return None
    num, den = (base, ours) if direction == "lower" else (ours, base)
    return num / den if den else None


def _fmt(value):
    """Compact number formatting for the table."""
    if value is None:
        return "n/a"
    if isinstance(value, (int, str)):
        return str(value)
    return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _hit_rows(ours, base):
    """One info row per query: how many posts each system found."""
    names = list(((ours or {}).get("query") or (base or {}).get("query") or {}).get("hits", {}))
    return [(f"hits: {name}", (lambda r, n=name: r["query"]["hits"][n]), "info") for name in names]


def _latency_rows(ours, base):
    """One row per query: median latency of that query in the timed runs."""
    names = list(((ours or {}).get("query") or (base or {}).get("query") or {}).get("median_ms_by_query", {}))
    return [(f"median ms: {name}", (lambda r, n=name: r["query"]["median_ms_by_query"][n]), "lower") for name in names]


def table_rows(results):
    """Rows of ``(metric, zhsearch, baseline, ratio, direction)`` for one corpus size."""
    ours, base = results.get("ours"), results.get("baseline")
    rows = []
    for label, getter, direction in ROWS + _hit_rows(ours, base) + _latency_rows(ours, base):
        o, b = _value(getter, ours), _value(getter, base)
        rows.append((label, o, b, _ratio(o, b, direction), direction))
    return rows


def format_table(results):
    """The markdown table printed to stdout."""
    lines = ["| metric | zhsearch | baseline | ratio | direction |", "|---|---:|---:|---:|---|"]
    for label, o, b, ratio, direction in table_rows(results):
        r = "n/a" if ratio is None else f"{ratio:.2f}x"
        lines.append(f"| {label} | {_fmt(o)} | {_fmt(b)} | {r} | {ARROW[direction]} |")
    for name in ("ours", "baseline"):
        result = results.get(name) or {}
        if result.get("error"):
            lines.append(f"\n{name} FAILED: {result['error']}")
        for key in ("cold_noop_report", "cold_1pct_report"):
            if isinstance(result.get(key), dict) and result[key].get("error"):
                lines.append(f"\n{name} {key.removesuffix('_report')} FAILED: {result[key]['error']}")
    return "\n".join(lines)


def plot(runs, path):
    """Build time and query p95 against corpus size, both systems, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    panels = [("full build (s)", lambda r: r["build_s"]), ("query p95 (ms)", lambda r: r["query"]["p95_ms"])]
    for ax, (title, getter) in zip(axes, panels):
        for system, label in (("ours", "zhsearch"), ("baseline", "baseline")):
            points = [(run["n"], _value(getter, run["results"].get(system))) for run in runs]
            points = [(n, v) for n, v in points if v is not None]
            if points:
                ax.plot(*zip(*points), marker="o", label=label)
        ax.set(title=title, xlabel="posts (N)", xscale="log", yscale="log")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
