"""The embedded backend's read side: a SearchEngine over a Whoosh index folder.

Matching (matching.py) works on bitmaps of document numbers: char and bigram
postings give the verbatim matches (a substring search in the post's char
tokens confirms the few that postings cannot), word postings give the rest.
Ranking scores only what matched, a tier at a time, with Whoosh's BM25F and a
sloppy phrase over words for proximity; the top-N collector skips blocks that
cannot make the page. Per-post tables (tables.py: live posts, categories,
feeds, dates, months, date order) are built once per index state, keyed by
what the reader that built them read; the postings of terms and clauses are
reused across queries within a byte budget (cache.py).
"""

import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from itertools import islice

from pyroaring import BitMap
from whoosh import query as wq
from whoosh.scoring import BM25F

from ... import analysis, config, store, stories
from ...engine import EngineHit, EngineResult, SearchEngine
from ...errors import IndexVersionError, PostNotFoundError, SearchEngineError
from ...models import Article, IndexStats, post_id
from ...query import CHAR_FIELDS, WORD_FIELDS
from . import adapter
from .cache import SetCache
from .frequent import WEIGHTED_FIELDS, FrequentPostings
from .matching import DocSets
from .schema import CHARS_COLUMN_FIELDS, outdated_message
from .scoring import TierScorer, global_lengths
from .tables import StoryTable, Tables, bitmap

# Categories listed by stats().
TOP_CATEGORIES = 10


