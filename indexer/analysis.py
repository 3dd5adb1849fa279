"""Text analysis: the same normalisation and tokens at index and at query time.

Pipeline::

    text ─▶ normalize()  NFKC (full-width → half-width) │ lower-case │ OpenCC t2s
         ├─▶ word_tokens()  jieba words; search-mode sub-words share their word's position
         └─▶ char_tokens()  every letter/digit/ideograph, one ordinal position each

Why two token streams: jieba's segmentation depends on context (`保交楼` inside
`首提保交楼至今` is cut as `提保交楼`), so a query word may never have been indexed
as a word. The character stream, with positions, turns every query into an exact
phrase over characters, the way Lucene's CJK analysers use n-grams, so any text
that occurs verbatim in a post finds it (OpenSearch matches it as a phrase; the
embedded backend indexes each character and each pair of neighbours, and checks
longer texts in the post's characters). The word stream carries ranking: BM25F
over real words and proximity between them.

A post is analysed once, in the process that reads it, into an
:class:`AnalysedPost`: its word runs and char runs per field. Backends index
those streams as given (Whoosh postings, OpenSearch token lists), so matching
means the same whatever the backend; none of them runs jieba again.
"""

import collections
import functools
import hashlib
import io
import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import jieba
import opencc

try:
    import rjieba
except ImportError:  # optional speed-up; jieba itself is the fallback
    rjieba = None

from .models import Post

# Bump when tokens change in a way that needs existing indexes rebuilt.
ANALYSIS_VERSION = "5"

# OpenCC configuration: Traditional Chinese (any region) to Simplified.
OPENCC_CONFIG = "t2s"

_converter = opencc.OpenCC(OPENCC_CONFIG)

jieba.setLogLevel(logging.WARNING)


class Segmenter:
    """jieba with one dictionary (the default, or the default plus a user dictionary).

    An index remembers the dictionary it was built with; its queries must be
    cut with the same one, so segmenters are objects, not global jieba state.

    Cutting runs on rjieba (jieba-rs: the same algorithm and dictionary, in
    Rust, about 15x faster) when it is installed, with its non-Chinese runs
    re-split the way jieba's HMM step does; tests/test_tokenizer.py proves the
    words identical to jieba's on every shared post and with a user dictionary.
    Without rjieba, or with ``engine="jieba"``, jieba itself cuts.
    """

    def __init__(self, user_dict=None, engine=None):
        self.engine = engine or ("rjieba" if rjieba is not None else "jieba")
        if self.engine not in ("jieba", "rjieba") or (self.engine == "rjieba" and rjieba is None):
            raise ValueError(f"unknown or unavailable segmentation engine {self.engine!r}")
        self._lock = threading.Lock()  # jieba's lazy initialisation is not thread-safe
        # jieba's own dictionary is always loaded: its FREQ table decides search-mode sub-words.
        self._jieba = jieba.Tokenizer()
        self._rjieba = rjieba.Jieba() if self.engine == "rjieba" else None
        self.user_dict = str(user_dict) if user_dict else None
        self.digest = ""
        if user_dict:
            with open(user_dict, "rb") as f:
                data = f.read()
            self._jieba.load_userdict(io.BytesIO(data))
            if self._rjieba is not None:
                for word, freq, tag in _user_dict_entries(data):
                    self._rjieba.add_word(word, freq, tag)
            self.digest = _digest(data)
        self._jieba.initialize()
        self.freq = self._jieba.FREQ

    @property
    def fingerprint(self):
        """Identify the analysis: an index built under another fingerprint needs a full rebuild."""
        return _fingerprint(self.digest)

    def cut(self, norm):
        """Cut normalised text into jieba's words (default mode, HMM on)."""
        if self._rjieba is not None:
            return _as_jieba_cuts(self._rjieba.cut(norm, True), self.freq)
        with self._lock:
            return list(self._jieba.cut(norm, HMM=True))


def fingerprint(user_dict=None):
    """The fingerprint of the Segmenter for `user_dict`, without loading jieba's dictionary."""
    if not user_dict:
        return _fingerprint("")
    with open(user_dict, "rb") as f:
        return _fingerprint(_digest(f.read()))


def _fingerprint(digest):
    return f"v{ANALYSIS_VERSION}/jieba-{jieba.__version__}/{OPENCC_CONFIG}/userdict-{digest or 'none'}"


def _digest(data):
    return hashlib.sha256(data).hexdigest()[:16]


def _user_dict_entries(data):
    """(word, freq or None, tag or None) for each line of a jieba user dictionary, as jieba reads it."""
    for line in data.decode("utf-8").lstrip("\ufeff").splitlines():
        line = line.strip()
        if not line:
            continue
        word, freq, tag = jieba.re_userdict.match(line).groups()
        yield word.strip(), int(freq) if freq is not None else None, tag.strip() if tag else None


# jieba's HMM step (finalseg) splits a run of non-Chinese characters into
# alphanumeric runs (with an optional decimal part and percent sign) and what
# lies between; jieba-rs keeps such runs whole (`3.5mm`, `a.b`, `x_y`).
_FINALSEG_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_JIEBA_HAN = re.compile(r"[\u4E00-\u9FD5]")


def _as_jieba_cuts(words, freq):
    out = []
    for word in words:
        if len(word) > 1 and not word.isalnum() and not _JIEBA_HAN.search(word) and not freq.get(word):
            out.extend(part for part in _FINALSEG_SKIP.split(word) if part)
        else:
            out.append(word)
    return out


# Most Segmenters kept (each holds a jieba dictionary, ~85 MB with a user dictionary).
MAX_SEGMENTERS = 4

_segmenters = collections.OrderedDict()  # user dictionary digest (None: default) -> Segmenter
_segmenters_lock = threading.Lock()


