"""Pinyin: a Latin query typed with the input method off, read as the index's Chinese words.

::

    "kehoufuwu" ─▶ letters ─▶ split into syllable runs that are the pinyin of index words ─▶ 课后服务
    "khfw"      ─▶ letters ─▶ split into the initials of index words (kh|fw)             ─▶ 课后服务, 客户服务, ...

:class:`PinyinTable` maps the pinyin (no tones, no spaces) of each Chinese word of
the index's vocabulary to the words with that sound, most frequent first, and the
initials (first letters of the syllables) of each word to the words they
abbreviate. Initials are tried when the letters spell no syllables; they are
ambiguous, so :meth:`PinyinTable.readings` gives several candidates and search.py
keeps the one most posts hold verbatim. typos.py looks up homophones of a query's
characters in the same table. A query is read through the table only when it is all Latin letters and finds few
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

# Fewest letters read as initials (bjl, khfw): two letters abbreviate too many words.
MIN_INITIALS = 3

# Fewest posts an initials reading's word is in: initials are ambiguous, a one-off word is noise.
MIN_INITIALS_POSTS = 2

# Words kept per initials key, and candidate readings of a query's initials (each is checked by a search).
INITIALS_WORDS = 3
INITIALS_READINGS = 5

# Most words an initials reading joins.
MAX_INITIALS_WORDS = 3

_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,8}")
_LATIN_QUERY = re.compile(r"[A-Za-z][A-Za-z ']*")


def could_be_pinyin(text):
    """Whether `text` is letters enough to be read as pinyin or initials (checked before any table is built)."""
    return bool(_LATIN_QUERY.fullmatch(text.strip())) and len(re.sub(r"[^A-Za-z]", "", text)) >= MIN_INITIALS


class PinyinTable:
    """{pinyin key: ((posts, word), ...) most frequent first} over Chinese words of 2 to 8 characters.

    ``initials`` is the same for the first letters of the syllables, kept for words in
    MIN_INITIALS_POSTS posts or more, INITIALS_WORDS words per key.
    """

    def __init__(self, vocabulary):
        table, initials = {}, {}
        words = sorted(((n, w) for w, n in vocabulary.items() if _HAN_WORD.fullmatch(w)), reverse=True)
        for n, word in words[:MAX_WORDS]:
            syllables = lazy_pinyin(word)
            table.setdefault("".join(syllables), []).append((n, word))
            if n >= MIN_INITIALS_POSTS:
                found = initials.setdefault("".join(s[0] for s in syllables), [])
                if len(found) < INITIALS_WORDS:
                    found.append((n, word))
        self.table = {key: tuple(found) for key, found in table.items()}
        self.initials = {key: tuple(found) for key, found in initials.items()}

    def reading(self, text):
        """The Chinese the letters of `text` spell as pinyin of index words, or None (the first of readings())."""
        found = self.readings(text)
        return found[0] if found else None

    def readings(self, text):
        """Chinese readings of the letters of `text`, best first: [] if none.

        One reading when they spell syllables of index words (the fewest, most
        frequent words); else up to INITIALS_READINGS readings as initials of one
        to MAX_INITIALS_WORDS words (khfw: 课后服务, 客户服务, ...), most frequent first.
        """
        if not could_be_pinyin(text):
            return []
        letters = re.sub(r"[^a-z]", "", text.lower())
        if len(letters) < MIN_LETTERS:
            return self._initials(letters) if len(letters) >= MIN_INITIALS else []
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
        if best[-1]:
            return ["".join(best[-1][1])]
        return self._initials(letters)

    def _initials(self, letters):
        """Readings of `letters` as the initials of index words, best first (fewer words, then more posts)."""
        scored = []

        def walk(start, words, score):
            if start == len(letters):
                scored.append((len(words), -score, "".join(words)))
                return
            if len(words) == MAX_INITIALS_WORDS:
                return
            for end in range(start + 2, len(letters) + 1):
                for n, word in self.initials.get(letters[start:end], ()):
                    walk(end, (*words, word), score + math.log1p(n))

        walk(0, (), 0.0)
        return [reading for _, _, reading in sorted(scored)[:INITIALS_READINGS]]


class PinyinTables:
    """A table built from an engine's current vocabulary, rebuilt when the index changes (one kept).

    :param build: ``build(vocabulary)`` makes the table (default PinyinTable).
    """

    def __init__(self, build=PinyinTable):
        self._build = build
        self._lock = threading.Lock()
        self._cached = (None, None)

    def of(self, engine):
        vocabulary = engine.vocabulary()  # the engine keeps one per index state
        cached = self._cached
        if cached[0] is not vocabulary:
            cached = (vocabulary, self._build(vocabulary))
            with self._lock:
                self._cached = cached
        return cached[1]


def with_reading(parsed, reading):
    """`parsed` with `reading` as an alternative in every group (so it is a superset of `parsed`)."""
    alias = Clause(reading)
    return parsed.__class__(tuple(g + (alias,) for g in parsed.groups), parsed.excluded)
