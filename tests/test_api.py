"""JSON API: envelopes, exact key sets, bad input, and conformance to the OpenAPI document."""

import calendar
from datetime import datetime

import jsonschema
import pytest
from openapi_spec_validator import validate as validate_spec

from webui.api import load_openapi

pytest_plugins = ["conftest_web"]

QUERY = "课后服务"

SEARCH_KEYS = {
    "ok",
    "query",
    "total",
    "total_stories",
    "collapsed",
    "page",
    "per_page",
    "pages",
    "took_ms",
    "sort",
    "note",
    "expansions",
    "note_code",
    "suggestion",
    "hits",
    "facets",
    "months",
    "feed",
    "tree",
}
HIT_KEYS = {
    "id",
    "path",
    "title",
    "title_text",
    "title_spans",
    "url",
    "date",
    "categories",
    "author",
    "feed",
    "image",
    "snippet",
    "snippet_text",
    "snippet_spans",
    "score",
    "exact",
    "similar",
}
ARTICLE_KEYS = {
    "ok",
    "id",
    "url",
    "path",
    "title",
    "date",
    "categories",
    "tags",
    "author",
    "editor",
    "feed",
    "image",
    "text",
    "paragraphs",
}
ERROR_KEYS = {"ok", "error", "status"}


@pytest.fixture(scope="module")
def spec():
    return load_openapi()


def conforms(spec, body, schema_name):
    """Validate `body` against components/schemas/`schema_name`, resolving refs in the spec."""
    schema = dict(spec, **{"$ref": f"#/components/schemas/{schema_name}"})
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    validator.validate(body)


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    return response.get_json()


def test_openapi_document_is_valid(web_client, spec):
    validate_spec(spec)
    served = get_json(web_client, "/api/openapi.json")
    assert served == spec
    assert served["openapi"].startswith("3.1")


def test_every_route_is_documented(web_app, spec):
    documented = set(spec["paths"])
    routes = {
        rule.rule.replace("<post_id>", "{post_id}")
        for rule in web_app.url_map.iter_rules()
        if rule.rule.startswith("/api") or rule.rule == "/healthz"
    }
    assert routes == documented


