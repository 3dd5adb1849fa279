"""Parse the query language into clauses: the same query for every backend.

Language (forgiving: anything a user can type gives a result or a QueryError)::

    课后服务                 plain text, no spaces needed
    课后服务 双减            several terms: all required
    "延时 服务"              quoted: the exact text (spaces and punctuation ignored)
    -广告                    exclude posts containing the text
    双减 OR 课后服务         either
    title:双减  category:教育  author:新浪   field filters (also 标题: 分类: 作者:)

A term matches a post when its text occurs verbatim there (a phrase over
character tokens: the recall guarantee), or when all of its jieba words occur
(so `课后服务` also finds `课后作业…延时服务`). Verbatim matches are "exact" and
rank first; a backend evaluates and ranks clauses (see engine.py).
"""

import re
from dataclasses import dataclass

from .analysis import is_token_char, normalize, query_words
from .config import MAX_QUERY_CHARS, MAX_QUERY_CLAUSES, MAX_QUERY_TERMS
from .errors import QueryError

# Field prefixes users may type, and the field each one means.
FIELD_ALIASES = {
    "title": "title",
    "标题": "title",
    "category": "category",
    "cat": "category",
    "分类": "category",
    "author": "author",
    "作者": "author",
}

# Word fields searched for a term without a field prefix (or with one); char fields for its verbatim text.
WORD_FIELDS = {None: ("title", "content"), "title": ("title",), "author": (), "category": ()}
CHAR_FIELDS = {
    None: ("title_c", "content_c", "meta_c"),
    "title": ("title_c",),
    "author": ("author_c",),
    "category": ("meta_c",),
}

# The word field indexing the same text as a char field.
WORD_TWIN = {"title_c": "title", "content_c": "content"}

_SURROGATE = re.compile("[\ud800-\udfff]")
_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "＂": '"'})
_LEXER = re.compile(r'(?P<neg>[-－])?(?:(?P<field>[^\s:："]+)[:：])?(?:"(?P<quoted>[^"]*)"?|(?P<bare>[^\s"]+))')


@dataclass(frozen=True)
class Clause:
    """One term of a query: its text, the field it is limited to, and how it matches."""

    text: str
    field: str | None = None
    negate: bool = False
    quoted: bool = False

    @property
    def norm(self):
        return normalize(self.text)[0]

    @property
    def chars(self):
        return [c for c in self.norm if is_token_char(c)]


@dataclass(frozen=True)
class ParsedQuery:
    """Required groups (each a tuple of alternatives joined by OR) and excluded clauses."""

    groups: tuple
    excluded: tuple

    @property
    def positive_clauses(self):
        return [clause for group in self.groups for clause in group]


def parse(text):
    """Parse a query string. An empty or all-punctuation query gives no groups.

    :raises QueryError: when the query is too long or has too many terms.
    """
    text = text or ""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is too long ({len(text)} characters); use at most {MAX_QUERY_CHARS}.")
    if _SURROGATE.search(text):
        raise QueryError("The query holds a lone surrogate code point, which is not text; type it again.")
    items = []  # Clause or "OR"
    for match in _LEXER.finditer(text.translate(_QUOTES)):
        field, quoted, bare = match.group("field"), match.group("quoted"), match.group("bare")
        if bare == "OR" and not field and not match.group("neg"):
            items.append("OR")
            continue
        if field and field.lower() not in FIELD_ALIASES:
            # Not a field we know (`比例:5%`): the colon is text, not syntax.
            bare = f"{field}:{bare}" if bare is not None else None
            quoted = f"{field}:{quoted}" if quoted is not None else None
            field = None
        value = quoted if quoted is not None else bare
        if field and not value:
            value, field = field, None  # a lone `title:` is just the word
        clause = Clause(
            value or "",
            FIELD_ALIASES.get(field.lower()) if field else None,
            negate=bool(match.group("neg")),
            quoted=quoted is not None,
        )
        if clause.chars:
            items.append(clause)
    groups, excluded = [], []
    join_next = False
    for item in items:
        if item == "OR":
            join_next = bool(groups)
            continue
        if item.negate:
            if item not in excluded:
                excluded.append(item)
        elif join_next:
            if item not in groups[-1]:
                groups[-1] = groups[-1] + (item,)
        elif (item,) not in groups:  # a repeated term adds nothing
            groups.append((item,))
        join_next = False
    if len(groups) + len(excluded) > MAX_QUERY_TERMS:
        raise QueryError(f"Query has {len(groups) + len(excluded)} terms; the limit is {MAX_QUERY_TERMS}.")
    clauses = sum(len(group) for group in groups) + len(excluded)
    if clauses > MAX_QUERY_CLAUSES:
        raise QueryError(
            f"Query has {clauses} terms counting each OR alternative and each excluded term; "
            f"the limit is {MAX_QUERY_CLAUSES}. Use fewer alternatives."
        )
    return ParsedQuery(tuple(groups), tuple(excluded))


def term_spans(text):
    """The (start, end) spans in `text` of the text of its positive terms (no field, excluded term or OR).

    The spans are what a reader typed as words to find, for suggesting corrections in place.
    """
    spans = []
    for match in _LEXER.finditer(text.translate(_QUOTES)):  # the translation keeps offsets
        field, neg = match.group("field"), match.group("neg")
        name = "quoted" if match.group("quoted") is not None else "bare"
        if neg or match.group(name) == "OR" or (field and field.lower() in FIELD_ALIASES):
            continue
        start, end = match.span(name) if not field else match.span()
        if end > start:
            spans.append((start, end))
    return spans


def highlight_terms(parsed, seg=None):
    """Normalised strings to mark in titles and snippets, longest first."""
    terms = []
    for clause in parsed.positive_clauses:
        if clause.field in ("author", "category"):
            continue
        norm = clause.norm.strip()
        candidates = [norm, "".join(clause.chars)]
        if not clause.quoted:
            candidates.extend(w for w in query_words(norm, seg) if len(w) > 1 or len(clause.chars) == 1)
        for term in candidates:
            if term and term not in terms:
                terms.append(term)
    return sorted(terms, key=len, reverse=True)
