"""The embedded backend's read side: a SearchEngine over a Whoosh index folder.

Matching (matching.py) works on sets of document numbers: char postings give
the candidates for a verbatim match, a substring search in the post's char
tokens (the ``chars`` column) confirms it, word postings give the rest.
Ranking scores only what matched, a tier at a time, with Whoosh's BM25F and a
sloppy phrase over words for proximity. Per-document tables (categories,
dates, months, date order) are built once per index state, keyed by what the
reader that built them read.
"""

import threading
import time
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone

from whoosh import query as wq
from whoosh.scoring import BM25F

from ... import analysis, store, stories
from ...engine import PHRASE_BOOST, PROXIMITY_SLOP, EngineHit, EngineResult, SearchEngine
from ...errors import PostNotFoundError, SearchEngineError
from ...models import Article, IndexStats, feed_of, in_feed, post_id
from ...query import CHAR_FIELDS, WORD_FIELDS
from . import adapter
from .matching import DocSets, term_docs
from .schema import CHARS_COLUMN_FIELDS

# Categories listed by stats().
TOP_CATEGORIES = 10


class WhooshEngine(SearchEngine):
    """Search the embedded index in `index_dir`, following the generations `reindex` makes."""

    def __init__(self, index_dir):
        self.index_dir = index_dir
        self._lock = threading.Lock()
        self._state = None  # (generation, folder, Whoosh index, Segmenter)
        self._caches = {}  # name -> (state key, value); see _per_state
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
                cached = (ix, generation, ix.searcher(weighting=BM25F()), seg)
                self._local.searcher = cached
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

    def read_blob(self, name):
        return store.read_blob(self._live()[1], name)

    def vocabulary(self):
        with self._searcher() as (searcher, generation, _):
            reader = searcher.reader()
            return self._per_state(reader, generation, "vocabulary", lambda: _vocabulary(reader))

    # ── search ──

    def search(self, query, offset, limit):
        with self._searcher() as (searcher, generation, seg):
            tables = self._tables(searcher, generation, query.tz)
            match, exact, partial = self._match(searcher, generation, seg, query, tables)
            ranked, cut = self._order(searcher, seg, query, match, exact, offset + limit, tables)
            story = self._stories(searcher.reader(), generation, tables)
            hits = tuple(
                EngineHit(_article(searcher.stored_fields(docnum), story[docnum]), round(score, 4), docnum in exact)
                for docnum, score in ranked[offset : offset + limit]
            )
            facets, months, feeds = _count(match, tables)
        return EngineResult(
            total=len(match),
            hits=hits,
            facets=facets,
            months=months,
            feeds=feeds,
            partial=partial or cut,
            stories=len({story[docnum] for docnum in match}),
        )

    def ids(self, query):
        with self._searcher() as (searcher, generation, seg):
            tables = self._tables(searcher, generation, query.tz)
            match, exact, _ = self._match(searcher, generation, seg, query, tables)
            ranked, _ = self._order(searcher, seg, query, match, exact, len(match), tables)
            paths = tables["paths"]  # ids derive from paths; no stored fields read
            return [post_id(paths[docnum]) for docnum, _ in ranked]

    def _match(self, searcher, generation, seg, query, tables):
        """(matching docnums, verbatim docnums, cut short by the deadline) for a query under its filters.

        The thread keeps the matches of its last query (before the stories filter): the
        members of a collapsed page are the same query's matches in a few stories (stories.py).
        """
        reader = searcher.reader()
        key = (generation, reader.generation(), reader.doc_count_all(), replace(query, stories=None, sort="relevance"))
        last = getattr(self._local, "last_match", None)
        if last is not None and last[0] == key:
            match, exact, partial = last[1]
        else:
            match, exact, partial = self._match_all(searcher, generation, seg, query, tables)
            self._local.last_match = (key, (match, exact, partial))
        if query.stories is not None:
            wanted, story = set(query.stories), self._stories(reader, generation, tables)
            match = {d for d in match if story[d] in wanted}
            exact = exact & match
        return match, exact, partial

    def _match_all(self, searcher, generation, seg, query, tables):
        """_match without the stories filter."""
        reader = searcher.reader()
        sets = DocSets(searcher, seg, self._char_texts(reader, generation), deadline=query.deadline)
        parsed = query.parsed
        if query.max_postings is not None:
            sets.check_cost(parsed, query.max_postings)
        if parsed.groups:
            match, exact = sets.groups(parsed.groups, require_all=query.require_all)
        else:
            match, exact = set(tables["live"]), set()
        if query.category:
            match &= sets.term("category", query.category)
        if query.feed:
            feeds = tables["feeds"]
            match = {d for d in match if in_feed(feeds[d], query.feed)}
        if query.date_from or query.date_to:
            dates = tables["dates"]
            low = _naive_utc(query.date_from) or datetime.min
            high = _naive_utc(query.date_to) or datetime.max
            match = {d for d in match if dates[d] is not None and low <= dates[d] <= high}
        for clause in parsed.excluded:
            match -= sets.clause(clause)[1]
        return match, exact & match, sets.partial

    def _order(self, searcher, seg, query, match, exact, needed, tables):
        """(the first `needed` matching docs in result order as (docnum, score), cut short by the deadline)."""
        if query.sort == "date":
            return [(docnum, 0.0) for docnum in tables["by_date"] if docnum in match][:needed], False
        scoring = _scoring_query(query.parsed, seg)
        ranked, cut = [], False
        for tier in (exact, match - exact):
            if len(ranked) >= needed:
                break
            if query.deadline is not None and time.monotonic() > query.deadline:
                # Out of time: the rest of the page in index order, unscored.
                ranked.extend((docnum, 0.0) for docnum in sorted(tier)[: needed - len(ranked)])
                cut = True
                continue
            ranked.extend(_top(searcher, scoring, tier, needed - len(ranked)))
        return ranked, cut

    # ── per-state caches ──

    def _per_state(self, reader, generation, name, build, also=()):
        """The value `build()` makes for what `reader` sees, built once per index state and name.

        The key is read from `reader` itself (and the generation it belongs
        to), so a thread still on an older reader never files its value under
        a newer state. `also` adds what else the value was made from (e.g. a blob's stamp).
        """
        key = (generation, reader.generation(), reader.doc_count_all(), reader.doc_count(), *also)
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

    def _char_texts(self, reader, generation):
        """``char_text(docnum, field)`` for verbatim checks: the `chars` column, decoded once per index state."""
        texts = self._per_state(reader, generation, "char_texts", dict)  # docnum -> char tokens per field
        slot = {field: i for i, field in enumerate(CHARS_COLUMN_FIELDS)}
        column = reader.column_reader("chars") if reader.doc_count_all() else None

        def char_text(docnum, field):
            lines = texts.get(docnum)
            if lines is None:
                lines = texts[docnum] = column[docnum].decode("utf-8").split("\n")
            return lines[slot[field]]

        return char_text

    def _stories(self, reader, generation, tables):
        """The story id of each docnum (its own id unless the ``stories`` blob lists it), per index state.

        reindex writes the blob just after committing the posts, so the blob's stamp is part of the key.
        """
        gen_dir = self._live()[1]
        stamp = store.blob_stamp(gen_dir, stories.BLOB)

        def build():
            labels = stories.labels_of(store.read_blob(gen_dir, stories.BLOB))
            return [labels.get(path) or post_id(path) if path else None for path in tables["paths"]]

        return self._per_state(reader, generation, "stories", build, also=(stamp,))

    def _tables(self, searcher, generation, tz):
        """Per-document categories, dates, months (in `tz`) and the date order, cached per index state."""
        reader = searcher.reader()
        base = self._per_state(reader, generation, "tables", lambda: _build_tables(reader))
        zone = getattr(tz, "key", None) or str(tz)
        return self._per_state(reader, generation, f"months:{zone}", lambda: _with_months(base, tz))

    # ── single posts ──

    def get(self, post_id):
        with self._searcher() as (searcher, generation, _):
            docnum, fields = self._stored(searcher, post_id)
            tables = self._tables(searcher, generation, timezone.utc)
            return _article(fields, self._stories(searcher.reader(), generation, tables)[docnum])

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
        with self._searcher() as (searcher, _, _):
            reader = searcher.reader()
            return {w: max(reader.doc_frequency(f, w) for f in WORD_FIELDS[None]) for w in words}

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
        _, gen_dir, ix, _ = self._live()
        meta = store.read_meta(gen_dir)
        size = store.folder_size(gen_dir)
        with self._searcher() as (searcher, generation, _):
            tables = self._tables(searcher, generation, tz)
            facets, _, _ = _count(tables["live"], tables)
        last = meta.get("last_reindex")
        return IndexStats(
            index_dir=str(self.index_dir),
            generation=generation,
            posts=ix.doc_count(),
            size_bytes=size,
            last_reindex=datetime.fromisoformat(last) if last else None,
            source_dir=meta.get("source_dir"),
            top_categories=tuple(list(facets.items())[:TOP_CATEGORIES]),
        )


