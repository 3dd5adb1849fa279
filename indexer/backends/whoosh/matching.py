"""Evaluate parsed queries into sets of document numbers (compressed bitmaps).

A clause matches a post when its text occurs there verbatim ("exact": its
characters stand together in a char field) or, unless quoted, when all of its
jieba words occur. Sets, not scores, decide what matches; scores only order
what matched (see engine.py), so totals and facets never depend on ranking.

Verbatim matches come from postings as far as they can:

- one character: its postings in the char field;
- two characters: the postings of that bigram in the field's bigram twin;
- a clause that is one jieba word: verbatim wherever that word was indexed
  as a word or sub-word;
- otherwise the posts having all of the text's bigrams are the candidates,
  and a substring search in their char tokens (the ``chars`` column, read on
  demand) confirms them: with bigrams nearly every candidate is a match, so
  the check costs about what the answer holds.

Sets are pyroaring BitMaps, so unions, intersections and counts run in C; the
posts of each term are read once (frequent.py: from the files the writer keeps
for frequent terms, else from Whoosh's posting blocks) and kept in the
engine's SetCache (cache.py) for the queries that follow.
"""

import time

from pyroaring import BitMap, FrozenBitMap

from ...analysis import query_words
from ...errors import QueryError
from ...query import CHAR_FIELDS, WORD_FIELDS, WORD_TWIN
from .schema import BIGRAM_FIELDS

# Candidates checked verbatim between two looks at the deadline.
CHECK_CHUNK = 512


def _grams(chars):
    return sorted({"".join(chars[i : i + 2]) for i in range(len(chars) - 1)})


