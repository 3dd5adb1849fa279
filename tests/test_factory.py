"""The app factory: configuration precedence, index opening, missing index, serving."""

import json
import shutil
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest_web import live_server, soup_of
from flask.cli import ScriptInfo

import indexer
import webui
from indexer import config

pytest_plugins = ["conftest_web"]

CSP = (
    "default-src 'self'; img-src 'self' https: http: data:; script-src 'self'; "
    "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


def test_defaults(web_index_dir):
    app = webui.create_app({"INDEX_DIR": str(web_index_dir)})
    assert app.config["PAGE_SIZE"] == 10
    assert app.config["MAX_PER_PAGE"] == 50
    assert not app.debug
    assert not app.testing


def test_default_index_dir_is_index_data(monkeypatch):
    monkeypatch.delenv("ZHSEARCH_INDEX_DIR", raising=False)
    app = webui.create_app({"TESTING": True})
    assert app.config["INDEX_DIR"] == "index_data"


def test_environment_configures_app(monkeypatch, web_index_dir):
    monkeypatch.setenv("ZHSEARCH_INDEX_DIR", str(web_index_dir))
    monkeypatch.setenv("ZHSEARCH_PAGE_SIZE", "3")
    monkeypatch.setenv("ZHSEARCH_MAX_PER_PAGE", "20")
    app = webui.create_app()
    assert app.config["INDEX_DIR"] == str(web_index_dir)
    assert app.config["PAGE_SIZE"] == 3
    body = app.test_client().get("/api/search?q=课后服务").get_json()
    assert body["per_page"] == 3
    assert app.test_client().get("/api/search?per_page=21").status_code == 400


def test_test_config_wins_over_environment(monkeypatch, web_index_dir, tmp_path):
    monkeypatch.setenv("ZHSEARCH_INDEX_DIR", str(tmp_path / "elsewhere"))
    app = webui.create_app({"TESTING": True, "INDEX_DIR": str(web_index_dir)})
    assert app.config["INDEX_DIR"] == str(web_index_dir)
    assert app.test_client().get("/healthz").status_code == 200


def test_index_opened_once_and_kept_in_extensions(web_app, web_client):
    ix = web_app.extensions["search"]
    assert isinstance(ix, indexer.SearchIndex)
    web_client.get("/?q=课后服务")
    web_client.get("/api/search?q=课后服务")
    assert web_app.extensions["search"] is ix


def test_flask_cli_finds_factory(monkeypatch, web_index_dir):
    # What `flask --app webui run` does to find the app.
    monkeypatch.setenv("ZHSEARCH_INDEX_DIR", str(web_index_dir))
    app = ScriptInfo(app_import_path="webui").load_app()
    assert app.name == "webui"
    assert app.config["INDEX_DIR"] == str(web_index_dir)


@pytest.fixture
def missing_app(tmp_path):
    return webui.create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "no-index")})


@pytest.mark.parametrize("url", ["/", "/?q=课后服务", "/article/0123456789abcdef"])
def test_missing_index_page_is_503(missing_app, url):
    response = missing_app.test_client().get(url)
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    message = soup_of(response).select_one(".error-message").get_text()
    assert "Index not found" in message
    assert "reindex" in message.lower()


@pytest.mark.parametrize(
    "url", ["/api/search?q=课后服务", "/api/article/0123456789abcdef", "/api/suggest?q=课", "/healthz"]
)
def test_missing_index_json_is_503(missing_app, url):
    response = missing_app.test_client().get(url)
    assert response.status_code == 503
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"ok", "error", "status"}
    assert body["ok"] is False and body["status"] == 503
    assert "Index not found" in body["error"]


def test_openapi_served_without_index(missing_app):
    assert missing_app.test_client().get("/api/openapi.json").status_code == 200


def test_index_built_after_start_is_picked_up(tmp_path):
    source = tmp_path / "posts"
    shutil.copytree(config.DEMO_POSTS_DIR / "教育", source / "教育")
    index_dir = tmp_path / "index"
    app = webui.create_app({"TESTING": True, "INDEX_DIR": str(index_dir)})
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    indexer.reindex(source, index_dir)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["posts"] > 0


ROUTES = [
    "/",
    "/?q=课后服务",
    "/?page=0",
    "/article/0123456789abcdef",
    "/nowhere",
    "/api/search?q=课后服务",
    "/api/search?sort=bogus",
    "/api/openapi.json",
    "/api/suggest?q=课",
    "/healthz",
    "/static/style.css",
    "/static/app.js",
]


@pytest.mark.parametrize("url", ROUTES)
def test_security_headers_on_every_response(web_client, url):
    response = web_client.get(url)
    response.close()  # static files are streamed from an open file
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_security_headers_on_503(missing_app):
    response = missing_app.test_client().get("/")
    assert response.headers["Content-Security-Policy"] == CSP


def test_make_server_serves_over_http(web_index_dir):
    with live_server(web_index_dir) as base:
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            assert response.status == 200
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert json.load(response)["ok"] is True
        with pytest.raises(urllib.error.HTTPError) as excinfo:
            urllib.request.urlopen(f"{base}/api/search?page=0", timeout=10)
        assert excinfo.value.code == 400
        assert json.load(excinfo.value)["status"] == 400
        excinfo.value.close()


def test_index_built_with_other_analysis_is_503_with_the_fix(tmp_path):
    import json

    from indexer.store import current_generation

    indexer.reindex(config.DEMO_POSTS_DIR, tmp_path / "ix", jobs=1)
    _, gen_dir = current_generation(tmp_path / "ix")
    meta = json.loads((gen_dir / "zhsearch.json").read_text(encoding="utf-8"))
    (gen_dir / "zhsearch.json").write_text(json.dumps({**meta, "fingerprint": "v0/old"}), encoding="utf-8")
    client = webui.create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "ix")}).test_client()
    page = client.get("/?q=课后服务")
    assert page.status_code == 503 and "reindex --full" in soup_of(page).select_one(".error-message").get_text()
    body = client.get("/api/search?q=课后服务").get_json()
    assert body["status"] == 503 and 'Run "reindex --full"' in body["error"]


def test_served_app_honours_every_setting_from_the_environment(monkeypatch, web_index_dir, tmp_path):
    monkeypatch.setenv("ZHSEARCH_INDEX_DIR", str(tmp_path / "elsewhere"))  # --index wins over this
    monkeypatch.setenv("ZHSEARCH_PAGE_SIZE", "3")
    monkeypatch.setenv("ZHSEARCH_TIMEZONE", "UTC")
    with live_server(web_index_dir) as base:
        with urllib.request.urlopen(base + "/api/search?q=" + urllib.parse.quote("课后服务")) as response:
            body = json.loads(response.read())
    assert body["per_page"] == 3 and len(body["hits"]) == 3
    utc = indexer.open_index(web_index_dir, timezone="UTC").search("课后服务").months
    assert body["months"] == utc
