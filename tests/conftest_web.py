"""Fixtures for the web UI tests, loaded with ``pytest_plugins = ["conftest_web"]``.

Built through the public API only: demo posts -> ``indexer.reindex`` -> ``webui.create_app``.
Fixture names carry a ``web_`` prefix so they never shadow the main conftest's.
Test modules also import the helpers below directly, which happens before pytest loads
this module as a plugin; it has no asserts to rewrite, so: PYTEST_DONT_REWRITE.
"""

import os
import threading
import uuid
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from waitress import wasyncore

import indexer
import webui
from indexer import config


@pytest.fixture(scope="session")
def web_index_dir(tmp_path_factory):
    """An index of the demo posts, built once per test session."""
    index_dir = tmp_path_factory.mktemp("web_index")
    indexer.reindex(config.DEMO_POSTS_DIR, index_dir)
    return index_dir


@pytest.fixture(scope="session", params=["whoosh", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def web_backend(request, web_index_dir):
    """App settings of a demo index on each backend: the pages and API must behave the same on both."""
    if request.param == "whoosh":
        yield {"INDEX_DIR": str(web_index_dir)}
        return
    url = os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200")
    name = f"zhs-web-{uuid.uuid4().hex[:8]}"
    try:
        indexer.reindex(config.DEMO_POSTS_DIR, url, index_name=name)
    except indexer.SearchEngineError as exc:
        pytest.skip(f"no OpenSearch node at {url}: {exc}")
    yield {"URL": url, "INDEX_NAME": name}
    from indexer.backends.opensearch import client as osc

    osc.client(osc.Connection.of(url)).indices.delete(index=f"{name}*")


@pytest.fixture(scope="session")
def web_app(web_backend):
    """The web app over the demo index (session-wide: the app keeps no per-request state)."""
    return webui.create_app({"TESTING": True, **web_backend})


@pytest.fixture
def web_client(web_app):
    return web_app.test_client()


@pytest.fixture(scope="session")
def web_posts(web_index_dir):
    """Every demo post as an ``indexer.Article``, newest first."""
    ix = indexer.open_index(web_index_dir)
    page = ix.search("", per_page=1000, sort="date", collapse=False)
    return [ix.get(hit.id) for hit in page.hits]


@pytest.fixture(scope="session")
def script_post(web_posts):
    """The demo post whose title carries ``<script>alert(1)</script>``."""
    return next(p for p in web_posts if "<script>" in p.title)


def soup_of(response):
    """Parse an HTML response."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def query_of(href):
    """The query string of a link as a dict of single values."""
    return {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}


@contextmanager
def live_server(index_dir, settings=None):
    """Serve ``index_dir`` (or the OpenSearch index `settings` name) on a free loopback port; yield the base URL."""
    if settings and settings.get("URL"):
        options = {"backend": "opensearch", "index_name": settings["INDEX_NAME"]}
        server = webui.make_server(settings["URL"], host="127.0.0.1", port=0, threads=4, options=options)
    else:
        server = webui.make_server(index_dir, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, name="zhsearch-test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close every socket from inside waitress's own loop thread (via its trigger), so
        # the loop never selects on a socket closed under it; an empty map ends run().
        server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
