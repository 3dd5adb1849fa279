"""HTML pages: search results, filters, paging, the article page, errors and escaping."""

from itertools import pairwise

import pytest
from bs4 import BeautifulSoup
from conftest_web import query_of, soup_of
from fixture_posts import write_post

import indexer
import webui
from webui.pages import (
    BAR_MAX_WIDTH,
    CHART_MIN_SHOWN_WIDTH,
    YEAR_LABEL_WIDTH,
    http_url,
    month_chart,
)
from webui.params import SearchArgs

pytest_plugins = ["conftest_web"]

QUERY = "课后服务"


def get_soup(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return soup_of(response)


def assert_no_post_markup(soup):
    """Only our own script and no inline styles or event handlers anywhere (CSP-clean)."""
    scripts = soup.find_all("script")
    assert [s.get("src") for s in scripts] == ["/static/app.js"]
    assert all(not s.string for s in scripts)
    assert not soup.find_all("style")
    for tag in soup.find_all(True):
        assert "style" not in tag.attrs, tag
        assert not [a for a in tag.attrs if a.lower().startswith("on")], tag
    for tag in soup.find_all(["a", "img"]):
        url = tag.get("href") or tag.get("src") or ""
        assert not url.lower().lstrip().startswith(("javascript:", "data:", "vbscript:")), tag


# ── search page ──────────────────────────────────────────────────────────────


def test_search_form(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}")
    form = soup.select_one("form[role=search]")
    assert form["action"] == "/" and form["method"] == "get"
    box = form.select_one("input#q")
    assert box["name"] == "q"
    assert box["value"] == QUERY
    assert box.has_attr("autofocus")
    assert soup.select_one("label[for=q]").get_text(strip=True)
    assert soup.select_one("a.skip-link")["href"] == "#main"
    assert soup.select_one("main#main")
    assert soup.html["lang"] == "zh-CN"
    assert_no_post_markup(soup)


def test_search_results(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}")
    assert QUERY in soup.select_one("h1").get_text()
    summary = soup.select_one(".summary").get_text()
    total = int(soup.select_one(".summary .total").get_text())
    assert total >= 3
    assert "毫秒" in summary
    hits = soup.select("ol.hits > li.hit")
    assert 3 <= len(hits) <= 10
    assert any(QUERY in m.get_text() for m in soup.select(".hit .snippet mark"))
    assert soup.select(".hit-title mark")
    for hit in hits:
        link = hit.select_one(".hit-title a")
        assert link["href"].startswith("/article/")
        assert query_of(link["href"]) == {"q": QUERY}
        assert hit.select_one("time")["datetime"]
        assert hit.select(".hit-meta a.tag")
        feed = hit.select_one(".feed")
        assert feed is None or "来源" in feed.get_text()
    assert_no_post_markup(soup)


def test_thumbnails_are_lazy_http_images(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}")
    thumbs = soup.select(".hit img.thumb")
    assert thumbs
    for img in thumbs:
        assert img["loading"] == "lazy"
        assert img["src"].startswith(("https://", "http://"))
        assert img["alt"] == ""


def test_page_and_api_agree(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}&per_page=3")
    body = web_client.get(f"/api/search?q={QUERY}&per_page=3").get_json()
    assert int(soup.select_one(".summary .total").get_text()) == body["total"]
    hrefs = [a["href"].split("?")[0] for a in soup.select(".hit-title a")]
    assert hrefs == [h["url"].split("?")[0] for h in body["hits"]]


def test_empty_query_lists_newest_posts_and_top_categories(web_client, web_posts):
    soup = get_soup(web_client, "/")
    assert soup.select_one("h1").get_text(strip=True) == "最新文章"
    assert soup.select_one("input#q")["value"] == ""
    assert len(soup.select(".hit")) == 10
    dates = [t["datetime"] for t in soup.select(".hit time")]
    assert dates == sorted(dates, reverse=True)
    newest = next(p for p in web_posts if p.date)
    assert f"/article/{newest.id}" in [a["href"] for a in soup.select(".hit-title a")][:2]
    assert soup.select(".facet .feed-tree > li")
    assert soup.select_one("#facet-heading").get_text() == "热门分类"
    assert soup.select_one("nav.sort-switch") is None


def test_pagination_keeps_params(web_client):
    url = f"/?q={QUERY}&per_page=2&sort=date&page=2"
    soup = get_soup(web_client, url)
    nav = soup.select_one("nav.pagination")
    assert nav.select_one("[aria-current=page]").get_text() == "2"
    prev = nav.select_one("a[rel=prev]")
    nxt = nav.select_one("a[rel=next]")
    assert query_of(prev["href"]) == {"q": QUERY, "per_page": "2", "sort": "date"}
    assert query_of(nxt["href"]) == {"q": QUERY, "per_page": "2", "sort": "date", "page": "3"}
    for link in nav.select("ul a"):
        params = query_of(link["href"])
        assert params["q"] == QUERY and params["per_page"] == "2" and params["sort"] == "date"
    assert soup.select_one("ol.hits")["start"] == "3"


def test_no_pagination_for_one_page(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}&per_page=50")
    assert soup.select_one("nav.pagination") is None


def test_feed_tree_filters(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}&per_page=2")
    top = soup.select(".facet .feed-tree > li")
    assert {li.select_one("a").get_text() for li in top} == {"教育", "科技", "金融"}
    counts = [int(li.select_one(".count").get_text()) for li in top]
    assert counts == sorted(counts, reverse=True) and sum(counts) == int(soup.select_one(".summary .total").get_text())
    education = next(li for li in top if li.select_one("a").get_text() == "教育")
    assert query_of(education.select_one("a")["href"]) == {"q": QUERY, "per_page": "2", "feed": "教育"}
    # Levels below the first are folded: category › site › feed.
    site = education.select_one(":scope > details.tree-children:not([open]) > ul > li")
    assert site.select_one("a").get_text() == "示例日报"
    feed = site.select_one(":scope > details.tree-children > ul > li > a")
    assert query_of(feed["href"])["feed"] in (
        "教育/示例日报/教育新闻",
        "教育/示例日报/校园动态",
        "教育/示例日报/港台教育",
    )
    count = int(feed.find_next_sibling(class_="count").get_text())

    filtered = get_soup(web_client, feed["href"])
    assert int(filtered.select_one(".summary .total").get_text()) == count
    current = filtered.select_one(".feed-tree strong[aria-current]")
    assert current.get_text() == feed.get_text()
    # The folders holding the current node are unfolded.
    folders = current.find_parents("details", class_="tree-children")
    assert len(folders) == 2 and all(d.has_attr("open") for d in folders)
    chip = filtered.select_one(".active-filters li")
    assert chip.get_text().startswith("来源：教育 › 示例日报 › ")
    assert query_of(chip.select_one("a")["href"]) == {"q": QUERY, "per_page": "2"}
    assert filtered.select_one(".date-filter input[name=feed]")["value"] == query_of(feed["href"])["feed"]


def test_category_filter_still_works(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}&category=金融&per_page=50")
    hits = soup.select(".hit")
    assert hits and all("金融" in [a.get_text() for a in h.select(".hit-meta a.tag")] for h in hits)
    assert [li.select_one("a").get_text() for li in soup.select(".feed-tree > li")] == ["金融"]
    assert "分类：金融" in soup.select_one(".active-filters").get_text()


def test_sort_switch(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}")
    switch = soup.select_one("nav.sort-switch")
    assert switch.select_one("strong[aria-current]").get_text() == "相关度"
    by_date = switch.select_one("a")
    assert query_of(by_date["href"]) == {"q": QUERY, "sort": "date"}
    soup = get_soup(web_client, by_date["href"])
    dates = [t["datetime"] for t in soup.select(".hit time")]
    assert dates == sorted(dates, reverse=True)
    assert soup.select_one("nav.sort-switch strong[aria-current]").get_text() == "最新"
    assert soup.select_one("form[role=search] input[name=sort]")["value"] == "date"


def test_date_range_form_and_filter(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}&category=教育")
    form = soup.select_one(".date-filter form")
    assert form["method"] == "get"
    assert form.select_one("input[name=q]")["value"] == QUERY
    assert form.select_one("input[name=category]")["value"] == "教育"
    assert form.select_one("label[for=from]") and form.select_one("input#from[type=date]")
    assert form.select_one("label[for=to]") and form.select_one("input#to[type=date]")

    all_dates = sorted(t["datetime"][:10] for t in get_soup(web_client, f"/?q={QUERY}&per_page=50").select(".hit time"))
    cut = all_dates[len(all_dates) // 2]
    soup = get_soup(web_client, f"/?q={QUERY}&per_page=50&from={cut}")
    kept = soup.select(".hit time")
    assert 0 < len(kept) < len(all_dates)
    assert all(t.get_text() >= cut for t in kept)
    assert soup.select_one("input#from")["value"] == cut
    assert "日期" in soup.select_one(".active-filters").get_text()


def test_month_chart(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}")
    svg = soup.select_one("figure.month-chart svg.chart svg.bars")
    assert svg["viewbox"].startswith("0 0 ")  # html.parser lower-cases attribute names
    bars = svg.select("rect.bar")
    assert bars
    assert all(float(bar["width"]) <= BAR_MAX_WIDTH for bar in bars)
    # The demo posts about 课后服务 run from July 2021 to April 2023.
    assert [t.get_text() for t in soup.select(".month-chart text.year")] == ["2021", "2022", "2023"]
    total = int(soup.select_one(".summary .total").get_text())
    counts = []
    for bar in bars:
        title = bar.select_one("title").get_text()
        assert "篇" in title
        counts.append(int(title.split("：")[1].split()[0]))
        assert not bar.has_attr("style")
    assert 0 < sum(counts) <= total  # undated posts have no month
    link = bars[0].find_parent("a")
    params = query_of(link["href"])
    assert params["q"] == QUERY and params["from"].endswith("-01") and params["to"]


def test_month_chart_fills_gaps_and_folds_years(web_app):
    args = SearchArgs(q="x")
    with web_app.test_request_context():
        _check_month_chart(args)


def _check_month_chart(args):
    chart = month_chart({"2022-11": 2, "2023-02": 1}, args)
    assert [b["label"] for b in chart["bars"]] == ["2022-11", "2022-12", "2023-01", "2023-02"]
    assert [b["count"] for b in chart["bars"]] == [2, 0, 0, 1]
    assert chart["bars"][1]["height"] == 0
    long_span = month_chart({"2001-01": 1, "2020-06": 4}, args)
    assert long_span["by_year"] and long_span["first"] == "2001" and long_span["last"] == "2020"
    assert month_chart({}, args) is None
    assert month_chart({"bad": 1}, args) is None


def render_chart(web_app, months):
    """The chart's HTML for a ``{"YYYY-MM": count}`` table, as the search page draws it."""
    with web_app.test_request_context():
        chart = month_chart(months, SearchArgs(q=QUERY))
        macro = web_app.jinja_env.get_template("_month_chart.html").module.month_chart_figure
        return chart, BeautifulSoup(str(macro(chart)), "html.parser")


def months_from(year, month, n):
    """``n`` consecutive months from year-month, each with a few posts."""
    table = {}
    for i in range(n):
        y, m = divmod(month - 1 + i, 12)
        table[f"{year + y}-{m + 1:02d}"] = i % 4 + 1
    return table


@pytest.mark.parametrize(
    ("months", "bars", "max_width", "years"),
    [
        (months_from(2024, 3, 1), 1, 30, ["2024"]),
        (months_from(2023, 11, 3), 3, 90, ["2023", "2024"]),
        (months_from(2021, 3, 40), 40, 600, ["2021", "2022", "2023", "2024"]),
        (months_from(2021, 7, 22), 22, 600, ["2021", "2022", "2023"]),
    ],
    ids=["1-month", "3-months", "40-months", "22-months"],
)
def test_month_chart_bars_are_narrow_and_years_labelled(web_app, months, bars, max_width, years):
    chart, soup = render_chart(web_app, months)
    outer = soup.select_one("figure.month-chart svg.chart")
    rects = outer.select("svg.bars rect.bar")
    assert len(rects) == bars
    # At most 24px a bar, drawn from the left: one month is one narrow bar, not the column.
    assert all(0 < float(r["width"]) <= BAR_MAX_WIDTH for r in rects)
    assert float(rects[0]["x"]) < 4
    assert float(outer["width"]) <= max_width
    assert outer.select_one("svg.bars")["viewbox"] == f"0 0 {outer['width']} {chart['height']}"
    labels = outer.select("text.year")
    assert [t.get_text() for t in labels] == years
    # Each label sits under its year's first bar, and labels never overlap, even when a
    # phone shrinks the chart to CHART_MIN_SHOWN_WIDTH px.
    xs = [float(t["x"].rstrip("%")) for t in labels]
    shown = min(float(outer["width"]), CHART_MIN_SHOWN_WIDTH)
    assert all((b - a) / 100 * shown >= YEAR_LABEL_WIDTH for a, b in pairwise(xs))
    first_bar_of = {}
    for bar in chart["bars"]:
        first_bar_of.setdefault(bar["label"][:4], bar["x"] / chart["width"] * 100)
    assert all(abs(first_bar_of[t.get_text()] - x) < 0.01 for t, x in zip(labels, xs))


def test_month_chart_per_year_for_long_spans(web_app):
    chart, soup = render_chart(web_app, {"2001-01": 1, "2010-03": 2, "2020-06": 4})
    rects = soup.select("svg.bars rect.bar")
    assert len(rects) == 20 and chart["by_year"]
    assert all(float(r["width"]) <= BAR_MAX_WIDTH for r in rects)
    years = [int(t.get_text()) for t in soup.select("text.year")]
    assert len(years) >= 5 and years == sorted(years) and 2001 <= years[0] and years[-1] <= 2020
    assert "每年篇数" in soup.select_one("figcaption").get_text()
    assert [a.get_text() for a in soup.select(".chart-list a")] == ["2001年", "2010年", "2020年"]


def test_month_chart_months_are_links_for_the_keyboard(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}")
    figure = soup.select_one("figure.month-chart")
    # The bars are for the mouse: out of the Tab order and hidden from screen readers ...
    assert figure.select_one("svg.chart")["aria-hidden"] == "true"
    assert all(a["tabindex"] == "-1" for a in figure.select("svg a"))
    # ... which get the same months as a list of links, behind one Tab stop.
    assert figure.select_one("details.chart-list > summary").get_text(strip=True) == "按月份浏览"
    links = figure.select("details.chart-list li a")
    counted = [b for b in figure.select("svg rect.bar") if float(b["height"]) > 0]
    assert len(links) == len(counted) > 1
    first = query_of(links[0]["href"])
    assert links[0].get_text() == "2021年7月"
    assert (first["q"], first["from"], first["to"]) == (QUERY, "2021-07-01", "2021-07-31")
    total = sum(int(li.select_one(".count").get_text().split()[0]) for li in figure.select(".chart-list li"))
    assert 0 < total <= int(soup.select_one(".summary .total").get_text())


def _focusable(tag):
    """Whether Tab stops on ``tag`` (as a browser decides it, for the elements we render)."""
    if tag.get("tabindex") is not None:
        return int(tag["tabindex"]) >= 0
    if tag.name == "a":
        return tag.has_attr("href")
    if tag.name == "input":
        return tag.get("type") != "hidden"
    return tag.name in ("button", "select", "textarea", "summary")


def test_one_tab_stop_per_result(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}")
    hits = soup.select("ol.hits > li.hit")
    assert len(hits) >= 3
    for hit in hits:
        stops = [t for t in hit.find_all(True) if _focusable(t)]
        assert stops == [hit.select_one(".hit-title a")]
        assert hit.select(".hit-meta a.tag[href]")  # the chips still filter on a click


def test_filters_fold_into_a_disclosure_before_the_results(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}")
    disclosure = soup.select_one("aside.filters details.filters-disclosure")
    assert disclosure.summary.get_text(" ", strip=True).startswith("筛选")
    assert not disclosure.has_attr("open")  # folded on a phone; style.css opens it on wide screens
    assert disclosure.select_one(".feed-tree a") and disclosure.select_one(".date-filter form input#from")
    order = list(soup.find_all(True))
    assert order.index(disclosure) < order.index(soup.select_one("ol.hits"))
    # Wide screens show the filters open before the results: a skip link leads past them.
    skip = soup.select_one("aside.filters a.skip-to-results")
    assert skip["href"] == "#results" and soup.select_one("section#results ol.hits")
    assert order.index(skip) < order.index(disclosure)


def test_filters_summary_counts_active_filters(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}&category=教育&from=2021-01-01")
    assert soup.select_one(".filters-disclosure summary .filters-hint").get_text() == "已选 2 项"
    soup = get_soup(web_client, f"/?q={QUERY}&feed=教育&from=2021-01-01")
    assert soup.select_one(".filters-disclosure summary .filters-hint").get_text() == "已选 2 项"


@pytest.mark.parametrize("url", [f"/?q={QUERY}", "/article/{id}", "/?page=abc", "/nowhere"])
def test_pages_are_chinese_and_have_an_icon(web_client, web_posts, url):
    response = web_client.get(url.format(id=web_posts[0].id))
    soup = soup_of(response)
    assert soup.html["lang"] == "zh-CN"
    icon = soup.select_one("link[rel=icon]")
    assert icon["type"] == "image/svg+xml"
    with web_client.get(icon["href"]) as response:  # a static file: close it
        assert response.status_code == 200


def test_favicon_ico(web_client):
    with web_client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert BeautifulSoup(response.get_data(as_text=True), "html.parser").svg


def test_any_term_note(web_client):
    soup = get_soup(web_client, f"/?q={QUERY} 不存在的词语甲乙丙")
    note = soup.select_one(".note")
    assert note is not None and note.get_text(strip=True)


def test_no_results(web_client):
    soup = get_soup(web_client, "/?q=完全不可能出现的查询词")
    assert soup.select_one(".hits") is None
    assert "没有找到" in soup.select_one(".no-results-message").get_text()
    tips = soup.select_one(".no-results-tips").get_text()
    assert "减少关键词" in tips
    assert soup.select(".no-results-tips a.tag")  # top categories to browse
    assert soup.select_one("nav.pagination") is None


def test_unknown_category_is_empty_not_error(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}&category=没有这个分类")
    assert "没有这个分类" in soup.select_one(".no-results-message").get_text()
    remove = soup.find("a", string="去掉分类和日期筛选")
    assert query_of(remove["href"]) == {"q": QUERY}


# ── escaping ─────────────────────────────────────────────────────────────────


def test_script_title_escaped_in_results(web_client, script_post):
    soup = get_soup(web_client, "/?q=网页安全提醒")
    titles = [a.get_text() for a in soup.select(".hit-title a")]
    assert any("<script>alert(1)</script>" in t for t in titles)
    assert_no_post_markup(soup)
    raw = web_client.get("/?q=网页安全提醒").get_data(as_text=True)
    assert "<script>alert" not in raw
    assert "&lt;script&gt;" in raw


def test_script_title_escaped_on_article(web_client, script_post):
    for url in (f"/article/{script_post.id}", f"/article/{script_post.id}?q=script"):
        soup = get_soup(web_client, url)
        assert soup.select_one("h1.post-title").get_text() == script_post.title
        assert "<script>" in soup.title.get_text()
        assert_no_post_markup(soup)
        assert not soup.select(".post-body img, .post-body a")


def test_query_is_escaped_everywhere(web_client):
    q = '<img src=x onerror=alert(1)>"'
    response = web_client.get("/", query_string={"q": q})
    assert response.status_code in (200, 400)
    soup = soup_of(response)
    assert_no_post_markup(soup)
    assert not soup.select("main img:not(.thumb)")


@pytest.mark.parametrize(
    ("categories", "feed", "shown"),
    [(("教育", "示例日报"), "教育/示例日报", None), (("教育",), "示例日报", "来源：示例日报"), (("教育",), None, None)],
)
def test_feed_shown_when_it_adds_to_categories(web_app, categories, feed, shown):
    hit = indexer.Hit(
        id="0123456789abcdef",
        path="a.md",
        title="t",
        date=None,
        categories=categories,
        author=None,
        feed=feed,
        image=None,
        snippet="s",
        score=1.0,
        exact=True,
    )
    with web_app.test_request_context():
        html = web_app.jinja_env.get_template("_macros.html").module.hit_meta(hit)
    feed_tag = BeautifulSoup(str(html), "html.parser").select_one(".feed")
    assert (feed_tag.get_text() if feed_tag else None) == shown


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a.jpg", "https://example.com/a.jpg"),
        ("http://example.com/a.jpg", "http://example.com/a.jpg"),
        ("HTTPS://example.com/a.jpg", "HTTPS://example.com/a.jpg"),
        ("javascript:alert(1)", None),
        (" javascript:alert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("//example.com/a.jpg", None),
        ("/local/a.jpg", None),
        ("https://exa mple.com/a.jpg", None),
        ("https://example.com/\na.jpg", None),
        ("http://[::1", None),
        ("", None),
        (None, None),
    ],
)
def test_http_url(url, expected):
    assert http_url(url) == expected


# ── article page ─────────────────────────────────────────────────────────────


def test_article_page(web_client, web_posts):
    post = next(p for p in web_posts if QUERY in p.text and p.author and p.categories and p.date)
    soup = get_soup(web_client, f"/article/{post.id}")
    assert soup.select_one("h1.post-title").get_text() == post.title
    assert soup.title.get_text().startswith(post.title)
    meta = soup.select_one("dl.post-meta")
    assert meta.select_one("time")["datetime"] == post.date.isoformat()
    assert [a.get_text() for a in meta.select("a.tag")] == list(post.categories)
    assert meta.select_one(".author").get_text() == post.author
    if post.feed and post.feed != "/".join(post.categories):
        assert meta.select_one(".feed").get_text() == post.feed
    paragraphs = [p.get_text() for p in soup.select(".post-body p")]
    assert paragraphs == post.paragraphs
    assert not soup.select(".post-body mark")
    back = soup.select_one("nav.back a")
    assert back["href"] == "/"
    related = soup.select(".related li.hit .hit-title a")
    assert related and all(a["href"].startswith("/article/") for a in related)
    assert f"/article/{post.id}" not in [a["href"] for a in related]
    assert soup.select_one("input#q")["value"] == ""
    assert not soup.select_one("input#q").has_attr("autofocus")


def test_article_page_highlights_query(web_client, web_posts):
    post = next(p for p in web_posts if QUERY in p.text)
    soup = get_soup(web_client, f"/article/{post.id}?q={QUERY}")
    marks = soup.select(".post-body mark")
    assert marks and all(QUERY in m.get_text() or m.get_text() in QUERY for m in marks)
    back = soup.select_one("nav.back a")
    assert query_of(back["href"]) == {"q": QUERY}
    assert soup.select_one("input#q")["value"] == QUERY
    assert all(query_of(a["href"]) == {"q": QUERY} for a in soup.select(".related .hit-title a"))


def test_article_ignores_search_only_params(web_client, web_posts):
    post = web_posts[0]
    get_soup(web_client, f"/article/{post.id}?page=abc&sort=bogus")
    get_soup(web_client, f"/article/{post.id}?q=" + "课" * 10_000, status=400)


def test_article_editor_shown(web_client, web_posts):
    post = next((p for p in web_posts if p.editor), None)
    if post is None:
        pytest.skip("no demo post names an editor")
    soup = get_soup(web_client, f"/article/{post.id}")
    assert soup.select_one("dl.post-meta .editor").get_text() == post.editor


# ── bad input ────────────────────────────────────────────────────────────────

BAD_REQUESTS = [
    ("/?page=0", 400, "page"),
    ("/?page=abc", 400, "page"),
    ("/?page=-1", 400, "page"),
    ("/?page=1.5", 400, "page"),
    ("/?page=" + "9" * 40, 400, "page"),
    ("/?per_page=100000", 400, "per_page"),
    ("/?per_page=0", 400, "per_page"),
    ("/?from=notadate", 400, "from"),
    ("/?to=2024-02-30", 400, "to"),
    ("/?from=2024-05-01&to=2024-01-01", 400, "from"),
    ("/?sort=bogus", 400, "sort"),
    ("/?category=" + "类" * 500, 400, "category"),
    ("/?q=" + "课" * 10_000, 400, "q"),
    (f"/?q={QUERY}&page=999999", 404, None),
    ("/article/0123456789abcdef", 404, None),
    ("/article/not-a-real-id", 404, None),
    ("/article/../../etc/passwd", 404, None),
    ("/article/..%2F..%2Fetc%2Fpasswd", 404, None),
    ("/article/%00", 404, None),
    ("/nowhere", 404, None),
]


@pytest.mark.parametrize(("url", "status", "param"), BAD_REQUESTS)
def test_bad_input_renders_error_page(web_client, url, status, param):
    soup = get_soup(web_client, url, status=status)
    assert soup.select_one(".error-status").get_text() == str(status)
    message = soup.select_one(".error-message").get_text(strip=True)
    assert len(message) > 10
    if param:
        assert soup.select_one(".error-param code").get_text() == param
    assert soup.select_one("form[role=search] input#q")
    assert_no_post_markup(soup)


def test_query_too_long_message(web_client):
    q = "课" * 10_000
    soup = get_soup(web_client, "/?q=" + q, status=400)
    assert "搜索词太长" in soup.select_one(".error-message").get_text()
    assert soup.select_one("input#q")["value"] == q  # to shorten, not to retype
    assert soup.select_one("a.retry") is None


def test_page_past_the_end_message(web_client):
    soup = get_soup(web_client, f"/?q={QUERY}&page=999999", status=404)
    message = soup.select_one(".error-message").get_text()
    assert "第 999999 页不存在" in message
    assert soup.select_one("input#q")["value"] == QUERY


@pytest.mark.parametrize(
    ("params", "status", "param", "message"),
    [
        ("page=abc", 400, "page", "页码必须是正整数"),
        ("page=0", 400, "page", "页码必须是正整数"),
        ("page=999999", 404, "page", "第 999999 页不存在"),
        ("per_page=500", 400, "per_page", "每页条数必须是 1 到 50 之间的整数"),
        ("category=教育&from=2022-13-01", 400, "from", "起始日期必须是“年-月-日”格式的真实日期"),
        ("to=tomorrow", 400, "to", "结束日期必须是“年-月-日”格式的真实日期"),
        ("from=2024-05-01&to=2024-01-01", 400, "from", "起始日期 2024-05-01 晚于结束日期 2024-01-01"),
        ("sort=bogus&per_page=5", 400, "sort", "排序方式只能是 relevance（相关度）或 date（最新）"),
        ("category=" + "类" * 500, 400, "category", "分类名称太长：最多 100 个字"),
    ],
    ids=[
        "page-abc",
        "page-0",
        "page-past-end",
        "per_page-500",
        "from-bad",
        "to-bad",
        "from-after-to",
        "sort",
        "category",
    ],
)
def test_bad_parameter_explained_in_chinese_with_query_kept(web_client, params, status, param, message):
    url = f"/?q={QUERY}&{params}"
    soup = get_soup(web_client, url, status=status)
    assert message in soup.select_one(".error-message").get_text()
    assert soup.select_one(".error-param code").get_text() == param
    assert soup.select_one("form[role=search] input#q")["value"] == QUERY
    # One click repeats the search without the bad parameter, keeping the rest.
    retry = soup.select_one("a.retry")
    assert f"重新搜索“{QUERY}”" in retry.get_text()
    expected = {k: v for k, v in query_of(url).items() if k != param}
    assert query_of(retry["href"]) == expected
    get_soup(web_client, retry["href"])


def test_api_keeps_english_error_messages(web_client):
    body = web_client.get(f"/api/search?q={QUERY}&page=abc").get_json()
    assert body["error"].startswith("page must be a whole number")


@pytest.mark.parametrize("q", ['"课后服务', "课后服务)", "((", "AND", "-", "*", "\\", "课后服务 OR", "'", "\x00"])
def test_malformed_queries_never_500(web_client, q):
    response = web_client.get("/", query_string={"q": q})
    assert response.status_code in (200, 400)
    assert response.mimetype == "text/html"


def test_post_is_not_allowed(web_client):
    response = web_client.post("/")
    assert response.status_code == 405
    assert response.mimetype == "text/html"


def test_nothing_searchable_note_in_chinese(web_client):
    soup = get_soup(web_client, "/?q=OR")
    assert "没有可以搜索的文字" in soup.select_one(".note").get_text()
    assert soup.select("ol.hits > li.hit")
    any_term = get_soup(web_client, f"/?q={QUERY} 不存在的词语甲乙丙")
    assert "任一关键词" in any_term.select_one(".note").get_text()


def test_a_later_page_of_a_search_stopped_early_is_not_a_missing_page(tmp_path, monkeypatch):
    """Under load the time budget may stop a search before it has counted page 2's posts."""
    from indexer.backends.whoosh import matching

    for i in range(600):
        body = "<p>本月产量同比增长明显。</p>" if i % 2 else "<p>产量同比增加，其比增长率放缓。</p>"
        write_post(tmp_path / "posts", f"a/{i:03d}.md", title=f"第{i}篇", body=body)
    indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=1)
    client = webui.create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "ix")}).test_client()
    monkeypatch.setattr(matching.DocSets, "late", lambda self: True)  # every check is past the deadline
    page = client.get("/", query_string={"q": '"同比增长"', "page": 30})
    assert page.status_code == 200 and "搜索用时过长" in page.get_data(as_text=True)
    api = client.get("/api/search", query_string={"q": '"同比增长"', "page": 30})
    assert api.status_code == 200 and api.get_json()["note_code"] == "partial"
    monkeypatch.undo()
    assert client.get("/", query_string={"q": '"同比增长"', "page": 31}).status_code == 404  # 300 posts: 30 pages
