"""Answer queries: `open_index(location)` → SearchIndex → `.search(q)` → SearchPage.

SearchIndex is what the faces hold. It checks parameters (params.py), parses
the query (query.py), asks the backend's SearchEngine (engine.py) for the
ranked matches and their counts, falls back to any term when no post has them
all, and turns the matches into Hits with marked titles and snippets
(highlight.py). A query that reads as a slip of the input method or of the
keyboard gets a correction (typos.py): offered as ``suggestion`` when it finds
more posts, searched instead when the query finds none. Ranking is two-tiered:
posts where every term occurs verbatim first, then posts with the terms' words
apart; see engine.py.
"""

import re
import threading
import time
import weakref
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from . import config, related, stories, topics, typos
from .aliases import LearntAliases
from .analysis import is_token_char, normalize, query_words
from .backends import open_engine
from .boilerplate import counts_from_blob, templates_of
from .engine import EngineQuery
from .errors import PostNotFoundError, QueryError, SearchEngineError
from .highlight import mark, snippet
from .models import FeedNode, Hit, SearchPage, Similar
from .params import SORTS, check_params, resolve_timezone
from .pinyin import FEW_MATCHES, PinyinTables, could_be_pinyin, with_reading
from .query import highlight_terms, parse, term_spans
from .synonyms import DEFAULT_SYNONYMS, SynonymFiles, expand, search_expanded

__all__ = ["SORTS", "SearchIndex", "feed_tree", "open_index"]

_ID = re.compile(r"^[0-9a-f]{16}$")

# Seconds between checks of a background warmer (SearchIndex.warm) for a changed index.
WARM_INTERVAL = 5

# Related posts listed by more_like() when the caller does not say.
RELATED_LIMIT = 5

# SearchPage.note_code -> SearchPage.note: why the results are not plainly the query's matches.
NOTES = {
    "any_term": "No post contains all of the terms; showing posts that contain any of them.",
    "nothing_searchable": "Nothing searchable in the query; showing the newest posts.",
    "pinyin": "Showing results for {reading}.",
    "corrected": "Showing results for {suggestion}; search instead for {query}.",
    "partial": "The search took too long and was stopped early; some matching posts may be missing.",
}

# Fields whose clauses only filter (no words of the text to rank by).
FILTER_FIELDS = ("category", "author")


def open_index(location, *, backend=None, timezone=None, synonyms=None, cache_mb=None, **options):
    """Open the index at `location` (an index folder, or an OpenSearch URL) for searching.

    :param backend: "whoosh" (a folder) or "opensearch"; by default opensearch when
        `location` starts with http:// or https:// (several URLs: comma-separated).
    :param options: for OpenSearch: ``index_name`` (default "zhsearch"), ``username``,
        ``password``, ``verify_tls`` (default True), ``ca_certs``.
    :param timezone: the display time zone (an IANA name or tzinfo; default
        config.TIMEZONE): date filters are read and months counted in it.
    :param synonyms: a synonym file (Solr format) searched besides the shipped list.
    :param cache_mb: megabytes the embedded index keeps of reused postings
        (default config.CACHE_MB); memory grows no further with the archive.
    :raises IndexNotFoundError: when there is none; the message says to run reindex.
    :raises IndexVersionError: when it was built with other text analysis.
    :raises BackendUnavailableError: when the cluster cannot be reached or answer.
    """
    return SearchIndex(location, backend=backend, timezone=timezone, synonyms=synonyms, cache_mb=cache_mb, **options)