def _vocabulary(reader):
    """{word: posts} over the title and content word fields (the larger count of the two)."""
    words = {}
    for field in ("title", "content"):
        for term, info in reader.iter_field(field):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            words[word] = max(words.get(word, 0), info.doc_frequency())
    return words


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


def _build_tables(reader):
    size = reader.doc_count_all()
    live = list(reader.all_doc_ids())
    categories = [()] * size
    for term in reader.lexicon("category"):
        name = term.decode("utf-8")
        for docnum in term_docs(reader, "category", name):
            categories[docnum] += (name,)
    dated = set()
    for term in reader.lexicon("month"):
        dated |= term_docs(reader, "month", term.decode("utf-8"))
    if size:
        dates_column = reader.column_reader("date")
        paths_column = reader.column_reader("path")
        dates = [dates_column[d] if d in dated else None for d in range(size)]  # a missing date reads as a default
        paths = [paths_column[d] for d in range(size)]
    else:
        dates, paths = [], []
    # Newest first; undated posts last, in index order.
    by_date = sorted((d for d in live if dates[d] is not None), key=dates.__getitem__, reverse=True)
    by_date += [d for d in live if dates[d] is None]
    feeds = [feed_of(path) if path else None for path in paths]  # a post's feed is its folder
    return {
        "categories": categories,
        "dates": dates,
        "paths": paths,
        "feeds": feeds,
        "by_date": by_date,
        "live": live,
    }


