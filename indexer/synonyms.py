"""Aliases: other names for the same thing, added to a query as extra alternatives.

::

    synonym files (Solr/Elasticsearch format) ─┐
    aliases learnt from the archive (aliases.py) ┴▶ Synonyms ─▶ expand(parsed) ─▶ extra clauses

A file holds one rule a line; ``#`` starts a comment::

    央行, 中国人民银行, 人民银行        equivalent: each expands to the others
    脸书 => Facebook, Meta               one way: 脸书 also searches Facebook and Meta

Expansion never replaces the reader's words (a Solr ``=>`` rule would): the
reader's clause stays, and its aliases join its group as alternatives. How they
rank is decided by :func:`search_expanded`: every post the reader's own words
find comes first, in the engine's order, and the posts only an alias finds
follow, so an alias never hides a verbatim match.

Files are read again when their modification time changes, so an edited list
takes effect on the next search, without reindexing.
"""

import os
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from .analysis import is_token_char, normalize
from .engine import EngineHit, EngineResult
from .query import Clause

# The curated list shipped with zhsearch: Chinese news organisations, companies, people, abbreviations.
DEFAULT_SYNONYMS = Path(__file__).parent / "data" / "synonyms.txt"

# Most aliases added for one clause: a long rule must not blow up the query.
MAX_ALIASES_PER_CLAUSE = 6

# Aliases shorter than this (in token characters) are not substituted inside a longer clause:
# one-character names would match inside unrelated words.
MIN_INFIX_CHARS = 2


def _key(text):
    """The form rules are looked up by: normalised, token characters only (spaces and punctuation dropped)."""
    return "".join(c for c in normalize(text)[0] if is_token_char(c))


@dataclass(frozen=True)
class Synonyms:
    """A lookup from a term (its key) to the other names it also searches."""

    table: dict  # key -> tuple of alias texts (as written in the rules)

    def aliases(self, text):
        """The other names of `text` (the whole term), or ()."""
        return self.table.get(_key(text), ())

    def merged(self, other):
        """These rules plus `other`'s (aliases of both, these first)."""
        table = dict(self.table)
        for key, names in other.table.items():
            table[key] = tuple(dict.fromkeys((*table.get(key, ()), *names)))
        return Synonyms(table)

    def __len__(self):
        return len(self.table)


EMPTY = Synonyms({})


def parse_rules(text):
    """Read Solr/Elasticsearch synonym rules into Synonyms.

    ``a, b, c`` makes each name an alias of the others; ``a, b => c, d`` makes
    c and d aliases of a and of b (not the other way round). Blank lines and
    ``#`` comments are skipped; a line with nothing usable is ignored.
    """
    table = {}

    def add(source, names):
        key = _key(source)
        names = [n for n in names if _key(n) and _key(n) != key]
        if key and names:
            table[key] = tuple(dict.fromkeys((*table.get(key, ()), *names)))

    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if "=>" in line:
            left, right = line.split("=>", 1)
            targets = _names(right)
            for source in _names(left):
                add(source, targets)
        else:
            names = _names(line)
            for name in names:
                add(name, names)
    return Synonyms(table)


def _names(part):
    return [n.strip() for n in part.replace("，", ",").split(",") if n.strip()]


class SynonymFiles:
    """Synonym files read again when they change (by modification time and size).

    Bounded by the files themselves: one table per file, replaced on change.
    """

    def __init__(self, paths):
        self.paths = [Path(p) for p in paths]
        self._lock = threading.Lock()
        self._cache = {}  # path -> ((mtime_ns, size), Synonyms)

    def current(self):
        """The rules of all files merged, earlier files' aliases first; a missing file counts as empty."""
        merged = EMPTY
        for path in self.paths:
            try:
                stat = os.stat(path)
            except OSError:
                continue
            stamp = (stat.st_mtime_ns, stat.st_size)
            with self._lock:
                cached = self._cache.get(path)
            if cached is None or cached[0] != stamp:
                cached = (stamp, parse_rules(path.read_text(encoding="utf-8")))
                with self._lock:
                    self._cache[path] = cached
            merged = merged.merged(cached[1])
        return merged


def expand(parsed, synonyms):
    """Add each clause's aliases to its group; return (expanded ParsedQuery, the alias texts added).

    Quoted clauses (the reader asked for that exact text) and author or
    category filters are left alone. A clause that is not itself a known name
    but contains one (`中国人民银行降准`) gets the clause with the alias in its
    place (`央行降准`).
    """
    if not synonyms or not parsed.groups:
        return parsed, ()
    added = []
    groups = []
    for group in parsed.groups:
        extra = []
        for clause in group:
            if clause.quoted or clause.field not in (None, "title"):
                continue
            for text in _alias_texts(clause, synonyms)[:MAX_ALIASES_PER_CLAUSE]:
                alias = Clause(text, clause.field)
                if alias not in group and alias not in extra:
                    extra.append(alias)
                    added.append(text)
        groups.append(group + tuple(extra))
    if not added:
        return parsed, ()
    return replace(parsed, groups=tuple(groups)), tuple(dict.fromkeys(added))


def _alias_texts(clause, synonyms):
    whole = synonyms.aliases(clause.text)
    if whole:
        return list(whole)
    key = _key(clause.text)
    out = []
    # The longest known name inside the clause, replaced by each of its aliases.
    for length in range(len(key) - 1, MIN_INFIX_CHARS - 1, -1):
        for start in range(len(key) - length + 1):
            names = synonyms.table.get(key[start : start + length])
            if names:
                out.extend(key[:start] + _key(n) + key[start + length :] for n in names)
        if out:
            return out
    return out


def search_expanded(engine, own, wide, offset, limit):
    """One page of `wide` (the query with aliases) with every match of `own` (the reader's words) first.

    Posts found by the reader's own words keep the engine's order (verbatim
    first) and come before any post found only through an alias; totals, facets
    and months count them all. Date order needs no tiers: it is the wide query's.

    :return: an EngineResult; hits found only through an alias have score 0 and are not exact.
    """
    if wide.sort == "date":
        return engine.search(wide, offset, limit)
    base = engine.search(own, offset, limit)
    union = engine.search(wide, 0, 0)
    if union.total == base.total:  # the aliases found nothing the reader's words did not
        return base
    hits = list(base.hits)
    if len(hits) < limit:
        own_ids = set(engine.ids(own)) if base.total else set()
        extra = [post_id for post_id in engine.ids(wide) if post_id not in own_ids]
        start = max(0, offset - base.total)
        hits += [EngineHit(engine.get(p), 0.0, False) for p in extra[start : start + limit - len(hits)]]
    return EngineResult(
        total=union.total, hits=tuple(hits), facets=union.facets, months=union.months, stories=union.stories
    )