def test_search(web_client, spec):
    body = get_json(web_client, f"/api/search?q={QUERY}")
    assert set(body) == SEARCH_KEYS
    conforms(spec, body, "SearchResponse")
    assert body["ok"] is True
    assert body["query"] == QUERY
    assert body["page"] == 1 and body["per_page"] == 10 and body["sort"] == "relevance"
    assert body["total"] >= 3
    assert body["collapsed"] is True and 0 < body["total_stories"] <= body["total"]
    assert body["pages"] == -(-body["total_stories"] // 10)
    assert body["hits"]
    for hit in body["hits"]:
        assert set(hit) == HIT_KEYS
        assert hit["url"] == f"/article/{hit['id']}?q=%E8%AF%BE%E5%90%8E%E6%9C%8D%E5%8A%A1"
        assert datetime.fromisoformat(hit["date"]).tzinfo is not None
        assert hit["image"] is None or hit["image"].startswith(("http://", "https://"))
    assert any("<mark" in hit["snippet"] for hit in body["hits"])
    assert 0 < sum(body["months"].values()) <= body["total"]  # undated posts count in no month
    assert list(body["months"]) == sorted(body["months"])
    counts = list(body["facets"].values())
    assert counts == sorted(counts, reverse=True)


def test_search_empty_query_is_newest_posts(web_client, spec, web_posts):
    body = get_json(web_client, "/api/search")
    conforms(spec, body, "SearchResponse")
    assert body["query"] == ""
    assert body["total"] == len(web_posts)
    assert [h["id"] for h in body["hits"]] == [p.id for p in web_posts[:10]]


def test_search_params(web_client, spec):
    body = get_json(web_client, f"/api/search?q={QUERY}&per_page=2&page=2&sort=date")
    conforms(spec, body, "SearchResponse")
    assert (body["page"], body["per_page"], body["sort"]) == (2, 2, "date")
    assert len(body["hits"]) == 2
    dates = [h["date"] for h in body["hits"]]
    assert dates == sorted(dates, reverse=True)


def test_search_category_filter(web_client, spec):
    everything = get_json(web_client, f"/api/search?q={QUERY}")
    category, count = next(iter(everything["facets"].items()))
    body = get_json(web_client, f"/api/search?q={QUERY}&category={category}&per_page=50")
    conforms(spec, body, "SearchResponse")
    assert body["total"] == count
    assert all(category in h["categories"] for h in body["hits"])


def test_search_feed_tree_and_filter(web_client, spec):
    everything = get_json(web_client, f"/api/search?q={QUERY}")
    top = everything["tree"][0]
    assert set(top) == {"name", "path", "count", "children"}
    assert everything["feed"] is None
    assert sum(node["count"] for node in everything["tree"]) == everything["total"]
    feed = top["children"][0]["children"][0]
    assert feed["path"].count("/") == 2 and feed["children"] == []
    body = get_json(web_client, f"/api/search?q={QUERY}&feed={feed['path']}&per_page=50")
    conforms(spec, body, "SearchResponse")
    assert body["total"] == feed["count"] and body["feed"] == feed["path"]
    assert all(h["feed"] == feed["path"] for h in body["hits"])
    too_long = get_json(web_client, "/api/search?feed=" + "长" * 301, status=400)
    assert "feed" in too_long["error"]


def test_search_date_filter(web_client):
    everything = get_json(web_client, f"/api/search?q={QUERY}&per_page=50")
    month, count = next(iter(everything["months"].items()))
    assert count < everything["total"]  # the filter has something to leave out
    last = calendar.monthrange(*map(int, month.split("-")))[1]
    body = get_json(web_client, f"/api/search?q={QUERY}&per_page=50&from={month}-01&to={month}-{last}")
    assert body["total"] == count
    assert {h["id"] for h in body["hits"]} < {h["id"] for h in everything["hits"]}


def test_unknown_category_is_empty(web_client, spec):
    body = get_json(web_client, f"/api/search?q={QUERY}&category=没有这个分类")
    conforms(spec, body, "SearchResponse")
    assert body["total"] == 0 and body["hits"] == [] and body["pages"] == 1


def test_no_results(web_client, spec):
    body = get_json(web_client, "/api/search?q=完全不可能出现的查询词")
    conforms(spec, body, "SearchResponse")
    assert body["total"] == 0 and body["hits"] == [] and body["facets"] == {} and body["months"] == {}


def test_script_title_is_escaped_in_json(web_client, script_post):
    body = get_json(web_client, "/api/search?q=网页安全提醒")
    titles = [h["title"] for h in body["hits"] if h["id"] == script_post.id]
    assert titles and "<script>" not in titles[0] and "&lt;script&gt;" in titles[0]


def test_article(web_client, spec, web_posts):
    post = next(p for p in web_posts if p.date)
    body = get_json(web_client, f"/api/article/{post.id}")
    assert set(body) == ARTICLE_KEYS
    conforms(spec, body, "ArticleResponse")
    assert body["id"] == post.id and body["title"] == post.title and body["path"] == post.path
    assert body["url"] == f"/article/{post.id}"
    assert body["paragraphs"] == post.paragraphs
    assert body["date"] == post.date.isoformat()
    assert body["categories"] == list(post.categories)


def test_article_title_is_plain_text(web_client, spec, script_post):
    body = get_json(web_client, f"/api/article/{script_post.id}")
    conforms(spec, body, "ArticleResponse")
    assert body["title"] == script_post.title
    assert "<script>" in body["title"]


def test_suggest(web_client, spec):
    body = get_json(web_client, "/api/suggest?q=课后")
    conforms(spec, body, "SuggestResponse")
    assert body["query"] == "课后"
    # The core folds Traditional to Simplified, so 課後 titles match too.
    assert body["suggestions"] and any("课后" in t for t in body["suggestions"])
    assert len(body["suggestions"]) <= 8


@pytest.mark.parametrize("q", ["", "   ", "完全不可能出现的查询词", "<script>", '"', "\x00"])
def test_suggest_odd_prefixes(web_client, spec, q):
    response = web_client.get("/api/suggest", query_string={"q": q})
    assert response.status_code == 200
    body = response.get_json()
    conforms(spec, body, "SuggestResponse")


def test_healthz(web_client, spec, web_posts):
    body = get_json(web_client, "/healthz")
    assert set(body) == {"ok", "generation", "posts"}
    conforms(spec, body, "HealthResponse")
    assert body["posts"] == len(web_posts)


BAD_REQUESTS = [
    ("/api/search?page=0", 400),
    ("/api/search?page=abc", 400),
    ("/api/search?page=" + "9" * 40, 400),
    ("/api/search?per_page=100000", 400),
    ("/api/search?per_page=-3", 400),
    ("/api/search?from=notadate", 400),
    ("/api/search?to=2024-13-01", 400),
    ("/api/search?from=2024-05-01&to=2024-01-01", 400),
    ("/api/search?sort=bogus", 400),
    ("/api/search?q=" + "课" * 10_000, 400),
    ("/api/suggest?q=" + "课" * 10_000, 400),
    (f"/api/search?q={QUERY}&page=999999", 404),
    ("/api/article/0123456789abcdef", 404),
    ("/api/article/not-a-real-id", 404),
    ("/api/article/../../etc/passwd", 404),
    ("/api/article/..%2F..%2Fetc%2Fpasswd", 404),
    ("/api/nowhere", 404),
]


@pytest.mark.parametrize(("url", "status"), BAD_REQUESTS)
def test_bad_input_json_envelope(web_client, spec, url, status):
    body = get_json(web_client, url, status=status)
    assert set(body) == ERROR_KEYS
    conforms(spec, body, "Error")
    assert body["ok"] is False and body["status"] == status
    assert len(body["error"]) > 10


def test_error_statuses_are_documented(spec):
    for url, status in BAD_REQUESTS:
        path = url.split("?")[0]
        if path.startswith("/api/article/"):
            path = "/api/article/{post_id}"
        if path in spec["paths"]:
            assert str(status) in spec["paths"][path]["get"]["responses"], url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/search?q=" + "课" * 10_000, "query is too long"),
        ("/api/search?per_page=100000", "per_page must be between 1 and 50"),
        ("/api/search?sort=bogus", "sort must be one of relevance, date"),
        ("/api/search?from=notadate", "from must be a date written YYYY-MM-DD"),
        (f"/api/search?q={QUERY}&page=999999", "Page 999999 does not exist"),
    ],
)
def test_error_messages(web_client, url, message):
    body = web_client.get(url).get_json()
    assert message in body["error"]


@pytest.mark.parametrize(
    "q", ['"课后服务', "课后服务)", "((", "AND", "-", "*", "\\", "课后服务 OR", "'", "\x00", "课后服务 -"]
)
def test_malformed_queries_never_500(web_client, spec, q):
    response = web_client.get("/api/search", query_string={"q": q})
    assert response.status_code in (200, 400)
    conforms(spec, response.get_json(), "SearchResponse" if response.status_code == 200 else "Error")


def test_method_not_allowed(web_client, spec):
    response = web_client.post("/api/search")
    assert response.status_code == 405
    assert response.mimetype == "application/json"
    assert "GET" in response.headers["Allow"]
    conforms(spec, response.get_json(), "Error")


def test_article_without_date(web_client, spec, web_posts):
    post = next((p for p in web_posts if p.date is None), None)
    if post is None:
        pytest.skip("every demo post is dated")
    body = get_json(web_client, f"/api/article/{post.id}")
    conforms(spec, body, "ArticleResponse")
    assert body["date"] is None
