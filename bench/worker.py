"""Measure ONE system in its own process (so peak memory is per system).

Invoked by ``bench.run`` as ``python -m bench.worker SYSTEM SOURCE INDEX PLAN OUT [--options JSON]``
(INDEX is a folder, or a cluster URL for ``opensearch``; the options are the
adapter's keyword arguments, e.g. ``{"index_name": ..., "shards": 3, "replicas": 1}``);
reads the plan JSON (queries, posts to edit) and writes the measurements as JSON,
including the wall-clock window of each phase so the parent, which samples this
process tree's memory, can attribute peaks to phases. No threads are started here.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.systems import SYSTEMS


def cpu_seconds():
    """User+system CPU of this process and its reaped children (e.g. worker pools)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, *args, **kwargs):
    """Run ``fn`` and return ``(result, wall_seconds, cpu_seconds)``."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - wall, cpu_seconds() - cpu


def edit_posts(source, edits):
    """Append a paragraph inside each listed post's ``<div>`` and push its mtime forward."""
    bump = time.time() + 2
    for rel, paragraph in edits:
        path = Path(source, rel)
        text = path.read_text(encoding="utf-8").rstrip()
        text = text[: -len("</div>")] + paragraph + "</div>" if text.endswith("</div>") else text + paragraph
        path.write_text(text, encoding="utf-8")
        os.utime(path, (bump, bump))


def percentile(values, pct):
    """Inclusive percentile (``statistics.quantiles``) of a list of numbers."""
    if len(values) < 2:
        return values[0] if values else None
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def run_queries(system, ix, queries, count, warmup=1):
    """Warm up with ``warmup`` passes, then time ``count`` queries round-robin. Returns stats and hit totals."""
    totals = {q["name"]: system.search(ix, q)["total"] for q in queries}
    for _ in range(warmup - 1):
        for q in queries:
            system.search(ix, q)
    latencies, per_kind = [], {q["name"]: [] for q in queries}
    for i in range(count):
        spec = queries[i % len(queries)]
        _, wall, _ = timed(system.search, ix, spec)
        latencies.append(wall * 1000)
        per_kind[spec["name"]].append(wall * 1000)
    return {
        "count": count,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "mean_ms": statistics.fmean(latencies),
        "median_ms_by_query": {k: statistics.median(v) for k, v in per_kind.items() if v},
        "hits": totals,
    }


class Phases:
    """Wall-clock windows of the measurement phases, for the parent's memory sampler."""

    def __init__(self):
        self.windows = {}
        self._current = None

    def start(self, name):
        """End the current phase (if any) and begin ``name``."""
        now = time.time()
        if self._current:
            self.windows[self._current][1] = now
        self.windows[name] = [now, now]
        self._current = name

    def stop(self):
        """End the current phase."""
        self.start("_end")
        del self.windows["_end"]


def cold_update(system, source, index_dir, jobs, options):
    """Run one incremental reindex in a fresh process (``bench.cold``); returns (report, seconds)."""
    cmd = [sys.executable, "-m", "bench.cold", system.name, str(source), str(index_dir), str(jobs), json.dumps(options)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines() or ["(no stderr)"]
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"error": lines[-1]}, None
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return result["report"], result["s"]


def measure(system, source, index_dir, plan, phases, options):
    """The full measurement sequence for one system; returns a JSON-able dict."""
    out = {"system": system.name, "n": plan["n"], "corpus_bytes": plan["corpus_bytes"]}
    phases.start("build")
    report, out["build_s"], out["build_cpu_s"] = timed(system.build, source, index_dir, plan["jobs"])
    out["build_report"] = report
    out["posts_per_s"] = plan["n"] / out["build_s"]
    out["index_bytes"], out["index_bytes_all_copies"] = system.index_bytes(index_dir)
    phases.start("incremental")
    out["incr_noop_report"], out["incr_noop_s"], _ = timed(system.update, source, index_dir, plan["jobs"])
    edit_posts(source, plan["edits"])
    out["incr_1pct_report"], out["incr_1pct_s"], _ = timed(system.update, source, index_dir, plan["jobs"])
    out["incr_1pct_edited"] = len(plan["edits"])
    phases.start("incremental (cold)")
    out["cold_noop_report"], out["cold_noop_s"] = cold_update(system, source, index_dir, plan["jobs"], options)
    edit_posts(source, plan["edits_cold"])
    out["cold_1pct_report"], out["cold_1pct_s"] = cold_update(system, source, index_dir, plan["jobs"], options)
    out["index_bytes_after_incr"] = system.index_bytes(index_dir)[0]
    phases.start("query")
    ix, out["open_s"], _ = timed(system.open, index_dir)
    out["query"] = run_queries(system, ix, plan["queries"], plan["query_count"], plan.get("warmup", 1))
    close = getattr(ix, "close", None)
    if callable(close):
        close()
    return out


def main(argv=None):
    """CLI entry: measure one system and write the JSON result."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("system", choices=sorted(SYSTEMS))
    ap.add_argument("source")
    ap.add_argument("index")
    ap.add_argument("plan")
    ap.add_argument("out")
    ap.add_argument("--options", type=json.loads, default={}, help="keyword arguments of the system's adapter (JSON)")
    args = ap.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    phases = Phases()
    phases.start("import")
    system = SYSTEMS[args.system](**args.options)
    result = measure(system, args.source, args.index, plan, phases, args.options)
    phases.stop()
    result["phases"] = phases.windows
    Path(args.out).write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
