"""Atom feed of a search (/feed.atom): RFC 4287 structure, the page's posts and filters, errors, the page's link."""

import re
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta, timezone
from urllib.parse import urlencode, urlsplit

import pytest
from conftest_web import query_of, soup_of

import webui

pytest_plugins = ["conftest_web"]

ATOM = "{http://www.w3.org/2005/Atom}"
QUERY = "课后服务"
# The demo index's display time zone (Asia/Shanghai) has this offset all year.
OFFSET = "+08:00"
BEIJING = timezone(timedelta(hours=8))
# RFC 3339 date-time (RFC 4287 §3.3): a T, seconds, and a Z or a numeric offset.
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")
POST_LINK = re.compile(r"^/article/([0-9a-f]{16})$")


def get_feed(client, params=None, status=200):
    """GET /feed.atom with `params`; the parsed <feed> element."""
    response = client.get("/feed.atom" + ("?" + urlencode(params) if params else ""))
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    return ET.fromstring(response.get_data())


def one(element, name):
    """The one child `name` of `element` (RFC 4287: exactly one)."""
    found = element.findall(ATOM + name)
    assert len(found) == 1, (name, len(found))
    return found[0]


def instant(element, name):
    """The RFC 3339 date of child `name`, checked, as an aware datetime."""
    text = one(element, name).text
    assert RFC3339.fullmatch(text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def links(element, rel):
    return [link for link in element.findall(ATOM + "link") if link.get("rel", "alternate") == rel]


def post_id(url):
    """The post id of an entry's id or link (an absolute URL of /article/<id>)."""
    parts = urlsplit(url)
    assert parts.scheme == "http" and parts.netloc, url
    return POST_LINK.match(parts.path).group(1)


def entries(feed):
    return feed.findall(ATOM + "entry")


def entry_ids(feed):
    return [post_id(one(entry, "id").text) for entry in entries(feed)]


def page_posts(client, params):
    """The search page's hits for `params`, newest first: [(post id, date or None)]."""
    response = client.get("/?" + urlencode({**params, "sort": "date", "per_page": 20}))
    assert response.status_code == 200
    posts = []
    for hit in soup_of(response).select(".hit"):
        href = hit.select_one(".hit-title a")["href"]
        when = hit.select_one(".hit-meta time")
        posts.append((POST_LINK.match(urlsplit(href).path).group(1), when["datetime"] if when else None))
    return posts


# ── RFC 4287 structure ───────────────────────────────────────────────────────


@pytest.mark.parametrize(("q", "title"), [(QUERY, f"zhsearch: {QUERY}"), ("", "zhsearch: 最新文章")])
def test_feed_is_valid_atom(web_client, q, title):
    feed = get_feed(web_client, {"q": q} if q else None)
    assert feed.tag == ATOM + "feed"
    # §4.1.1: one id (an absolute IRI), one title, one updated; an author; a self link.
    assert urlsplit(one(feed, "id").text).scheme == "http"
    assert one(feed, "title").text == title
    updated = instant(feed, "updated")
    assert one(one(feed, "author"), "name").text == "zhsearch"
    [self_link] = links(feed, "self")
    assert urlsplit(self_link.get("href")).path == "/feed.atom"
    [page_link] = links(feed, "alternate")
    assert page_link.get("type") == "text/html"

    found = entries(feed)
    assert found, "the demo posts match"
    ids = [one(entry, "id").text for entry in found]
    assert len(set(ids)) == len(ids)
    dates = []
    for entry in found:
        # §4.1.2: one id, title and updated; an alternate link (no content element).
        assert one(entry, "title").text
        when = instant(entry, "updated")
        assert one(entry, "updated").text.endswith(OFFSET)  # the display time zone
        assert instant(entry, "published") == when
        [link] = links(entry, "alternate")
        assert post_id(link.get("href")) == post_id(one(entry, "id").text)
        summary = one(entry, "summary")
        assert summary.get("type") == "text" and summary.text and "<" not in summary.text
        assert [c.get("term") for c in entry.findall(ATOM + "category")]
        dates.append(when)
    assert dates == sorted(dates, reverse=True)  # newest first
    assert updated == dates[0]


def test_feed_entries_say_what_the_api_says(web_client):
    """Titles, summaries (the plain snippet), dates and categories of the entries are the hits'."""
    feed = get_feed(web_client, {"q": QUERY})
    api = web_client.get("/api/search?" + urlencode({"q": QUERY, "sort": "date", "per_page": 20})).get_json()
    hits = [hit for hit in api["hits"] if hit["date"]]
    assert entry_ids(feed) == [hit["id"] for hit in hits]
    for entry, hit in zip(entries(feed), hits, strict=True):
        assert one(entry, "title").text == hit["title_text"]
        assert one(entry, "summary").text == hit["snippet_text"]
        assert instant(entry, "updated") == datetime.fromisoformat(hit["date"])
        assert [c.get("term") for c in entry.findall(ATOM + "category")] == hit["categories"]
        assert one(one(entry, "author"), "name").text == hit["author"]


# ── the page's posts and filters ─────────────────────────────────────────────


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": QUERY},
        {"q": QUERY, "category": "教育"},
        {"q": "双减", "feed": "教育/示例日报/校园动态"},
        {"from": "2022-01-01", "to": "2022-12-31"},
        {"q": QUERY, "from": "2022-01-01"},
    ],
)
def test_feed_lists_the_search_pages_posts(web_client, params):
    """The entries are the posts the page lists for the same search sorted by date, dated ones only."""
    feed = get_feed(web_client, params)
    expected = [pid for pid, when in page_posts(web_client, params) if when]
    assert expected, params
    assert entry_ids(feed) == expected


