"""Pinyin: a Latin query typed with the input method off, read as the index's Chinese words.

::

    "kehoufuwu" ─▶ letters ─▶ split into syllable runs that are the pinyin of index words ─▶ 课后服务

:class:`PinyinTable` maps the pinyin (no tones, no spaces) of each Chinese word of
the index's vocabulary to the words with that sound, most frequent first. A
query is read through the table only when it is all Latin letters and finds few
posts verbatim (search.py decides): the reading joins the query as an
alternative, so whatever the letters found verbatim still ranks first, and a
real English word with verbatim matches is left alone.
"""

import math
import re
import threading

from pypinyin import lazy_pinyin

from .query import Clause

# Words of the vocabulary given a pinyin key, most frequent first: bounds the table's memory.
MAX_WORDS = 200_000

# Most words a reading joins (a longer query is not one thing typed in pinyin).
MAX_READING_WORDS = 4

# A Latin query finding more posts than this is taken as meant (a real word), not read as pinyin.
FEW_MATCHES = 2

# Fewest letters read as pinyin: shorter ones are abbreviations, not syllables.
MIN_LETTERS = 4

_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,8}")
_LATIN_QUERY = re.compile(r"[A-Za-z][A-Za-z ']*")


def could_be_pinyin(text):
    """Whether `text` is letters enough to be read as pinyin (checked before any table is built)."""
    return bool(_LATIN_QUERY.fullmatch(text.strip())) and len(re.sub(r"[^A-Za-z]", "", text)) >= MIN_LETTERS


class PinyinTable:
    """{pinyin key: ((posts, word), ...) most frequent first} over Chinese words of 2 to 8 characters."""

    def __init__(self, vocabulary):
        table = {}
        words = sorted(((n, w) for w, n in vocabulary.items() if _HAN_WORD.fullmatch(w)), reverse=True)
        for n, word in words[:MAX_WORDS]:
            table.setdefault("".join(lazy_pinyin(word)), []).append((n, word))
        self.table = {key: tuple(found) for key, found in table.items()}

    def reading(self, text):
        """The Chinese the letters of `text` spell as pinyin of index words (fewest, most frequent words), or None."""
        if not could_be_pinyin(text):
            return None
        letters = re.sub(r"[^a-z]", "", text.lower())
        # best[i] = (score, words) for letters[:i]; a word costs a fixed amount, frequency earns back.
        best = [None] * (len(letters) + 1)
        best[0] = (0.0, ())
        for end in range(1, len(letters) + 1):
            for start in range(max(0, end - 30), end):
                if best[start] is None or len(best[start][1]) >= MAX_READING_WORDS:
                    continue
                found = self.table.get(letters[start:end])
                if found:
                    score = best[start][0] + math.log1p(found[0][0]) - 10.0
                    if best[end] is None or score > best[end][0]:
                        best[end] = (score, (*best[start][1], found[0][1]))
        return "".join(best[-1][1]) if best[-1] else None


class PinyinTables:
    """The table of an engine's current vocabulary, rebuilt when the index changes (one kept)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cached = (None, None)

    def of(self, engine):
        vocabulary = engine.vocabulary()  # the engine keeps one per index state
        cached = self._cached
        if cached[0] is not vocabulary:
            cached = (vocabulary, PinyinTable(vocabulary))
            with self._lock:
                self._cached = cached
        return cached[1]


def with_reading(parsed, reading):
    """`parsed` with `reading` as an alternative in every group (so it is a superset of `parsed`)."""
    alias = Clause(reading)
    return parsed.__class__(tuple(g + (alias,) for g in parsed.groups), parsed.excluded)
