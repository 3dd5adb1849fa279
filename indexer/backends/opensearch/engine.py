"""The OpenSearch backend's read side: a SearchEngine over the alias of a zhsearch index.

Queries are built from the ParsedQuery by the rules of engine.py, the same
the Whoosh backend applies (backends/whoosh/matching.py), from the token
streams mapping.py indexes:

- verbatim(clause): ``match_phrase`` of its chars over each of its char fields
  (a ``term`` for one char), or for ``category:`` also the exact category;
- match(clause): verbatim, or (unquoted) every one of its jieba words as a
  ``term`` in one of its word fields;
- a query: ``bool`` of its groups (``must``, or ``should`` with
  ``require_all=False``), each a ``should`` of its clauses; the category
  (keyword ``term``) and inclusive date range (``date_us``) as filters;
  excluded clauses ``must_not`` their *verbatim* query, as in Whoosh;
- exact tier: every group verbatim (any group when ``require_all`` is off, as in
  Whoosh's DocSets.groups).

Ranking: the two tiers are two searches over the same scoring query, the
exact tier first (a ``post_filter`` on the first, a ``must_not`` on the
second), so a tier's order is never blurred by a boost added to float scores.
Scores are BM25 over the word fields (``term`` per query word, title boosted
by TITLE_BOOST) plus ``match_phrase`` with slop PROXIMITY_SLOP and
PHRASE_BOOST for clauses of several words; chars score clauses without words.
Ties go by path. Indexes with more than one shard are searched with
``dfs_query_then_fetch`` so that term statistics are global, as in Whoosh.

Totals, facets (a ``terms`` aggregation, ordered by count then name) and
months (a ``date_histogram`` by calendar month in the query's zone) come with
the first search, computed over every match (aggregations ignore the
post_filter). Any shard failure fails the search (after RETRIES tries): a
partial answer would give wrong totals.

The segmenter queries are cut with is the live generation's (its user
dictionary is kept in the cluster); which generation is live is looked up at
most every STATE_TTL seconds.
"""

import re
import threading
import time
from datetime import datetime, timezone

from ... import analysis
from ...engine import PHRASE_BOOST, PROXIMITY_SLOP, EngineHit, EngineResult, SearchEngine
from ...errors import BackendUnavailableError, IndexNotFoundError, IndexVersionError, PostNotFoundError
from ...models import Article, IndexStats
from ...query import CHAR_FIELDS, WORD_FIELDS
from . import client as osc
from .layout import blob_stamp, live_index, local_user_dict, read_blob, read_meta
from .mapping import (
    CHAR_BOOSTS,
    MAX_RESULT_WINDOW,
    POSITION_SEP,
    POST_SOURCE,
    SAME_POSITION_SEP,
    WORD_BOOSTS,
    to_micros,
)

# Seconds the live generation (and its segmenter) is trusted before it is looked up again.
STATE_TTL = 1.0

# Most distinct categories counted in facets (a terms aggregation's size).
MAX_FACETS = 10_000

# Categories listed by stats().
TOP_CATEGORIES = 10

_STREAM_SEPARATORS = re.compile(f"[{POSITION_SEP}{SAME_POSITION_SEP}]")

# Tries of a search whose shards partly failed (e.g. a node just died), and the wait between them.
RETRIES = 3
RETRY_WAIT = 0.5

# Ids fetched per page by ids().
IDS_PAGE = 5000

# Posts whose word streams are read per request when the vocabulary is gathered.
VOCABULARY_PAGE = 500

# Distinct stories counted exactly (a cardinality aggregation is exact below its
# precision_threshold; 40,000 is the most OpenSearch allows).
STORIES_PRECISION = 40_000


