"""Atom feed of a search: ``GET /feed.atom?q=…`` follows a query (RFC 4287).

The feed takes the search page's query and filters (``q``, ``category``, ``feed``,
``from``, ``to``), parsed by :func:`webui.params.request_search_args` exactly as the
page parses them, and lists the newest matching posts: the core's
``SearchIndex.search(..., sort="date")``, the page's own call. feedgen writes the XML.
``limit`` (default ``FEED_SIZE``) says how many entries, capped at ``MAX_FEED_SIZE``.
A bad parameter is a 400 from the app's one error handler, naming the parameter.

Ids are URLs: the feed's is its own URL without ``limit`` (the same search is the
same feed), an entry's is its post's page, which stays the same as long as the post's
path does (post ids are derived from it). Dates are written in the display time zone.
"""

import re
from dataclasses import replace
from datetime import datetime

from flask import Blueprint, current_app, request, url_for

import indexer

from .pages import NOTE_MESSAGES
from .params import request_search_args
from .search_index import display_timezone, search

bp = Blueprint("feeds", __name__)

# The search page's parameters a feed takes; paging and sort do not apply (newest first, one page).
FEED_PARAMS = ("q", "category", "feed", "from", "to", "collapse")

# The Atom media type, served as UTF-8 (feedgen writes UTF-8 and says so in the XML declaration).
ATOM_TYPE = "application/atom+xml; charset=utf-8"

# The feed's title when the query is empty: the newest posts.
NEWEST_TITLE = "最新文章"

# Characters XML 1.0 cannot carry (lxml refuses them); a post's front matter may hold one.
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def init_app(app):
    """Register ``feed_url`` for the templates (the page links its own search's feed)."""
    app.add_template_global(feed_url)


@bp.get("/feed.atom")
def atom():
    """The newest posts matching the search page's query and filters, as an Atom feed."""
    # feedgen brings lxml: loaded by the first feed request, not by every web process at start.
    from feedgen.feed import FeedGenerator

    args = request_search_args(only=FEED_PARAMS)
    limit = _limit(request.args.get("limit"))
    result = search(replace(args, page=1, per_page=limit, sort="date"))
    tz = display_timezone()
    # An Atom entry must say when it was updated; a post without a date cannot, and is left out.
    hits = [hit for hit in result.hits if hit.date is not None]

    fg = FeedGenerator()
    fg.id(feed_url(args, _external=True))
    fg.title(_xml(f"zhsearch: {args.q or NEWEST_TITLE}"))
    fg.subtitle(_subtitle(args, result))
    fg.author(name="zhsearch")
    fg.language("zh-CN")
    fg.link(href=feed_url(args, limit=request.args.get("limit") and limit, _external=True), rel="self")
    fg.link(href=_page_url(args), rel="alternate", type="text/html")
    # Newest first, so the newest entry's date is the feed's; an empty feed was last looked at now.
    fg.updated(hits[0].date.astimezone(tz) if hits else datetime.now(tz))
    for hit in hits:
        entry = fg.add_entry(order="append")  # feedgen prepends by default, which would reverse the order
        entry.id(url_for("pages.article", post_id=hit.id, _external=True))
        entry.title(_xml(hit.title.text))
        when = hit.date.astimezone(tz)
        entry.published(when)
        entry.updated(when)
        entry.link(href=url_for("pages.article", post_id=hit.id, q=args.q or None, _external=True), rel="alternate")
        entry.summary(_xml(hit.snippet.text), type="text")
        for name in hit.categories:
            entry.category(term=_xml(name))
        if hit.author:
            entry.author(name=_xml(hit.author))
    response = current_app.response_class(fg.atom_str(pretty=True), content_type=ATOM_TYPE)
    # Readers poll: an ETag of the body lets one that has it get a 304 with no body.
    response.add_etag()
    return response.make_conditional(request)


def feed_url(args, limit=None, _external=False):
    """URL of the Atom feed that follows the search ``args`` (template global).

    Only the query and filters are kept: the feed is always the newest posts first.
    """
    kept = {k: v for k, v in args.url_args(page=1).items() if k in FEED_PARAMS}
    return url_for("feeds.atom", **kept, limit=limit or None, _external=_external)


def _page_url(args):
    """The search page listing what the feed lists: the same search, newest first."""
    changes = {"sort": "date"} if args.q else {}
    return url_for("pages.index", **args.url_args(page=1, per_page=args.default_per_page, **changes), _external=True)


def _limit(raw):
    """Entries asked for by ``limit``: a whole number (checked by the core's rules), capped."""
    cfg = current_app.config
    wanted = indexer.check_params(per_page=raw or cfg["FEED_SIZE"], names={"per_page": "limit"}).per_page
    return min(wanted, int(cfg["MAX_FEED_SIZE"]))


def _subtitle(args, result):
    """The search in words: query, filters and the core's note (e.g. any-term results)."""
    parts = [f"“{args.q}”的最新搜索结果" if args.q else "最新文章"]
    if args.category:
        parts.append(f"分类：{args.category}")
    if args.feed:
        parts.append(f"来源：{' › '.join(args.feed.split('/'))}")
    if args.date_from or args.date_to:
        parts.append(f"日期：{args.date_from or '…'} 至 {args.date_to or '…'}")
    if result.note_code or result.note:
        parts.append(NOTE_MESSAGES.get(result.note_code, result.note or "").format(reading=result.reading))
    return _xml("；".join(parts))


def _xml(text):
    """`text` without the characters XML cannot carry."""
    return _NOT_XML.sub("", text)
