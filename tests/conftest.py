"""Shared fixtures, built through the public API (indexer.reindex / open_index)."""

import os
from pathlib import Path

import pytest

import indexer
from indexer import config

# Set by .ci/run: in CI every test must run, so a skip (no Chromium, no shared corpus,
# no OpenSearch) is a failure instead of a quiet pass.
FORBID_SKIPS = os.environ.get("ZHSEARCH_FORBID_SKIPS") == "1"

# Apps made from the environment in tests warm no index in the background: a thread left
# running would make later reindex runs in this process start their workers by forkserver.
os.environ.setdefault("ZHSEARCH_WARM", "false")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if FORBID_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"


# The shared corpus lies beside the repository (X/main and X/shared); CI lays it out the same way.
CORPUS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "posts"


@pytest.fixture(scope="session")
def corpus_dir():
    """The shared corpus of real posts, read in place (never copied)."""
    if not CORPUS_DIR.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS_DIR}")
    return CORPUS_DIR


@pytest.fixture(scope="session")
def demo_dir():
    return config.DEMO_POSTS_DIR


@pytest.fixture(scope="session")
def demo_index(tmp_path_factory, demo_dir):
    """An index of the demo posts, built once per session; tests must not change it."""
    index_dir = tmp_path_factory.mktemp("demo_index")
    indexer.reindex(demo_dir, index_dir, jobs=1)
    return index_dir


@pytest.fixture(scope="session")
def demo_search(demo_index):
    return indexer.open_index(demo_index)


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory, corpus_dir):
    """An index of the whole shared corpus, built once per session with worker processes."""
    index_dir = tmp_path_factory.mktemp("corpus_index")
    report = indexer.reindex(corpus_dir, index_dir, jobs=2)
    assert not report.failed, report.failed
    return index_dir


@pytest.fixture(scope="session")
def corpus_search(corpus_index):
    return indexer.open_index(corpus_index)