class OpenSearchEngine(SearchEngine):
    """Search the index `conn` names, following the generations `reindex` switches to."""

    def __init__(self, conn):
        self.conn = conn
        self.client = osc.client(conn)
        self._lock = threading.Lock()
        self._state = None  # (checked at, generation, physical name, Segmenter, shards)
        self._vocabulary = (None, {})  # (index state, {word: posts})
        self._live()

    # ── generations ──

    def _live(self, fresh=False):
        state = self._state
        if fresh or state is None or time.monotonic() - state[0] > STATE_TTL:
            with self._lock:
                state = self._state
                if fresh or state is None or time.monotonic() - state[0] > STATE_TTL:
                    state = self._state = self._load(state)
        return state

    def _load(self, old):
        live = live_index(self.conn, self.client)
        if live is None:
            raise IndexNotFoundError(
                f"Index '{self.conn.index_name}' not found on OpenSearch at {self.conn.url}. "
                f'Run "reindex --url {self.conn.url} --index-name {self.conn.index_name}" first.'
            )
        generation, physical = live
        if old is not None and old[1] == generation:
            return (time.monotonic(), *old[1:])
        meta = read_meta(self.conn, self.client, generation)
        text = meta.get("user_dict_text")
        seg = analysis.segmenter(local_user_dict(text) if text is not None else None)
        if meta.get("fingerprint") != seg.fingerprint:
            raise IndexVersionError(
                f"The index {self.conn.describe()} was built with different text analysis "
                f'({meta.get("fingerprint")}, now {seg.fingerprint}). Run "reindex --full" to rebuild it.'
            )
        settings = osc.call(self.conn, self.client.indices.get_settings, index=physical, name="index.number_of_shards")
        shards = int(next(iter(settings.values()))["settings"]["index"]["number_of_shards"])
        return (time.monotonic(), generation, physical, seg, shards)

    def read_blob(self, name):
        return read_blob(self.conn, self.client, name, self._live()[1])

    def blob_stamp(self, name):
        return blob_stamp(self.conn, self.client, name, self._live()[1])

    @property
    def segmenter(self):
        return self._live()[3]

    @property
    def generation(self):
        return self._live(fresh=True)[1]

    @property
    def doc_count(self):
        return osc.call(self.conn, self.client.count, index=self.conn.index_name)["count"]

    def close(self):
        self.client.close()

    # ── requests ──

    def _search(self, body):
        """Run a search on the alias; retry, then fail, when shards fail."""
        shards = self._live()[4]
        params = {"search_type": "dfs_query_then_fetch"} if shards > 1 else {}
        for attempt in range(RETRIES):
            answer = osc.call(self.conn, self.client.search, index=self.conn.index_name, body=body, params=params)
            failed = answer.get("_shards", {}).get("failed", 0)
            if not failed and not answer.get("timed_out"):
                return answer
            if attempt < RETRIES - 1:
                time.sleep(RETRY_WAIT)
        raise BackendUnavailableError(
            f"OpenSearch at {self.conn.url} answered for only part of index '{self.conn.index_name}' "
            f"({failed} shard(s) failed); check the cluster's health (is it red?)."
        )

    # ── search ──

    def search(self, query, offset, limit):
        seg = self.segmenter
        match, exact = _match_query(query, seg), _exact_query(query, seg)
        aggs = {
            "matched": {"filter": {"match_all": {}}},
            "facets": {
                "terms": {"field": "category", "size": MAX_FACETS, "order": [{"_count": "desc"}, {"_key": "asc"}]}
            },
            "feeds": {"terms": {"field": "feed", "size": MAX_FACETS}},
            "stories": {"cardinality": {"field": "story", "precision_threshold": STORIES_PRECISION}},
            "months": {
                "date_histogram": {
                    "field": "date",
                    "calendar_interval": "month",
                    "time_zone": _zone(query.tz),
                    "format": "yyyy-MM",
                    "min_doc_count": 1,
                }
            },
        }
        size = max(0, min(limit, MAX_RESULT_WINDOW - offset))
        if not size:  # a page past the end (or past the result window): counts only
            offset = 0
        if query.sort == "date":
            body = _body(match, offset, size, query, seg, name_exact=exact)
            body["aggs"] = aggs
            answer = self._search(body)
            hits = [_engine_hit(h, "exact" in h.get("matched_queries", ())) for h in answer["hits"]["hits"]]
        else:
            body = _body(match, offset, size, query, seg)
            body["post_filter"] = exact
            body["aggs"] = aggs
            answer = self._search(body)
            exact_total = answer["hits"]["total"]["value"]
            hits = [_engine_hit(h, True) for h in answer["hits"]["hits"]]
            rest_total = answer["aggregations"]["matched"]["doc_count"] - exact_total
            if len(hits) < size and rest_total > 0:
                rest = _body(_minus(match, exact), max(0, offset - exact_total), size - len(hits), query, seg)
                rest["track_total_hits"] = False
                hits += [_engine_hit(h, False) for h in self._search(rest)["hits"]["hits"]]
        aggregations = answer["aggregations"]
        facets = {b["key"]: b["doc_count"] for b in aggregations["facets"]["buckets"]}
        facets = dict(sorted(facets.items(), key=lambda item: (-item[1], item[0])))
        months = dict(sorted((b["key_as_string"], b["doc_count"]) for b in aggregations["months"]["buckets"]))
        feeds = {b["key"]: b["doc_count"] for b in aggregations["feeds"]["buckets"]}
        return EngineResult(
            total=aggregations["matched"]["doc_count"],
            hits=tuple(hits),
            facets=facets,
            months=months,
            feeds=feeds,
            stories=aggregations["stories"]["value"],
        )

    def ids(self, query):
        seg = self.segmenter
        match = _match_query(query, seg)
        if query.sort == "date":
            return self._all_ids(match, query, seg)
        exact = _exact_query(query, seg)
        return self._all_ids(_and(match, exact), query, seg) + self._all_ids(_minus(match, exact), query, seg)

    def _all_ids(self, match, query, seg):
        found, after = [], None
        while True:
            body = _body(match, 0, IDS_PAGE, query, seg)
            body["_source"] = False
            body["track_total_hits"] = False
            if after is not None:
                body["search_after"] = after
            hits = self._search(body)["hits"]["hits"]
            found += [hit["_id"] for hit in hits]
            if len(hits) < IDS_PAGE:
                return found
            after = hits[-1]["sort"]

    def vocabulary(self):
        """{word: posts} over titles and texts, read back from the posts' word streams once per index state.

        The text fields keep no term dictionary a client can list (no fielddata), so
        the streams are read, VOCABULARY_PAGE posts per request. The state is the live
        physical index and its meta's last reindex time (a meta read per call).
        """
        _, generation, physical, _, _ = self._live()
        stamp = (physical, read_meta(self.conn, self.client, generation).get("last_reindex"))
        cached = self._vocabulary
        if cached[0] == stamp:
            return cached[1]
        counts = {"title": {}, "content": {}}
        after = None
        while True:
            body = {
                "query": {"match_all": {}},
                "size": VOCABULARY_PAGE,
                "sort": [{"path": "asc"}],
                "_source": list(counts),
                "track_total_hits": False,
            }
            if after is not None:
                body["search_after"] = after
            hits = self._search(body)["hits"]["hits"]
            for hit in hits:
                for field, seen in counts.items():
                    for word in set(_STREAM_SEPARATORS.split(hit["_source"].get(field) or "")) - {""}:
                        seen[word] = seen.get(word, 0) + 1
            if len(hits) < VOCABULARY_PAGE:
                break
            after = hits[-1]["sort"]
        words = counts["content"]
        for word, n in counts["title"].items():
            words[word] = max(words.get(word, 0), n)
        with self._lock:
            self._vocabulary = (stamp, words)
        return words

    # ── single posts ──

    def get(self, post_id):
        return _article(self._get_source(post_id))

    def _get_source(self, post_id):
        body = {"query": {"ids": {"values": [post_id]}}, "_source": POST_SOURCE, "size": 1}
        hits = self._search(body)["hits"]["hits"]
        if not hits:
            raise PostNotFoundError(f"No post with id {post_id!r}.")
        return hits[0]

    def more_like(self, post_id, limit):
        hit = self._get_source(post_id)
        body = {
            "query": {
                "more_like_this": {
                    "fields": ["content"],  # as Whoosh: key words of the body
                    "like": [{"_index": hit["_index"], "_id": post_id}],
                    "min_term_freq": 1,
                    "min_doc_freq": 1,
                    "max_query_terms": 12,
                }
            },
            "size": limit,
            "_source": POST_SOURCE,
        }
        return [_engine_hit(h, False) for h in self._search(body)["hits"]["hits"]]

    def related(self, post_id, terms, limit):
        self._get_source(post_id)  # PostNotFoundError as in Whoosh
        if not terms or limit <= 0:
            return []
        fields = WORD_FIELDS[None]
        words = [
            {"bool": {"should": [{"term": {f: {"value": t.word, "boost": t.weight * WORD_BOOSTS[f]}}} for f in fields]}}
            for t in terms
        ]
        body = {
            "query": {
                "bool": {
                    "should": words,
                    "minimum_should_match": 1,
                    "must_not": [{"ids": {"values": [post_id]}}],
                }
            },
            "size": limit,
            "_source": POST_SOURCE,
        }
        return [_engine_hit(h, False) for h in self._search(body)["hits"]["hits"]]

    def doc_frequencies(self, words):
        if not words:
            return {}
        # Per field, as Whoosh reports it (the larger of the title's and the text's counts).
        fields = WORD_FIELDS[None]
        aggs = {f"{i}.{f}": {"filter": {"term": {f: w}}} for i, w in enumerate(words) for f in fields}
        answer = self._search({"size": 0, "track_total_hits": False, "aggs": aggs})["aggregations"]
        return {w: max(answer[f"{i}.{f}"]["doc_count"] for f in fields) for i, w in enumerate(words)}

    def suggest(self, chars, limit):
        if len(chars) == 1:
            query = {"term": {"title_c": chars}}
        else:
            query = {"match_phrase": {"title_c": POSITION_SEP.join(chars)}}
        body = {"query": query, "size": limit, "_source": ["post.title"], "sort": ["_score", {"path": "asc"}]}
        return [h["_source"]["post"]["title"] for h in self._search(body)["hits"]["hits"]]

    def stats(self, tz=timezone.utc):
        _, generation, physical, _, _ = self._live(fresh=True)
        meta = read_meta(self.conn, self.client, generation)
        body = {
            "size": 0,
            "track_total_hits": True,
            "aggs": {
                "facets": {
                    "terms": {
                        "field": "category",
                        "size": TOP_CATEGORIES,
                        "order": [{"_count": "desc"}, {"_key": "asc"}],
                    }
                }
            },
        }
        answer = self._search(body)
        store = osc.call(self.conn, self.client.indices.stats, index=physical, metric="store")
        size = store["_all"]["primaries"]["store"]["size_in_bytes"]
        last = meta.get("last_reindex")
        return IndexStats(
            index_dir=self.conn.describe(),
            generation=generation,
            posts=answer["hits"]["total"]["value"],
            size_bytes=size,
            last_reindex=datetime.fromisoformat(last) if last else None,
            source_dir=meta.get("source_dir"),
            top_categories=tuple((b["key"], b["doc_count"]) for b in answer["aggregations"]["facets"]["buckets"]),
        )


