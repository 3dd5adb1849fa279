"""zhsearch vs. the usual jieba+Whoosh recipe, side by side: ``python -m bench --n 1000``.

Generates a seeded synthetic Hexo corpus, gives each system its own copy, measures
each system in its own subprocess (``bench.worker``), prints a table, and optionally
writes JSON and a scaling chart.
"""

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import corpus, report
from bench.memory import TreeSampler, phase_peaks
from bench.queries import query_set

REPO = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "out"
CHART_SIZES = (1000, 5000, 20000)
EDIT_FRACTION = 0.01


def parse_args(argv=None):
    """Command-line options."""
    ap = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1000, help="posts in the corpus (default 1000)")
    ap.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        help="comma-separated corpus sizes, e.g. 1000,5000,20000 (default: --n, or 1000,5000,20000 with --chart)",
    )
    ap.add_argument("--jobs", type=int, default=None, help="worker processes for zhsearch's reindex (default: its own)")
    ap.add_argument("--seed", type=int, default=0, help="seed for corpus, queries and edits (default 0)")
    ap.add_argument("--queries", type=int, default=100, help="timed queries per system after warm-up (default 100)")
    ap.add_argument("--keep", action="store_true", help="keep generated corpora and indexes under bench/out/")
    ap.add_argument("--only", choices=["ours", "baseline"], help="measure one system only")
    ap.add_argument("--json", type=Path, help="write all measurements to this JSON file")
    ap.add_argument("--chart", type=Path, help="plot build time and query p95 against N to this PNG")
    return ap.parse_args(argv)


def log(msg):
    """Progress to stderr, so stdout carries only the table."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def make_plan(n, seed, master, paragraphs, args):
    """What both workers do identically: queries, the 1% of posts to edit, and settings."""
    rng = random.Random(seed + 1)
    posts = sorted(p.relative_to(master).as_posix() for p in master.rglob("*.md"))
    count = max(1, round(n * EDIT_FRACTION))
    picked = rng.sample(posts, 2 * count)
    return {
        "n": n,
        "jobs": args.jobs,
        "corpus_bytes": corpus.corpus_bytes(master),
        "query_count": args.queries,
        "queries": query_set(seed, paragraphs),
        "edits": [(rel, corpus.extra_paragraph(rng, paragraphs)) for rel in picked[:count]],
        "edits_cold": [(rel, corpus.extra_paragraph(rng, paragraphs)) for rel in picked[count:]],
    }


def run_worker(system, master, workdir, plan_path):
    """Copy the corpus for ``system`` and measure it in a fresh subprocess."""
    source, index_dir, out = workdir / system / "posts", workdir / system / "index", workdir / f"{system}.json"
    shutil.rmtree(workdir / system, ignore_errors=True)
    shutil.copytree(master, source)
    cmd = [sys.executable, "-m", "bench.worker", system, str(source), str(index_dir), str(plan_path), str(out)]
    log(f"{system}: measuring")
    with subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        with TreeSampler(proc.pid) as sampler:
            output, _ = proc.communicate()
    if proc.returncode != 0:
        tail = output.strip().splitlines()[-1:] or ["(no output)"]
        log(f"{system}: FAILED\n{output[-3000:]}")
        return {"error": tail[0]}
    result = json.loads(out.read_text(encoding="utf-8"))
    result["peak_rss_bytes"] = phase_peaks(sampler.samples, result["phases"])
    return result


def run_size(n, args, paragraphs):
    """Generate a corpus of ``n`` posts and measure the selected systems on it."""
    OUT.mkdir(parents=True, exist_ok=True)
    # Unique per run: two runs at once (same N and seed) must not share files.
    workdir = Path(tempfile.mkdtemp(prefix=f"n{n}-seed{args.seed}-", dir=OUT))
    master = workdir / "corpus"
    log(f"N={n}: generating corpus in {master}")
    corpus.generate(master, n, args.seed)
    plan_path = workdir / "plan.json"
    plan = make_plan(n, args.seed, master, paragraphs, args)
    plan_path.write_text(json.dumps(plan, ensure_ascii=False, indent=1), encoding="utf-8")
    systems = [args.only] if args.only else ["ours", "baseline"]
    results = {s: run_worker(s, master, workdir, plan_path) for s in systems}
    if args.keep:
        log(f"N={n}: kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return {"n": n, "seed": args.seed, "queries": plan["queries"], "results": results}


def main(argv=None):
    """Run the benchmark and print one table per corpus size."""
    args = parse_args(argv)
    sizes = args.sizes or (list(CHART_SIZES) if args.chart else [args.n])
    paragraphs = corpus.load_paragraphs()
    started = time.perf_counter()
    runs = []
    for n in sizes:
        run = run_size(n, args, paragraphs)
        runs.append(run)
        print(f"\n## N = {n} (seed {args.seed}, {args.queries} timed queries per system)\n")
        print(report.format_table(run["results"]), flush=True)
    print("\nratio: > 1 means zhsearch is better on lower=/higher=better rows; info rows show zhsearch / baseline.")
    log(f"total {time.perf_counter() - started:.1f}s")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs}, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.chart:
        report.plot(runs, args.chart)
    return 0 if all("error" not in r for run in runs for r in run["results"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
