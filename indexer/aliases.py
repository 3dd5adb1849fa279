"""Aliases the archive defines itself, learnt at reindex time and kept with the index.

News text introduces a short name where it first uses a long one::

    中国证券监督管理委员会（证监会）     full name, short name in brackets
    特斯拉（Tesla）                      Chinese name, Latin name in brackets
    国家发展和改革委员会，简称发改委     "called ... for short"
    房地产开发景气指数（简称“国房景气指数”）

:func:`learn` finds such pairs in one post's text with a few patterns and
checks (a Chinese short name is made of the full name's characters, in order;
a Latin one has a capital letter or digit; the full name is cut at the words
that begin a clause). ``reindex`` keeps each post's pairs in the index's
``aliases`` blob (:class:`AliasBlob`), so a changed or vanished post takes its
pairs with it, and their counts in the small ``alias_counts`` blob;
:class:`LearntAliases` turns the counts into Synonyms for queries.
"""

import json
import re
import threading
from collections import Counter

from . import analysis
from .synonyms import Synonyms, _key

# Name of the blob the pairs are kept in, beside the index.
BLOB = "aliases"
# Name of the blob of the pairs' counts (what queries need): {"version": 1, "pairs": [[full, short, posts], ...]}.
COUNTS_BLOB = "alias_counts"

# Longest full name learnt, in characters: a longer run is a clause, not a name.
MAX_FULL_CHARS = 16

# A run this short before a Latin name is the name itself (星河数码（Galaxa）), however jieba cuts it.
SHORT_RUN_CHARS = 5

# Words that begin a noun phrase's context, not the name: the full name starts after the last of them.
# (Characters common inside names, such as 和 in 国家发展和改革委员会, are not among them.)
_BOUNDARY = re.compile(r".*(?:的|是|在|了|据|将|被|对|从|向|称|年|月份|月|日|把|让|说|于)")

# Words a full name may begin with although the shortest run holding the short name leaves them out.
_NAME_PREFIXES = ("中华人民共和国", "中国", "国家", "全国", "国务院", "中央", "美国", "欧洲", "国际", "世界", "亚洲")

# A short name written as an abbreviation: capitals (a lower-case letter or two inside), digits, hyphens.
_ACRONYM = re.compile(r"(?=(?:[^A-Z]*[A-Z]){2})[A-Za-z0-9\-]{2,6}")

_HAN = "\u3400-\u4dbf\u4e00-\u9fff"
_LATIN_NAME = r"[A-Za-z][A-Za-z0-9&.\- ]{0,28}[A-Za-z0-9]"
_SHORT = rf"[“\"《]?(?P<short>[{_HAN}]{{2,8}}|{_LATIN_NAME})[”\"》]?"
_PATTERNS = (
    # 全称（简称） / 全称（以下简称“简称”） / 全称（Latin，简称简称）
    re.compile(
        rf"(?P<full>[{_HAN}·]{{2,40}})[（(](?:(?P<latin>{_LATIN_NAME})[，,]\s*)?(?:以下)?(?P<said>简称)?{_SHORT}[）)]"
    ),
    # 全称，简称简称 / 全称，以下简称“简称”
    re.compile(rf"(?P<full>[{_HAN}·]{{2,40}})[，,]\s*(?:以下)?(?P<said>简称){_SHORT}"),
)


def learn(text):
    """Return the (full name, short name) pairs that `text` defines, in order, each once."""
    pairs = []
    for pattern in _PATTERNS:
        for match in pattern.finditer(text or ""):
            full, short = match.group("full"), match.group("short").strip()
            said = bool(match.group("said"))
            found = [_pair(full, short, said)]
            latin = match.groupdict().get("latin")
            if latin and found[0]:  # 俄罗斯天然气工业股份公司（Gazprom，简称俄气）: both name the same full name
                found.append((found[0][0], latin.strip()))
            pairs.extend(p for p in found if p and p not in pairs)
    return pairs


def _pair(run, short, said):
    """(full name, short) when `run` (the text before the brackets) ends with a name `short` stands for."""
    if _is_han(short):
        full = _han_full(run, short, said)
    elif _ACRONYM.fullmatch(short):  # GDP, CPI, NOAA, HL-2A: the whole phrase before it
        full = _BOUNDARY.sub("", run)
    elif re.fullmatch(r"[A-Z][A-Za-z0-9\-]{3,}", short):  # Tesla, Apple: a name, the last word before it
        full = _last_name(run)
    elif re.fullmatch(r"[A-Z][a-z]+(?: [A-Z][A-Za-z.]*)+", short) and "·" in run:  # Nancy Hensold: 南希·亨索德
        full = _last_name(run)
    else:
        return None  # a lower-case word in brackets is a gloss (足球回家（home）), not a name
    if not full or len(full) < 2 or len(full) > MAX_FULL_CHARS or _key(full) == _key(short):
        return None
    return full, short