def segmenter(user_dict=None):
    """Return the (cached) Segmenter for a user dictionary file, or the default one for None.

    Cached by the dictionary's content, least recently used first out, at most
    MAX_SEGMENTERS at once: a long-running process that rebuilds with new
    dictionaries does not grow without bound.

    :raises FileNotFoundError: when `user_dict` does not exist.
    """
    key = None
    if user_dict:
        key = hashlib.sha256(Path(user_dict).read_bytes()).hexdigest()
    with _segmenters_lock:
        seg = _segmenters.get(key)
        if seg is None:
            seg = _segmenters[key] = Segmenter(user_dict)
            while len(_segmenters) > MAX_SEGMENTERS:
                _segmenters.popitem(last=False)
        _segmenters.move_to_end(key)
        return seg


def normalize(text):
    """Return (normalised text, offsets).

    `offsets` is None when each normalised character sits at the same index in
    `text`; otherwise a list where ``offsets[i]`` is the index in `text` of the
    character normalised into position ``i`` (plus one entry for the end).
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) == len(text):
        simplified = _converter.convert(folded)
        if len(simplified) == len(folded):
            return simplified, None
    return _normalize_by_char(text)


def _normalize_by_char(text):
    # Some characters change length under NFKC (`…` → `...`, `㈱` → `(株)`):
    # fold them one by one to keep track of where each output character came from.
    pieces = [_fold(char) for char in text]
    folded = "".join(pieces)
    simplified = _converter.convert(folded)
    if len(simplified) != len(folded):
        simplified = "".join(_simplify(piece) for piece in pieces)
    offsets = [index for index, piece in enumerate(pieces) for _ in piece]
    offsets.append(len(text))
    return simplified, offsets


@functools.lru_cache(maxsize=65536)
def _fold(char):
    return unicodedata.normalize("NFKC", char).lower()


@functools.lru_cache(maxsize=65536)
def _simplify(piece):
    converted = _converter.convert(piece)
    return converted if len(converted) == len(piece) else piece


def original_span(offsets, start, end):
    """Map a [start, end) span of normalised text back to the original text."""
    if offsets is None:
        return start, end
    # Normalising one character may yield several (`㈱` → `(株)`), never fewer,
    # so a span ends just after the original of its last character.
    return offsets[start], offsets[end - 1] + 1


def is_token_char(char):
    """Characters that become tokens: letters, digits and ideographs (not punctuation or space)."""
    return char.isalnum() and char != "_"


def char_run(norm):
    """The characters of normalised text that become char tokens, in order (their positions are their indices)."""
    return CharRun("".join(c for c in norm if is_token_char(c)))


def word_tokens(norm, seg=None):
    """Yield (word, position, start, end) for normalised text.

    Words come from jieba's default cut; sub-words of longer words (the dictionary
    2- and 3-grams jieba's search mode adds) share the longer word's position,
    so phrase and proximity queries over words stay exact.
    """
    pos = 0
    start = 0
    seg = seg or segmenter()
    words, freq = seg.cut(norm), seg.freq
    for word in words:
        width = len(word)
        if any(is_token_char(c) for c in word):
            if width > 2:
                for i in range(width - 1):
                    gram = word[i : i + 2]
                    if freq.get(gram):
                        yield gram, pos, start + i, start + i + 2
            if width > 3:
                for i in range(width - 2):
                    gram = word[i : i + 3]
                    if freq.get(gram):
                        yield gram, pos, start + i, start + i + 3
            yield word.strip(), pos, start, start + width
            pos += 1
        start += width


def query_words(norm, seg=None):
    """The distinct main words jieba finds in a query (no sub-words), in order."""
    words = (seg or segmenter()).cut(norm)
    result = []
    for word in words:
        word = word.strip()
        if any(is_token_char(c) for c in word) and word not in result:
            result.append(word)
    return result


def word_run(norm, seg=None):
    """Pre-analyse normalised text into a WordRun of (word, position) pairs."""
    return WordRun((word, pos) for word, pos, _, _ in word_tokens(norm, seg))


class WordRun:
    """Pre-analysed word tokens: (word, position) pairs.

    Not a tuple or list: Whoosh treats those as lists of ready-made terms.
    """

    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = list(pairs)

    def __iter__(self):
        return iter(self.pairs)


class CharRun(str):
    """Pre-analysed char tokens: the token characters in order; a char's index is its position."""

    __slots__ = ()


# The char streams of a post, by field: what each one indexes.
CHAR_STREAMS = ("title_c", "content_c", "meta_c", "author_c")


@dataclass(frozen=True)
class AnalysedPost:
    """A post with its text analysed into the token streams every backend indexes.

    ``title_words``/``content_words`` are jieba words with ordinal positions
    (sub-words share their word's position); ``chars`` maps each char stream
    (CHAR_STREAMS: title, body, categories+tags+author, author) to its token
    characters, whose positions are their indices.
    """

    post: Post
    signature: str  # "size:mtime_ns" of the file when read
    title_words: WordRun
    content_words: WordRun
    chars: dict


def analyse_post(post, signature, seg=None):
    """Analyse a Post into its word and char streams (see AnalysedPost)."""
    norms = {
        "title_c": normalize(post.title)[0],
        "content_c": normalize(post.text)[0],
        "meta_c": normalize(" ".join((*post.categories, *post.tags, post.author or "")))[0],
        "author_c": normalize(post.author or "")[0],
    }
    return AnalysedPost(
        post=post,
        signature=signature,
        title_words=word_run(norms["title_c"], seg),
        content_words=word_run(norms["content_c"], seg),
        chars={field: char_run(norm) for field, norm in norms.items()},
    )
