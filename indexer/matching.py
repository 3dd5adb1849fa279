"""Evaluate parsed queries into sets of document numbers.

A clause matches a post when its text occurs there verbatim ("exact": its
characters form a phrase in a char field) or, unless quoted, when all of its
jieba words occur. Sets, not scores, decide what matches; scores only order
what matched (see search.py), so totals and facets never depend on ranking.

Verbatim checks are the costly part, so they are done as rarely as possible:

- a clause that is one jieba word is verbatim wherever that word was indexed
  as a word or sub-word, which is nearly every post with its characters;
- the remaining candidates (posts with all the characters) are checked with
  their character positions, read straight from the posting lists, instead of
  Whoosh's span queries, which build span objects for every candidate.
"""

from whoosh import query as wq

from .query import CHAR_FIELDS, WORD_FIELDS, WORD_TWIN
from .tokenizer import query_words


class DocSets:
    """Docnum sets for the clauses of queries, over one searcher (memoised per clause)."""

    def __init__(self, searcher, seg):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.seg = seg
        self._clauses = {}

    def docs(self, query):
        """All docnums matching a Whoosh query (deleted ones excluded)."""
        return set(self.searcher.docs_for_query(query))

    def all_docs(self):
        return set(self.reader.all_doc_ids())

    def clause(self, clause):
        """(matching docnums, verbatim docnums) for one clause."""
        if clause not in self._clauses:
            self._clauses[clause] = self._evaluate(clause)
        return self._clauses[clause]

    def groups(self, groups, require_all=True):
        """(matching, verbatim) docnums for required groups of alternatives (AND of ORs, or any)."""
        match = exact = None
        for group in groups:
            group_match, group_exact = set(), set()
            for clause in group:
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
        return match or set(), exact or set()

    def _evaluate(self, clause):
        chars = clause.chars
        words = [] if clause.quoted else query_words(clause.norm, self.seg)
        exact = set()
        if clause.field == "category":
            exact |= self.docs(wq.Term("category", clause.text.strip()))
        for field in CHAR_FIELDS[clause.field]:
            exact |= self._verbatim(field, chars, words)
        word_fields = WORD_FIELDS[clause.field]
        if clause.quoted or not words or not word_fields:
            return exact, exact
        all_words = wq.And([_any_field(word_fields, word) for word in words])
        return exact | self.docs(all_words), exact

    def _verbatim(self, field, chars, words):
        """Docnums where `chars` occur consecutively in char field `field`."""
        if len(chars) == 1:
            return self.docs(wq.Term(field, chars[0]))
        if not all(self.reader.doc_frequency(field, c) for c in set(chars)):
            return set()
        candidates = self.docs(wq.And([wq.Term(field, c) for c in set(chars)]))
        known = set()
        twin = WORD_TWIN.get(field)
        if twin and len(words) == 1 and "".join(words) == "".join(chars):
            # A word (or search-mode sub-word) in the twin word field is the same text verbatim.
            known = candidates & self.docs(wq.Term(twin, words[0]))
        return known | self._phrase(field, chars, sorted(candidates - known))

    def _phrase(self, field, chars, candidates):
        """Those of `candidates` (sorted) in which `chars` stand at consecutive positions."""
        found = set()
        if not candidates:
            return found
        distinct = list(dict.fromkeys(chars))
        matchers = {c: self.reader.postings(field, c) for c in distinct}
        # Check the rarest characters first: they rule a candidate out soonest.
        order = sorted(distinct, key=lambda c: self.reader.doc_frequency(field, c))
        offsets = {c: [i for i, x in enumerate(chars) if x == c] for c in distinct}
        for docnum in candidates:
            starts = None
            for char in order:
                matcher = matchers[char]
                if matcher.id() < docnum:
                    matcher.skip_to(docnum)
                positions = matcher.value_as("positions")
                for offset in offsets[char]:
                    shifted = {p - offset for p in positions}
                    starts = shifted if starts is None else starts & shifted
                if not starts:
                    break
            if starts:
                found.add(docnum)
        return found


def _any_field(fields, word):
    if len(fields) == 1:
        return wq.Term(fields[0], word)
    return wq.Or([wq.Term(field, word) for field in fields])
