"""End-to-end: a real waitress server driven by headless Chromium through Playwright.

Run with ``pytest -m browser``. Skipped when Chromium or Playwright is missing; never
runs ``playwright install`` (it uses the system Chromium). Screenshots go to
``tests/artifacts/``; with ``ZHSEARCH_SCREENSHOT`` set, the desktop search page is also
saved as ``docs/screenshot.png`` for the README.
"""

import hashlib
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest_web import live_server

pytest_plugins = ["conftest_web"]

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "Chromium is not installed (looked for /usr/bin/chromium and chromium on PATH)", allow_module_level=True
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")

# Flags for a quiet, offline, sandbox-free headless Chromium (containers lack user namespaces).
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
ARTIFACTS = Path(__file__).parent / "artifacts"
README_SCREENSHOT = Path(__file__).parent.parent / "docs" / "screenshot.png"
QUERY = "课后服务"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def base_url(web_index_dir, web_backend):
    with live_server(web_index_dir, settings=web_backend) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _placeholder_image(route):
    """Stand in for remote post images, so nothing is fetched from the internet."""
    hue = int(hashlib.sha1(route.request.url.encode()).hexdigest()[:2], 16) * 360 // 256
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="224" height="168">'
        f'<rect width="224" height="168" fill="hsl({hue},45%,72%)"/>'
        f'<circle cx="160" cy="56" r="26" fill="hsl({hue},55%,88%)"/>'
        f'<path d="M0 168 L70 90 L120 140 L160 110 L224 168 Z" fill="hsl({hue},40%,52%)"/></svg>'
    )
    route.fulfill(status=200, content_type="image/svg+xml", body=svg)


@pytest.fixture
def make_page(browser, base_url):
    """Open pages in fresh contexts; fail the test on any JS error or CSP violation."""
    contexts, problems = [], []

    def make(viewport=DESKTOP, javascript=True):
        context = browser.new_context(viewport=viewport, java_script_enabled=javascript, locale="zh-CN")
        context.set_default_timeout(TIMEOUT_MS)

        def route(r):
            url = r.request.url
            if url.startswith(base_url):
                r.continue_()
            elif r.request.resource_type == "image":
                _placeholder_image(r)
            else:
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
        page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()
    assert problems == []


def _load_lazy_images(page):
    """Scroll through the page so loading="lazy" thumbnails load before a full-page shot."""
    height = page.evaluate("document.documentElement.scrollHeight")
    for _ in range(0, height, 600):
        page.mouse.wheel(0, 600)
    page.wait_for_load_state("networkidle")
    page.evaluate("window.scrollTo(0, 0)")


def _screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_search_read_page_and_filter(make_page, base_url):
    page = make_page()
    page.goto(f"{base_url}/?per_page=2")
    box = page.get_by_label("搜索新闻")
    box.fill(QUERY)
    box.press("Enter")
    page.wait_for_url("**/?q=*")
    assert "per_page=2" in page.url
    marks = page.locator(".hit .snippet mark")
    marks.first.wait_for()
    assert QUERY in marks.first.inner_text()
    assert page.locator(".hit").count() == 2
    assert page.locator("#q").input_value() == QUERY

    first = page.locator(".hit-title a").first
    title = first.inner_text()
    first.click()
    page.wait_for_url("**/article/*")
    assert page.locator("h1.post-title").inner_text() == title
    assert page.locator(".post-body mark").count() > 0

    page.go_back()
    page.wait_for_url("**/?q=*")
    page.locator("a[rel=next]").click()
    page.wait_for_url("**page=2*")
    assert page.locator(".pagination [aria-current=page]").inner_text() == "2"
    assert page.locator(".hit").count() >= 1

    facet = page.locator(".feed-tree > li > a").first
    category = facet.inner_text()
    facet.click()
    page.wait_for_url("**feed=*")
    assert category in page.locator(".active-filters").inner_text()
    for hit in page.locator(".hit").all():
        assert category in hit.locator(".hit-meta").inner_text()


def test_script_post_shows_text_and_runs_nothing(make_page, base_url, script_post):
    page = make_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{base_url}/?q=网页安全提醒")
    hit = page.locator(".hit-title a", has_text="<script>alert(1)</script>")
    assert hit.is_visible()
    hit.click()
    page.wait_for_url(f"**/article/{script_post.id}*")
    heading = page.locator("h1.post-title")
    assert "<script>alert(1)</script>" in heading.inner_text()
    assert heading.is_visible()
    # The body's <img onerror> and javascript: link are post markup: never live elements.
    assert page.locator(".post-body img, .post-body a").count() == 0
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0


def test_month_chart_bar_filters_by_month(make_page, base_url):
    page = make_page()
    page.goto(f"{base_url}/?q={QUERY}")
    bar = page.locator(".month-chart rect.bar").first
    month = bar.locator("title").text_content().split("：")[0]
    bar.click()
    page.wait_for_url("**from=*")
    assert f"from={month}-01" in page.url
    assert page.locator(".hit").count() >= 1
    assert all(t.startswith(month) for t in page.locator(".hit time").all_inner_texts())


