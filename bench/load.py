"""Load benchmark: requests per second and latency of a running server, at several client counts.

Loopback only, bounded in time: each client count runs for ``--seconds``. The
clients are `wrk` (Debian's ``wrk`` package) when it is installed, since a Python
load generator would take the very cores it measures; otherwise threads with
keep-alive ``http.client`` connections. Each client cycles through the same
fixed queries (common words, a pair, a phrase, a filter) of ``/api/search``.

    .venv/bin/zhsearch serve --index IDX --port 8000 --workers 2 &
    .venv/bin/python -m bench.load --port 8000 --clients 1,4,16 --seconds 10
"""

import argparse
import http.client
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

# The URLs each client cycles through: everyday queries, as the search page sends them.
QUERIES = [
    {"q": "经济"},
    {"q": "课后服务"},
    {"q": "增长 市场"},
    {"q": '"同比增长"'},
    {"q": "疫情", "sort": "date"},
    {"q": "公司", "category": "金融"},
    {"q": "教育", "from": "2022-01-01", "to": "2022-12-31"},
    {"q": "发展", "page": "2"},
]

# Longest a run may take, in seconds, whatever --seconds says.
MAX_SECONDS = 120

_WRK_SCRIPT = """
paths = {paths}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter % #paths) + 1])
end
done = function(summary, latency, requests)
  io.write(string.format("JSON {{\\"requests\\": %d, \\"errors\\": %d, \\"p50\\": %f, \\"p95\\": %f}}\\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout, latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
"""


def paths():
    return [f"/api/search?{urlencode(q)}" for q in QUERIES]


def run_wrk(port, clients, seconds):
    """One wrk run: {"rps", "p50_ms", "p95_ms", "errors"}."""
    lua = "{" + ", ".join(json.dumps(p) for p in paths()) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_SCRIPT.format(paths=lua))
        script.flush()
        out = subprocess.run(
            ["wrk", "-t", str(min(clients, 4)), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "30s"]
            + ["-s", script.name, f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    data = json.loads(next(line[5:] for line in out.splitlines() if line.startswith("JSON ")))
    return {
        "rps": round(data["requests"] / seconds, 1),
        "p50_ms": round(data["p50"], 1),
        "p95_ms": round(data["p95"], 1),
        "errors": data["errors"],
    }


def run_threads(port, clients, seconds):
    """The same with Python threads (when wrk is missing)."""
    urls = paths()
    latencies, errors = [], [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i = offset
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", urls[i % len(urls)])
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                ok = False
            with lock:
                latencies.append(time.perf_counter() - started)
                errors[0] += not ok
            i += 1
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cuts = statistics.quantiles(latencies, n=20)
    return {
        "rps": round(len(latencies) / seconds, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(cuts[18] * 1000, 1),
        "errors": errors[0],
    }


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8000, help="port of the server on 127.0.0.1")
    ap.add_argument("--clients", default="1,4,16", help="comma-separated client counts (default 1,4,16)")
    ap.add_argument("--seconds", type=int, default=10, help=f"seconds per client count (at most {MAX_SECONDS})")
    ap.add_argument("--threads", action="store_true", help="use Python threads even where wrk is installed")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args(argv)
    seconds = max(1, min(args.seconds, MAX_SECONDS))
    run = run_threads if args.threads or not shutil.which("wrk") else run_wrk
    run(args.port, 1, 1)  # warm the caches of every worker a little
    results = {}
    for clients in (int(c) for c in args.clients.split(",")):
        results[clients] = figures = run(args.port, clients, seconds)
        print(
            f"{clients:3d} clients: {figures['rps']:7.1f} req/s  p50 {figures['p50_ms']:6.1f} ms  "
            f"p95 {figures['p95_ms']:6.1f} ms  errors {figures['errors']}",
            flush=True,
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
