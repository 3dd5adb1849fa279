"""Where a query's time goes on an existing index: ``python -m bench.profile INDEX``.

Opens the index in this (fresh) process, times the first query after opening,
the archive-wide requests (stats, the empty query, a zero-hit query, the
category list), then the harness's mixed query set (bench/queries.py): per
query its cold time (first time seen) and warm p50/p95, and with ``--profile``
the top functions by cumulative time over the warm passes (cProfile), and with
``--profile-first`` those of the first query.
"""

import argparse
import cProfile
import io
import json
import pstats
import resource
import sys
import time
from pathlib import Path

from bench.queries import query_set
from bench.systems import Ours
from bench.worker import percentile


def _timed(fn, *args, **kwargs):
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return (time.perf_counter() - started) * 1000, value


def measure(index, seed=0, rounds=10, profiler=None, index_name=None, first_profiler=None):
    """Figures of one index in this process (see the module docstring), as a dict.

    :param index: an index folder, or an OpenSearch URL (then `index_name` names the index).
    """
    system = Ours()
    queries = query_set(seed)
    figures = {}
    options = {"index_name": index_name} if index_name else {}
    figures["open_ms"], ix = _timed(system.open, index, **options)
    if first_profiler:
        first_profiler.enable()
    figures["first_ms"], _ = _timed(system.search, ix, queries[0])
    if first_profiler:
        first_profiler.disable()
    figures["posts"] = ix.doc_count
    archive_wide = {
        "stats (healthz)": lambda: ix.stats(),
        "empty query": lambda: ix.search(""),
        "zero hits": lambda: ix.search("龘靐齉"),
        "category only": lambda: ix.search("category:金融"),
    }
    figures["archive_wide"] = {}
    for name, call in archive_wide.items():
        cold, _ = _timed(call)
        warm = min(_timed(call)[0] for _ in range(3))
        figures["archive_wide"][name] = (cold, warm)
    cold = {q["name"]: _timed(system.search, ix, q)[0] for q in queries}
    times = {q["name"]: [] for q in queries}
    for _ in range(rounds):
        for q in queries:
            if profiler:
                profiler.enable()
            ms, _ = _timed(system.search, ix, q)
            if profiler:
                profiler.disable()
            times[q["name"]].append(ms)
    figures["queries"] = {
        q["name"]: {
            "q": q["q"],
            "total": system.search(ix, q)["total"],
            "cold": cold[q["name"]],
            "p50": percentile(times[q["name"]], 50),
            "p95": percentile(times[q["name"]], 95),
        }
        for q in queries
    }
    everything = [ms for values in times.values() for ms in values]
    figures["p50"] = percentile(everything, 50)
    figures["p95"] = percentile(everything, 95)
    figures["cold_p95"] = percentile(list(cold.values()), 95)
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    ap.add_argument("index", help="an index folder built by reindex, or an OpenSearch URL")
    ap.add_argument("--index-name", help="with a URL: the OpenSearch index (default zhsearch)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the query set (as python -m bench)")
    ap.add_argument("--rounds", type=int, default=10, help="warm passes over the query set (default 10)")
    ap.add_argument("--profile", action="store_true", help="print the top functions of the warm passes")
    ap.add_argument("--profile-first", action="store_true", help="print the top functions of the first query")
    ap.add_argument("--top", type=int, default=25, help="functions listed by --profile (default 25)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)

    profiler = cProfile.Profile() if args.profile else None
    first_profiler = cProfile.Profile() if args.profile_first else None
    f = measure(args.index, args.seed, args.rounds, profiler, args.index_name, first_profiler)
    print(f"posts {f['posts']:,}; open {f['open_ms']:.0f} ms; first query {f['first_ms']:.0f} ms")
    for name, (cold, warm) in f["archive_wide"].items():
        print(f"{name:16} cold {cold:7.1f} ms  warm {warm:7.1f} ms")
    print(f"\n{'query':18} {'total':>7} {'cold ms':>8} {'p50 ms':>7} {'p95 ms':>7}")
    for name, q in f["queries"].items():
        print(f"{name:18} {q['total']:7,} {q['cold']:8.1f} {q['p50']:7.1f} {q['p95']:7.1f}")
    print(f"\nall warm: p50 {f['p50']:.1f} ms, p95 {f['p95']:.1f} ms")
    print(f"all cold: p95 {f['cold_p95']:.1f} ms")
    print(f"peak RSS {f['rss_mb']:.0f} MB")
    if args.json:
        args.json.write_text(json.dumps(f, ensure_ascii=False, indent=1))
    for title, made in (("first query", first_profiler), ("warm passes", profiler)):
        if made:
            out = io.StringIO()
            pstats.Stats(made, stream=out).sort_stats("cumulative").print_stats(args.top)
            print(f"── {title} ──\n{out.getvalue()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
