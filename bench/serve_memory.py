"""Memory of a serving process: ``python -m bench.serve_memory INDEX``.

Starts ``zhsearch serve`` (waitress, 4 request threads) on the index, sends
``--queries`` varied searches over 4 client threads (every word drawn, seeded,
from the shared posts' paragraphs, alone, in pairs, quoted, with a category or
date filter, sorted by date, pages 1-3), then reads the server's memory from
/proc: RssAnon (the process's own memory: Python objects, caches), RssFile
(index and library files mapped or cached, shared with the page cache and
counted once however many threads read them) and VmRSS (both). Also times
/healthz, the empty query and a zero-hit query on the warm server, and prints
the cache budget in force (``ZHSEARCH_CACHE_MB``).
"""

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.corpus import load_paragraphs
from bench.queries import _candidate_words
from indexer import config

TARGET_MB = 600


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def varied_queries(count, seed):
    """`count` search requests (query-string dicts) drawn from the shared posts' words."""
    rng = random.Random(seed)
    paragraphs = load_paragraphs()
    words = sorted({w for ws in _candidate_words(rng.sample(paragraphs, 400)) for w in ws})
    requests = []
    for i in range(count):
        kind = i % 6
        word = rng.choice(words)
        if kind == 0:
            q = {"q": word}
        elif kind == 1:
            q = {"q": f"{word} {rng.choice(words)}"}
        elif kind == 2:
            q = {"q": f'"{word}"', "page": str(rng.randint(1, 3))}
        elif kind == 3:
            q = {"q": word, "category": rng.choice(["金融", "科技", "财经", "新浪财经"])}
        elif kind == 4:
            year = rng.randint(2020, 2024)
            q = {"q": word, "from": f"{year}-01-01", "to": f"{year}-06-30"}
        else:
            q = {"q": word, "sort": "date"}
        requests.append(q)
    return requests


def proc_memory(pid):
    """{field: MB} of VmRSS, RssAnon, RssFile from /proc/PID/status."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, (time.perf_counter() - started) * 1000, body


def wait_ready(port, proc, seconds=300):
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if get(port, "/healthz")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not answer /healthz")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.serve_memory", description=__doc__.split("\n")[0])
    ap.add_argument("index", help="an index folder built by reindex")
    ap.add_argument("--queries", type=int, default=1000, help="searches sent (default 1000)")
    ap.add_argument("--clients", type=int, default=4, help="client threads (default 4)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)

    port = free_port()
    cache_mb = os.environ.get("ZHSEARCH_CACHE_MB", str(config.CACHE_MB))
    zhsearch = Path(sys.executable).parent / "zhsearch"
    cmd = [str(zhsearch), "serve", "--index", args.index, "--port", str(port), "--threads", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(port, proc)
        opened = proc_memory(proc.pid)
        requests = varied_queries(args.queries, args.seed)
        latencies, failures, lock = [], [], threading.Lock()

        def client(part):
            for q in part:
                status, ms, _ = get(port, f"/api/search?{urlencode(q)}")
                with lock:
                    latencies.append(ms)
                    if status != 200:
                        failures.append((status, q))

        threads = [threading.Thread(target=client, args=(requests[i :: args.clients],)) for i in range(args.clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        seconds = time.perf_counter() - started
        after = proc_memory(proc.pid)
        wide = {}
        for name, path in {
            "healthz": "/healthz",
            "empty query": "/api/search?q=",
            "zero hits": "/api/search?" + urlencode({"q": "龘靐齉"}),
            "categories": "/api/search?" + urlencode({"q": "", "per_page": 1}),
        }.items():
            wide[name] = min(get(port, path)[1] for _ in range(3))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    latencies.sort()
    figures = {
        "queries": len(latencies),
        "failures": len(failures),
        "seconds": round(seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2], 1),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)], 1),
        "cache_mb": cache_mb,
        "opened": opened,
        "after": after,
        "archive_wide_ms": {k: round(v, 1) for k, v in wide.items()},
    }
    print(f"cache budget ZHSEARCH_CACHE_MB={cache_mb}")
    print(
        f"{len(latencies)} queries over {args.clients} clients in {seconds:.1f} s, {len(failures)} failed; "
        f"p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms"
    )
    for label, mem in (("after opening", opened), (f"after {len(latencies)} queries", after)):
        print(
            f"{label:22} RssAnon {mem['RssAnon']:7.0f} MB  RssFile {mem['RssFile']:7.0f} MB  "
            f"VmRSS {mem['VmRSS']:7.0f} MB"
        )
    print(f"RssAnon / {TARGET_MB} MB target: {after['RssAnon'] / TARGET_MB:.2f}")
    for name, ms in figures["archive_wide_ms"].items():
        print(f"{name:12} {ms:7.1f} ms (warm server)")
    if failures:
        print("failed:", failures[:5])
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
