"""zhsearch vs. the usual jieba+Whoosh recipe, side by side: ``python -m bench --n 1000``.

Generates a seeded synthetic Hexo corpus, gives each system its own copy, measures
each system in its own subprocess (``bench.worker``), prints a table, and optionally
writes JSON and a scaling chart.

``--systems ours,opensearch --opensearch-nodes 1,3`` also measures zhsearch on
OpenSearch: for each node count the harness starts its own cluster with
``scripts/opensearch`` in the run's folder under bench/out/ (ports from
``--opensearch-port``), measures, and stops and wipes it. ``--opensearch-url``
uses a running cluster instead (a uniquely named index, deleted afterwards).
"""

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bench import corpus, report
from bench.memory import TreeSampler, phase_cpu, phase_peaks
from bench.queries import query_set

REPO = Path(__file__).resolve().parents[1]
OUT = Path(__file__).resolve().parent / "out"
CHART_SIZES = (1000, 5000, 20000)
EDIT_FRACTION = 0.01
# Systems --systems accepts, in table order.
SYSTEM_NAMES = ("ours", "baseline", "opensearch")
# HTTP port of node-1 of the clusters the harness starts; away from the dev cluster's 9200.
OPENSEARCH_PORT = 9400
# Seconds between samples of the cluster JVMs' memory and CPU (a cluster tree is costlier to walk).
CLUSTER_SAMPLE_S = 0.2


def _int_list(text):
    return [int(x) for x in text.split(",")]


def _systems(text):
    names = [x.strip() for x in text.split(",") if x.strip()]
    unknown = sorted(set(names) - set(SYSTEM_NAMES))
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown system(s) {unknown}; choose from {', '.join(SYSTEM_NAMES)}")
    return names


def parse_args(argv=None):
    """Command-line options."""
    ap = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=1000, help="posts in the corpus (default 1000)")
    ap.add_argument(
        "--sizes",
        type=_int_list,
        help="comma-separated corpus sizes, e.g. 1000,5000,20000 (default: --n, or 1000,5000,20000 with --chart)",
    )
    ap.add_argument("--jobs", type=int, default=None, help="worker processes for zhsearch's reindex (default: its own)")
    ap.add_argument("--seed", type=int, default=0, help="seed for corpus, queries and edits (default 0)")
    ap.add_argument("--queries", type=int, default=100, help="timed queries per system after warm-up (default 100)")
    ap.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed passes over the query set before timing (default 1; a freshly started JVM needs more)",
    )
    ap.add_argument("--keep", action="store_true", help="keep generated corpora and indexes under bench/out/")
    ap.add_argument(
        "--systems",
        type=_systems,
        default=["ours", "baseline"],
        help="comma-separated, from: ours, baseline, opensearch (default ours,baseline)",
    )
    ap.add_argument("--only", choices=SYSTEM_NAMES, help="measure one system only (same as --systems NAME)")
    ap.add_argument(
        "--opensearch-nodes",
        type=_int_list,
        default=[1],
        help="for opensearch: start a cluster of each of these node counts, one after another (default 1)",
    )
    ap.add_argument(
        "--opensearch-port",
        type=int,
        default=OPENSEARCH_PORT,
        help=f"HTTP port of node-1 of the clusters started (default {OPENSEARCH_PORT}; transport: +100)",
    )
    ap.add_argument("--opensearch-url", help="for opensearch: use this running cluster instead of starting clusters")
    ap.add_argument("--opensearch-shards", type=int, help="primary shards (default: one per node)")
    ap.add_argument("--opensearch-replicas", type=int, help="replicas per shard (default: 0 on one node, else 1)")
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
        "warmup": args.warmup,
        "queries": query_set(seed, paragraphs),
        "edits": [(rel, corpus.extra_paragraph(rng, paragraphs)) for rel in picked[:count]],
        "edits_cold": [(rel, corpus.extra_paragraph(rng, paragraphs)) for rel in picked[count:]],
    }


def copy_corpus(master, workdir, key):
    """Give the system ``key`` its own copy of the corpus; returns the copy's folder."""
    source = workdir / key / "posts"
    shutil.rmtree(workdir / key, ignore_errors=True)
    shutil.copytree(master, source)
    return source


