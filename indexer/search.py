"""Answer queries: `open_index(dir)` → SearchIndex → `.search(q)` → SearchPage.

Ranking is two-tiered. Posts where every query term occurs verbatim ("exact")
come first, then posts that only have the terms' words apart; within a tier,
BM25F over title (boosted), categories and body, plus proximity, orders them.
So for `课后服务` every post with the contiguous phrase outranks every post with
`课后` and `服务` apart, whatever their lengths.

Snippets: the matched spans are found on the normalised text and mapped back
to the original, so overlapping tokens never garble a mark; fragments are cut
at Chinese sentence punctuation and may come from anywhere in the article.
Whoosh's HtmlFormatter escapes the text and wraps matches in <mark>.
"""

import re
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, time as dtime, timezone
from pathlib import Path

from whoosh import query as wq
from whoosh.analysis import Token
from whoosh.highlight import Fragment, HtmlFormatter
from whoosh.index import open_dir
from whoosh.scoring import BM25F

from . import tokenizer
from .config import SNIPPET_CHARS, SNIPPET_FRAGMENTS
from .errors import PostNotFoundError, QueryError
from .ingest import post_id
from .indexing import current_generation, read_meta, stored_user_dict
from .matching import DocSets, term_docs
from .models import Article, Hit, IndexStats, SearchPage
from .query import highlight_terms, parse, scoring_query
from .schema import CHARS_COLUMN_FIELDS

SORTS = ("relevance", "date")

# Where a snippet fragment may start or end: sentence punctuation and line breaks.
SENTENCE_END = "。！？；!?;\n"

# How far (in characters) a fragment reaches back from its first match to find a sentence start.
LEAD_CHARS = 40

# Most marks placed in one text; keeps highlighting a huge article bounded.
MAX_SPANS = 500

_ID = re.compile(r"^[0-9a-f]{16}$")


def open_index(index_dir):
    """Open the index in `index_dir` for searching.

    :raises IndexNotFoundError: when there is none; the message says to run reindex.
    """
    return SearchIndex(index_dir)


