"""Frozen records that flow between zhsearch's stages and out to its callers."""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath

from .titles import display_title


def post_id(relpath):
    """Return the short URL-safe key of the post at `relpath` (relative, posix)."""
    return hashlib.sha1(relpath.encode("utf-8")).hexdigest()[:16]


def feed_of(relpath):
    """Return the post's folder relative to the source root (its feed), or None at the top.

    Feeds are folder paths, ``category/site/feed`` in the archives (``金融/新浪财经/头条``).
    """
    parent = PurePosixPath(relpath).parent.as_posix()
    return None if parent in ("", ".") else parent


def in_feed(feed, prefix):
    """Whether a post of `feed` lies in the feed folder `prefix` (itself or below it)."""
    return feed is not None and (feed == prefix or feed.startswith(prefix + "/"))


@dataclass(frozen=True)
class Marked:
    """Plain text with the spans where a query matched it.

    ``spans`` are sorted, non-overlapping ``(start, end)`` character offsets
    into ``text``. Faces draw them: ``<mark>`` on the page, colour in a
    terminal (see indexer.highlight for the HTML form).
    """

    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def __str__(self):
        return self.text


@dataclass(frozen=True)
class Post:
    """One ingested post: metadata from its front matter and its clean text."""

    id: str  # short URL-safe key derived from `path` (see post_id)
    path: str  # path relative to the source root, posix form: the post's identity
    title: str
    text: str  # clean article text, paragraphs separated by blank lines
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str | None = None  # a credited person (作者：X…), else the front matter's author
    editor: str | None = None
    source: str | None = None  # credited source (来源：X, 原文链接：URL), None if the body names none
    date: datetime | None = None  # timezone-aware UTC
    image: str | None = None
    feed: str | None = None  # source feed, from the folder path
    size: int = 0
    mtime: float = 0.0
    sha256: str = ""
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failure:
    """A post that could not be ingested, and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    path: str  # relative to the source root
    title: Marked  # the whole title, with the query's matches
    date: datetime | None
    categories: tuple[str, ...]
    author: str | None
    feed: str | None
    image: str | None
    snippet: Marked  # 1-3 fragments joined, "…" where text was left out
    score: float
    exact: bool  # every query term occurs verbatim in the post
    similar: tuple["Similar", ...] = ()  # other matches of its story, newest first (collapsed results)


@dataclass(frozen=True)
class Similar:
    """A post of the same story as a hit (a near-duplicate), listed under it."""

    id: str
    path: str
    title: str
    feed: str | None
    date: datetime | None


@dataclass(frozen=True)
class FeedNode:
    """One folder of the feed tree (category › site › feed) with the matches at or below it."""

    name: str  # the folder's own name ("新浪财经")
    path: str  # the folder path from the root ("金融/新浪财经"): the value of the feed filter
    count: int
    children: tuple["FeedNode", ...] = ()


@dataclass(frozen=True)
class SearchPage:
    """One page of search results with counts for the whole result set."""

    query: str
    total: int
    page: int
    per_page: int
    hits: tuple[Hit, ...]
    facets: dict[str, int]  # category -> hits in it, largest first
    months: dict[str, int]  # "YYYY-MM" (display time zone) -> hits that month, in date order
    sort: str = "relevance"
    note: str | None = None  # e.g. when no post matched every term and any-term results are shown
    note_code: str | None = None  # the note's key, for faces that say it in their own words (search.NOTES)
    reading: str | None = None  # the Chinese words a Latin query was read as (note_code "pinyin")
    tree: tuple[FeedNode, ...] = ()  # the feed folders of all matches, largest first at each level
    feed: str | None = None  # the feed filter applied (a folder path), if any
    took_ms: float = 0.0
    expansions: tuple[str, ...] = ()  # aliases also searched ("also searched: 央行"); see synonyms.py
    # A correction of the query's slips that finds more posts ("did you mean 中小企业"); when the query
    # found nothing, the results are the correction's (note_code "corrected"). See typos.py.
    suggestion: str | None = None

    @property
    def searched(self):
        """The query the results are for: the suggestion when it was searched instead, else the query."""
        return self.suggestion if self.note_code == "corrected" else self.query

    stories: int | None = None  # distinct stories among the matches (near-duplicates counted once)
    collapsed: bool = False  # hits are stories: one per story, its copies in Hit.similar; pages count stories

    @property
    def pages(self):
        shown = self.stories if self.collapsed and self.stories is not None else self.total
        return max(1, -(-shown // self.per_page)) if self.per_page else 1


@dataclass(frozen=True)
class Article:
    """A whole indexed post, as shown on its own page."""

    id: str
    path: str
    title: str
    text: str
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    author: str | None
    editor: str | None
    date: datetime | None
    image: str | None
    feed: str | None
    story: str | None = None  # id of its story (cluster of near-duplicates); None: its own id

    @property
    def display_title(self):
        """The title as shown: quotes a mirror replaced with underscores put back (see titles.py)."""
        return display_title(self.title, self.text)

    @property
    def paragraphs(self):
        return [p for p in self.text.split("\n\n") if p.strip()]


@dataclass(frozen=True)
class ReindexReport:
    """What one `reindex` run did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    failed: tuple[Failure, ...] = ()
    templates: int = 0  # boilerplate templates in force for the posts written (0 when none were)
    seconds: float = 0.0
    full: bool = False
    index_dir: str = ""
    source_dir: str = ""
    generation: int = 0
    warnings: tuple[tuple[str, str], ...] = field(default=())  # (post path, message)

    user_dict: str | None = None  # the jieba user dictionary the index is built with
    user_dict_kept: bool = False  # a full rebuild kept the dictionary of the index it replaced

    def summary(self):
        line = (
            f"Indexed {self.source_dir} into {self.index_dir}: {self.added} added, "
            f"{self.updated} updated, {self.deleted} deleted, {self.unchanged} unchanged, "
            f"{len(self.failed)} failed"
        )
        if self.warnings:
            line += f", {len(self.warnings)} warning{'s' if len(self.warnings) != 1 else ''}"
        line += f" in {self.seconds:.1f}s"
        if self.user_dict_kept:
            line += " (kept the index's user dictionary)"
        return line


@dataclass(frozen=True)
class IndexStats:
    """What `zhsearch stats` and /healthz report about an index."""

    index_dir: str
    generation: int
    posts: int
    size_bytes: int
    last_reindex: datetime | None
    source_dir: str | None
    top_categories: tuple[tuple[str, int], ...]