# ── query building ──────────────────────────────────────────────────────────


def _body(match, offset, size, query, seg, name_exact=None):
    """A search body for `match` in the query's order (hits in `name_exact` are named "exact")."""
    bool_query = {"filter": [match]}
    if query.sort == "date":
        if name_exact is not None and query.parsed.groups:
            bool_query["should"] = [{"bool": {"filter": [name_exact], "_name": "exact"}}]
        sort = [{"date_us": {"order": "desc", "missing": "_last"}}, {"path": "asc"}]
    else:
        scoring = _scoring_queries(query.parsed, seg)
        if scoring:
            bool_query["should"] = scoring
        sort = [{"_score": "desc"}, {"path": "asc"}]
    return {
        "query": {"bool": bool_query},
        "from": offset,
        "size": size,
        "sort": sort,
        "track_total_hits": True,
        "_source": POST_SOURCE,
    }


def _match_query(query, seg):
    """Every post the query matches, under its filters and exclusions."""
    parsed = query.parsed
    must = [_groups(parsed.groups, query.require_all, seg, verbatim_only=False)] if parsed.groups else []
    if query.category:
        must.append({"term": {"category": query.category}})
    if query.stories is not None:
        must.append({"terms": {"story": list(query.stories)}})
    if query.feed:  # the folder itself or any below it (models.in_feed)
        feed = [{"term": {"feed": query.feed}}, {"prefix": {"feed": query.feed + "/"}}]
        must.append({"bool": {"should": feed, "minimum_should_match": 1}})
    if query.date_from or query.date_to:
        bounds = {}
        if query.date_from:
            bounds["gte"] = to_micros(query.date_from)
        if query.date_to:
            bounds["lte"] = to_micros(query.date_to)
        must.append({"range": {"date_us": bounds}})
    excluded = [_verbatim(clause) for clause in parsed.excluded]
    if not must and not excluded:
        return {"match_all": {}}
    return {"bool": {"filter": must or [{"match_all": {}}], "must_not": excluded}}