class SearchIndex:
    """A searchable index. Safe to share between threads; follows new generations made by `reindex`."""

    def __init__(self, index_dir):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._generation = None
        self._ix = None
        self._caches = {}  # name -> (index state key, value); see _per_state
        self._local = threading.local()
        self._whoosh()

    # ── generations ──

    def _whoosh(self):
        """The Whoosh index of the live generation, reopened when `reindex --full` switched it."""
        generation, gen_dir = current_generation(self.index_dir)
        if generation != self._generation:
            with self._lock:
                if generation != self._generation:
                    self._seg = tokenizer.segmenter(stored_user_dict(gen_dir))
                    self._ix = open_dir(str(gen_dir))
                    self._gen_dir = gen_dir
                    self._generation = generation
        return self._ix

    @property
    def generation(self):
        self._whoosh()
        return self._generation

    @property
    def doc_count(self):
        return self._whoosh().doc_count()

    @contextmanager
    def _searcher(self):
        """A searcher on the latest state of the index, reused by the calling thread.

        Opening a Whoosh searcher opens every segment's files; a thread keeps
        its own (Whoosh searchers are not shared between threads) and refreshes
        it when a commit or a new generation has changed the index.
        """
        ix = self._whoosh()
        cached = getattr(self._local, "searcher", None)
        # Not Searcher.refresh(): it reuses segment readers and so misses deletions.
        if cached is None or cached[0] is not ix or cached[1].reader().generation() != ix.latest_generation():
            if cached is not None:
                cached[1].close()
            cached = (ix, ix.searcher(weighting=BM25F()))
            self._local.searcher = cached
        yield cached[1]

    # ── search ──

    def search(self, q="", *, page=1, per_page=10, category=None, date_from=None, date_to=None, sort="relevance"):
        """Search posts; return one page of hits with totals, category facets and per-month counts.

        An empty query lists all posts (filtered), newest first.

        :param date_from: a date, datetime or ISO 8601 string; inclusive.
        :param date_to: a date, datetime or ISO 8601 string; inclusive (the whole day).
        :param sort: "relevance" or "date" (newest first).
        :raises QueryError: for a bad parameter or an unusable query; `.param` names it.
        """
        started = time.perf_counter()
        page, per_page, sort = _check_paging(page, per_page, sort)
        parsed = parse(q)
        if not parsed.groups:
            sort = "date"
        with self._searcher() as searcher:
            match, exact, note = self._match(searcher, parsed, category, date_from, date_to)
            tables = self._tables(searcher)
            first = (page - 1) * per_page
            ranked = self._order(searcher, parsed, match, exact, sort, first + per_page, tables)
            terms = highlight_terms(parsed, self._seg)
            hits = tuple(
                self._hit(searcher, docnum, score, docnum in exact, terms)
                for docnum, score in ranked[first:first + per_page]
            )
            facets, months = _count(match, tables)
        return SearchPage(
            query=q or "", total=len(match), page=page, per_page=per_page, hits=hits,
            facets=facets, months=months, sort=sort, note=note,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
        )

    def ids(self, q="", *, category=None, date_from=None, date_to=None, sort="relevance"):
        """Return the ids of every post matching, in result order (no snippets: cheap for scripts).

        Takes the same arguments as `search` but paging.
        """
        _check_paging(1, 1, sort)
        parsed = parse(q)
        if not parsed.groups:
            sort = "date"
        with self._searcher() as searcher:
            match, exact, _ = self._match(searcher, parsed, category, date_from, date_to)
            ranked = self._order(searcher, parsed, match, exact, sort, len(match), self._tables(searcher))
            paths = searcher.reader().column_reader("path")  # ids derive from paths; no stored fields read
            return [post_id(paths[docnum]) for docnum, _ in ranked]

    def _match(self, searcher, parsed, category, date_from, date_to):
        """(matching docnums, verbatim docnums, note) for a parsed query under the filters."""
        start = _as_datetime(date_from, "date_from", end_of_day=False)
        end = _as_datetime(date_to, "date_to", end_of_day=True)
        if start and end and start > end:
            raise QueryError("date_from is after date_to.", param="date_from")
        sets = DocSets(searcher, self._seg, self._char_texts(searcher))
        note = None
        if parsed.groups:
            match, exact = sets.groups(parsed.groups)
            if not match and len(parsed.groups) > 1:
                match, exact = sets.groups(parsed.groups, require_all=False)
                if match:
                    note = "No post contains all of the terms; showing posts that contain any of them."
        else:
            match, exact = sets.all_docs(), set()
        if category:
            match &= sets.term("category", category)
        if start or end:
            tables = self._tables(searcher)
            dates, months = tables["dates"], tables["months"]
            low, high = start or datetime.min, end or datetime.max
            match = {d for d in match if months[d] and low <= dates[d] <= high}
        for clause in parsed.excluded:
            match -= sets.clause(clause)[1]
        return match, exact & match, note

    def _order(self, searcher, parsed, match, exact, sort, needed, tables):
        """The first `needed` matching docs in result order, as (docnum, score).

        By date: newest first, undated last. By relevance: verbatim matches,
        then the rest; BM25F (with proximity) orders each tier.
        """
        if sort == "date":
            ordered = [(docnum, 0.0) for docnum in tables["by_date"] if docnum in match]
            return ordered[:needed]
        scoring = scoring_query(parsed, self._seg)
        ranked = []
        for tier in (exact, match - exact):
            if len(ranked) >= needed:
                break
            ranked.extend(_top(searcher, scoring, tier, needed - len(ranked)))
        return ranked

    def _per_state(self, reader, name, build):
        """The value `build()` makes for what `reader` sees, built once per index state and name."""
        key = (self._generation, reader.generation(), reader.doc_count_all(), reader.doc_count())
        with self._lock:
            cached = self._caches.get(name)
            if cached is None or cached[0] != key:
                cached = self._caches[name] = (key, build())
        return cached[1]

    def _char_texts(self, searcher):
        """``char_text(docnum, field)`` for verbatim checks: the `chars` column, decoded once per index state."""
        reader = searcher.reader()
        texts = self._per_state(reader, "char_texts", dict)  # docnum -> char tokens, one line per field
        column = reader.column_reader("chars")
        slot = {field: i for i, field in enumerate(CHARS_COLUMN_FIELDS)}

        def char_text(docnum, field):
            lines = texts.get(docnum)
            if lines is None:
                lines = texts[docnum] = column[docnum].decode("utf-8").split("\n")
            return lines[slot[field]]

        return char_text

    def _tables(self, searcher):
        """Per-document categories, months and dates, and docnums by date, cached per index state."""
        reader = searcher.reader()
        return self._per_state(reader, "tables", lambda: _build_tables(reader))

    def _hit(self, searcher, docnum, score, exact, terms):
        fields = searcher.stored_fields(docnum)
        body = fields.get("body", "")
        return Hit(
            id=fields["id"],
            path=fields["path"],
            title=mark(fields.get("title", ""), terms),
            date=_aware(fields.get("date")),
            categories=tuple(fields.get("category") or ()),
            author=fields.get("author"),
            feed=fields.get("feed"),
            image=fields.get("image"),
            snippet=snippet(body, terms),
            score=round(float(score), 4),
            exact=exact,
        )

    # ── single posts ──

    def get(self, post_id):
        """Return the whole Article with id `post_id`.

        :raises PostNotFoundError: when no post has that id.
        """
        with self._searcher() as searcher:
            fields = self._stored(searcher, post_id)[1]
        return Article(
            id=fields["id"], path=fields["path"], title=fields.get("title", ""), text=fields.get("body", ""),
            categories=tuple(fields.get("category") or ()), tags=tuple(fields.get("tags") or ()),
            author=fields.get("author"), editor=fields.get("editor"), date=_aware(fields.get("date")),
            image=fields.get("image"), feed=fields.get("feed"),
        )

    def more_like(self, post_id, limit=5):
        """Return up to `limit` posts most like the post `post_id` (key jieba words, Bo1 model)."""
        with self._searcher() as searcher:
            docnum, fields = self._stored(searcher, post_id)
            text = f"{fields.get('title', '')}\n{fields.get('body', '')}"
            results = searcher.more_like(docnum, "content", text=text, top=limit, numterms=12)
            return [self._hit(searcher, hit.docnum, hit.score, False, []) for hit in results]

    def _stored(self, searcher, post_id):
        if not isinstance(post_id, str) or not _ID.match(post_id):
            raise PostNotFoundError(f"No post with id {str(post_id)[:40]!r}.")
        docnum = searcher.document_number(id=post_id)
        if docnum is None:
            raise PostNotFoundError(f"No post with id {post_id!r}.")
        return docnum, searcher.stored_fields(docnum)

    def highlight(self, text, q):
        """Return `text` HTML-escaped with the matches of query `q` in <mark>."""
        try:
            terms = highlight_terms(parse(q), self._seg)
        except QueryError:
            terms = []
        return mark(text, terms)

    def suggest(self, prefix, limit=8):
        """Return up to `limit` titles that contain `prefix` verbatim, best first."""
        chars = [c for c in tokenizer.normalize(prefix or "")[0] if tokenizer.is_token_char(c)]
        if not chars or limit < 1:
            return []
        query = wq.Term("title_c", chars[0]) if len(chars) == 1 else wq.Phrase("title_c", chars)
        with self._searcher() as searcher:
            return [hit["title"] for hit in searcher.search(query, limit=limit)]

    def stats(self):
        """Return post count, size on disk, last reindex and top categories."""
        ix = self._whoosh()
        meta = read_meta(self._gen_dir)
        size = sum(p.stat().st_size for p in self._gen_dir.iterdir() if p.is_file())
        with self._searcher() as searcher:
            facets, _ = _count(set(searcher.reader().all_doc_ids()), self._tables(searcher))
        last = meta.get("last_reindex")
        return IndexStats(
            index_dir=str(self.index_dir), generation=self._generation, posts=ix.doc_count(), size_bytes=size,
            last_reindex=datetime.fromisoformat(last) if last else None, source_dir=meta.get("source_dir"),
            top_categories=tuple(list(facets.items())[:10]),
        )


