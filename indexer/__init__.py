"""zhsearch's core: Chinese full-text search over a Hexo `source/_posts` tree.

::

    sources ─▶ front matter ─▶ clean ─▶ tokenize ─▶ index ─▶ search ─▶ render
    sources.py frontmatter.py clean.py tokenizer.py indexing.py search.py (cli.py, webui/)

Library use::

    import indexer
    report = indexer.reindex("source/_posts", "index_data")
    page = indexer.open_index("index_data").search("课后服务")
"""

from .errors import (
    ConfigError,
    IndexLockedError,
    IndexNotFoundError,
    PostNotFoundError,
    PostParseError,
    QueryError,
    SearchEngineError,
)
from .indexing import reindex
from .ingest import read_post, read_post_at
from .models import Article, Failure, Hit, IndexStats, Post, ReindexReport, SearchPage
from .search import SearchIndex, open_index

__all__ = [
    "Article",
    "ConfigError",
    "Failure",
    "Hit",
    "IndexLockedError",
    "IndexNotFoundError",
    "IndexStats",
    "Post",
    "PostNotFoundError",
    "PostParseError",
    "QueryError",
    "ReindexReport",
    "SearchEngineError",
    "SearchIndex",
    "SearchPage",
    "open_index",
    "read_post",
    "read_post_at",
    "reindex",
]
