"""Answer queries: `open_index(location)` → SearchIndex → `.search(q)` → SearchPage.

SearchIndex is what the faces hold. It checks parameters (params.py), parses
the query (query.py), asks the backend's SearchEngine (engine.py) for the
ranked matches and their counts, falls back to any term when no post has them
all, and turns the matches into Hits with marked titles and snippets
(highlight.py). Ranking is two-tiered: posts where every term occurs verbatim
first, then posts with the terms' words apart; see engine.py.
"""

import re
import time
from dataclasses import replace
from pathlib import Path

from . import config
from .analysis import is_token_char, normalize
from .backends import open_engine
from .engine import EngineQuery
from .errors import PostNotFoundError, QueryError
from .highlight import mark, snippet
from .models import Hit, SearchPage
from .params import SORTS, check_params, resolve_timezone
from .query import highlight_terms, parse

__all__ = ["SORTS", "SearchIndex", "open_index"]

_ID = re.compile(r"^[0-9a-f]{16}$")

# Related posts listed by more_like() when the caller does not say.
RELATED_LIMIT = 5


def open_index(location, *, backend=None, timezone=None):
    """Open the index at `location` (an index folder) for searching.

    :param backend: "whoosh" (the default).
    :param timezone: the display time zone (an IANA name or tzinfo; default
        config.TIMEZONE): date filters are read and months counted in it.
    :raises IndexNotFoundError: when there is none; the message says to run reindex.
    :raises IndexVersionError: when it was built with other text analysis.
    """
    return SearchIndex(location, backend=backend, timezone=timezone)


class SearchIndex:
    """A searchable index. Safe to share between threads; follows new generations made by `reindex`.

    A context manager: ``with open_index(d) as ix: ...`` closes it.
    """

    def __init__(self, location, *, backend=None, timezone=None):
        self.location = location
        self.index_dir = Path(location)
        self.tz = resolve_timezone(timezone)
        self.engine = open_engine(location, backend)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Release the index's files (searching again reopens them)."""
        self.engine.close()

    @property
    def generation(self):
        return self.engine.generation

    @property
    def doc_count(self):
        return self.engine.doc_count

    # ── search ──

    def search(
        self,
        q="",
        *,
        page=1,
        per_page=10,
        category=None,
        date_from=None,
        date_to=None,
        sort="relevance",
        max_per_page=None,
        names=None,
        time_budget=None,
    ):
        """Search posts; return one page of hits with totals, category facets and per-month counts.

        An empty query lists all posts (filtered), newest first.

        :param date_from: a date, datetime or ISO 8601 string, read in the display
            time zone; inclusive.
        :param date_to: the same; inclusive (the whole day).
        :param sort: "relevance" or "date" (newest first).
        :param max_per_page, names: see params.check_params.
        :param time_budget: seconds the search may take (default config.QUERY_TIME_BUDGET);
            past it, what was found so far is returned, with a note.
        :raises QueryError: for a bad parameter, an unusable query or one that would read
            more than config.MAX_QUERY_POSTINGS postings; `.param` names it.
        """
        started = time.perf_counter()
        budget = config.QUERY_TIME_BUDGET if time_budget is None else time_budget
        params = check_params(
            q,
            page=page,
            per_page=per_page,
            category=category,
            date_from=date_from,
            date_to=date_to,
            sort=sort,
            tz=self.tz,
            max_per_page=max_per_page,
            names=names,
        )
        query, note = self._query(params, names)
        query = replace(query, deadline=time.monotonic() + budget)
        first = (params.page - 1) * params.per_page
        result = self._engine_search(query, first, params.per_page, names)
        if not result.total and len(query.parsed.groups) > 1 and not result.partial:
            any_term = replace(query, require_all=False)
            fallback = self._engine_search(any_term, first, params.per_page, names)
            if fallback.total:
                result, query = fallback, any_term
                note = "No post contains all of the terms; showing posts that contain any of them."
        if result.partial:
            note = "The search took too long and was stopped early; some matching posts may be missing."
        terms = highlight_terms(query.parsed, self.engine.segmenter)
        hits = tuple(_hit(found, terms) for found in result.hits)
        return SearchPage(
            query=params.q,
            total=result.total,
            page=params.page,
            per_page=params.per_page,
            hits=hits,
            facets=result.facets,
            months=result.months,
            sort=query.sort,
            note=note,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def _engine_search(self, query, first, per_page, names):
        try:
            return self.engine.search(query, first, per_page)
        except QueryError as exc:  # the postings limit
            raise QueryError(str(exc), param=(names or {}).get("q", "q")) from None

    def ids(self, q="", *, category=None, date_from=None, date_to=None, sort="relevance"):
        """Return the ids of every post matching, in result order (no snippets: cheap for scripts).

        Takes the same arguments as `search` but paging; no any-term fallback.
        """
        params = check_params(q, category=category, date_from=date_from, date_to=date_to, sort=sort, tz=self.tz)
        query, _ = self._query(params, None)
        return self.engine.ids(query)

    def _query(self, params, names):
        try:
            parsed = parse(params.q)
        except QueryError as exc:
            raise QueryError(str(exc), param=(names or {}).get("q", "q")) from None
        sort = params.sort if parsed.groups else "date"
        return EngineQuery(
            parsed=parsed,
            category=params.category,
            date_from=params.date_from,
            date_to=params.date_to,
            sort=sort,
            tz=self.tz,
            max_postings=config.MAX_QUERY_POSTINGS,
        ), None

    # ── single posts ──

    def get(self, post_id):
        """Return the whole Article with id `post_id`.

        :raises PostNotFoundError: when no post has that id.
        """
        return self.engine.get(_checked_id(post_id))

    def more_like(self, post_id, limit=RELATED_LIMIT):
        """Return up to `limit` Hits for the posts most like the post `post_id` (key jieba words)."""
        return [_hit(found, []) for found in self.engine.more_like(_checked_id(post_id), limit)]

    def highlight(self, text, q):
        """Return `text` as Marked with the matches of query `q` (none for a query that cannot be parsed)."""
        try:
            terms = highlight_terms(parse(q), self.engine.segmenter)
        except QueryError:
            terms = []
        return mark(text, terms)

    def suggest(self, prefix, limit=8):
        """Return up to `limit` titles that contain `prefix` verbatim, best first."""
        chars = "".join(c for c in normalize(prefix or "")[0] if is_token_char(c))
        if not chars or limit < 1:
            return []
        return self.engine.suggest(chars, limit)

    def stats(self):
        """Return post count, size on disk, last reindex and top categories."""
        return self.engine.stats(self.tz)


def _checked_id(post_id):
    if not isinstance(post_id, str) or not _ID.match(post_id):
        raise PostNotFoundError(f"No post with id {str(post_id)[:40]!r}.")
    return post_id


def _hit(found, terms):
    post = found.post
    return Hit(
        id=post.id,
        path=post.path,
        title=mark(post.title, terms),
        date=post.date,
        categories=post.categories,
        author=post.author,
        feed=post.feed,
        image=post.image,
        snippet=snippet(post.text, terms),
        score=found.score,
        exact=found.exact,
    )