def _last_name(run):
    """The name `run` ends with: all of a short run, else its last jieba word, or a transliterated name
    (穆罕默德·巴尔金多) from the word before its first dot."""
    run = _BOUNDARY.sub("", run)
    if len(run) <= SHORT_RUN_CHARS:
        return run
    words = [w for w in analysis.segmenter().cut(run) if w]
    dots = [i for i, w in enumerate(words) if w == "·"]
    start = dots[0] - 1 if dots else len(words) - 1
    return "".join(words[max(start, 0) :])


def _han_full(run, short, said):
    """The end of `run` that `short` abbreviates: the shortest holding its characters in order, and a name prefix."""
    start = _subsequence_start(run, short)
    if start is None:
        return None  # 董监高（高管）, 按责任单位（主管单位）: brackets that gloss, not abbreviate
    before = run[:start]
    if said:  # "简称" says a name ends here: it begins after the words that lead up to it
        start -= len(_BOUNDARY.sub("", before))
    else:
        for prefix in _NAME_PREFIXES:
            if before.endswith(prefix):
                start -= len(prefix)
                break
    full = run[start:]
    return full if len(full) > len(short) else None


def _subsequence_start(run, short):
    """The largest start from which `short`'s characters occur in `run` in order (first one at the start)."""
    for start in range(len(run) - len(short), -1, -1):
        if run[start] != short[0]:
            continue
        rest = iter(run[start:])
        if all(c in rest for c in short):
            return start
    return None


def _is_han(text):
    return bool(re.fullmatch(rf"[{_HAN}]+", text))


class AliasBlob:
    """Each indexed post's learnt pairs, as kept in the index's ``aliases`` blob.

    ``{"version": 1, "posts": {path: [[full, short], ...]}}``; posts without pairs are left out.
    """

    VERSION = 1

    def __init__(self, posts=None):
        self.posts = posts or {}

    @classmethod
    def load(cls, text):
        """Read a stored blob (None, or one of another version: start afresh)."""
        if not text:
            return cls()
        data = json.loads(text)
        if data.get("version") != cls.VERSION:
            return cls()
        return cls({path: [tuple(p) for p in pairs] for path, pairs in data["posts"].items()})

    def update(self, learnt, vanished):
        """Set the pairs of the posts in `learnt` ({path: pairs}); forget the `vanished` paths."""
        for path in vanished:
            self.posts.pop(path, None)
        for path, pairs in learnt.items():
            if pairs:
                self.posts[path] = list(pairs)
            else:
                self.posts.pop(path, None)

    def counts(self):
        """Counter of (full, short) -> posts defining it."""
        return Counter(pair for pairs in self.posts.values() for pair in set(pairs))

    def to_json(self):
        posts = {path: [list(p) for p in pairs] for path, pairs in sorted(self.posts.items())}
        return json.dumps({"version": self.VERSION, "posts": posts}, ensure_ascii=False, separators=(",", ":"))

    def counts_json(self):
        """The ``alias_counts`` blob: each pair with the number of posts defining it (read by queries)."""
        pairs = sorted([full, short, n] for (full, short), n in self.counts().items())
        return json.dumps({"version": self.VERSION, "pairs": pairs}, ensure_ascii=False, separators=(",", ":"))


def counts_of(counts_text, blob_text=None):
    """Counter of (full, short) -> posts, from an ``alias_counts`` blob (or, for an index written before
    it was kept, from the ``aliases`` blob `blob_text`)."""
    data = json.loads(counts_text) if counts_text else None
    if data and data.get("version") == AliasBlob.VERSION:
        return Counter({(full, short): n for full, short, n in data["pairs"]})
    return AliasBlob.load(blob_text).counts()


def synonyms_of(counts):
    """Synonyms in which each learnt full name and its short name stand for each other."""
    table = {}
    for full, short in counts:
        for a, b in ((full, short), (short, full)):
            table.setdefault(_key(a), []).append(b)
    return Synonyms({key: tuple(dict.fromkeys(names)) for key, names in table.items()})


class LearntAliases:
    """The learnt aliases of an index, read from its blob once per blob text (one table kept)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._cached = None  # (blob stamp, blob text, counts, synonyms)

    def _load(self, engine):
        stamp = engine.blob_stamp(COUNTS_BLOB)  # the blob is read again only when it changed
        cached = self._cached
        if cached is not None and stamp is not None and stamp == cached[0]:
            return cached[1:]
        text = engine.read_blob(COUNTS_BLOB)
        if cached is None or cached[1] != text:
            counts = counts_of(text, None if text else engine.read_blob(BLOB))
            cached = (stamp, text, counts, synonyms_of(counts))
        else:
            cached = (stamp, *cached[1:])
        with self._lock:
            self._cached = cached
        return cached[1:]

    def synonyms(self, engine):
        return self._load(engine)[2]

    def pairs(self, engine):
        counts = self._load(engine)[1]
        return sorted(((full, short, n) for (full, short), n in counts.items()), key=lambda p: (-p[2], p[0], p[1]))
