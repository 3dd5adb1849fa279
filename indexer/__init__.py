"""zhsearch's core: Chinese full-text search over a Hexo `source/_posts` tree.

::

    write side (reindex)                               read side (open_index)
    sources ─▶ front matter ─▶ clean ─▶ analysis ─▶ index ─▶ search ─▶ highlight ─▶ render
    sources.py frontmatter.py clean.py analysis.py  backends/ search.py highlight.py (cli.py, webui/)
                                        store.py: the index folder, shared by both sides

Library use::

    import indexer
    report = indexer.reindex("source/_posts", "index_data")
    with indexer.open_index("index_data") as ix:
        page = ix.search("课后服务")

Searching loads nothing of the write side (BeautifulSoup, lxml, markdown-it,
PyYAML): ``reindex``, ``read_post`` and ``read_post_at`` are imported when
first used.
"""

import importlib

from .errors import (
    BackendUnavailableError,
    ConfigError,
    DiskFullError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    IndexVersionError,
    PostNotFoundError,
    PostParseError,
    QueryError,
    SearchEngineError,
)
from .highlight import html
from .models import Article, Failure, FeedNode, Hit, IndexStats, Marked, Post, ReindexReport, SearchPage, Similar
from .params import SearchParams, check_params
from .search import SearchIndex, open_index
from .serialize import article_json, http_url, page_json

# Names of the write side, loaded on first use: name -> module.
_LAZY = {"read_post": "ingest", "read_post_at": "ingest", "reindex": "indexing"}

__all__ = [
    "Article",
    "BackendUnavailableError",
    "ConfigError",
    "DiskFullError",
    "Failure",
    "FeedNode",
    "Hit",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexStats",
    "IndexVersionError",
    "Marked",
    "Post",
    "PostNotFoundError",
    "PostParseError",
    "QueryError",
    "ReindexReport",
    "SearchEngineError",
    "SearchIndex",
    "SearchPage",
    "SearchParams",
    "Similar",
    "article_json",
    "check_params",
    "html",
    "http_url",
    "open_index",
    "page_json",
    "read_post",
    "read_post_at",
    "reindex",
]


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), *_LAZY})
