"""The recipe everyone copies: regex front matter + PyYAML, BeautifulSoup ``get_text()``,
jieba's ``ChineseAnalyzer`` in a plain Whoosh schema, one writer, the classic
incremental loop from the Whoosh docs, and ``MultifieldParser`` queries with
``highlights()`` snippets and a ``groupedby`` category facet.

Deliberately unoptimised: this is the yardstick, not a competitor.
"""

import email.utils
import os
import re
from datetime import datetime, timezone
from pathlib import Path

import yaml
from bs4 import BeautifulSoup
from jieba.analyse import ChineseAnalyzer
from whoosh import index, sorting
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.qparser import MultifieldParser
from whoosh.query import Term

FRONT_MATTER = re.compile(r"^\s*---\s*\n(.*?)\n---\s*\n?(.*)$", re.DOTALL)


def make_schema():
    """The schema from countless blog posts, plus the ``mtime`` the incremental recipe needs."""
    analyzer = ChineseAnalyzer()
    return Schema(
        path=ID(unique=True, stored=True),
        title=TEXT(stored=True, analyzer=analyzer),
        content=TEXT(stored=True, analyzer=analyzer),
        date=DATETIME(stored=True, sortable=True),
        category=KEYWORD(stored=True, commas=True),
        mtime=STORED,
    )


def _parse_date(value):
    """Front-matter date (RFC 2822 string or YAML datetime) to a naive UTC datetime."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = email.utils.parsedate_to_datetime(str(value))
        except (TypeError, ValueError):
            return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed


def parse_post(path):
    """Read one Hexo post into Whoosh fields."""
    text = Path(path).read_text(encoding="utf-8")
    match = FRONT_MATTER.match(text)
    meta, body = (yaml.safe_load(match.group(1)) or {}, match.group(2)) if match else ({}, text)
    categories = meta.get("categories") or []
    if isinstance(categories, str):
        categories = [categories]
    fields = {
        "path": str(path),
        "title": str(meta.get("title") or ""),
        "content": BeautifulSoup(body, "html.parser").get_text(),
        "category": ",".join(str(c) for c in categories),
        "mtime": os.path.getmtime(path),
    }
    date = _parse_date(meta.get("date"))
    if date is not None:
        fields["date"] = date
    return fields


def post_paths(source_dir):
    """Every post file under the source tree."""
    return sorted(str(p) for p in Path(source_dir).rglob("*.md"))


def build(source_dir, index_dir):
    """Full build: fresh index, ONE writer adding every doc, one commit. Returns the doc count."""
    os.makedirs(index_dir, exist_ok=True)
    ix = index.create_in(index_dir, make_schema())
    writer = ix.writer()
    count = 0
    for path in post_paths(source_dir):
        writer.add_document(**parse_post(path))
        count += 1
    writer.commit()
    return count


def update(source_dir, index_dir):
    """The Whoosh docs' "Incremental indexing" loop. Returns (added, updated, deleted)."""
    ix = index.open_dir(index_dir)
    indexed, changed, deleted = set(), set(), 0
    with ix.searcher() as searcher:
        writer = ix.writer()
        for fields in searcher.all_stored_fields():
            path = fields["path"]
            indexed.add(path)
            if not os.path.exists(path):
                writer.delete_by_term("path", path)
                deleted += 1
            elif os.path.getmtime(path) > fields["mtime"]:
                changed.add(path)
        added = 0
        for path in post_paths(source_dir):
            if path in changed:
                writer.update_document(**parse_post(path))
            elif path not in indexed:
                writer.add_document(**parse_post(path))
                added += 1
        writer.commit()
    return added, len(changed), deleted


def open_index(index_dir):
    """Open the baseline index."""
    return index.open_dir(index_dir)


def _date_clause(date_from, date_to):
    """Whoosh query syntax for a date range (``YYYYMMDD`` bounds)."""
    lo = date_from.strftime("%Y%m%d") if date_from else ""
    hi = date_to.strftime("%Y%m%d") if date_to else ""
    return f" date:[{lo} TO {hi}]"


def search(ix, q, category=None, date_from=None, date_to=None, limit=10):
    """One search as a typical web handler does it: total, 10 hits with snippets, category facet."""
    if date_from or date_to:
        q += _date_clause(date_from, date_to)
    with ix.searcher() as searcher:
        query = MultifieldParser(["title", "content"], ix.schema).parse(q)
        facet = sorting.FieldFacet("category", allow_overlap=True)
        flt = Term("category", category) if category else None
        results = searcher.search(query, limit=limit, filter=flt, groupedby=facet)
        # groupedby makes Whoosh collect every match, so iterating `results` would yield
        # them all; a results page shows the first `limit`.
        hits = [
            {"path": hit["path"], "title": hit["title"], "snippet": hit.highlights("content")}
            for hit in results[:limit]
        ]
        groups = results.groups("category").items()
        facets = dict(sorted(((name, len(docs)) for name, docs in groups), key=lambda kv: -kv[1]))
        return {"total": len(results), "hits": hits, "facets": facets}
