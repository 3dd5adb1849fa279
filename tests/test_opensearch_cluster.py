"""A 3-node OpenSearch cluster on loopback survives kill -9 of a node while threads search.

Starts its own cluster with scripts/opensearch (in a temporary folder, on ports 9270-9272 and
9370-9372) so CI's single node stays as it is. Needs Java 17 and Maven, as scripts/opensearch does.
"""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

import indexer
from indexer import config
from indexer.backends.opensearch import client as osc

pytestmark = pytest.mark.opensearch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "opensearch"
PORT = int(os.environ.get("ZHSEARCH_TEST_CLUSTER_PORT", "9270"))
QUERIES = ["教育", "课后服务", "双减 OR 课后服务", '"延时服务"', "title:双减", ""]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    up = subprocess.run(
        [str(SCRIPT), "up", "--dir", str(folder), "--nodes", "3", "--port", str(PORT), "--heap", "512m", "--wipe"],
        capture_output=True,
        text=True,
    )
    if up.returncode != 0:
        pytest.skip(f"cannot start a 3-node cluster: {up.stderr[-600:]}")
    urls = ",".join(f"http://127.0.0.1:{PORT + i}" for i in range(3))
    try:
        yield folder, urls
    finally:
        subprocess.run([str(SCRIPT), "down", "--dir", str(folder), "--wipe"], capture_output=True)


def _health(urls):
    conn = osc.Connection.of(urls)
    return osc.call(conn, osc.client(conn).cluster.health)


def test_kill_a_node_while_four_threads_search(cluster):
    folder, urls = cluster
    report = indexer.reindex(config.DEMO_POSTS_DIR, urls, index_name="kill", shards=3, replicas=1, jobs=1)
    assert not report.failed
    ix = indexer.open_index(urls, index_name="kill")
    expected = {q: ix.search(q).total for q in QUERIES}
    failures, answers, stop = [], [0], threading.Event()

    def search():
        while not stop.is_set():
            for q in QUERIES:
                try:
                    total = ix.search(q).total
                    answers[0] += 1
                    if total != expected[q]:
                        failures.append((time.monotonic(), q, f"total {total} != {expected[q]}"))
                except Exception as exc:  # recorded with its time; judged below
                    failures.append((time.monotonic(), q, repr(exc)[:200]))

    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        pid = int((folder / "node-2" / "node.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        noticed = None
        while time.monotonic() - killed < 120:
            try:
                if _health(f"http://127.0.0.1:{PORT}")["number_of_nodes"] == 2:
                    noticed = time.monotonic()
                    break
            except indexer.SearchEngineError:
                pass
            time.sleep(0.5)
        assert noticed is not None, "the cluster never noticed the dead node"
        time.sleep(10)  # keep searching on two nodes
        before = answers[0]
        restart = subprocess.run(
            [str(SCRIPT), "start-node", "node-2", "--dir", str(folder)], capture_output=True, text=True
        )
        assert restart.returncode == 0, restart.stderr[-600:]
        assert answers[0] > before
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    late = [f for f in failures if f[0] > noticed]
    print(f"\n{answers[0]} searches, {len(failures)} failed before the cluster noticed, {len(late)} after")
    assert not late, late[:5]
    assert _health(urls)["status"] == "green"
    assert {q: ix.search(q).total for q in QUERIES} == expected