def _exact_query(query, seg):
    """Posts where every group is verbatim (any group, with ``require_all=False``, as in Whoosh's DocSets)."""
    parsed = query.parsed
    if not parsed.groups:
        return {"match_none": {}}
    return _groups(parsed.groups, query.require_all, seg, verbatim_only=True)


def _groups(groups, require_all, seg, verbatim_only):
    parts = []
    for group in groups:
        clauses = [_verbatim(c) if verbatim_only else _clause(c, seg) for c in group]
        parts.append(clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}})
    if len(parts) == 1:
        return parts[0]
    if require_all:
        return {"bool": {"filter": parts}}
    return {"bool": {"should": parts, "minimum_should_match": 1}}


def _verbatim(clause):
    """The clause's chars stand together in one of its char fields (or it names the category exactly)."""
    chars = clause.chars
    options = []
    if clause.field == "category":
        options.append({"term": {"category": clause.text.strip()}})
    for field in CHAR_FIELDS[clause.field]:
        if len(chars) == 1:
            options.append({"term": {field: chars[0]}})
        else:
            options.append({"match_phrase": {field: {"query": POSITION_SEP.join(chars), "slop": 0}}})
    return options[0] if len(options) == 1 else {"bool": {"should": options, "minimum_should_match": 1}}


