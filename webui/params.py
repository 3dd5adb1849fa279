"""Turn ``request.args`` into checked search arguments, for the page and the API alike.

Bad input becomes :class:`indexer.QueryError` with the offending parameter in ``.param``,
which the error handler answers with 400, so no malformed value reaches the core.
"""

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone

from indexer import QueryError

# Sort orders the core understands; the first is the default.
SORTS = ("relevance", "date")

# Widest whole number accepted for page/per_page; longer digit strings are rejected
# before int() so a 10,000-digit "page" costs nothing.
_MAX_DIGITS = 9

# Longest category name accepted; real ones are a few characters.
MAX_CATEGORY_CHARS = 100

_DIGITS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class SearchArgs:
    """One search request, validated: what the user asked for, in the core's terms."""

    q: str = ""
    page: int = 1
    per_page: int = 10
    category: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    sort: str = SORTS[0]
    default_per_page: int = 10  # not a request value: lets url_args() omit the default

    def search_kwargs(self, tz=timezone.utc):
        """Keyword arguments for :meth:`indexer.SearchIndex.search` (besides ``q``).

        :param tz: the zone the user's dates are in. ``from``/``to`` become the first and
            last instant of those days there, so a post shown as 3 May is found by to=3 May.
        """
        return {
            "page": self.page,
            "per_page": self.per_page,
            "category": self.category,
            "date_from": datetime.combine(self.date_from, time.min, tz) if self.date_from else None,
            "date_to": datetime.combine(self.date_to, time.max, tz) if self.date_to else None,
            "sort": self.sort,
        }

    def url_args(self, **changes):
        """Query-string arguments that reproduce this search, with ``changes`` applied.

        Defaults are left out so links stay short; pass ``category=None`` to drop a filter.
        """
        s = replace(self, **changes)
        args = {
            "q": s.q or None,
            "category": s.category,
            "from": s.date_from.isoformat() if s.date_from else None,
            "to": s.date_to.isoformat() if s.date_to else None,
            "sort": s.sort if s.sort != SORTS[0] else None,
            "per_page": s.per_page if s.per_page != s.default_per_page else None,
            "page": s.page if s.page != 1 else None,
        }
        return {k: v for k, v in args.items() if v is not None}

    @property
    def filtered(self):
        """Whether a category or date filter narrows the search."""
        return bool(self.category or self.date_from or self.date_to)


def parse_search_args(args, *, page_size=10, max_per_page=50, max_query_chars=512):
    """Check the search parameters of a request.

    :param args: ``request.args`` (any mapping with ``.get``).
    :return: a :class:`SearchArgs`.
    :raises indexer.QueryError: a parameter is malformed or out of range; ``.param`` names it.
    """
    q = args.get("q", "").strip()
    if len(q) > max_query_chars:
        raise QueryError(
            f"The query is too long ({len(q)} characters); use at most {max_query_chars}.",
            param="q",
        )
    page = _whole_number(args, "page", 1, low=1)
    per_page = _whole_number(args, "per_page", page_size, low=1)
    if per_page > max_per_page:
        raise QueryError(f"per_page must be between 1 and {max_per_page}, not {per_page}.", param="per_page")
    category = args.get("category", "").strip() or None
    if category and len(category) > MAX_CATEGORY_CHARS:
        raise QueryError(
            f"The category name is too long; use at most {MAX_CATEGORY_CHARS} characters.",
            param="category",
        )
    date_from = _iso_date(args, "from")
    date_to = _iso_date(args, "to")
    if date_from and date_to and date_from > date_to:
        raise QueryError(f"The date range is empty: from ({date_from}) is after to ({date_to}).", param="from")
    sort = args.get("sort", "").strip() or SORTS[0]
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {_shorten(sort)!r}.", param="sort")
    return SearchArgs(
        q=q,
        page=page,
        per_page=per_page,
        category=category,
        date_from=date_from,
        date_to=date_to,
        sort=sort,
        default_per_page=page_size,
    )


def _whole_number(args, name, default, *, low):
    raw = args.get(name, "").strip()
    if not raw:
        return default
    if not _DIGITS.fullmatch(raw) or len(raw) > _MAX_DIGITS or int(raw) < low:
        raise QueryError(
            f"{name} must be a whole number from {low} to {10**_MAX_DIGITS - 1}, not {_shorten(raw)!r}.",
            param=name,
        )
    return int(raw)


def _iso_date(args, name):
    raw = args.get(name, "").strip()
    if not raw:
        return None
    try:
        if not _ISO_DATE.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise QueryError(f"{name} must be a date written YYYY-MM-DD, not {_shorten(raw)!r}.", param=name) from None


def _shorten(text, limit=40):
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        max_query_chars=int(cfg["MAX_QUERY_CHARS"]),
    )
