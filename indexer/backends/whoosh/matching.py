"""Evaluate parsed queries into sets of document numbers.

A clause matches a post when its text occurs there verbatim ("exact": its
characters form a phrase in a char field) or, unless quoted, when all of its
jieba words occur. Sets, not scores, decide what matches; scores only order
what matched (see search.py), so totals and facets never depend on ranking.

Verbatim checks are the costly part, so they are done as rarely as possible:

- a clause that is one jieba word is verbatim wherever that word was indexed
  as a word or sub-word, which is nearly every post with its characters;
- the remaining candidates (posts with all the characters) are checked by a
  substring search in their char tokens, which the SearchIndex keeps in
  memory once read; Whoosh's span queries over positions cost ~100x more.

Posting lists are read a block at a time (adapter.posting_blocks), not a
posting at a time through Whoosh's matcher interface: a set of docnums is
built from each decoded block of ids, which is several times faster for the
long lists of common characters.
"""

import time

from ...analysis import query_words
from ...errors import QueryError
from ...query import CHAR_FIELDS, WORD_FIELDS, WORD_TWIN
from .adapter import posting_blocks


class DocSets:
    """Docnum sets for the clauses of queries, over one searcher (memoised per term and clause)."""

    def __init__(self, searcher, seg, char_text, deadline=None):
        """:param char_text: ``char_text(docnum, field)`` → the char tokens of a post's field, as one string.
        :param deadline: time.monotonic() past which verbatim checks and OR alternatives are cut
            short (``partial`` is then set): matches may be missing, never added.
        """
        self.reader = searcher.reader()
        self.seg = seg
        self.char_text = char_text
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
            chars = set(clause.chars)
            cost += sum(self.reader.doc_frequency(field, c) for field in CHAR_FIELDS[clause.field] for c in chars)
            if not clause.quoted:
                words = query_words(clause.norm, self.seg)
                cost += sum(self.reader.doc_frequency(f, w) for f in WORD_FIELDS[clause.field] for w in words)
        if cost > limit:
            raise QueryError(
                f"The query would read {cost:,} postings, more than the {limit:,} a search may read; "
                "use fewer or less common terms."
            )

    def term(self, field, text):
        """All live docnums having `text` in `field`."""
        key = (field, text)
        if key not in self._term_sets:
            self._term_sets[key] = term_docs(self.reader, field, text)
        return self._term_sets[key]

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
        return match or set(), exact or set()

    def _evaluate(self, clause):
        chars = clause.chars
        words = [] if clause.quoted else query_words(clause.norm, self.seg)
        if self.late():
            # Out of time: only the posts having all of the clause's words (no verbatim
            # checks, which read every character's postings); a subset of its matches.
            self.partial = True
            return self._all_words(words, WORD_FIELDS[clause.field]) if words else set(), set()
        exact = set()
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
        all_words = None
        for word in words:
            having = set().union(*(self.term(field, word) for field in fields))
            all_words = having if all_words is None else all_words & having
            if not all_words:
                break
        return all_words or set()

    def _verbatim(self, field, chars, words):
        """Docnums where `chars` occur consecutively in char field `field`."""
        if len(chars) == 1:
            return self.term(field, chars[0])
        sets = sorted((self.term(field, c) for c in set(chars)), key=len)
        candidates = set(sets[0]).intersection(*sets[1:])
        known = set()
        twin = WORD_TWIN.get(field)
        if twin and candidates and len(words) == 1 and "".join(words) == "".join(chars):
            # A word (or search-mode sub-word) in the twin word field is the same text verbatim.
            known = candidates & self.term(twin, words[0])
        return known | self._phrase(field, chars, candidates - known)

    def _phrase(self, field, chars, candidates):
        """Those of `candidates` in whose char tokens `chars` stand together."""
        needle = "".join(chars)
        char_text = self.char_text
        if self.deadline is None:
            return {docnum for docnum in candidates if needle in char_text(docnum, field)}
        found = set()
        for n, docnum in enumerate(candidates):
            if n % 256 == 0 and self.late():
                self.partial = True
                break
            if needle in char_text(docnum, field):
                found.add(docnum)
        return found


def term_docs(reader, field, text):
    """Live docnums of a term, across segments."""
    docs = set()
    for leaf, base in reader.leaf_readers():
        deleted = leaf.deleted_docs_set if leaf.has_deletions() else ()
        for ids in posting_blocks(leaf, field, text):
            if base or deleted:
                docs.update(base + d for d in ids if d not in deleted)
            else:
                docs.update(ids)
    return docs
