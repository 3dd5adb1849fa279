"""Learn each feed's boilerplate from the archive: text that recurs across a feed's posts.

``clean.py``'s rule table knows the sites someone wrote a rule for. A mirror holds hundreds
of feeds, and each site prints its own header and footer: a staff byline, a reprint notice,
an end marker, a QR-code call, a promotion line. Within one feed (the folder
``category/site/feed``) such text repeats across many posts, while article text does not.
This module finds it and takes it out::

    cleaned paragraphs of each post ─▶ post_keys ─▶ count (per feed) ─▶ templates_of ─▶ FeedTemplates
                                                    ▲ merge(added, removed)                  │
    cleaned paragraphs of one post ────────────────────────────────────────────────▶ strip ◀┘

1. **Keys.** Each paragraph (and each line of a multi-line paragraph) at the start or the end
   of a post (its first/last ``EDGE`` paragraphs) is reduced to a key: NFKC (full-width
   ``ＡＢＣ１２`` is ``ABC12``), lower case, URLs and e-mail addresses become ``<url>``, digit runs
   become ``0``, and whitespace, punctuation and symbols (emoji, ``——``, ``｜``) go. So
   ``——END——`` and ``- end -`` share one key, and so do ``第12期 详见 https://a/1`` and
   ``第3期 详见 https://b/2``. Paragraphs longer than ``MAX_TEMPLATE_CHARS`` are never counted,
   nor units that are data: mostly numbers (``開場 18:00`` is a field's value) or holding a
   measured number (``同比增长5.2%``: a statistics feed repeats its sentence with new figures).
   Short units (up to ``BYLINE_MAX_CHARS``) also give *prefix* keys, one per word boundary
   (``样例网编辑 王小明`` gives ``样例网编辑``), for templates where a name or date varies.
2. **Counts.** For each key: in how many posts it occurs at the start, at the end, and at
   either. Copies of one post (the same cleaned paragraphs) count once, so a story
   mirrored three times teaches nothing.
3. **Templates.** With at least ``MIN_POSTS`` distinct posts, a key held by at least
   ``max(MIN_COUNT, MIN_SHARE × posts)`` posts (at either end) is a template of kind ``start``
   or ``end`` when it (almost) only shows there, else ``edge`` (removed at either end). A
   prefix is kept where a name-like tail varies: not when a longer prefix or a whole template
   covers as many posts, and only if most of the units it starts recur themselves (a feed has
   a few editors, while an opening sentence is new every time). It matches only where the
   unit has a word boundary right after it (``样例网编辑部成立于…`` does not match ``样例网编辑``).
   A feed with fewer posts learns nothing: it gets the general rules only, never a guess.
4. **Strip.** In a post, a unit at the right end whose key is a template (or starts with a
   prefix template and is short) goes. If that would remove more than ``MAX_REMOVED_SHARE`` of
   the post's characters, nothing is removed and ``Stripped.skipped`` says why: a template
   that large in one post is more likely article text than a header.

Incremental updates: ``FeedCounts`` keeps, per key, the number of posts holding it, so
``merge(counts, added=[...], removed=[...])`` adds and subtracts posts exactly. The caller
keeps each indexed post's ``PostKeys`` (small: a few dozen short strings; ``to_json``) to
subtract it when the post changes or vanishes. Memory is bounded by the number of distinct
edge keys of a feed: about ``4 × EDGE`` keys of at most ``MAX_TEMPLATE_CHARS`` per post.

**Why no library.** jusText classifies paragraphs by length, link density and the density of
stop words, splitting words on whitespace (``text.split()``): a Chinese paragraph is one
"word", and its 100 stop lists have no Chinese one, so every Chinese paragraph reads as
stop-word-free boilerplate. readability scores DOM candidates by class/id names and by ASCII
commas, which our fragments (the main text already, mostly without classes, with ``，``) do
not have. trafilatura's deduplication is the nearest idea: an LRU cache drops a text segment
of more than ``min_duplcheck_size`` (100) characters once it has been seen ``max_repetitions``
(2) times, but across everything processed, not per feed, without regard to where in the
post the segment stands, and with no way to subtract a post or to show what was learnt. So
the per-feed counting is ours; from jusText we keep the idea that short text at the edges is
boilerplate when its context is, from trafilatura the normalise-then-count of repeated text.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = [
    "BYLINE_MAX_CHARS",
    "EDGE",
    "MAX_REMOVED_SHARE",
    "MAX_TEMPLATE_CHARS",
    "MIN_COUNT",
    "MIN_POSTS",
    "MIN_SHARE",
    "FeedCounts",
    "FeedTemplates",
    "PostKeys",
    "Stripped",
    "Template",
    "count",
    "key",
    "learn",
    "merge",
    "post_keys",
    "strip",
    "templates_of",
]

# A feed with fewer distinct posts learns nothing: two posts sharing a line prove nothing.
MIN_POSTS = 5
# A template recurs in at least this share of the feed's posts…
MIN_SHARE = 0.3
# …and in at least this many posts, whatever the share.
MIN_COUNT = 3
# Paragraphs at each end of a post where templates are looked for (headers, footers).
EDGE = 5
# Longer paragraphs are article text; they are never counted (and keep the counts small).
MAX_TEMPLATE_CHARS = 300
# Units up to this long (original characters) give prefix keys and may match a prefix template.
BYLINE_MAX_CHARS = 40
# Keys longer than this are cut to their first KEY_HEAD_CHARS and a digest of the rest
# (keys are kept with the index for every post; prefixes come from shorter units).
MAX_KEY_CHARS = 32
KEY_HEAD_CHARS = 16
# Characters other than digits and URLs a key needs to be counted (see _is_template_like).
MIN_LETTERS = 3
# Shortest prefix key that may be a template: "编辑" alone says too little.
PREFIX_MIN_CHARS = 3
# Longest varying tail (key characters) after a prefix template: a name, a date, an id.
PREFIX_MAX_TAIL = 24
# Share of a key's posts that may hold it at the other end only and still leave it "start"/"end".
KIND_TOLERANCE = 0.1
# Share of a prefix template's units that must recur in other posts (see templates_of).
PREFIX_RECUR_SHARE = 0.5
# strip() refuses to take more than this share of a post's characters.
MAX_REMOVED_SHARE = 0.3
# Version of the JSON written by FeedTemplates/FeedCounts/PostKeys.to_json.
JSON_VERSION = 1

# Keys are built after NFKC, which turns "，" into ",": a URL ends at ASCII , ; ) ] } too, and at
# the first CJK character.
_URL_RE = re.compile(
    r"(?:https?://|ftp://|www\.)[^\s<>\"',;)\]}\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+", re.IGNORECASE
)
# Only tried on text with an "@": its leading [\w.+-]+ would rescan every run of CJK letters.
_EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_URL_OR_EMAIL_RE = re.compile(f"{_URL_RE.pattern}|{_EMAIL_RE.pattern}", re.IGNORECASE)
_DIGITS_RE = re.compile(r"\d+")
# A measured number: a percentage, a decimal, an amount in 亿/万亿, a change in 个百分点.
_MEASURE_RE = re.compile(r"\d\s*[%％‰]|\d[.．]\d|\d\s*(?:亿|万亿|个百分点)")
_URL_MARK = "<url>"
# Where a unit may be cut into prefix + tail: whitespace and punctuation in the original text.
_BOUNDARY_RE = re.compile(r"[\s\W_]+")


def key(text: str) -> str:
    """Return the template key of a paragraph or line (see the module docstring, step 1)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    parts: list[str] = []
    pos = 0
    pattern = _URL_OR_EMAIL_RE if "@" in text else _URL_RE
    for match in pattern.finditer(text):
        parts.append(_squeeze(text[pos : match.start()]))
        parts.append(_URL_MARK)
        pos = match.end()
    parts.append(_squeeze(text[pos:]))
    whole = "".join(parts)
    if len(whole) <= MAX_KEY_CHARS:
        return whole
    # Long keys are stored with the index for every post: keep their start (for reading
    # the templates list) and a digest of the whole, which tells them apart as well.
    return whole[:KEY_HEAD_CHARS] + "…" + hashlib.blake2b(whole.encode(), digest_size=6).hexdigest()