class WhooshEngine(SearchEngine):
    """Search the embedded index in `index_dir`, following the generations `reindex` makes."""

    def __init__(self, index_dir, cache_mb=None):
        """:param cache_mb: memory for reused postings of terms and clauses (default config.CACHE_MB)."""
        self.index_dir = index_dir
        self._lock = threading.Lock()
        self._state = None  # (generation, folder, Whoosh index, Segmenter)
        self._caches = {}  # name -> (state key, value); see _per_state
        self._sets = SetCache(int((config.CACHE_MB if cache_mb is None else cache_mb) * 1024 * 1024))
        self._local = threading.local()
        self._live()

    # ── generations ──

    def _live(self):
        """(generation, folder, Whoosh index, Segmenter) of the live generation, reopened after a switch."""
        generation, gen_dir = store.current_generation(self.index_dir)
        state = self._state
        if state is None or state[0] != generation:
            with self._lock:
                state = self._state
                if state is None or state[0] != generation:
                    store.check_permissions(self.index_dir, gen_dir)
                    seg = analysis.segmenter(store.stored_user_dict(gen_dir))
                    store.check_fingerprint(self.index_dir, gen_dir, seg.fingerprint)
                    with self._reading(gen_dir):
                        ix = adapter.open_index_dir(gen_dir)
                    outdated = outdated_message(ix.schema, self.index_dir)
                    if outdated:
                        ix.close()
                        raise IndexVersionError(outdated)
                    state = self._state = (generation, gen_dir, ix, seg)
        return state

    @contextmanager
    def _reading(self, gen_dir):
        """Turn what Whoosh raises for a damaged file into IndexCorruptError naming the file.

        Only when the index's files fail a check (adapter.damaged_file) is the
        error put down to damage; any other error is raised as it is. The
        thread's searcher is dropped, so the next request reads the files afresh.
        """
        try:
            yield
        except SearchEngineError:
            raise
        except Exception as exc:
            damaged = adapter.damaged_file(gen_dir)
            if damaged is None:
                raise
            cached = getattr(self._local, "searcher", None)
            self._local.searcher = None
            if cached is not None:
                try:
                    cached[2].close()
                except Exception:  # noqa: BLE001 (closing the damaged files may fail too)
                    pass
            raise store.corrupt_error(self.index_dir, damaged, exc) from exc

    @property
    def segmenter(self):
        return self._live()[3]

    @property
    def generation(self):
        return self._live()[0]

    @property
    def doc_count(self):
        return self._live()[2].doc_count()

    @contextmanager
    def _searcher(self):
        """(searcher, generation, Segmenter) on the latest state of the index, reused by the calling thread.

        Opening a Whoosh searcher opens every segment's files; a thread keeps
        its own (Whoosh searchers are not shared between threads) and refreshes
        it when a commit or a new generation has changed the index.
        """
        generation, gen_dir, ix, seg = self._live()
        with self._reading(gen_dir):
            cached = getattr(self._local, "searcher", None)
            # Not Searcher.refresh(): it reuses segment readers and so misses deletions.
            if cached is None or cached[0] is not ix or cached[2].reader().generation() != ix.latest_generation():
                if cached is not None:
                    cached[2].close()
                searcher = ix.searcher(weighting=BM25F())
                cached = (ix, generation, searcher, seg, _char_search(searcher.reader()))
                self._local.searcher = cached
            self._local.char_search = cached[4]
            yield cached[2], cached[1], cached[3]

    def close(self):
        cached = getattr(self._local, "searcher", None)
        if cached is not None:
            cached[2].close()
            self._local.searcher = None
        with self._lock:
            if self._state is not None:
                self._state[2].close()
            self._state = None
            self._caches.clear()
        self._sets.clear()

    @property
    def cache_bytes(self):
        """(bytes the reused postings take now, the budget)."""
        return self._sets.used, self._sets.budget

    def read_blob(self, name):
        return store.read_blob(self._live()[1], name)

    def blob_stamp(self, name):
        gen_dir = self._live()[1]
        return (str(gen_dir), *store.blob_stamp(gen_dir, name))

    def state(self):
        generation, _, ix, _ = self._live()
        return generation, ix.latest_generation()

    def warm(self, tz=timezone.utc):
        with self._searcher() as (searcher, generation, _):
            self._tables(searcher, generation).months(tz)
            self._stories(searcher)
            self._postings(searcher, generation)
            for field in WORD_FIELDS[None]:
                self._lengths(searcher.reader(), generation, field)
            for leaf, _ in searcher.reader().leaf_readers():
                adapter.open_stored_fields(leaf)

    def vocabulary(self):
        with self._searcher() as (searcher, generation, _):
            reader = searcher.reader()
            postings = self._postings(searcher, generation)
            return self._per_state(reader, generation, "vocabulary", lambda: postings.vocabulary(reader))

    # ── search ──

    def search(self, query, offset, limit):
        with self._searcher() as (searcher, generation, seg):
            tables = self._tables(searcher, generation)
            match, exact, partial = self._match(searcher, generation, seg, query, tables)
            ranked, cut = self._order(searcher, seg, query, match, exact, offset, limit, tables)
            story = self._stories(searcher)
            hits = tuple(
                EngineHit(_article(fields, story.of(d, fields["id"])), round(score, 4), d in exact)
                for d, score in ranked
                for fields in (searcher.stored_fields(d),)
            )
            facets, months, feeds = tables.count(match, query.tz)
        return EngineResult(
            total=len(match),
            hits=hits,
            facets=facets,
            months=months,
            feeds=feeds,
            partial=partial or cut,
            stories=story.count(match),
        )

    def ids(self, query):
        with self._searcher() as (searcher, generation, seg):
            tables = self._tables(searcher, generation)
            match, exact, _ = self._match(searcher, generation, seg, query, tables)
            if not match:
                return []
            ranked, _ = self._order(searcher, seg, query, match, exact, 0, len(match), tables)
            paths = searcher.reader().column_reader("path")  # ids derive from paths; no stored fields read
            return [post_id(paths[docnum]) for docnum, _ in ranked]

    def _match(self, searcher, generation, seg, query, tables):
        """(matching docnums, verbatim docnums, cut short by the deadline) for a query under its filters."""
        reader = searcher.reader()
        state = _state_key(reader, generation)
        frequency = self._frequency(reader, state)
        term_docs = self._term_docs(searcher, generation)
        sets = DocSets(searcher, seg, self._local.char_search, term_docs, self._sets, state, query.deadline, frequency)
        parsed = query.parsed
        if query.max_postings is not None:
            sets.check_cost(parsed, query.max_postings)
        if parsed.groups:
            match, exact = sets.groups(parsed.groups, require_all=query.require_all)
        else:
            match, exact = BitMap(tables.live), BitMap()
        if query.category:
            match &= sets.term("category", query.category)
        if query.feed:
            match &= tables.in_feed(query.feed)
        if query.date_from or query.date_to:
            match &= tables.date_range(_naive_utc(query.date_from), _naive_utc(query.date_to))
        for clause in parsed.excluded:
            match -= sets.clause(clause)[1]
        if query.stories is not None:
            match &= self._stories(searcher).docs(query.stories)
        return match, exact & match, sets.partial

    def _order(self, searcher, seg, query, match, exact, offset, limit, tables):
        """(matching docs `offset` to `offset + limit` in result order as (docnum, score), cut short by deadline)."""
        if query.sort == "date":
            return [(docnum, 0.0) for docnum in tables.newest(match, offset, limit)], False
        needed = offset + limit
        terms, phrases = _scoring_terms(query.parsed, seg)
        scorer = self._scorer(searcher)
        ranked, cut = [], False
        for tier in (exact, match - exact):
            if len(ranked) >= needed:
                break
            if query.deadline is not None and time.monotonic() > query.deadline:
                # Out of time: the rest of the page in index order, unscored.
                ranked.extend((docnum, 0.0) for docnum in islice(tier, needed - len(ranked)))
                cut = True
                continue
            ranked.extend(scorer.top(terms, phrases, tier, needed - len(ranked)))
        return ranked[offset:needed], cut

    # ── per-state caches ──

    def _per_state(self, reader, generation, name, build, also=()):
        """The value `build()` makes for what `reader` sees, built once per index state and name.

        The key is read from `reader` itself (and the generation it belongs
        to), so a thread still on an older reader never files its value under
        a newer state. `also` adds what else the value was made from (e.g. a blob's stamp).
        """
        key = (*_state_key(reader, generation), *also)
        with self._lock:
            cached = self._caches.get(name)
        if cached is None or cached[0] != key:
            value = build()
            with self._lock:
                current = self._caches.get(name)
                if current is None or current[0] <= key:
                    self._caches[name] = (key, value)
            return value
        return cached[1]

    def _stories(self, searcher):
        """The StoryTable of what `searcher` sees: per index state and ``stories`` blob.

        reindex writes the blob just after committing the posts, so the blob's stamp is part of the key.
        """
        reader = searcher.reader()
        generation = self._local.searcher[1]
        gen_dir = self._live()[1]
        stamp = store.blob_stamp(gen_dir, stories.BLOB)

        def build():
            labels = stories.labels_of(store.read_blob(gen_dir, stories.BLOB))
            return StoryTable(self._tables(searcher, generation), labels)

        return self._per_state(reader, generation, "stories", build, also=(stamp,))

    def _scorer(self, searcher):
        """A TierScorer whose lengths and postings are kept per index state (postings within the cache budget)."""
        reader = searcher.reader()
        generation = self._local.searcher[1]
        state = _state_key(reader, generation)

        def lengths(field):
            return self._lengths(reader, generation, field)

        return TierScorer(searcher, lengths, self._weighted(searcher, generation), self._frequency(reader, state))

    def _weighted(self, searcher, generation):
        """``postings(field, text)``: a term's (docnums, weights) arrays, kept within the cache budget."""
        reader = searcher.reader()
        state = _state_key(reader, generation)
        kept = self._postings(searcher, generation)

        def postings(field, text):
            return self._sets.get(state, ("weights", field, text), lambda: kept.arrays(reader, field, text))

        return postings

    def _term_docs(self, searcher, generation):
        """``term_docs(field, text)``: a term's live docnums, a BitMap.

        A word's come from the arrays ranking reads too (one read of the kept
        postings for both); other fields' from the kept postings' docs.
        """
        reader = searcher.reader()
        kept = self._postings(searcher, generation)
        weighted = self._weighted(searcher, generation)

        def term_docs(field, text):
            if field in WEIGHTED_FIELDS:
                return bitmap(weighted(field, text)[0])
            return kept.docs(reader, field, text)

        return term_docs

    def _lengths(self, reader, generation, field):
        """Every document's length in `field` (BM25 reads them), once per index state."""
        return self._per_state(reader, generation, f"lengths:{field}", lambda: global_lengths(reader, field))

    def _frequency(self, reader, state):
        """``frequency(field, text)``: a term's document frequency, kept per index state.

        Whoosh looks a term up in every segment's term table: tens of file reads
        for one term in an archive of many segments, for every query that has it.
        The postings cost check (DocSets), BM25's idf and corrections all use it.
        """

        def frequency(field, text):
            return self._sets.get(state, ("frequency", field, text), lambda: reader.doc_frequency(field, text))

        return frequency

    def _postings(self, searcher, generation):
        """The FrequentPostings of what `searcher` sees (the files the writer keeps), once per index state."""
        reader = searcher.reader()
        return self._per_state(reader, generation, "postings", lambda: FrequentPostings(reader, self._live()[1]))

    def _tables(self, searcher, generation):
        """Per-post tables (tables.Tables) of what `searcher` sees, built once per index state."""
        reader = searcher.reader()
        # The live folder (a read of CURRENT) only when the tables are built, not on every search.
        return self._per_state(reader, generation, "tables", lambda: Tables(reader, self._live()[1]))

    # ── single posts ──

    def get(self, post_id):
        with self._searcher() as (searcher, generation, _):
            docnum, fields = self._stored(searcher, post_id)
            return _article(fields, self._stories(searcher).of(docnum, fields["id"]))

    def more_like(self, post_id, limit):
        with self._searcher() as (searcher, _, _):
            docnum, fields = self._stored(searcher, post_id)
            text = f"{fields.get('title', '')}\n{fields.get('body', '')}"
            results = searcher.more_like(docnum, "content", text=text, top=limit, numterms=12)
            return [EngineHit(_article(hit.fields()), round(float(hit.score), 4), False) for hit in results]

    def related(self, post_id, terms, limit):
        with self._searcher() as (searcher, _, _):
            docnum, _ = self._stored(searcher, post_id)
            parts = [wq.Term(field, t.word, boost=t.weight) for t in terms for field in WORD_FIELDS[None]]
            if not parts or limit <= 0:
                return []
            results = searcher.search(wq.Or(parts), limit=limit, mask={docnum})
            return [EngineHit(_article(hit.fields()), round(float(hit.score), 4), False) for hit in results]

    def doc_frequencies(self, words):
        with self._searcher() as (searcher, generation, _):
            reader = searcher.reader()
            frequency = self._frequency(reader, _state_key(reader, generation))
            return {w: max(frequency(f, w) for f in WORD_FIELDS[None]) for w in words}

    def _stored(self, searcher, post_id):
        docnum = searcher.document_number(id=post_id)
        if docnum is None:
            raise PostNotFoundError(f"No post with id {post_id!r}.")
        return docnum, searcher.stored_fields(docnum)

    def suggest(self, chars, limit):
        query = wq.Term("title_c", chars[0]) if len(chars) == 1 else wq.Phrase("title_c", list(chars))
        with self._searcher() as (searcher, _, _):
            return [hit["title"] for hit in searcher.search(query, limit=limit)]

    def stats(self, tz=timezone.utc):
        gen_dir = self._live()[1]
        meta = store.read_meta(gen_dir)
        size = store.folder_size(gen_dir)
        with self._searcher() as (searcher, generation, _):
            tables = self._tables(searcher, generation)
            facets = tables.count_categories()
        last = meta.get("last_reindex")
        return IndexStats(
            index_dir=str(self.index_dir),
            generation=generation,
            posts=len(tables.live),  # Whoosh's ix.doc_count() opens a reader of every segment
            size_bytes=size,
            last_reindex=datetime.fromisoformat(last) if last else None,
            source_dir=meta.get("source_dir"),
            top_categories=tuple(list(facets.items())[:TOP_CATEGORIES]),
        )