def test_filters_narrow_the_feed(web_client):
    everything = entry_ids(get_feed(web_client, {"q": QUERY}))

    education = get_feed(web_client, {"q": QUERY, "category": "教育"})
    assert 0 < len(entries(education)) < len(everything)
    for entry in entries(education):
        assert "教育" in [c.get("term") for c in entry.findall(ATOM + "category")]

    first, last = date(2022, 1, 1), date(2022, 8, 31)
    dated = get_feed(web_client, {"q": QUERY, "from": first.isoformat(), "to": last.isoformat()})
    assert 0 < len(entries(dated)) < len(everything)
    for entry in entries(dated):
        when = instant(entry, "updated")
        assert datetime.combine(first, time.min, BEIJING) <= when <= datetime.combine(last, time.max, BEIJING)
    # The feed's own title says the query; its subtitle the filters.
    assert one(dated, "title").text == f"zhsearch: {QUERY}"
    assert "2022-01-01 至 2022-08-31" in one(dated, "subtitle").text


def test_empty_query_is_the_newest_posts_without_undated_ones(web_client, web_posts):
    feed = get_feed(web_client, {"limit": 100, "collapse": 0})
    dated = [post.id for post in web_posts if post.date is not None]
    assert len(dated) < len(web_posts), "the demo posts include one without a date"
    assert entry_ids(feed) == dated
    # Like the page, the feed lists a story carried by several feeds once unless collapse=0.
    stories = entry_ids(get_feed(web_client, {"limit": 100}))
    assert set(stories) < set(dated) and len(stories) == len(set(stories))


def test_links_lead_to_the_page_and_the_posts(web_client):
    params = {"q": QUERY, "category": "教育", "limit": 3}
    feed = get_feed(web_client, params)
    [self_link] = links(feed, "self")
    assert query_of(self_link.get("href")) == {"q": QUERY, "category": "教育", "limit": "3"}
    # The feed's id is its search, whatever the limit: the same search is the same feed.
    assert one(feed, "id").text == one(get_feed(web_client, {"category": "教育", "q": QUERY}), "id").text

    [page_link] = links(feed, "alternate")
    page_url = urlsplit(page_link.get("href"))
    assert page_url.path == "/" and query_of(page_link.get("href")) == {"q": QUERY, "category": "教育", "sort": "date"}
    on_page = [pid for pid, when in page_posts(web_client, query_of(page_link.get("href"))) if when]
    assert entry_ids(feed) == on_page[:3]

    for entry in entries(feed):
        [link] = links(entry, "alternate")
        url = urlsplit(link.get("href"))
        assert query_of(link.get("href")) == {"q": QUERY}  # the post page highlights the query
        article = web_client.get(f"{url.path}?{url.query}")
        assert article.status_code == 200
        assert one(entry, "title").text in soup_of(article).select_one("h1").get_text()


def test_post_markup_is_text_in_the_feed(web_client, script_post):
    response = web_client.get("/feed.atom?limit=100")
    feed = ET.fromstring(response.get_data())
    [entry] = [e for e in entries(feed) if post_id(one(e, "id").text) == script_post.id]
    assert "<script>" in one(entry, "title").text
    assert b"<script>" not in response.get_data()
    assert not [el for el in feed.iter() if not el.tag.startswith(ATOM)]


# ── limit and bad parameters ─────────────────────────────────────────────────


def test_limit_default_and_cap(web_client, web_backend):
    newest = entry_ids(get_feed(web_client))
    assert len(newest) == 20  # the default FEED_SIZE, and the demo posts have more
    assert entry_ids(get_feed(web_client, {"limit": 3})) == newest[:3]

    capped = webui.create_app({"TESTING": True, **web_backend, "MAX_FEED_SIZE": 4}).test_client()
    assert entry_ids(get_feed(capped, {"limit": 50})) == newest[:4]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"q": QUERY, "from": "2022-13-01"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2022-06-01", "to": "2022-01-01"}, "from"),
        ({"limit": "abc"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"category": "教" * 300}, "category"),
        ({"q": "课" * 5000}, "q"),
    ],
)
def test_bad_parameter_is_400_naming_it(web_client, params, param):
    response = web_client.get("/feed.atom?" + urlencode(params))
    assert response.status_code == 400
    soup = soup_of(response)
    assert soup.select_one(".error-param code").get_text() == param
    assert soup.select_one(".error-message").get_text(strip=True)


# ── the results page links its feed ──────────────────────────────────────────


@pytest.mark.parametrize(
    ("page_params", "feed_params"),
    [
        (
            {"q": QUERY, "category": "教育", "from": "2022-01-01", "sort": "date", "page": "2", "per_page": "3"},
            {"q": QUERY, "category": "教育", "from": "2022-01-01"},
        ),
        ({}, {}),
    ],
)
def test_results_page_links_its_feed(web_client, page_params, feed_params):
    response = web_client.get("/?" + urlencode(page_params))
    assert response.status_code == 200
    soup = soup_of(response)
    [alternate] = soup.select('head link[rel="alternate"][type="application/atom+xml"]')
    href = alternate["href"]
    assert urlsplit(href).path == "/feed.atom" and query_of(href) == feed_params
    subscribe = soup.select_one("a.feed-link")
    assert subscribe.get_text(strip=True) == "订阅" and subscribe["href"] == href
    # Following the link gives the feed of that search.
    feed = get_feed(web_client, query_of(href))
    assert one(feed, "title").text == f"zhsearch: {page_params.get('q', '最新文章')}"


def test_a_reader_that_has_the_feed_gets_304(web_client):
    first = web_client.get(f"/feed.atom?q={QUERY}")
    etag = first.headers["ETag"]
    again = web_client.get(f"/feed.atom?q={QUERY}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    other = web_client.get(f"/feed.atom?q={QUERY}&limit=2", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
