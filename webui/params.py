"""Turn ``request.args`` into search arguments, for the page and the API alike.

The rules and messages are the core's (:func:`indexer.check_params`); this module
maps request names (``from``, ``to``) and adds the web's own limit on ``per_page``.
A bad value raises :class:`indexer.QueryError` naming the URL parameter, which the
error handler answers with 400.
"""

from dataclasses import dataclass, replace
from datetime import date

import indexer

# Sort orders the core understands; the first is the default.
SORTS = ("relevance", "date")

# URL parameter names of the core's search parameters, where they differ.
URL_NAMES = {"date_from": "from", "date_to": "to"}

# Values of ``collapse`` (one story once, see indexer/stories.py); empty means the default, on.
COLLAPSE_VALUES = {"1": True, "0": False, "": True}


@dataclass(frozen=True)
class SearchArgs:
    """One search request, checked: what the user asked for, in the core's terms."""

    q: str = ""
    page: int = 1
    per_page: int = 10
    category: str | None = None
    feed: str | None = None  # a feed folder path, e.g. 金融/新浪财经
    date_from: date | None = None
    date_to: date | None = None
    sort: str = SORTS[0]
    correct: bool = True  # correct=0: search the query as typed, never a correction of it
    collapse: bool = True  # each story once; collapse=0 lists every post
    default_per_page: int = 10  # not a request value: lets url_args() omit the default

    def search_kwargs(self):
        """Keyword arguments for :meth:`indexer.SearchIndex.search` (besides ``q``).

        ``from``/``to`` are days in the index's display time zone: a post shown as
        3 May is found by to=3 May.
        """
        return {
            "page": self.page,
            "per_page": self.per_page,
            "category": self.category,
            "feed": self.feed,
            "date_from": self.date_from,
            "date_to": self.date_to,
            "sort": self.sort,
            "correct": self.correct,
            "names": URL_NAMES,
            "collapse": self.collapse,
        }

    def url_args(self, **changes):
        """Query-string arguments that reproduce this search, with ``changes`` applied.

        Defaults are left out so links stay short; pass ``category=None`` to drop a filter.
        """
        s = replace(self, **changes)
        args = {
            "q": s.q or None,
            "category": s.category,
            "feed": s.feed,
            "from": s.date_from.isoformat() if s.date_from else None,
            "to": s.date_to.isoformat() if s.date_to else None,
            "sort": s.sort if s.sort != SORTS[0] else None,
            "per_page": s.per_page if s.per_page != s.default_per_page else None,
            "collapse": None if s.collapse else "0",
            "page": s.page if s.page != 1 else None,
            "correct": None if s.correct else "0",
        }
        return {k: v for k, v in args.items() if v is not None}

    @property
    def filtered(self):
        """Whether a category, feed or date filter narrows the search."""
        return bool(self.category or self.feed or self.date_from or self.date_to)


def parse_search_args(args, *, page_size=10, max_per_page=50):
    """Check the search parameters of a request.

    :param args: ``request.args`` (any mapping with ``.get``).
    :return: a :class:`SearchArgs`.
    :raises indexer.QueryError: a parameter is malformed or out of range; ``.param`` names it.
    """
    checked = indexer.check_params(
        args.get("q", "").strip(),
        page=args.get("page"),
        per_page=args.get("per_page") or page_size,
        category=args.get("category"),
        feed=args.get("feed"),
        date_from=args.get("from"),
        date_to=args.get("to"),
        sort=args.get("sort", "").strip() or SORTS[0],
        correct=args.get("correct"),
        max_per_page=max_per_page,
        names=URL_NAMES,
    )
    collapse = COLLAPSE_VALUES.get(args.get("collapse", "").strip())
    if collapse is None:
        raise indexer.QueryError("collapse must be 1 (each story once) or 0 (every post).", param="collapse")
    return SearchArgs(
        collapse=collapse,
        q=checked.q,
        page=checked.page,
        per_page=checked.per_page,
        category=checked.category,
        feed=checked.feed,
        date_from=checked.date_from.date() if checked.date_from else None,
        date_to=checked.date_to.date() if checked.date_to else None,
        sort=checked.sort,
        correct=checked.correct,
        default_per_page=page_size,
    )


def request_search_args(only=None):
    """Parse the current request's search parameters with the app's limits.

    :param only: names of the parameters to read (e.g. ``("q",)``); others are ignored.
    """
    from flask import current_app, request

    args = request.args if only is None else {k: v for k, v in request.args.items() if k in only}
    cfg = current_app.config
    return parse_search_args(
        args,
        page_size=int(cfg["PAGE_SIZE"]),
        max_per_page=int(cfg["MAX_PER_PAGE"]),
    )
