"""HTML pages: the search page and the article page (and the site icon).

Each view parses ``request.args`` with :func:`webui.params.request_search_args`, makes
its core call(s) and renders a template. Post content is untrusted: templates
autoescape everything except ``Hit.title``/``Hit.snippet`` and ``highlight()`` output,
which the core has already escaped.
"""

import calendar
import re
from datetime import date, datetime

from flask import Blueprint, abort, current_app, render_template, url_for
from markupsafe import Markup

import indexer

from .params import request_search_args
from .search_index import display_timezone, get_index, search

# Only http(s) images are shown; the rule is the core's.
http_url = indexer.http_url

bp = Blueprint("pages", __name__)

# Shape of a post id; anything else (e.g. "../../etc/passwd") is a 404 without a lookup.
POST_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Categories listed in the sidebar before the rest fold into "more".
FACETS_SHOWN = 12

# The core's notes about a result set (SearchPage.note_code), in the reader's language;
# a note not listed here is shown as the core wrote it.
NOTE_MESSAGES = {
    "any_term": "没有文章同时包含所有关键词，下面是包含其中任一关键词的文章。",
    "nothing_searchable": "搜索词里没有可以搜索的文字，下面是最新的文章。",
    "pinyin": "按拼音显示“{reading}”的结果。",
    "corrected": "已显示“{suggestion}”的结果。",  # the page adds the link back to the query (search.html)
    "partial": "搜索用时过长，已提前停止：可能有部分匹配的文章没有列出。",
}

# Widest and tallest the per-month chart's bars are drawn, in px (= viewBox units when
# the column has room; a phone shrinks the chart's width, never its height).
CHART_WIDTH, CHART_HEIGHT = 600, 64

# Widest bar and the gap after it, in viewBox units: a chart of a few months is a few
# narrow bars at the left, not a few blocks stretched over the column.
BAR_MAX_WIDTH, BAR_GAP = 24, 4

# Room under the axis for the year labels; style.css sizes the SVG to
# CHART_HEIGHT + CHART_LABEL_HEIGHT (82px), and its .year text to about this width.
CHART_LABEL_HEIGHT = 18
YEAR_LABEL_WIDTH = 24

# Narrowest column the chart is shrunk to (a 360px phone less the page padding); year
# labels are spaced so they do not collide even there.
CHART_MIN_SHOWN_WIDTH = 320

# Beyond this many months the chart counts years instead, so bars stay visible.
CHART_MAX_MONTHS = 120


def init_app(app):
    """Register the template filters the pages use."""
    app.add_template_filter(http_url, "http_url")
    app.add_template_filter(marked)
    app.add_template_filter(local_date)
    app.add_template_filter(iso_datetime)
    app.add_template_global(search_url)


@bp.get("/")
def index():
    """Search form and one page of results; with no query, the newest posts."""
    args = request_search_args()
    result = search(args)
    top_categories = ()
    if result.total == 0:
        top_categories = get_index().stats().top_categories[:FACETS_SHOWN]
    return render_template(
        "search.html",
        args=args,
        result=result,
        chart=month_chart(result.months, args),
        pager=pagination(result.pages, args),
        top_categories=top_categories,
        note=NOTE_MESSAGES.get(result.note_code, result.note or "").format(
            reading=result.reading, suggestion=result.suggestion
        ),
    )


@bp.get("/article/<post_id>")
def article(post_id):
    """One post, with the query's terms highlighted and related posts below."""
    if not POST_ID.fullmatch(post_id):
        abort(404, "No post has this id.")
    args = request_search_args(only=("q",))  # the article only uses q, for highlighting
    ix = get_index()
    post = ix.get(post_id)
    title, paragraphs = post.display_title, post.paragraphs
    if args.q:  # a query the core cannot parse marks nothing
        title = marked(ix.highlight(post.display_title, args.q))
        paragraphs = [marked(ix.highlight(p, args.q)) for p in paragraphs]
    related = ix.more_like(post.id, limit=int(current_app.config["RELATED_LIMIT"]))
    return render_template(
        "article.html",
        args=args,
        post=post,
        title_html=title,
        paragraphs=paragraphs,
        related=related,
    )


@bp.get("/favicon.ico")
def favicon():
    """The site icon, for browsers and tools that ask for /favicon.ico without reading the page."""
    return current_app.send_static_file("favicon.svg")


def marked(value):
    """Marked text as HTML: escaped, matches in ``<mark>`` (template filter)."""
    return Markup(indexer.html(value))


def local_date(value):
    """Format a post date as YYYY-MM-DD in the display time zone (template filter)."""
    if value is None:
        return ""
    if value.tzinfo is not None:
        value = value.astimezone(display_timezone())
    return value.strftime("%Y-%m-%d")