def _build_tables(reader):
    size = reader.doc_count_all()
    categories = [()] * size
    for term in reader.lexicon("category"):
        name = term.decode("utf-8")
        for docnum in term_docs(reader, "category", name):
            categories[docnum] += (name,)
    months = [None] * size
    for term in reader.lexicon("month"):
        month = term.decode("utf-8")
        for docnum in term_docs(reader, "month", month):
            months[docnum] = month
    column = reader.column_reader("date")
    dates = [column[d] if months[d] else None for d in range(size)]  # a missing date reads as a default
    live = list(reader.all_doc_ids())
    # Newest first; undated posts last, in index order.
    by_date = sorted((d for d in live if dates[d] is not None), key=dates.__getitem__, reverse=True)
    by_date += [d for d in live if dates[d] is None]
    return {"categories": categories, "months": months, "by_date": by_date, "dates": dates}


def _top(searcher, scoring, docs, limit):
    """The `limit` best of `docs` by the scoring query, as (docnum, score); unscored docs follow."""
    if not docs or limit <= 0:
        return []
    results = searcher.search(scoring, filter=docs, limit=limit)
    top = [(docnum, float(score)) for score, docnum in results.top_n]
    if len(top) < limit:
        seen = {docnum for docnum, _ in top}
        top += [(docnum, 0.0) for docnum in sorted(docs - seen)[: limit - len(top)]]
    return top


