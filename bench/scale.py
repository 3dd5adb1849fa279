"""How query cost grows with the archive: ``python -m bench.scale SMALL_INDEX LARGE_INDEX``.

Measures each index in a fresh process (bench/profile.py: first query after
opening, archive-wide requests, the harness's mixed query set cold and warm,
peak RSS) and prints one table with the ratio large / small. Time that grows
with the answer, not the archive, keeps the query rows near 1 even though the
large index holds many times the posts (their answers grow too: see totals).
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path


def measure(index, seed, rounds, index_name=None):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, "-m", "bench.profile", str(index), "--seed", str(seed), "--rounds", str(rounds)]
            + (["--index-name", index_name] if index_name else [])
            + ["--json", out.name],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(Path(out.name).read_text())


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n")[0])
    ap.add_argument("small", help="index of the smaller archive (a folder, or an OpenSearch URL)")
    ap.add_argument("large", help="index of the larger archive (a folder, or an OpenSearch URL)")
    ap.add_argument("--index-names", help="with URLs: the OpenSearch indexes of the two, as SMALL,LARGE")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--json", type=Path, help="also write both measurements to this file")
    ap.add_argument("--chart", type=Path, help="draw each query's warm p95 at both sizes to this PNG")
    args = ap.parse_args(argv)
    names = args.index_names.split(",") if args.index_names else [None, None]
    if len(names) != 2:
        ap.error("--index-names takes two names, SMALL,LARGE")
    a, b = (measure(index, args.seed, args.rounds, name) for index, name in zip((args.small, args.large), names))
    if args.json:
        args.json.write_text(json.dumps({"small": a, "large": b}, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.chart:
        chart(a, b, args.chart)
    rows = [
        ("posts", a["posts"], b["posts"]),
        ("query p50, ms (warm)", a["p50"], b["p50"]),
        ("query p95, ms (warm)", a["p95"], b["p95"]),
        ("query p95, ms (cold: first time each query is seen)", a["cold_p95"], b["cold_p95"]),
        ("first query after opening, ms", a["first_ms"], b["first_ms"]),
        ("open, ms", a["open_ms"], b["open_ms"]),
    ]
    rows += [
        (f"{name}, ms (warm)", a["archive_wide"][name][1], b["archive_wide"][name][1]) for name in a["archive_wide"]
    ]
    rows += [
        (f"{name}, ms (first)", a["archive_wide"][name][0], b["archive_wide"][name][0]) for name in a["archive_wide"]
    ]
    rows += [("peak RSS of the process, MB", a["rss_mb"], b["rss_mb"])]
    print(f"| metric | {a['posts']:,} posts | {b['posts']:,} posts | large / small |")
    print("|---|---:|---:|---:|")
    for name, x, y in rows:
        print(f"| {name} | {x:,.1f} | {y:,.1f} | {y / x if x else float('nan'):.2f}x |")
    print()
    print("| query | total (small) | total (large) | p95 small, ms | p95 large, ms | large / small |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, qa in a["queries"].items():
        qb = b["queries"][name]
        print(
            f"| {name} `{qa['q']}` | {qa['total']:,} | {qb['total']:,} | {qa['p95']:.1f} | {qb['p95']:.1f} | "
            f"{qb['p95'] / qa['p95']:.2f}x |"
        )
    print(f"\nfirst query / warm p50: small {a['first_ms'] / a['p50']:.1f}x, large {b['first_ms'] / b['p50']:.1f}x")
    # The first query is the set's first one: against its own warm time too.
    same = [next(iter(m["queries"].values()))["p50"] for m in (a, b)]
    print(
        f"first query / the same query's warm p50: small {a['first_ms'] / same[0]:.1f}x, "
        f"large {b['first_ms'] / same[1]:.1f}x"
    )
    print(
        f"open + first query, ms: small {a['open_ms'] + a['first_ms']:,.0f}, large {b['open_ms'] + b['first_ms']:,.0f}"
    )
    return 0


def chart(a, b, path):
    """Bars of each query's warm p95 (and the mixed set's p50/p95) at both sizes, with the target ratio."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [*a["queries"], "all: p50", "all: p95"]
    small = [q["p95"] for q in a["queries"].values()] + [a["p50"], a["p95"]]
    large = [q["p95"] for q in b["queries"].values()] + [b["p50"], b["p95"]]
    fig, ax = plt.subplots(figsize=(11, 4.5))
    at = range(len(names))
    ax.bar([x - 0.2 for x in at], small, 0.4, label=f"{a['posts']:,} posts")
    ax.bar([x + 0.2 for x in at], large, 0.4, label=f"{b['posts']:,} posts")
    ax.scatter(at, [2 * v for v in small], marker="_", s=300, color="black", label="2x the smaller (target)")
    labels = [n if n.isascii() else f"drawn word {i}" for i, n in enumerate(names)]  # the font has no CJK
    ax.set_xticks(list(at), labels, rotation=30, ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("warm p95, ms (log)")
    ax.set_title("Query time against archive size (bench.scale, each index in a fresh process)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    sys.exit(main())