def iso_datetime(value):
    """ISO 8601 text for a ``<time datetime>`` attribute (template filter)."""
    return value.isoformat() if isinstance(value, (date, datetime)) else ""


def pagination(pages, args, window=2):
    """Links for a pager: previous, numbers around the current page (``None`` = gap), next."""
    current = args.page
    numbers = sorted({1, pages, *range(max(1, current - window), min(pages, current + window) + 1)})
    items, last = [], 0
    for n in numbers:
        if n - last > 1:
            items.append(None)
        items.append({"number": n, "url": search_url(args, page=n), "current": n == current})
        last = n
    return {
        "prev": search_url(args, page=current - 1) if current > 1 else None,
        "next": search_url(args, page=current + 1) if current < pages else None,
        "items": items if pages > 1 else [],
    }


def month_chart(months, args):
    """Bars for the results-per-month SVG: geometry, labels and a filter link each.

    Months with no results between the first and the last get an empty slot, so the
    time axis is even; very long spans are counted per year instead. Bars are at most
    ``BAR_MAX_WIDTH`` wide and start at the left, so one month is one narrow bar.
    ``labels`` put each year under its first bar (x in percent of the chart's width).
    """
    buckets = _fill_months(months)
    if buckets is None or not buckets:
        return None
    if len(buckets) > CHART_MAX_MONTHS:
        years = {}
        for (y, _m), count in buckets.items():
            years[(y, None)] = years.get((y, None), 0) + count
        buckets = years
    peak = max(buckets.values()) or 1
    slot = min(CHART_WIDTH / len(buckets), BAR_MAX_WIDTH + BAR_GAP)
    gap = min(BAR_GAP, slot * 0.2)
    width = round(slot * len(buckets), 2)
    bars = []
    for i, ((year, month), count) in enumerate(buckets.items()):
        h = round(count / peak * (CHART_HEIGHT - 2), 2) if count else 0
        if month is None:
            label, text, first, last = f"{year}", f"{year}年", date(year, 1, 1), date(year, 12, 31)
        else:
            label, text = f"{year}-{month:02d}", f"{year}年{month}月"
            first = date(year, month, 1)
            last = date(year, month, calendar.monthrange(year, month)[1])
        bars.append(
            {
                "x": round(i * slot + gap / 2, 2),
                "width": round(slot - gap, 2),
                "y": round(CHART_HEIGHT - h, 2),
                "height": h,
                "label": label,
                "text": text,
                "year": year,
                "count": count,
                "url": search_url(args, date_from=first, date_to=last, page=1),
            }
        )
    by_year = bars[0]["label"].isdigit()
    return {
        "width": width,
        "height": CHART_HEIGHT,
        "label_height": CHART_LABEL_HEIGHT,
        "bars": bars,
        "labels": _year_labels(bars, slot, width, by_year),
        "first": bars[0]["label"],
        "last": bars[-1]["label"],
        "by_year": by_year,
    }


def _year_labels(bars, slot, width, by_year):
    # A label is YEAR_LABEL_WIDTH px of text that does not shrink with the chart, so on
    # a phone it needs more viewBox units: scale the spacing by how much the chart shrinks.
    shrink = max(1.0, width / CHART_MIN_SHOWN_WIDTH)
    spacing, room = (YEAR_LABEL_WIDTH + 4) * shrink, YEAR_LABEL_WIDTH * shrink
    if by_year:  # one bar per year: label round years often enough to stay apart
        step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 1000) if s * slot >= spacing)
        wanted = [b for i, b in enumerate(bars) if i == 0 or b["year"] % step == 0]
    else:  # the first bar, then each January
        wanted = [b for i, b in enumerate(bars) if i == 0 or b["label"].endswith("-01")]
    labels, next_x = [], None
    # Right to left, so a year's own label (a January) wins over the first bar's.
    for i, bar in reversed(list(enumerate(wanted))):
        x = bar["x"]
        crowded = next_x is not None and next_x - x < spacing
        past_the_edge = i > 0 and width - x < room  # the first bar's label is never dropped for this
        if crowded or past_the_edge:
            continue
        labels.append({"x": round(x / width * 100, 2), "text": str(bar["year"])})
        next_x = x
    return labels[::-1]


def _fill_months(months):
    parsed = {}
    for key, count in (months or {}).items():
        try:
            year, month = (int(part) for part in key.split("-"))
            date(year, month, 1)
        except (ValueError, AttributeError):
            return None  # an unexpected key: draw no chart rather than a wrong one
        parsed[(year, month)] = count
    if not parsed:
        return {}
    (y, m), end = min(parsed), max(parsed)
    filled = {}
    while (y, m) <= end:
        filled[(y, m)] = parsed.get((y, m), 0)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return filled


def search_url(args, **changes):
    """URL of the search page for ``args`` with ``changes`` applied (template global)."""
    return url_for("pages.index", **args.url_args(**changes))
