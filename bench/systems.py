"""One adapter per system under test, so the worker drives both the same way.

Each adapter has ``build``, ``update`` (both return counts), ``open`` and
``search(ix, spec)`` (returns ``{"total", "hits", "facets"}`` with snippets made).
"""

from dataclasses import asdict, is_dataclass
from datetime import date


def _day(value):
    """ISO date string (or None) to a ``date``."""
    return date.fromisoformat(value) if value else None


class Baseline:
    """The copy-paste Whoosh + jieba recipe in ``bench/baseline.py``."""

    name = "baseline"

    def __init__(self):
        from bench import baseline

        self.impl = baseline

    def build(self, source, index_dir, jobs=None):
        return {"added": self.impl.build(source, index_dir)}

    def update(self, source, index_dir, jobs=None):
        added, updated, deleted = self.impl.update(source, index_dir)
        return {"added": added, "updated": updated, "deleted": deleted}

    def open(self, index_dir):
        return self.impl.open_index(index_dir)

    def search(self, ix, spec):
        return self.impl.search(
            ix,
            spec["q"],
            category=spec["category"],
            date_from=_day(spec["date_from"]),
            date_to=_day(spec["date_to"]),
        )


def _report_counts(report):
    """The JSON-friendly fields of a ``ReindexReport``."""
    data = asdict(report) if is_dataclass(report) else dict(vars(report))
    keep = ("added", "updated", "deleted", "unchanged", "failed", "seconds")
    return {k: (len(v) if isinstance(v, (list, tuple)) else v) for k, v in data.items() if k in keep}


class Ours:
    """zhsearch, through its public API only."""

    name = "ours"

    def __init__(self):
        import indexer

        self.impl = indexer

    def build(self, source, index_dir, jobs=None):
        return _report_counts(self.impl.reindex(source, index_dir, full=True, jobs=jobs))

    def update(self, source, index_dir, jobs=None):
        return _report_counts(self.impl.reindex(source, index_dir, full=False, jobs=jobs))

    def open(self, index_dir):
        return self.impl.open_index(index_dir)

    def search(self, ix, spec):
        page = ix.search(
            spec["q"],
            page=1,
            per_page=10,
            category=spec["category"],
            date_from=_day(spec["date_from"]),
            date_to=_day(spec["date_to"]),
            sort="relevance",
        )
        hits = [{"path": h.path, "title": h.title, "snippet": h.snippet} for h in page.hits]
        return {"total": page.total, "hits": hits, "facets": dict(page.facets), "note": page.note}


SYSTEMS = {"ours": Ours, "baseline": Baseline}