def _count(docs, tables):
    """Category and month counts over `docs`: ({category: n} largest first, {month: n} in order)."""
    categories, months = tables["categories"], tables["months"]
    facets, per_month = {}, {}
    for docnum in docs:
        for name in categories[docnum]:
            facets[name] = facets.get(name, 0) + 1
        month = months[docnum]
        if month:
            per_month[month] = per_month.get(month, 0) + 1
    return dict(sorted(facets.items(), key=lambda item: (-item[1], item[0]))), dict(sorted(per_month.items()))


# ── highlighting ────────────────────────────────────────────────────────────

_FORMATTER_ARGS = {"tagname": "mark", "between": "…", "classname": "match", "termclass": "term"}


def match_spans(text, terms):
    """Non-overlapping (start, end) spans of `text` where the normalised terms occur, in order."""
    if not text or not terms:
        return []
    norm, offsets = tokenizer.normalize(text)
    taken = []
    for term in terms:  # longest first: a longer match wins over the words inside it
        begin = norm.find(term)
        while begin >= 0 and len(taken) < MAX_SPANS:
            end = begin + len(term)
            if not any(s < end and begin < e for s, e in taken):
                taken.append((begin, end))
            begin = norm.find(term, end)
    spans = sorted(tokenizer.original_span(offsets, s, e) for s, e in taken)
    return spans


def _tokens(text, spans):
    tokens = []
    for start, end in spans:
        token = Token()
        token.text = tokenizer.normalize(text[start:end])[0]
        token.startchar, token.endchar = start, end
        token.matched = True
        tokens.append(token)
    return tokens


def mark(text, terms):
    """`text` HTML-escaped in full, with the terms' matches in <mark>."""
    formatter = HtmlFormatter(**_FORMATTER_ARGS)
    fragment = Fragment(text, _tokens(text, match_spans(text, terms)), 0, len(text))
    return formatter.format_fragment(fragment)