def run_worker(system, master, workdir, plan_path, key=None, index=None, options=None, cluster_pids=(), copied=False):
    """Copy the corpus for ``system`` (unless ``copied``) and measure it in a fresh subprocess.

    :param key: the result's name and folder (default: ``system``).
    :param index: where the index goes (default: a folder in ``workdir``; a URL for opensearch).
    :param options: keyword arguments of the system's adapter.
    :param cluster_pids: JVM pids of the cluster the system uses; their memory and CPU are sampled too.
    """
    key = key or system
    source = workdir / key / "posts" if copied else copy_corpus(master, workdir, key)
    out = workdir / f"{key}.json"
    index = index or workdir / key / "index"
    cmd = [sys.executable, "-m", "bench.worker", system, str(source), str(index), str(plan_path), str(out)]
    cmd += ["--options", json.dumps(options or {})]
    log(f"{key}: measuring")
    with contextlib.ExitStack() as stack:
        proc = stack.enter_context(
            subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        )
        sampler = stack.enter_context(TreeSampler(proc.pid, cpu=True))
        cluster = None
        if cluster_pids:
            cluster = stack.enter_context(TreeSampler(list(cluster_pids), CLUSTER_SAMPLE_S, cpu=True))
        output, _ = proc.communicate()
    if proc.returncode != 0:
        tail = output.strip().splitlines()[-1:] or ["(no output)"]
        log(f"{key}: FAILED\n{output[-3000:]}")
        return {"error": tail[0]}
    result = json.loads(out.read_text(encoding="utf-8"))
    result["peak_rss_bytes"] = phase_peaks(sampler.samples, result["phases"])
    # The worker's getrusage misses pool workers reaped by a forkserver (the OpenSearch
    # writer runs a lock thread, so its pool starts with forkserver); the sampler misses
    # at most its last interval. Each can only under-count, so the larger is nearer.
    result["build_cpu_s"] = max(result["build_cpu_s"], phase_cpu(sampler.samples, result["phases"])["build"])
    if cluster:
        result["cluster_rss_bytes"] = phase_peaks(cluster.samples, result["phases"])
        result["cluster_cpu_s"] = phase_cpu(cluster.samples, result["phases"])
    log(f"{key}: done, full build {result['build_s']:.1f}s, query p95 {result['query']['p95_ms']:.1f} ms")
    return result


def _opensearch_script(*args):
    cmd = [sys.executable, str(REPO / "scripts" / "opensearch"), *map(str, args)]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)


@contextlib.contextmanager
def opensearch_cluster(nodes, port, folder):
    """Start a fresh cluster of ``nodes`` nodes in ``folder``; yield ``(url, jvm_pids)``; stop and wipe it."""
    name = f"zhsearch-bench-{nodes}n-{os.getpid()}"
    log(f"starting a {nodes}-node OpenSearch cluster in {folder} (HTTP from port {port})")
    up = _opensearch_script("up", "--dir", folder, "--nodes", nodes, "--port", port, "--cluster-name", name, "--wipe")
    try:
        if up.returncode != 0:
            last = (up.stderr.strip().splitlines() or ["(no output)"])[-1]
            log(f"scripts/opensearch up said:\n{up.stderr[-3000:]}")
            raise RuntimeError(f"scripts/opensearch up failed (exit {up.returncode}): {last}")
        url = up.stdout.strip().splitlines()[-1]
        pids = [int((folder / f"node-{i}" / "node.pid").read_text()) for i in range(1, nodes + 1)]
        yield url, pids
    finally:
        down = _opensearch_script("down", "--dir", folder, "--wipe")
        log(f"stopped the {nodes}-node cluster" if down.returncode == 0 else f"stopping failed: {down.stderr[-1000:]}")


def _drop_opensearch_index(url, name):
    """Delete what a run left on a cluster it did not start: the alias's indexes and the meta index."""
    base = url.split(",")[0].rstrip("/")
    try:
        with urllib.request.urlopen(f"{base}/_alias/{name}", timeout=60) as resp:
            physical = list(json.load(resp))
    except urllib.error.HTTPError:
        physical = []
    for index in [*physical, f"{name}-meta"]:
        request = urllib.request.Request(f"{base}/{index}", method="DELETE")
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=60).close()