class DocSets:
    """Docnum sets for the clauses of queries, over one searcher (memoised per term and clause)."""

    def __init__(self, searcher, seg, char_search, term_docs, cache=None, state=None, deadline=None, frequency=None):
        """:param char_search: ``char_search(docnums, field, needle)`` → those of `docnums` (ascending)
            whose char tokens in `field`, as UTF-8 bytes, contain `needle`.
        :param term_docs: ``term_docs(field, text)`` → the live docnums of a term, a BitMap (the
            engine reads them from the kept postings where it can: frequent.py).
        :param cache: a SetCache shared by searches of index state `state` (None: memoise per DocSets only).
        :param deadline: time.monotonic() past which verbatim checks and OR alternatives are cut
            short (``partial`` is then set): matches may be missing, never added.
        :param frequency: ``frequency(field, text)`` → a term's document frequency (default: the
            reader's; the engine passes the one it keeps per index state).
        """
        self.reader = searcher.reader()
        self.term_docs = term_docs
        self.doc_frequency = frequency or self.reader.doc_frequency
        self.seg = seg
        self.char_search = char_search
        self.cache = cache
        self.state = state
        self.deadline = deadline
        self.partial = False
        self._clauses = {}
        self._term_sets = {}

    def late(self):
        """Whether the deadline has passed."""
        return self.deadline is not None and time.monotonic() > self.deadline

    def check_cost(self, parsed, limit):
        """Raise QueryError if evaluating `parsed` would read more than `limit` postings."""
        cost = 0
        for clause in [*parsed.positive_clauses, *parsed.excluded]:
            chars = clause.chars
            for field in CHAR_FIELDS[clause.field]:
                if len(chars) == 1:
                    cost += self.doc_frequency(field, chars[0])
                else:
                    cost += sum(self.doc_frequency(BIGRAM_FIELDS[field], g) for g in _grams(chars))
            if not clause.quoted:
                words = query_words(clause.norm, self.seg)
                cost += sum(self.doc_frequency(f, w) for f in WORD_FIELDS[clause.field] for w in words)
        if cost > limit:
            raise QueryError(
                f"The query would read {cost:,} postings, more than the {limit:,} a search may read; "
                "use fewer or less common terms."
            )

    def term(self, field, text):
        """All live docnums having `text` in `field` (a FrozenBitMap)."""
        key = (field, text)
        docs = self._term_sets.get(key)
        if docs is None:
            build = lambda: FrozenBitMap(self.term_docs(field, text))  # noqa: E731
            docs = build() if self.cache is None else self.cache.get(self.state, ("term", field, text), build)
            self._term_sets[key] = docs
        return docs

    def clause(self, clause):
        """(matching docnums, verbatim docnums) for one clause (FrozenBitMaps)."""
        found = self._clauses.get(clause)
        if found is None:
            build = lambda: tuple(FrozenBitMap(docs) for docs in self._evaluate(clause))  # noqa: E731
            if self.cache is None:
                found = build()
            else:
                found = self.cache.get(self.state, ("clause", clause), build)
                if self.partial:  # cut short by the deadline: not the clause's whole answer
                    self.cache.discard(self.state, ("clause", clause))
            self._clauses[clause] = found
        return found

    def groups(self, groups, require_all=True):
        """(matching, verbatim) docnums for required groups of alternatives (AND of ORs, or any)."""
        match = exact = None
        for group in groups:
            group_match, group_exact = BitMap(), BitMap()
            for i, clause in enumerate(group):
                if i and self.late():  # the alternatives found so far stand; every group is still required
                    self.partial = True
                    break
                m, e = self.clause(clause)
                group_match |= m
                group_exact |= e
            if match is None:
                match, exact = group_match, group_exact
            elif require_all:
                match &= group_match
                exact &= group_exact
            else:
                match |= group_match
                exact |= group_exact
        return (match, exact) if match is not None else (BitMap(), BitMap())

    def _evaluate(self, clause):
        chars = clause.chars
        words = [] if clause.quoted else query_words(clause.norm, self.seg)
        if self.late():
            # Out of time: only the posts having all of the clause's words (no verbatim
            # checks); a subset of its matches.
            self.partial = True
            return self._all_words(words, WORD_FIELDS[clause.field]) if words else BitMap(), BitMap()
        exact = BitMap()
        if clause.field == "category":
            exact |= self.term("category", clause.text.strip())
        for field in CHAR_FIELDS[clause.field]:
            exact |= self._verbatim(field, chars, words)
        word_fields = WORD_FIELDS[clause.field]
        if clause.quoted or not words or not word_fields:
            return exact, exact
        return exact | self._all_words(words, word_fields), exact

    def _all_words(self, words, fields):
        """Docnums having every one of `words` in one of `fields`."""
        having = [BitMap.union(BitMap(), *(self.term(field, word) for field in fields)) for word in words]
        return BitMap.intersection(*having) if having else BitMap()

    def _verbatim(self, field, chars, words):
        """Docnums where `chars` occur consecutively in char field `field`."""
        if len(chars) == 1:
            return self.term(field, chars[0])
        grams = BIGRAM_FIELDS[field]
        candidates = BitMap.intersection(*sorted((self.term(grams, g) for g in _grams(chars)), key=len))
        if len(chars) == 2 or not candidates:
            return candidates
        known = BitMap()
        twin = WORD_TWIN.get(field)
        if twin and len(words) == 1 and "".join(words) == "".join(chars):
            # A word (or search-mode sub-word) in the twin word field is the same text verbatim.
            known = candidates & self.term(twin, words[0])
        return known | self._phrase(field, chars, candidates - known, bool(known))

    def _phrase(self, field, chars, candidates, less_known=False):
        """Those of `candidates` in whose char tokens `chars` stand together.

        Cut short by the deadline, the check leaves its progress in the cache
        (the posts confirmed, the candidates left), and the same text searched
        again goes on from there: a long check is spread over a few searches,
        each within its time budget, until the clause's whole answer is known.
        """
        needle = "".join(chars).encode("utf-8")
        progress_key = ("progress", field, needle, less_known)  # the candidates depend on both
        found = BitMap()
        if self.cache is not None:
            done = self.cache.get(self.state, progress_key, lambda: None)
            if done is not None:
                found, candidates = BitMap(done[0]), done[1]
        pending = candidates.to_array()  # ascending docnums
        for start in range(0, len(pending), CHECK_CHUNK):
            if self.deadline is not None and self.late():
                self.partial = True
                if self.cache is not None:
                    left = FrozenBitMap(pending[start:])
                    self.cache.put(self.state, progress_key, (FrozenBitMap(found), left))
                break
            found.update(self.char_search(pending[start : start + CHECK_CHUNK].tolist(), field, needle))
        else:
            if self.cache is not None:
                self.cache.discard(self.state, progress_key)
        return found