def snippet(text, terms, length=SNIPPET_CHARS, count=SNIPPET_FRAGMENTS):
    """The best 1-3 fragments of `text` around the matches, about `length` characters, as HTML."""
    spans = match_spans(text, terms)
    if not spans:
        plain = HtmlFormatter(**_FORMATTER_ARGS)._text(" ".join(text[: length + 1].split()))
        return plain[:length] + ("…" if len(text) > length else "")
    windows = _windows(text, spans, length // count if len(spans) > 1 else length)
    chosen = _best_windows(text, windows, length, count)
    formatter = HtmlFormatter(**_FORMATTER_ARGS)
    parts = []
    for start, end, inside in chosen:
        html = formatter.format_fragment(Fragment(text, _tokens(text, inside), start, end))
        html = " ".join(html.split())
        if start > 0 and text[start - 1] not in SENTENCE_END:
            html = "…" + html
        if end < len(text) and text[end - 1] not in SENTENCE_END:
            html += "…"
        parts.append(html)
    return " ".join(parts)


def _windows(text, spans, width):
    """A window of about `width` characters around each span, merged where they overlap."""
    windows = []
    for start, end in spans:
        lo = max(0, start - LEAD_CHARS)
        boundary = max(text.rfind(c, lo, start) for c in SENTENCE_END)
        lo = boundary + 1 if boundary >= 0 else lo
        hi = max(end, lo + width)
        stop = min((i for i in (text.find(c, end, hi) for c in SENTENCE_END) if i >= 0), default=-1)
        hi = min(len(text), stop + 1 if stop >= 0 else hi)
        while lo < start and text[lo].isspace():
            lo += 1
        if windows and lo <= windows[-1][1]:
            prev_lo, _, prev_spans = windows[-1]
            windows[-1] = (prev_lo, max(hi, windows[-1][1]), prev_spans + [(start, end)])
        else:
            windows.append((lo, hi, [(start, end)]))
    return windows


def _best_windows(text, windows, length, count):
    """Pick the windows with the most distinct matched terms until the length budget is used; keep text order."""
    def score(window):
        lo, _, inside = window
        distinct = {tokenizer.normalize(text[s:e])[0] for s, e in inside}
        return (len(distinct), len(inside), -lo)

    chosen, used = [], 0
    for lo, hi, inside in sorted(windows, key=score, reverse=True):
        if len(chosen) == count or used >= length:
            break
        # Trim the window to what is left of the budget, keeping at least its first match.
        limit = max(lo + length - used, inside[0][1])
        inside = [span for span in inside if span[1] <= limit]
        hi = min(hi, limit)
        chosen.append((lo, hi, inside))
        used += hi - lo
    return sorted(chosen)


# ── parameters ──────────────────────────────────────────────────────────────


def _check_paging(page, per_page, sort):
    try:
        page = int(page)
    except (TypeError, ValueError):
        raise QueryError(f"page must be a whole number, not {str(page)[:20]!r}.", param="page") from None
    try:
        per_page = int(per_page)
    except (TypeError, ValueError):
        raise QueryError(f"per_page must be a whole number, not {str(per_page)[:20]!r}.", param="per_page") from None
    if page < 1:
        raise QueryError(f"page must be 1 or more, not {page}.", param="page")
    if per_page < 1:
        raise QueryError(f"per_page must be 1 or more, not {per_page}.", param="per_page")
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {str(sort)[:20]!r}.", param="sort")
    return page, per_page, sort


def _as_datetime(value, param, end_of_day):
    """A naive UTC datetime for a date filter bound (Whoosh stores dates naive, in UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise QueryError(f"{param} must be a date like 2022-05-31, not {value[:30]!r}.", param=param) from None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, date):
        return datetime.combine(value, dtime.max if end_of_day else dtime.min)
    raise QueryError(f"{param} must be a date, not {type(value).__name__}.", param=param)


def _aware(value):
    return value.replace(tzinfo=timezone.utc) if isinstance(value, datetime) else None
