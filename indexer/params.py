"""Check search parameters: the one set of rules and messages for the library, the CLI and the web.

A bad value raises :class:`QueryError` whose ``param`` is the parameter's
name as the caller's users know it (``names`` maps the core's names, e.g.
``date_from``, to the caller's, e.g. ``from`` in a URL), and whose message
says what is wanted.
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .config import MAX_CATEGORY_CHARS, MAX_FEED_CHARS, MAX_QUERY_CHARS, PAGE_SIZE, TIMEZONE
from .errors import ConfigError, QueryError

# Sort orders; the first is the default.
SORTS = ("relevance", "date")

# Widest whole number accepted for page/per_page: longer digit strings are refused before int().
MAX_DIGITS = 9

# Values of a yes/no parameter given as text (a URL's correct=0).
_YES = ("1", "true", "yes", "on")
_NO = ("0", "false", "no", "off")

_DIGITS = re.compile(r"[0-9]+")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class SearchParams:
    """Checked search parameters. Dates are aware datetimes: a day's first and last instant in the zone."""

    q: str = ""
    page: int = 1
    per_page: int = PAGE_SIZE
    category: str | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    sort: str = SORTS[0]
    feed: str | None = None  # a feed folder path, without leading or trailing slashes
    correct: bool = True  # search a correction instead when the query finds nothing (see typos.py)


def resolve_timezone(tz=None):
    """A tzinfo for `tz`: a tzinfo, an IANA name such as "Asia/Shanghai", or None for the default zone.

    :raises ConfigError: for an unknown zone name.
    """
    if tz is None or tz == "":
        tz = TIMEZONE
    if isinstance(tz, str):
        try:
            return ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"Unknown time zone {tz[:60]!r}; use an IANA name such as Asia/Shanghai.") from None
    return tz


def check_params(
    q="",
    *,
    page=1,
    per_page=PAGE_SIZE,
    category=None,
    date_from=None,
    date_to=None,
    sort=SORTS[0],
    tz=timezone.utc,
    max_per_page=None,
    names=None,
    feed=None,
    correct=True,
):
    """Check search parameters and return them as SearchParams.

    :param page: a whole number, or its digits as a string.
    :param date_from: a date, a datetime, or ISO 8601 text; a date (or a naive
        datetime) is read in `tz`. Inclusive: `date_to` takes in its whole day.
    :param feed: a feed folder path (``金融/新浪财经``): only posts in it or below it.
    :param correct: a bool, or its text (1/0, true/false, yes/no, on/off; empty is the default, True).
    :param max_per_page: the largest per_page allowed (None: no limit).
    :param names: the caller's names for the parameters, e.g. ``{"date_from": "from"}``.
    :raises QueryError: naming the parameter (`names` applied) and what is wanted.
    """
    names = names or {}

    def name(param):
        return names.get(param, param)

    q = "" if q is None else str(q)
    if len(q) > MAX_QUERY_CHARS:
        raise QueryError(
            f"The query is too long ({len(q)} characters); use at most {MAX_QUERY_CHARS}.", param=name("q")
        )
    page = _whole_number(page, name("page"), 1)
    per_page = _whole_number(per_page, name("per_page"), PAGE_SIZE)
    if max_per_page is not None and per_page > max_per_page:
        raise QueryError(
            f"{name('per_page')} must be between 1 and {max_per_page}, not {per_page}.", param=name("per_page")
        )
    category = (str(category).strip() or None) if category is not None else None
    if category and len(category) > MAX_CATEGORY_CHARS:
        raise QueryError(
            f"The category name is too long; use at most {MAX_CATEGORY_CHARS} characters.", param=name("category")
        )
    feed = _feed_path(feed)
    if feed and len(feed) > MAX_FEED_CHARS:
        raise QueryError(f"The feed path is too long; use at most {MAX_FEED_CHARS} characters.", param=name("feed"))
    start = _instant(date_from, name("date_from"), tz, end_of_day=False)
    end = _instant(date_to, name("date_to"), tz, end_of_day=True)
    if start and end and start > end:
        raise QueryError(
            f"The date range is empty: {name('date_from')} ({_day(date_from)}) is after "
            f"{name('date_to')} ({_day(date_to)}).",
            param=name("date_from"),
        )
    sort = (sort or SORTS[0]).strip() if isinstance(sort, str) else sort
    if sort not in SORTS:
        raise QueryError(
            f"{name('sort')} must be one of {', '.join(SORTS)}, not {_shorten(str(sort))!r}.", param=name("sort")
        )
    return SearchParams(
        q=q,
        page=page,
        per_page=per_page,
        category=category,
        date_from=start,
        date_to=end,
        sort=sort,
        feed=feed,
        correct=_yes_no(correct, name("correct"), True),
    )


def _yes_no(value, name, default):
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _YES + _NO:
        return value.strip().lower() in _YES
    raise QueryError(f"{name} must be 1 or 0 (or true or false), not {_shorten(str(value))!r}.", param=name)


def _feed_path(feed):
    """A feed folder path with empty parts and surrounding spaces dropped, or None."""
    if feed is None:
        return None
    return "/".join(part.strip() for part in str(feed).split("/") if part.strip()) or None


def _whole_number(value, name, default):
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    raw = value.strip() if isinstance(value, str) else value
    if isinstance(raw, bool) or not (
        (isinstance(raw, int) and 1 <= raw < 10**MAX_DIGITS)
        or (isinstance(raw, str) and _DIGITS.fullmatch(raw) and len(raw) <= MAX_DIGITS and int(raw) >= 1)
    ):
        raise QueryError(
            f"{name} must be a whole number from 1 to {10**MAX_DIGITS - 1}, not {_shorten(str(value))!r}.", param=name
        )
    return int(raw)


def _instant(value, name, tz, end_of_day):
    """An aware datetime for a date bound, or None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str):
        raw = value.strip()
        try:
            if _ISO_DATE.fullmatch(raw):
                value = date.fromisoformat(raw)
            elif len(raw) > 10 and _ISO_DATE.match(raw):
                value = datetime.fromisoformat(raw)
            else:
                raise ValueError(raw)
        except ValueError:
            raise QueryError(f"{name} must be a date written YYYY-MM-DD, not {_shorten(raw)!r}.", param=name) from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time.max if end_of_day else time.min, tz)
    raise QueryError(f"{name} must be a date, not {type(value).__name__}.", param=name)


def _day(value):
    return value.strip() if isinstance(value, str) else value.isoformat()


def _shorten(text, limit=40):
    return text if len(text) <= limit else text[: limit - 1] + "…"