def test_search_as_you_type_suggestions(make_page, base_url):
    page = make_page()
    page.goto(base_url)
    page.locator("#q").press_sequentially("课后", delay=30)
    # (A locator wait, not wait_for_function: the CSP forbids the eval that one uses.)
    page.locator("#q-suggestions option").first.wait_for(state="attached")
    options = page.eval_on_selector_all("#q-suggestions option", "els => els.map(e => e.value)")
    assert options and any("课后" in o for o in options)  # 課後 (Traditional) matches too
    assert page.locator("#q").get_attribute("list") == "q-suggestions"


def test_works_without_javascript(make_page, base_url):
    page = make_page(javascript=False)
    page.goto(base_url)
    page.locator("#q").fill(QUERY)
    page.locator("form[role=search] button").click()
    page.wait_for_url("**/?q=*")
    assert page.locator(".hit .snippet mark").count() > 0
    page.locator("#from").fill("2000-01-01")
    page.locator(".date-filter button").click()
    page.wait_for_url("**from=2000-01-01*")
    assert page.locator(".active-filters").is_visible()


def test_keyboard_skip_link_and_focus(make_page, base_url, web_posts):
    page = make_page()
    page.goto(f"{base_url}/article/{web_posts[0].id}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".skip-link").is_visible()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_layout_and_screenshots(make_page, base_url, viewport, name, web_posts):
    page = make_page(viewport=viewport)
    page.goto(f"{base_url}/?q={QUERY}")
    page.locator(".hit").first.wait_for()
    _load_lazy_images(page)
    page.evaluate("document.activeElement.blur()")  # no focus ring in the screenshots
    # Nothing may overflow sideways, down to a 360px phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "PingFang SC" in font and "Noto Sans CJK SC" in font
    _screenshot(page, f"search-{name}.png")
    if name == "desktop" and os.environ.get("ZHSEARCH_SCREENSHOT"):
        README_SCREENSHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(README_SCREENSHOT))

    post = next(p for p in web_posts if QUERY in p.text)
    page.goto(f"{base_url}/article/{post.id}?q={QUERY}")
    _load_lazy_images(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _screenshot(page, f"article-{name}.png")

    page.goto(f"{base_url}/?q=完全不可能出现的查询词")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _screenshot(page, f"no-results-{name}.png")


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_feed_tree_unfolds_and_filters_without_script(make_page, base_url, viewport, name):
    page = make_page(viewport=viewport, javascript=False)
    page.goto(f"{base_url}/?q={QUERY}")
    if name == "phone":
        page.locator(".filters-disclosure > summary").click()
    tree = page.locator(".feed-tree")
    top = tree.locator(":scope > li > a")
    assert top.count() == 3 and top.first.is_visible()
    # Below the first level the tree is folded: sites show after a click on the summary.
    education = tree.locator(":scope > li", has=page.locator(":scope > a", has_text="教育"))
    site = education.locator(":scope > details > ul > li > a").first
    assert not site.is_visible()
    education.locator(":scope > details > summary").click()
    assert site.is_visible() and site.inner_text() == "示例日报"
    feeds = education.locator(":scope > details > ul > li > details")
    feeds.locator(":scope > summary").click()
    feed = feeds.locator(":scope > ul > li > a").first
    assert feed.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _screenshot(page, f"feed-tree-{name}.png")
    label = feed.inner_text()
    feed.click()
    page.wait_for_url(lambda url: "feed=" in url)  # (a glob's * stops at the path's slashes)
    if name == "phone":
        page.locator(".filters-disclosure > summary").click()
    current = page.locator(".feed-tree strong[aria-current]")
    assert current.is_visible() and current.inner_text() == label  # unfolded along its path
    assert f"来源：教育 › 示例日报 › {label}" in page.locator(".active-filters").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _screenshot(page, f"feed-tree-current-{name}.png")
    for meta in page.locator(".hit .hit-meta").all():
        assert label in meta.inner_text()


def test_nothing_searchable_shows_newest_posts_with_a_note(make_page, base_url):
    page = make_page(viewport=PHONE)
    page.goto(f"{base_url}/?q=OR")
    note = page.locator(".note")
    assert note.is_visible() and "没有可以搜索的文字" in note.inner_text()
    assert page.locator(".hit").count() == 10
    dates = page.locator(".hit time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dates == sorted(dates, reverse=True)
    _screenshot(page, "nothing-searchable-phone.png")


def _focused(page, selector):
    """Whether the element the keyboard is on matches ``selector``."""
    return page.evaluate("(s) => document.activeElement.matches(s)", selector)


def _tab_to(page, selector, limit):
    """Press Tab until ``selector`` has the focus; return the number of presses (fail past ``limit``)."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if _focused(page, selector):
            return presses
    raise AssertionError(f"{selector} not reached in {limit} Tab presses")


def test_phone_filters_fold_above_the_results(make_page, base_url):
    page = make_page(viewport=PHONE, javascript=False)  # a <details>: no script needed
    page.goto(f"{base_url}/?q={QUERY}")
    summary = page.locator(".filters-disclosure > summary")
    first_hit = page.locator(".hit").first
    assert summary.is_visible() and "筛选" in summary.inner_text()
    assert summary.bounding_box()["y"] + summary.bounding_box()["height"] <= first_hit.bounding_box()["y"]
    assert summary.bounding_box()["y"] < 740  # on the first screen
    facet = page.locator(".feed-tree a").first
    assert not facet.is_visible() and not page.locator("#from").is_visible()
    summary.click()
    assert facet.is_visible() and page.locator("#from").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _screenshot(page, "search-phone-filters.png")
    category = facet.inner_text()
    facet.click()
    page.wait_for_url("**feed=*")
    assert category in page.locator(".active-filters").inner_text()
    assert "已选 1 项" in page.locator(".filters-disclosure > summary").inner_text()


def test_desktop_filters_are_an_open_sidebar(make_page, base_url):
    page = make_page(viewport=DESKTOP, javascript=False)  # CSS alone opens them
    page.goto(f"{base_url}/?q={QUERY}")
    # The same folded <details> as on a phone, shown open, without its summary.
    assert page.locator("details.filters-disclosure:not([open])").count() == 1
    assert not page.locator(".filters-disclosure > summary").is_visible()
    facet = page.locator(".filters-disclosure .feed-tree a").first
    assert facet.is_visible() and page.locator("#from").is_visible()
    # Beside the results, not above them.
    first_hit = page.locator(".hit").first.bounding_box()
    assert facet.bounding_box()["x"] > first_hit["x"] + first_hit["width"]
    assert facet.bounding_box()["y"] < first_hit["y"]


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_keyboard_one_tab_per_result(make_page, base_url, viewport, name):
    page = make_page(viewport=viewport)
    page.goto(f"{base_url}/?q={QUERY}")
    page.locator("#q").focus()
    if name == "desktop":
        # The open sidebar comes first in the Tab order; its first stop skips past it.
        _tab_to(page, ".skip-to-results", limit=2)
        assert page.locator(".skip-to-results").is_visible()
        _screenshot(page, "keyboard-skip-desktop.png")
        page.keyboard.press("Enter")
    # Search button, the folded filters, 订阅 (the feed), the sort switch, the month list: then the results.
    assert _tab_to(page, ".hit:nth-child(1) .hit-title a", limit=6) <= 6
    page.keyboard.press("Tab")
    assert _focused(page, ".hit:nth-child(2) .hit-title a")
    page.keyboard.press("Tab")
    assert _focused(page, ".hit:nth-child(3) .hit-title a")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_keyboard_reaches_a_month(make_page, base_url):
    page = make_page(viewport=PHONE)
    page.goto(f"{base_url}/?q={QUERY}")
    page.locator("#q").focus()
    _tab_to(page, ".month-chart details > summary", limit=5)
    page.keyboard.press("Enter")  # opens the list of months
    page.keyboard.press("Tab")
    assert _focused(page, ".chart-list a")
    month = page.evaluate("document.activeElement.textContent")  # e.g. 2021年7月
    _screenshot(page, "month-list-phone.png")
    page.keyboard.press("Enter")
    page.wait_for_url("**from=*")
    year, rest = month.split("年")
    prefix = f"{year}-{int(rest.rstrip('月')):02d}"
    assert f"from={prefix}-01" in page.url
    assert page.locator(".hit").count() >= 1
    assert all(t.startswith(prefix) for t in page.locator(".hit time").all_inner_texts())


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_bad_parameter_page_and_favicon(make_page, base_url, viewport, name):
    page = make_page(viewport=viewport)
    page.goto(f"{base_url}/?q={QUERY}&page=abc")
    assert "页码必须是正整数" in page.locator(".error-message").inner_text()
    assert page.locator("#q").input_value() == QUERY
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _screenshot(page, f"error-{name}.png")
    icon = page.request.get(f"{base_url}/favicon.ico")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    page.locator("a.retry").click()
    page.wait_for_url(lambda url: "page=" not in url)
    assert page.locator(".hit").count() >= 1


@pytest.mark.parametrize(("viewport", "name"), [(DESKTOP, "desktop"), (PHONE, "phone")])
def test_results_page_offers_its_feed(make_page, base_url, viewport, name):
    page = make_page(viewport=viewport)
    page.goto(f"{base_url}/?q={QUERY}&category=教育")
    subscribe = page.get_by_role("link", name="订阅", exact=True)
    assert subscribe.is_visible()
    href = page.locator('head link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")
    assert subscribe.get_attribute("href") == href
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    _screenshot(page, f"feed-link-{name}.png")
    feed = page.request.get(base_url + href)
    assert feed.status == 200 and feed.headers["content-type"] == "application/atom+xml; charset=utf-8"
    titles = page.locator(".hit-title a").all_inner_texts()
    # The feed lists the page's posts (by date); every one of its titles is a result of the page.
    atom = "{http://www.w3.org/2005/Atom}"
    entries = [e.findtext(atom + "title") for e in ET.fromstring(feed.body()).iter(atom + "entry")]
    assert entries and set(entries) <= set(titles)
