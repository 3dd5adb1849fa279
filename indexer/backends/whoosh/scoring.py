"""Rank a tier of matches with BM25F over NumPy arrays: Whoosh's scores, every post at once.

Whoosh scores a query one document and one matcher call at a time; on a
large archive a common word matches tens of thousands of posts and ranking
them cost more than matching. Here each query term's postings (document
numbers and weights, decoded once and kept in the engine's SetCache) and each
field's document lengths (read once per index state) are arrays, and the
score of every post of the tier is one vectorised BM25F formula, the one
Whoosh's ``BM25F`` computes (the same idf, K1, B, field boosts and average
lengths):

    idf(t) · w·(K1+1) / (w + K1·(1 − B + B·len/avglen)),   idf(t) = ln(N / (df+1)) + 1

Proximity (the query's words near each other) is then added the way a
rescoring window does it in Lucene: the best RESCORE_WINDOW posts by BM25F
are scored by Whoosh's sloppy phrase query, and reordered.
"""

from math import log

import numpy as np
from whoosh import query as wq

from ...engine import PHRASE_BOOST, PROXIMITY_SLOP
from . import adapter

# Whoosh's BM25F defaults, which the index has always been ranked with.
K1 = 1.2
B = 0.75

# Posts, best by BM25F, whose proximity is scored (a page needs the first few).
RESCORE_WINDOW = 200


class TierScorer:
    """BM25F scores over one searcher, with postings and lengths from per-state caches."""

    def __init__(self, searcher, lengths, postings, frequency=None):
        """:param lengths: ``lengths(field)`` → float32 array of every document's length in `field`.
        :param postings: ``postings(field, text)`` → (global docnums uint32, weights float32).
        :param frequency: ``frequency(field, text)`` → the term's document frequency (default: the reader's).
        """
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = self.reader.doc_count_all()
        self.lengths = lengths
        self.postings = postings
        self.frequency = frequency or self.reader.doc_frequency
        self._sums = {}  # terms -> every post's summed BM25F score (the tiers of one query share it)

    def term_scores(self, field, text):
        """(docnums, BM25F scores) of one term."""
        docs, weights = self.postings(field, text)
        if not len(docs):
            return docs, weights
        idf = log(self.size / (self.frequency(field, text) + 1)) + 1
        avg = self.searcher.avg_field_length(field) or 1
        lengths = self.lengths(field)[docs]
        return docs, idf * (weights * (K1 + 1)) / (weights + K1 * ((1 - B) + B * lengths / avg))

    def top(self, terms, phrases, tier, limit):
        """The `limit` best of `tier` (a BitMap) as [(docnum, score)]; posts no term scores follow, in index order.

        :param terms: (field, text) pairs whose BM25F scores add up.
        :param phrases: (field, words) pairs: a post where the words stand within
            PROXIMITY_SLOP of each other gains PHRASE_BOOST times their phrase score.
        """
        if not tier or limit <= 0:
            return []
        scores = self._summed(tuple(terms))
        members = np.frombuffer(tier.to_array(), dtype=np.uint32)
        mine = scores[members]
        scored = members[mine > 0]
        scored_values = mine[mine > 0]
        window = max(limit, RESCORE_WINDOW) if phrases else limit
        best = _best(scored, scored_values, window)
        if phrases and len(best):
            bonus = self._proximity(phrases, best)
            values = scores[best] + np.array([bonus.get(int(d), 0.0) for d in best])
            best = best[np.lexsort((best, -values))]
            ranked = [(int(d), float(scores[d] + bonus.get(int(d), 0.0))) for d in best[:limit]]
        else:
            ranked = [(int(d), float(scores[d])) for d in best[:limit]]
        if len(ranked) < limit:
            unscored = members[mine <= 0]
            ranked += [(int(d), 0.0) for d in unscored[: limit - len(ranked)]]
        return ranked

    def _summed(self, terms):
        """Every post's BM25F score summed over `terms`, computed once per scorer."""
        scores = self._sums.get(terms)
        if scores is None:
            scores = self._sums[terms] = np.zeros(self.size, dtype=np.float64)
            for field, text in terms:
                docs, values = self.term_scores(field, text)
                scores[docs] += values
        return scores

    def _proximity(self, phrases, docs):
        """{docnum: proximity bonus} for `docs`, from Whoosh's sloppy phrase queries."""
        allowed = {int(d) for d in docs}
        bonus = {}
        for field, words in phrases:
            query = wq.Phrase(field, list(words), slop=PROXIMITY_SLOP, boost=PHRASE_BOOST)
            for hit in self.searcher.search(query, filter=allowed, limit=None, scored=True):
                bonus[hit.docnum] = bonus.get(hit.docnum, 0.0) + float(hit.score)
        return bonus


def _best(docs, values, count):
    """The `count` docs of highest value, best first; equal values in docnum order."""
    if len(docs) > count:
        keep = np.argpartition(-values, count - 1)[:count]
        # Ties at the cut: argpartition may have taken any of them; take the lowest docnums.
        cut = values[keep].min()
        above = np.flatnonzero(values > cut)
        level = np.flatnonzero(values == cut)
        keep = np.concatenate([above, level[: count - len(above)]])
        docs, values = docs[keep], values[keep]
    return docs[np.lexsort((docs, -values))]


def global_lengths(reader, field):
    """Every document's length in `field` over all segments of `reader`."""
    parts = [adapter.field_lengths(leaf, field) for leaf, _ in reader.leaf_readers()]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