def run_opensearch(master, workdir, plan_path, args, results, saved):
    """Measure zhsearch on OpenSearch: on ``--opensearch-url``, or on a cluster of each ``--opensearch-nodes``.

    Each result goes into ``results``, followed by a call to ``saved()``.
    """
    if args.opensearch_url:
        options = {
            "index_name": f"zhsearch-bench-{workdir.name.rsplit('-', 1)[-1].lower()}",
            "shards": args.opensearch_shards or 1,
            "replicas": args.opensearch_replicas or 0,
        }
        try:
            result = run_worker("opensearch", master, workdir, plan_path, index=args.opensearch_url, options=options)
        finally:
            _drop_opensearch_index(args.opensearch_url, options["index_name"])
        results["opensearch"] = {**result, "cluster": {"url": args.opensearch_url, **options}}
        saved()
        return
    for nodes in args.opensearch_nodes:
        key = f"opensearch-{nodes}n"
        options = {
            "index_name": "zhsearch-bench",
            "shards": args.opensearch_shards or nodes,
            "replicas": args.opensearch_replicas if args.opensearch_replicas is not None else min(1, nodes - 1),
        }
        copy_corpus(master, workdir, key)  # before the cluster starts: a large copy takes minutes
        try:
            with opensearch_cluster(nodes, args.opensearch_port, workdir / f"{key}-cluster") as (url, pids):
                result = run_worker("opensearch", master, workdir, plan_path, key, url, options, pids, copied=True)
        except RuntimeError as exc:
            log(f"{key}: FAILED\n{exc}")
            result = {"error": str(exc).splitlines()[0]}
        results[key] = {**result, "cluster": {"nodes": nodes, **options}}
        saved()


def run_size(n, args, paragraphs, save=lambda run: None):
    """Generate a corpus of ``n`` posts and measure the selected systems on it.

    ``save(run)`` is called with the run so far after each system (a long run keeps what it measured).
    """
    OUT.mkdir(parents=True, exist_ok=True)
    # Unique per run: two runs at once (same N and seed) must not share files.
    workdir = Path(tempfile.mkdtemp(prefix=f"n{n}-seed{args.seed}-", dir=OUT))
    master = workdir / "corpus"
    log(f"N={n}: generating corpus in {master}")
    corpus.generate(master, n, args.seed)
    plan_path = workdir / "plan.json"
    plan = make_plan(n, args.seed, master, paragraphs, args)
    plan_path.write_text(json.dumps(plan, ensure_ascii=False, indent=1), encoding="utf-8")
    systems = [args.only] if args.only else args.systems
    run = {"n": n, "seed": args.seed, "queries": plan["queries"], "results": {}}
    for system in sorted(set(systems), key=SYSTEM_NAMES.index):
        if system == "opensearch":
            run_opensearch(master, workdir, plan_path, args, run["results"], lambda: save(run))
        else:
            run["results"][system] = run_worker(system, master, workdir, plan_path)
            save(run)
    if args.keep:
        log(f"N={n}: kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return run


def main(argv=None):
    """Run the benchmark and print one table per corpus size."""
    args = parse_args(argv)
    sizes = args.sizes or (list(CHART_SIZES) if args.chart else [args.n])
    paragraphs = corpus.load_paragraphs()
    started = time.perf_counter()
    runs = []

    def save(run):
        if args.json:
            args.json.write_text(json.dumps({"runs": [*runs, run]}, ensure_ascii=False, indent=1), encoding="utf-8")

    for n in sizes:
        run = run_size(n, args, paragraphs, save)
        runs.append(run)
        print(f"\n## N = {n} (seed {args.seed}, {args.queries} timed queries per system)\n")
        print(report.format_table(run["results"]), flush=True)
    print("\n" + report.RATIO_NOTE)
    log(f"total {time.perf_counter() - started:.1f}s")
    if args.chart:
        report.plot(runs, args.chart)
    return 0 if all("error" not in r for run in runs for r in run["results"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
