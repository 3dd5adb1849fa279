"""Typos: "did you mean" for homophone slips of the input method and misspelt Latin words.

::

    中小旗业 ─▶ windows of the query's Chinese runs ─▶ same pinyin as a frequent index word,
              one or two characters apart, itself no word and rare as text ─▶ 中小企业
    Facebok  ─▶ Latin word absent from the index ─▶ nearest frequent index word (rapidfuzz) ─▶ facebook

A window of a query's Chinese text is corrected when

* it is no word: neither in jieba's dictionary nor in the index's vocabulary (a
  real word, however rare, is what the reader meant: 期中 is not 其中);
* its pinyin (no tones; each character's other readings too) is the pinyin of
  an index word in at least ``MIN_TARGET_POSTS`` posts, of the same length,
  differing in one character (two in words of four or more);
* and the window as text is rare: in at most 1/``RATIO`` as many posts as the word
  (so a window across two words, 京市 of 北京市场, is left alone).

A Latin word is corrected when the index has no such word and a word in at
least ``MIN_TARGET_POSTS`` posts lies within Elasticsearch's AUTO edit distance
(one edit for 4 or 5 letters, two beyond). search.py decides what to do with a
correction: it is offered only when it finds more posts than the query, and
searched instead only when the query finds nothing.
"""

import functools
import itertools
import re

from pypinyin import Style, pinyin
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .analysis import normalize, original_span
from .query import term_spans

# Fewest posts a correction's word is in: a correction must be a frequent word of the archive.
MIN_TARGET_POSTS = 3

# A window (or a Latin word) is taken as a slip only if the word it sounds like is in this many times more posts.
RATIO = 5

# Longest window of Chinese text looked at, in characters (the pinyin table holds words of 2 to 8).
MAX_WINDOW = 8

# Most windows whose rarity is checked against the index per query: each check is a search.
MAX_CHECKS = 6

# Most readings combined per window (characters with several readings multiply them).
MAX_READINGS = 16

# Fewest letters of a Latin word corrected: shorter words are abbreviations, too many are one edit apart.
MIN_LATIN_LETTERS = 4

_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_LATIN_WORD = re.compile(r"[a-z]+")
_LATIN_VOCABULARY = re.compile(r"[a-z]{3,}")


class LatinWords:
    """The Latin words of a vocabulary in at least MIN_TARGET_POSTS posts, for edit-distance look-ups."""

    def __init__(self, vocabulary):
        found = [(w, n) for w, n in vocabulary.items() if n >= MIN_TARGET_POSTS and _LATIN_VOCABULARY.fullmatch(w)]
        self.words = [w for w, _ in found]
        self.posts = [n for _, n in found]

    def nearest(self, word):
        """The most frequent word nearest `word` within the AUTO edit distance, as (word, posts), or None."""
        limit = 1 if len(word) <= 5 else 2
        found = process.extract(word, self.words, scorer=Levenshtein.distance, score_cutoff=limit, limit=None)
        if not found:
            return None
        _, _, index = min(found, key=lambda f: (f[1], -self.posts[f[2]]))
        return self.words[index], self.posts[index]


def correct(q, vocabulary, table, latin, known, posts_with):
    """The query `q` with its slips corrected, or None when nothing in it looks like one.

    :param vocabulary: {word: posts} of the index (SearchEngine.vocabulary).
    :param table: the vocabulary's pinyin.PinyinTable.
    :param latin: the vocabulary's LatinWords.
    :param known: ``known(word)`` → whether jieba's dictionary has the word.
    :param posts_with: ``posts_with(text)`` → how many posts hold `text` verbatim.
    :return: the corrected query text; only the corrected windows change.
    """
    fixes = []  # (start, end, replacement) in q
    checks = 0
    for start, end in term_spans(q):
        norm, offsets = normalize(q[start:end])
        taken = []  # windows of this term corrected
        for lo, hi, word, _ in _han_candidates(norm, vocabulary, table, known):
            if any(lo < t_hi and t_lo < hi for t_lo, t_hi in taken) or checks >= MAX_CHECKS:
                continue
            checks += 1
            if posts_with(norm[lo:hi]) * RATIO > vocabulary.get(word, 0):
                continue  # common as text (a window across two words): meant
            taken.append((lo, hi))
            a, b = original_span(offsets, lo, hi)
            fixes.append((start + a, start + b, word))
        for match in _LATIN_WORD.finditer(norm):
            word = match.group()
            if len(word) < MIN_LATIN_LETTERS or vocabulary.get(word, 0) or known(word):
                continue
            nearest = latin.nearest(word)
            if nearest:
                a, b = original_span(offsets, *match.span())
                fixes.append((start + a, start + b, nearest[0]))
    if not fixes:
        return None
    out, last = [], 0
    for a, b, text in sorted(fixes):
        out.append(q[last:a] + text)
        last = b
    return "".join(out) + q[last:]


def _han_candidates(norm, vocabulary, table, known):
    """(start, end, word, posts) for each window of `norm`'s Chinese runs that sounds like a frequent word.

    Best first: longer windows (more context), then more frequent words.
    """
    found = []
    for run in _HAN_RUN.finditer(norm):
        text, base = run.group(), run.start()
        for i in range(len(text)):
            for j in range(i + 2, min(len(text), i + MAX_WINDOW) + 1):
                window = text[i:j]
                if vocabulary.get(window, 0) or known(window):
                    continue  # a word, however rare, is meant
                best = _sounds_like(window, table)
                if best:
                    found.append((base + i, base + j, best[1], best[0]))
    found.sort(key=lambda f: (-(f[1] - f[0]), -f[3]))
    return found


def _sounds_like(window, table):
    """(posts, word): the most frequent index word with the pinyin of `window`, a character or two apart.

    The characters' common readings are tried first; a rarer reading (活 read guo) only if they find none.
    """
    most = 1 if len(window) < 4 else 2
    readings = itertools.islice(itertools.product(*(_readings(c) for c in window)), MAX_READINGS)
    for syllables in readings:
        for posts, word in table.table.get("".join(syllables), ()):
            if posts < MIN_TARGET_POSTS:
                break  # most frequent first
            if len(word) == len(window) and 1 <= sum(a != b for a, b in zip(word, window)) <= most:
                return posts, word
    return None


@functools.lru_cache(maxsize=8192)
def _readings(char):
    """The toneless readings of a character (多音字 have several), most common first."""
    return tuple(dict.fromkeys(pinyin(char, style=Style.NORMAL, heteronym=True)[0]))