class SearchIndex:
    """A searchable index. Safe to share between threads; follows new generations made by `reindex`.

    A context manager: ``with open_index(d) as ix: ...`` closes it.
    """

    def __init__(self, location, *, backend=None, timezone=None, synonyms=None, cache_mb=None, **options):
        self.location = location
        self.index_dir = Path(location)
        self.tz = resolve_timezone(timezone)
        self.engine = open_engine(location, backend, cache_mb=cache_mb, **options)
        self.synonym_files = SynonymFiles([DEFAULT_SYNONYMS, *([synonyms] if synonyms else [])])
        self._learnt = LearntAliases()
        self._pinyin = PinyinTables()
        self._latin = PinyinTables(typos.LatinWords)
        self._warmer, self._warmer_stop = None, threading.Event()
        self._open_state()

    def _open_state(self):
        """Read now what every search of the index's current state reads first.

        As opening a Lucene reader opens its segments: the per-post tables, the
        story table, the kept postings' directories, the months in the display
        time zone and the synonym files. The first search then costs what the
        next ones do (at 200,000 posts these take about 0.1 s of the opening).
        What cannot be read is left to the searches that need it, which say
        what is wrong (a server starts on a damaged index and answers 503).
        """
        try:
            self.engine.warm(self.tz)
            self.synonym_files.current()
        except (SearchEngineError, OSError, ValueError):
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Release the index's files (searching again reopens them)."""
        self._warmer_stop.set()
        self.engine.close()

    def warm(self, background=False):
        """Build now what the first searches of the index's current state would build.

        The per-post tables, the vocabulary and its pinyin and Latin tables (the
        vocabulary of a large archive takes seconds to read), and the topic model of
        related posts (read once per process). With `background`, a
        daemon thread does it now and again whenever a reindex changes the index,
        checking every WARM_INTERVAL seconds: what a server does, so that no
        reader's request pays for it.
        """
        if not background:
            self.engine.warm(self.tz)
            self._pinyin.of(self.engine)
            self._latin.of(self.engine)
            topics.model()
            return
        if self._warmer is None:
            self._warmer = threading.Thread(
                target=_keep_warm, args=(weakref.ref(self), self._warmer_stop), name="zhsearch-warm", daemon=True
            )
            self._warmer.start()

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
        expand=True,
        pinyin=True,
        correct=True,
        feed=None,
        time_budget=None,
        collapse=True,
    ):
        """Search posts; return one page of hits with totals, category facets, per-month counts and the feed tree.

        An empty query lists all posts (filtered), newest first.

        :param date_from: a date, datetime or ISO 8601 string, read in the display
            time zone; inclusive.
        :param date_to: the same; inclusive (the whole day).
        :param sort: "relevance" or "date" (newest first).
        :param feed: a feed folder path (``金融/新浪财经``): only posts in it or below it.
        :param max_per_page, names: see params.check_params.
        :param expand: also search the aliases of the query's terms (see synonyms.py);
            the posts the reader's own words find still come first.
        :param pinyin: read a Latin query that finds few posts as pinyin of the index's
            words (`kehoufuwu` → 课后服务, initials `khfw` too), below what the letters themselves find.
        :param correct: when the query finds nothing but a correction of its slips does
            (`中小旗业` → 中小企业, `Facebok` → facebook), search the correction instead, with a
            note (True, 1, "1", ...; see params.check_params). Either way, a correction that
            finds more posts than the query is offered as ``SearchPage.suggestion``.
        :param time_budget: seconds the search may take (default config.QUERY_TIME_BUDGET);
            past it, what was found so far is returned, with a note.
        :param collapse: show each story once (near-duplicate posts, found at reindex time):
            its best hit, with the others in ``Hit.similar``; pages count stories. False
            lists every post.
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
            feed=feed,
            correct=correct,
        )
        query = replace(self._query(params, names), deadline=time.monotonic() + budget)
        note, reading = None, None
        if params.q.strip() and not query.parsed.groups and not query.parsed.excluded:
            note = "nothing_searchable"
        wide, expansions = self._expanded(query) if expand else (query, ())
        first = (params.page - 1) * params.per_page
        result = self._run(query, wide, first, params.per_page, names, collapse)
        if pinyin and result.total <= FEW_MATCHES and not result.partial and could_be_pinyin(params.q):
            started = time.monotonic()
            table = self._pinyin.of(self.engine)
            query, wide = _shifted(query, started), _shifted(wide, started)
            readings = table.readings(params.q)
            if len(readings) > 1:  # initials: the reading most posts hold verbatim (the first on a tie), if any
                held = [(self._posts_with(r, query.deadline), -i, r) for i, r in enumerate(readings)]
                best = max(held)
                readings = [best[2]] if best[0] else []
            reading = readings[0] if readings else None
        if reading:
            wide = replace(wide, parsed=with_reading(wide.parsed, reading))
            result = self._run(query, wide, first, params.per_page, names, collapse)
            note = "pinyin"
        suggestion = None
        if not reading and not result.partial and query.parsed.groups:
            suggestion, fixed = self._correction(params, names, query, result, first, expand, collapse)
            if fixed is not None:
                query, wide, expansions, result = fixed
                note = "corrected"
        if not result.total and len(query.parsed.groups) > 1 and not result.partial:
            any_term, any_wide = replace(query, require_all=False), replace(wide, require_all=False)
            fallback = self._run(any_term, any_wide, first, params.per_page, names, collapse)
            if fallback.total:
                result, query, wide = fallback, any_term, any_wide
                note = "any_term"
        if result.partial:
            note = "partial"
        # The reader's own terms and their words; aliases and a pinyin reading only as a whole.
        extra = {normalize(text)[0] for text in (*expansions, reading or "") if text}
        terms = sorted({*highlight_terms(query.parsed, self.engine.segmenter), *extra}, key=len, reverse=True)
        cut = self.engine.segmenter.cut
        hits = tuple(_hit(found, terms, cut) for found in result.hits)
        return SearchPage(
            query=params.q,
            total=result.total,
            page=params.page,
            per_page=params.per_page,
            hits=hits,
            facets=result.facets,
            months=result.months,
            sort=query.sort,
            note=NOTES[note].format(reading=reading, suggestion=suggestion, query=params.q) if note else None,
            note_code=note,
            reading=reading,
            suggestion=suggestion,
            expansions=expansions,
            tree=feed_tree(result.feeds),
            feed=params.feed,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            stories=result.stories,
            collapsed=collapse and result.stories is not None,
        )

    def ids(self, q="", *, category=None, date_from=None, date_to=None, sort="relevance", feed=None):
        """Return the ids of every post matching, in result order (no snippets: cheap for scripts).

        Takes the same arguments as `search` but paging; no any-term fallback.
        """
        params = check_params(
            q, category=category, date_from=date_from, date_to=date_to, sort=sort, tz=self.tz, feed=feed
        )
        return self.engine.ids(self._query(params, None))

    def _expanded(self, query):
        """(the query with its terms' aliases as alternatives, the aliases added)."""
        synonyms = self.synonym_files.current().merged(self._learnt.synonyms(self.engine))
        parsed, added = expand(query.parsed, synonyms)
        return (replace(query, parsed=parsed) if added else query), added

    def _correction(self, params, names, query, result, first, expand, collapse):
        """(a correction of the query that finds more posts than it, or None; its search when it replaces the query).

        The correction replaces the query only when the query found nothing and
        ``params.correct``; its search is then (query, wide query, aliases, result).
        """
        engine, seg = self.engine, self.engine.segmenter
        started = time.monotonic()
        words = [w for a, b in term_spans(params.q) for w in query_words(normalize(params.q[a:b])[0], seg)]
        vocabulary = None
        if any(hit.exact for hit in result.hits):
            posts = engine.doc_frequencies(words)
            if not posts:  # a backend that keeps no term statistics but a vocabulary
                vocabulary = engine.vocabulary()
                posts = {w: vocabulary.get(w, 0) for w in words}
            if all(posts.get(w, 0) >= typos.MIN_TARGET_POSTS for w in words):
                return None, None  # found as typed, every word common in the archive: no slip
        if vocabulary is None:
            vocabulary = engine.vocabulary()
        if not vocabulary:
            return None, None
        tables = self._pinyin.of(engine), self._latin.of(engine)
        query = _shifted(query, started)
        text = typos.correct(
            params.q,
            vocabulary,
            *tables,
            known=lambda word: seg.freq.get(word, 0) > 0,
            posts_with=lambda chars: self._posts_with(chars, query.deadline),
        )
        if text is None:
            return None, None
        with _named_query(names):
            fixed = replace(query, parsed=parse(text))  # the same filters, sort and deadline
        wide, expansions = self._expanded(fixed) if expand else (fixed, ())
        apply = params.correct and not result.total
        found = self._run(fixed, wide, first, params.per_page if apply else 1, names, collapse and apply)
        if found.total <= result.total:
            return None, None
        return text, ((fixed, wide, expansions, found) if apply else None)

    def _posts_with(self, chars, deadline):
        """How many posts hold `chars` (token characters) verbatim, with no filters."""
        phrase = EngineQuery(parsed=parse(f'"{chars}"'), tz=self.tz, deadline=deadline)
        return self.engine.search(phrase, 0, 0).total

    def _run(self, own, wide, first, limit, names=None, collapse=False):
        """One page of `wide`'s matches, `own`'s first (see search_expanded); of stories if `collapse`."""

        def fetch(offset, count):
            if wide is own:
                return self.engine.search(own, offset, count)
            return search_expanded(self.engine, own, wide, offset, count)

        with _named_query(names):  # the postings limit
            return stories.collapsed(self.engine, fetch, wide, first, limit) if collapse else fetch(first, limit)

    def aliases(self):
        """Return the aliases learnt from the archive's text, as (full name, short name, posts) sorted."""
        return self._learnt.pairs(self.engine)

    def _query(self, params, names):
        """The EngineQuery for checked parameters (a query of nothing to search lists by date)."""
        with _named_query(names):
            parsed = parse(params.q)
        # Nothing to rank by (no terms, or only filters such as category:快讯): newest first.
        ranked = any(clause.field not in FILTER_FIELDS for clause in parsed.positive_clauses)
        sort = params.sort if ranked else "date"
        return EngineQuery(
            parsed=parsed,
            category=params.category,
            feed=params.feed,
            date_from=params.date_from,
            date_to=params.date_to,
            sort=sort,
            tz=self.tz,
            max_postings=config.MAX_QUERY_POSTINGS,
        )

    # ── single posts ──

    def get(self, post_id):
        """Return the whole Article with id `post_id`.

        :raises PostNotFoundError: when no post has that id.
        """
        return self.engine.get(_checked_id(post_id))

    def more_like(self, post_id, limit=RELATED_LIMIT):
        """Return up to `limit` Hits for the posts most like the post `post_id`, best first.

        Posts are ranked by the post's key terms (related.key_terms: informative
        jieba words by TF-IDF, title words weighted up), then by words and topics
        shared (related.by_topic); copies of the post are left out and posts of its
        own feed come a little first (related.pick).
        """
        article = self.get(post_id)
        counts = related.candidate_words(article, self.engine.segmenter)
        terms = related.key_terms(counts, self.engine.doc_frequencies(list(counts)), self.engine.doc_count)
        found = self.engine.related(article.id, terms, limit * related.CANDIDATES_PER_POST)
        found = related.by_topic(article, found, self.engine.segmenter)
        return [_hit(hit, []) for hit in related.pick(article, found, limit)]

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

    def boilerplate(self, feed=None):
        """Return the boilerplate learnt per feed, as FeedTemplates, feeds in order.

        :param feed: only this feed, or the feeds under this folder path.
        """
        counts = counts_from_blob(self.engine.read_blob("boilerplate"))
        feeds = sorted(f for f in counts if feed is None or f == feed or f.startswith(feed.rstrip("/") + "/"))
        return [templates_of(counts[f]) for f in feeds]


def feed_tree(feeds):
    """The feed folders of {feed path: posts} as a tree of FeedNode, largest first at each level.

    A folder counts the posts in it and below it: ``{"金融/新浪财经/头条": 5,
    "金融/新浪财经/国内": 40}`` gives 金融 (45) › 新浪财经 (45) › 国内 (40), 头条 (5).
    """
    root = {}  # name -> [count, children dict]
    for path, count in feeds.items():
        level = root
        for part in path.split("/"):
            node = level.setdefault(part, [0, {}])
            node[0] += count
            level = node[1]

    def nodes(level, prefix):
        ordered = sorted(level.items(), key=lambda item: (-item[1][0], item[0]))
        return tuple(
            FeedNode(name, f"{prefix}{name}", count, nodes(children, f"{prefix}{name}/"))
            for name, (count, children) in ordered
        )

    return nodes(root, "")


def _keep_warm(index_ref, stop):
    """The background warmer of a SearchIndex: ends when the index is closed or no longer used."""
    warmed = None
    while not stop.is_set():
        index = index_ref()
        if index is None:
            return
        try:
            state = index.engine.state()
            if state != warmed:
                index.warm()
                warmed = state
        except Exception:  # noqa: BLE001 (a missing or damaged index is reported by the searches)
            pass
        del index  # hold no reference while waiting
        stop.wait(WARM_INTERVAL)


def _shifted(query, started):
    """`query` with its deadline moved on by the time since `started` (monotonic).

    The vocabulary and its tables are built once per index state, on the first
    query that needs them: the time budget bounds searching, not that build.
    """
    if query.deadline is None:
        return query
    return replace(query, deadline=query.deadline + time.monotonic() - started)


@contextmanager
def _named_query(names):
    """Re-raise a QueryError about the query under the caller's name for it (`names`, see check_params)."""
    try:
        yield
    except QueryError as exc:
        raise QueryError(str(exc), param=(names or {}).get("q", "q")) from None


def _checked_id(post_id):
    if not isinstance(post_id, str) or not _ID.match(post_id):
        raise PostNotFoundError(f"No post with id {str(post_id)[:40]!r}.")
    return post_id


def _hit(found, terms, cut=None):
    post = found.post
    return Hit(
        id=post.id,
        path=post.path,
        title=mark(post.display_title, terms),
        date=post.date,
        categories=post.categories,
        author=post.author,
        feed=post.feed,
        image=post.image,
        snippet=snippet(post.text, terms, cut=cut),
        score=found.score,
        exact=found.exact,
        similar=tuple(Similar(a.id, a.path, a.display_title, a.feed, a.date) for a in found.similar),
    )