def _with_months(tables, tz):
    months = [
        value.replace(tzinfo=timezone.utc).astimezone(tz).strftime("%Y-%m") if value is not None else None
        for value in tables["dates"]
    ]
    return {**tables, "months": months}


def _scoring_query(parsed, seg):
    """Whoosh query whose BM25F scores order the posts that matched `parsed`.

    Matching itself is decided by matching.DocSets; this query only ranks:
    the clauses' words in the word fields (title boosted by the schema),
    their proximity for clauses of several words, and characters for clauses
    jieba finds no words in.
    """
    parts = []
    for clause in parsed.positive_clauses:
        # Quoted clauses match only verbatim, but their words still rank best.
        words = analysis.query_words(clause.norm, seg)
        fields = WORD_FIELDS[clause.field]
        if words and fields:
            parts.extend(wq.Term(field, word) for field in fields for word in words)
            if len(words) > 1 and not clause.quoted:
                # Proximity: the words near each other score higher than far apart.
                parts.extend(wq.Phrase(field, words, slop=PROXIMITY_SLOP, boost=PHRASE_BOOST) for field in fields)
        else:
            parts.extend(wq.Term(field, char) for field in CHAR_FIELDS[clause.field] for char in set(clause.chars))
    if not parts:
        return wq.NullQuery
    scoring = wq.Or(parts)
    # Whoosh preloads and scores every match of an Or on segments of up to 5,000
    # posts; a union of matchers lets the top-N collector skip low-scoring blocks.
    scoring.matcher_type = wq.Or.DEFAULT_MATCHER
    return scoring


def _top(searcher, scoring, docs, limit):
    """The `limit` best of `docs` by the scoring query, as (docnum, score); unscored docs follow."""
    if not docs or limit <= 0:
        return []
    results = searcher.search(scoring, filter=docs, limit=limit)
    top = [(docnum, float(score)) for score, docnum in results.top_n]
    if len(top) < limit:
        seen = {docnum for docnum, _ in top}
        top += [(docnum, 0.0) for docnum in sorted(docs - seen)[: limit - len(top)]]
    return top


def _count(docs, tables):
    """Counts over `docs`: ({category: n} largest first, {month: n} in order, {feed path: n})."""
    categories, months, feeds = tables["categories"], tables["months"], tables["feeds"]
    facets, per_month, per_feed = {}, {}, {}
    for docnum in docs:
        for name in categories[docnum]:
            facets[name] = facets.get(name, 0) + 1
        month = months[docnum]
        if month:
            per_month[month] = per_month.get(month, 0) + 1
        feed = feeds[docnum]
        if feed:
            per_feed[feed] = per_feed.get(feed, 0) + 1
    facets = dict(sorted(facets.items(), key=lambda item: (-item[1], item[0])))
    return facets, dict(sorted(per_month.items())), per_feed


def _naive_utc(value):
    """Whoosh stores dates naive, in UTC."""
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value is not None else None


def _aware(value):
    return value.replace(tzinfo=timezone.utc) if isinstance(value, datetime) else None