def _squeeze(text: str) -> str:
    """Digits to 0; drop whitespace, punctuation, symbols and controls (categories Z, P, S, C)."""
    text = _DIGITS_RE.sub("0", text).translate(_drop_table())
    if text.isascii() or max(text) <= "\uffff":
        return text
    return "".join(ch for ch in text if not _dropped(ch))  # emoji and other astral symbols


@functools.cache
def _drop_table() -> dict[int, None]:
    """str.translate table deleting the BMP's Z, P, S and C characters (built once, ~20 ms)."""
    return {i: None for i in range(0x10000) if _dropped(chr(i))}


def _dropped(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "ZPSC"


# ── per-post keys ───────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class PostKeys:
    """The keys one post contributes to its feed's counts (store it to subtract the post later).

    start/end:            whole-unit keys among the first/last EDGE paragraphs (and their lines)
    start_prefixes/end_prefixes: prefix keys of the short units there
    fingerprint:          hash of all the post's paragraphs: equal for copies of one story,
                          which count once
    """

    start: frozenset[str] = frozenset()
    end: frozenset[str] = frozenset()
    start_prefixes: frozenset[str] = frozenset()
    end_prefixes: frozenset[str] = frozenset()
    fingerprint: str = ""

    def to_data(self) -> dict:
        """{"f": fingerprint, "s": [...], "e": [...], "sp": [...], "ep": [...]} (what to_json writes)."""
        return {
            "f": self.fingerprint,
            "s": sorted(self.start),
            "e": sorted(self.end),
            "sp": sorted(self.start_prefixes),
            "ep": sorted(self.end_prefixes),
        }

    def to_json(self) -> str:
        """Compact JSON of to_data()."""
        return json.dumps(self.to_data(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PostKeys:
        return cls.from_data(json.loads(text))

    @classmethod
    def from_data(cls, data: Mapping) -> PostKeys:
        return cls(
            frozenset(data["s"]),
            frozenset(data["e"]),
            frozenset(data["sp"]),
            frozenset(data["ep"]),
            data["f"],
        )


def post_keys(paragraphs: Sequence[str], *, edge: int = EDGE) -> PostKeys:
    """Return the keys of a post's cleaned paragraphs (before any template was removed)."""
    n = len(paragraphs)
    start: set[str] = set()
    end: set[str] = set()
    start_prefixes: set[str] = set()
    end_prefixes: set[str] = set()
    for i, paragraph in enumerate(paragraphs):
        at_start, at_end = i < edge, i >= n - edge
        if not (at_start or at_end):
            continue
        for unit in _units(paragraph):
            if len(unit) > MAX_TEMPLATE_CHARS or not _is_template_like(unit, unit_key := key(unit)):
                continue
            prefixes = _prefixes(unit) if len(unit) <= BYLINE_MAX_CHARS else ()
            if at_start:
                start.add(unit_key)
                start_prefixes.update(prefixes)
            if at_end:
                end.add(unit_key)
                end_prefixes.update(prefixes)
    digest = hashlib.blake2b(digest_size=12)
    for paragraph in paragraphs:
        digest.update(paragraph.encode("utf-8", "surrogatepass") + b"\x1e")
    return PostKeys(
        frozenset(start),
        frozenset(end),
        frozenset(start_prefixes),
        frozenset(end_prefixes),
        digest.hexdigest(),
    )


def _is_template_like(unit: str, unit_key: str) -> bool:
    """Whether a unit could be a template rather than data that only looks alike.

    "開場 18:00" and "開演 18:30" (Eventernote's key/value lines) share the key "開場00000" in
    every post, yet they are data: a key needs MIN_LETTERS characters besides digits and URLs,
    and no more digits than those. A unit with a measured number (5.2%, 1.5, 3亿) is data
    too: a statistics feed repeats its sentence every month with new figures.
    """
    letters = len(unit_key.replace(_URL_MARK, "")) - unit_key.count("0")
    return letters >= MIN_LETTERS and unit_key.count("0") <= letters and not _MEASURE_RE.search(unit)


def _units(paragraph: str) -> list[str]:
    """The paragraph, and its lines when it has more than one."""
    lines = [line for line in paragraph.split("\n") if line.strip()]
    return [paragraph, *lines] if len(lines) > 1 else [paragraph]


def _prefixes(unit: str) -> list[str]:
    """Keys of the unit cut at each word boundary, with a non-empty tail of at most PREFIX_MAX_TAIL."""
    full = key(unit)
    found = []
    for match in _BOUNDARY_RE.finditer(unit):
        prefix = key(unit[: match.start()])
        tail = full[len(prefix) :]
        if (
            len(prefix) >= PREFIX_MIN_CHARS
            and 0 < len(tail) <= PREFIX_MAX_TAIL
            and full.startswith(prefix)
            and tail.count("0") * 2 < len(tail)  # a name varies, not a number ("開場時間 18:00")
        ):
            found.append(prefix)
    return found


# ── counts per feed ─────────────────────────────────────────────────────────────────────────

# Counts of one key: posts holding it at the start, at the end, at either end.
_Tally = tuple[int, int, int]


@dataclass(frozen=True)
class FeedCounts:
    """How many posts of a feed hold each key; what templates are learnt from.

    posts:        fingerprint -> number of posts with it (copies of one story count once
                  toward the keys, so their keys are added on the first copy and subtracted
                  with the last)
    whole/prefix: key -> (start, end, either) post counts; keys that fall to zero are dropped
    """

    feed: str
    posts: Mapping[str, int] = field(default_factory=dict)
    whole: Mapping[str, _Tally] = field(default_factory=dict)
    prefix: Mapping[str, _Tally] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Posts counted, copies included."""
        return sum(self.posts.values())

    @property
    def distinct(self) -> int:
        """Distinct posts counted (what the thresholds use)."""
        return len(self.posts)

    def to_data(self) -> dict:
        """{"version", "feed", "posts": {fingerprint: n}, "whole": {key: [s, e, either]}, "prefix": …}."""
        return {
            "version": JSON_VERSION,
            "feed": self.feed,
            "posts": dict(sorted(self.posts.items())),
            "whole": {k: list(v) for k, v in sorted(self.whole.items())},
            "prefix": {k: list(v) for k, v in sorted(self.prefix.items())},
        }

    def to_json(self) -> str:
        """Compact JSON of to_data()."""
        return json.dumps(self.to_data(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> FeedCounts:
        return cls.from_data(json.loads(text))

    @classmethod
    def from_data(cls, data: Mapping) -> FeedCounts:
        _check_version(data)
        return cls(
            feed=data["feed"],
            posts=dict(data["posts"]),
            whole={k: tuple(v) for k, v in data["whole"].items()},
            prefix={k: tuple(v) for k, v in data["prefix"].items()},
        )


def count(feed: str, keys: Iterable[PostKeys]) -> FeedCounts:
    """Return the counts of a feed's posts (the keys of each, from ``post_keys``)."""
    return merge(FeedCounts(feed), added=keys)


def merge(counts: FeedCounts, *, added: Iterable[PostKeys] = (), removed: Iterable[PostKeys] = ()) -> FeedCounts:
    """Return new counts with the `added` posts counted and the `removed` ones taken out.

    A changed post is removed (its old keys) and added (its new keys). Removing keys that
    were never added raises ValueError: the caller's stored keys and counts disagree.
    """
    posts = Counter(counts.posts)
    whole = {k: list(v) for k, v in counts.whole.items()}
    prefix = {k: list(v) for k, v in counts.prefix.items()}
    for keys in removed:
        fingerprint = keys.fingerprint
        if posts[fingerprint] <= 0:
            raise ValueError(f"feed {counts.feed!r}: removing a post that was never counted")
        posts[fingerprint] -= 1
        if posts[fingerprint] == 0:
            del posts[fingerprint]
            _tally(whole, keys.start, keys.end, -1, counts.feed)
            _tally(prefix, keys.start_prefixes, keys.end_prefixes, -1, counts.feed)
    for keys in added:
        fingerprint = keys.fingerprint
        posts[fingerprint] += 1
        if posts[fingerprint] == 1:
            _tally(whole, keys.start, keys.end, +1, counts.feed)
            _tally(prefix, keys.start_prefixes, keys.end_prefixes, +1, counts.feed)
    return FeedCounts(
        feed=counts.feed,
        posts=dict(posts),
        whole={k: tuple(v) for k, v in whole.items()},
        prefix={k: tuple(v) for k, v in prefix.items()},
    )


def _tally(table: dict[str, list[int]], start, end, step: int, feed: str) -> None:
    for k in set(start) | set(end):
        tally = table.setdefault(k, [0, 0, 0])
        tally[0] += step * (k in start)
        tally[1] += step * (k in end)
        tally[2] += step
        if min(tally) < 0:
            raise ValueError(f"feed {feed!r}: removing key {k!r} that was never counted")
        if tally[2] == 0:
            del table[k]


# ── templates ───────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True)
class Template:
    """One learnt piece of a feed's boilerplate."""

    key: str  # normalised text (see key()); for a prefix template, the stable beginning
    kind: str  # "start", "end" or "edge" (either end): where in a post it is removed
    count: int  # posts of the feed holding it at either end
    prefix: bool = False  # True: matches short units whose key starts with `key`


@dataclass(frozen=True)
class FeedTemplates:
    """The templates learnt for one feed, and the numbers they were learnt from."""

    feed: str
    posts: int  # distinct posts counted
    templates: tuple[Template, ...] = ()
    threshold: int = 0  # posts a key needed to be a template (0: the feed was too small)
    edge: int = EDGE

    @functools.cached_property
    def _tables(self) -> dict[tuple[bool, str], dict[str, Template]]:
        tables: dict[tuple[bool, str], dict[str, Template]] = {}
        for template in self.templates:
            tables.setdefault((template.prefix, template.kind), {})[template.key] = template
        return tables

    @property
    def signature(self) -> str:
        """Equal for two learnt sets that strip the same way (counts aside).

        Store it with each post: when a feed's signature changes, its posts need stripping anew.
        """
        digest = hashlib.blake2b(digest_size=12)
        for t in sorted(self.templates, key=lambda t: (t.prefix, t.kind, t.key)):
            digest.update(f"{t.prefix:d}{t.kind}\x1f{t.key}\x1e".encode())
        digest.update(str(self.edge).encode())
        return digest.hexdigest()

    def to_json(self) -> str:
        """JSON: {"version", "feed", "posts", "threshold", "edge",
        "templates": [{"key", "kind", "count", "prefix"}, …]}."""
        return json.dumps(
            {
                "version": JSON_VERSION,
                "feed": self.feed,
                "posts": self.posts,
                "threshold": self.threshold,
                "edge": self.edge,
                "templates": [
                    {"key": t.key, "kind": t.kind, "count": t.count, "prefix": t.prefix} for t in self.templates
                ],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> FeedTemplates:
        data = json.loads(text)
        _check_version(data)
        return cls(
            feed=data["feed"],
            posts=data["posts"],
            templates=tuple(Template(t["key"], t["kind"], t["count"], t["prefix"]) for t in data["templates"]),
            threshold=data["threshold"],
            edge=data["edge"],
        )


def _check_version(data: dict) -> None:
    if data.get("version") != JSON_VERSION:
        raise ValueError(
            f"boilerplate data has version {data.get('version')!r}, this zhsearch reads "
            f'{JSON_VERSION}. Run "reindex --full" to learn the templates again.'
        )


def templates_of(counts: FeedCounts) -> FeedTemplates:
    """Return the templates the counts support (none for a feed of fewer than MIN_POSTS)."""
    posts = counts.distinct
    if posts < MIN_POSTS:
        return FeedTemplates(counts.feed, posts)
    threshold = max(MIN_COUNT, math.ceil(MIN_SHARE * posts))
    whole = [
        Template(k, kind, n)
        for k, tally in counts.whole.items()
        if (found := _kind(tally, threshold)) is not None
        for kind, n in (found,)
    ]
    prefixes = [
        Template(k, kind, n, prefix=True)
        for k, tally in counts.prefix.items()
        if (found := _kind(tally, threshold)) is not None
        for kind, n in (found,)
    ]
    # Keep a prefix unless a longer one (or a fixed whole template) covers as many posts, and
    # only if the units it starts recur: a feed has a few editors, so "样例网编辑 王五" comes
    # back, while an article's opening sentence ("0氪获悉，某公司完成融资") is new every time.
    keys = sorted(counts.whole)
    prefixes = [
        p
        for p in prefixes
        if not any(q.key != p.key and q.key.startswith(p.key) and q.count >= p.count for q in prefixes)
        and not any(w.key.startswith(p.key) and w.count >= p.count for w in whole)
        and _tails_recur(p.key, keys, counts.whole)
    ]
    # Then drop what a kept prefix already matches: longer prefixes ("…首席记者王小明" under
    # "…首席记者") and short whole templates ("相关游戏星海远航" under "相关游戏").
    prefixes = [p for p in prefixes if not any(_covers(q.key, p.key) for q in prefixes)]
    whole = [
        w for w in whole if not (len(w.key) <= BYLINE_MAX_CHARS // 2 and any(_covers(p.key, w.key) for p in prefixes))
    ]
    order = {"start": 0, "edge": 1, "end": 2}
    templates = sorted(whole + prefixes, key=lambda t: (order[t.kind], -t.count, t.prefix, t.key))
    return FeedTemplates(counts.feed, posts, tuple(templates), threshold)


def _covers(prefix: str, other: str) -> bool:
    """Whether a prefix template `prefix` matches every unit that `other` (a longer key) does."""
    return other != prefix and other.startswith(prefix) and len(other) - len(prefix) <= PREFIX_MAX_TAIL


def _tails_recur(prefix: str, keys: list[str], whole: Mapping[str, _Tally]) -> bool:
    """Whether most units that start with `prefix` occur in more than one post."""
    seen = recurring = 0
    for k in keys[bisect.bisect_left(keys, prefix) :]:
        if not k.startswith(prefix):
            break
        if 0 < len(k) - len(prefix) <= PREFIX_MAX_TAIL:
            either = whole[k][2]
            seen += either
            recurring += either if either > 1 else 0
    return seen > 0 and recurring >= PREFIX_RECUR_SHARE * seen


def _kind(tally: _Tally, threshold: int) -> tuple[str, int] | None:
    """(kind, count) of a key held by enough posts, else None.

    "start" when it (almost) never shows at the end only, "end" the other way round, "edge"
    otherwise: a promotion line seen at either end, or a feed of short posts where every
    paragraph is near both ends.
    """
    start, end, either = tally
    if either < threshold:
        return None
    tolerance = max(1, int(KIND_TOLERANCE * either))
    start_only, end_only = either - end, either - start
    if end_only <= tolerance < start_only:
        return "start", either
    if start_only <= tolerance < end_only:
        return "end", either
    return "edge", either


def learn(feed: str, paragraph_lists: Iterable[Sequence[str]]) -> FeedTemplates:
    """Return the templates of a feed, given the cleaned paragraphs of each of its posts."""
    return templates_of(count(feed, (post_keys(p) for p in paragraph_lists)))


# ── strip ───────────────────────────────────────────────────────────────────────────────────


class Stripped(NamedTuple):
    """What strip() did to one post."""

    kept: list[str]  # the paragraphs left, in order (all of them when skipped)
    removed: list[str]  # the paragraphs or lines taken out (none when skipped)
    skipped: str | None  # why nothing was removed although templates matched, else None


def strip(paragraphs: Sequence[str], templates: FeedTemplates) -> Stripped:
    """Remove the feed's templates from a post's cleaned paragraphs, unless that takes too much."""
    if not templates.templates:
        return Stripped(list(paragraphs), [], None)
    n = len(paragraphs)
    edge = templates.edge
    kept: list[str] = []
    removed: list[str] = []
    for i, paragraph in enumerate(paragraphs):
        kinds = ("edge",) + (("start",) if i < edge else ()) + (("end",) if i >= n - edge else ())
        if not (i < edge or i >= n - edge):
            kept.append(paragraph)
            continue
        if _matches(paragraph, templates, kinds):
            removed.append(paragraph)
            continue
        lines = paragraph.split("\n")
        if len(lines) > 1:
            left = [line for line in lines if not _matches(line, templates, kinds)]
            removed.extend(line for line in lines if _matches(line, templates, kinds))
            if left:
                kept.append("\n".join(left))
            continue
        kept.append(paragraph)
    if not removed:
        return Stripped(list(paragraphs), [], None)
    total = sum(len(p) for p in paragraphs)
    share = sum(len(r) for r in removed) / total if total else 0.0
    if share > MAX_REMOVED_SHARE:
        return Stripped(
            list(paragraphs),
            [],
            f"learnt templates of feed {templates.feed!r} not applied: they would remove "
            f"{len(removed)} paragraph(s), {share:.0%} of the text (more than {MAX_REMOVED_SHARE:.0%})",
        )
    return Stripped(kept, removed, None)


def _matches(unit: str, templates: FeedTemplates, kinds: Sequence[str]) -> bool:
    if len(unit) > MAX_TEMPLATE_CHARS or not _is_template_like(unit, unit_key := key(unit)):
        return False
    tables = templates._tables
    for kind in kinds:
        if unit_key in tables.get((False, kind), ()):
            return True
    if len(unit) > BYLINE_MAX_CHARS:
        return False
    # Cut where the template was cut (at a word boundary): "样例网编辑 王五" matches the prefix
    # "样例网编辑", "样例网编辑部成立于2010年" does not.
    prefixes = _prefixes(unit)
    return any(p in tables.get((True, kind), ()) for kind in kinds for p in prefixes)


# Version of the index's ``boilerplate`` blob (indexing.Learnt); another version is learnt afresh.
BLOB_VERSION = 1


def blob_data(text: str | None) -> dict | None:
    """The parsed ``boilerplate`` blob of an index, or None when there is none of this version."""
    data = json.loads(text) if text else None
    return data if data and data.get("version") == BLOB_VERSION else None


def counts_from_blob(text: str | None) -> dict[str, FeedCounts]:
    """{feed: FeedCounts} from the index's stored ``boilerplate`` blob (see indexing.Learnt); {} if none."""
    return counts_of(blob_data(text))


def counts_of(data: Mapping | None) -> dict[str, FeedCounts]:
    """{feed: FeedCounts} of a parsed blob (see blob_data)."""
    return {feed: FeedCounts.from_data(c) for feed, c in data["feeds"].items()} if data else {}