def _article(fields, story=None):
    return Article(
        id=fields["id"],
        path=fields["path"],
        title=fields.get("title", ""),
        text=fields.get("body", ""),
        categories=tuple(fields.get("category") or ()),
        tags=tuple(fields.get("tags") or ()),
        author=fields.get("author"),
        editor=fields.get("editor"),
        date=_aware(fields.get("date")),
        image=fields.get("image"),
        feed=fields.get("feed"),
        story=story,
    )


def _scoring_terms(parsed, seg):
    """(terms, phrases) whose BM25F scores order the posts that matched `parsed` (see scoring.py).

    Matching itself is decided by matching.DocSets; these only rank: the
    clauses' words in the word fields (title boosted by the schema), their
    proximity for clauses of several words, and characters for clauses jieba
    finds no words in.
    """
    terms, phrases = [], []
    for clause in parsed.positive_clauses:
        # Quoted clauses match only verbatim, but their words still rank best.
        words = analysis.query_words(clause.norm, seg)
        fields = WORD_FIELDS[clause.field]
        if words and fields:
            terms.extend((field, word) for field in fields for word in words)
            if len(words) > 1 and not clause.quoted:
                # Proximity: the words near each other score higher than far apart.
                phrases.extend((field, tuple(words)) for field in fields)
        else:
            terms.extend((field, char) for field in CHAR_FIELDS[clause.field] for char in sorted(set(clause.chars)))
    return terms, phrases


def _state_key(reader, generation):
    """What identifies the index state a reader sees (newer states compare greater)."""
    return (generation, reader.generation(), reader.doc_count_all(), reader.doc_count())


def _char_search(reader):
    """``having(docnums, field, needle)``: those of `docnums` whose char tokens in `field` contain `needle`.

    The tokens are read from the ``chars`` column (a line per field), in runs of
    neighbouring posts (adapter.ColumnSearch). Bytes, not text: a needle's UTF-8
    occurs in them exactly where the needle occurs in the text (UTF-8 is
    self-synchronising), and nothing is decoded.
    """
    slot = {field: i for i, field in enumerate(CHARS_COLUMN_FIELDS)}
    search = adapter.ColumnSearch(reader, "chars")

    def having(docnums, field, needle):
        return search.having(docnums, slot[field], needle)

    return having


def _naive_utc(value):
    """Whoosh stores dates naive, in UTC."""
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value is not None else None


def _aware(value):
    return value.replace(tzinfo=timezone.utc) if isinstance(value, datetime) else None