def _clause(clause, seg):
    """The clause matches: verbatim, or (unquoted) each of its jieba words in one of its word fields."""
    verbatim = _verbatim(clause)
    fields = WORD_FIELDS[clause.field]
    words = [] if clause.quoted else analysis.query_words(clause.norm, seg)
    if not words or not fields:
        return verbatim
    all_words = [
        {"bool": {"should": [{"term": {field: word}} for field in fields], "minimum_should_match": 1}}
        if len(fields) > 1
        else {"term": {fields[0]: word}}
        for word in words
    ]
    return {"bool": {"should": [verbatim, {"bool": {"filter": all_words}}], "minimum_should_match": 1}}


def _scoring_queries(parsed, seg):
    """Queries whose BM25 scores order the matches (matching itself is decided by filters)."""
    parts = []
    for clause in parsed.positive_clauses:
        words = analysis.query_words(clause.norm, seg)
        fields = WORD_FIELDS[clause.field]
        if words and fields:
            parts.extend(
                {"term": {field: {"value": word, "boost": WORD_BOOSTS[field]}}} for field in fields for word in words
            )
            if len(words) > 1 and not clause.quoted:
                parts.extend(
                    {
                        "match_phrase": {
                            field: {
                                "query": POSITION_SEP.join(words),
                                "slop": PROXIMITY_SLOP,
                                "boost": PHRASE_BOOST * WORD_BOOSTS[field],
                            }
                        }
                    }
                    for field in fields
                )
        else:
            parts.extend(
                {"term": {field: {"value": char, "boost": CHAR_BOOSTS[field]}}}
                for field in CHAR_FIELDS[clause.field]
                for char in sorted(set(clause.chars))
            )
    return parts


def _and(a, b):
    return {"bool": {"filter": [a, b]}}


def _minus(a, b):
    return {"bool": {"filter": [a], "must_not": [b]}}


def _zone(tz):
    """An OpenSearch time_zone for a tzinfo: its IANA name, or its fixed offset."""
    key = getattr(tz, "key", None)
    if key:
        return key
    offset = tz.utcoffset(None)
    if offset is None:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _engine_hit(hit, exact):
    return EngineHit(_article(hit), round(float(hit.get("_score") or 0.0), 4), exact)


def _article(hit):
    post = hit["_source"]["post"]
    date = post.get("date")
    return Article(
        id=hit["_id"],
        path=hit["_source"]["path"],
        title=post.get("title", ""),
        text=post.get("body", ""),
        categories=tuple(post.get("categories") or ()),
        tags=tuple(post.get("tags") or ()),
        author=post.get("author"),
        editor=post.get("editor"),
        date=datetime.fromisoformat(date) if date else None,
        image=post.get("image"),
        feed=post.get("feed"),
        story=hit["_source"].get("story"),
    )
