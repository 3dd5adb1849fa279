"""Split a Hexo post into YAML front matter and body, and read its metadata.

Only PyYAML's safe loader is used, so a ``!!python/...`` tag is an error, never
code. Before loading, the front matter's size and its number of YAML aliases
are checked, so an alias bomb is rejected instead of expanded.
"""

import html
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime

import yaml

from .config import MAX_FRONT_MATTER_CHARS

# A front matter fence: a line of three dashes (Hexo allows trailing spaces).
_FENCE = re.compile(r"^---[ \t]*$", re.MULTILINE)

# Real posts use no YAML aliases; a handful is tolerated, more is an attack.
MAX_YAML_ALIASES = 20

# Image URLs that feeds fill in when a post has no picture.
_PLACEHOLDER_IMAGE = re.compile(r"picsum\.photos|/undefined$|^\s*$")

_HEADING = re.compile(
    r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$|<h[1-3][^>]*>(.*?)</h[1-3]>", re.MULTILINE | re.IGNORECASE | re.DOTALL
)
_TAG = re.compile(r"<[^>]+>")


class FrontMatterError(ValueError):
    """The front matter cannot be read; the message says why."""


@dataclass(frozen=True)
class Meta:
    """Metadata read from a post's front matter."""

    title: str
    categories: tuple
    tags: tuple
    author: str | None
    date: datetime | None
    image: str | None
    warnings: tuple


def split(text):
    """Return (front matter text or None, body).

    Front matter is a `---` line first in the file (blank lines may precede it)
    up to the next `---` line; `---` lines later in the body stay in the body.
    """
    stripped = text.lstrip("\ufeff \t\n")
    if not _FENCE.match(stripped):
        return None, text
    first_line_end = stripped.find("\n")
    if first_line_end < 0:
        raise FrontMatterError("front matter opens with '---' but the file ends there")
    closing = _FENCE.search(stripped, first_line_end + 1)
    if closing is None:
        raise FrontMatterError("front matter opens with '---' but has no closing '---' line")
    return stripped[first_line_end + 1 : closing.start()], stripped[closing.end() :].lstrip("\n")


def parse(front_matter, *, fallback_title, body=""):
    """Read a Meta from front matter text (or None), tolerating what real posts do."""
    data = _load_yaml(front_matter) if front_matter is not None else {}
    warnings = []
    if not isinstance(data, dict):
        warnings.append("front matter is not a key: value mapping; ignored it")
        data = {}
    title = _text(data.get("title"))
    if title is None:
        title = _first_heading(body) or fallback_title
    date_value, date_warning = parse_date(data.get("date"))
    if date_warning:
        warnings.append(date_warning)
    image = None
    for key in ("headimg", "thumbnail", "cover", "image"):
        candidate = _text(data.get(key))
        if candidate and not _PLACEHOLDER_IMAGE.search(candidate):
            image = candidate
            break
    return Meta(
        title=title,
        categories=_string_list(data.get("categories")),
        tags=_string_list(data.get("tags")),
        author=_text(data.get("author")) or None,
        date=date_value,
        image=image,
        warnings=tuple(warnings),
    )


def parse_date(value):
    """Return (timezone-aware UTC datetime or None, warning or None).

    Accepts datetimes and dates from YAML, RFC 2822, ISO 8601, `YYYY-MM-DD HH:MM:SS`,
    `YYYY/MM/DD`. Naive times are taken as UTC.
    """
    if value is None or value == "":
        return None, None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        parsed = _parse_date_text(str(value).strip())
        if parsed is None:
            return None, f"date {str(value)[:60]!r} is not a date zhsearch can read; indexed without a date"
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc), None


def _parse_date_text(text):
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    candidate = text.replace("/", "-")
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        return None


def _load_yaml(front_matter):
    if len(front_matter) > MAX_FRONT_MATTER_CHARS:
        raise FrontMatterError(
            f"front matter is {len(front_matter)} characters, more than the {MAX_FRONT_MATTER_CHARS} allowed"
        )
    try:
        aliases = sum(
            1 for event in yaml.parse(front_matter, Loader=yaml.SafeLoader) if isinstance(event, yaml.AliasEvent)
        )
        if aliases > MAX_YAML_ALIASES:
            raise FrontMatterError(f"front matter uses {aliases} YAML aliases; refusing to expand them")
        return yaml.load(front_matter, Loader=yaml.SafeLoader)
    except yaml.constructor.ConstructorError as exc:
        raise FrontMatterError(f"front matter uses a YAML tag that is not allowed ({exc.problem})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise FrontMatterError(f"front matter is not valid YAML{where}: {problem}") from None


def _text(value):
    """A front matter scalar as clean one-line text (entities decoded), or None."""
    if value is None:
        return None
    if isinstance(value, (list, tuple, dict)):
        return None
    text = html.unescape(str(value)).replace("\u00a0", " ").replace("\u3000", " ")
    return " ".join(text.split())


def _string_list(value):
    if value is None:
        return ()
    if isinstance(value, str):
        items = re.split(r"[,，]", value)
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            # Hexo allows nested lists for category hierarchies.
            items.extend(item if isinstance(item, (list, tuple)) else [item])
    else:
        items = [value]
    result = []
    for item in items:
        text = _text(item)
        if text and text not in result:
            result.append(text)
    return tuple(result)


def _first_heading(body):
    match = _HEADING.search(body)
    if not match:
        return None
    heading = html.unescape(_TAG.sub("", match.group(1) or match.group(2) or ""))
    return " ".join(heading.split()) or None
