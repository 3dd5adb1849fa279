"""One adapter per system under test, so the worker drives them all the same way.

Each adapter has ``build``, ``update`` (both return counts), ``open``,
``search(ix, spec)`` (returns ``{"total", "hits", "facets"}`` with snippets made)
and ``index_bytes`` (``(one copy, all copies)`` of the index right now). The
location is an index folder, or for ``opensearch`` a cluster URL.
"""

import json
import urllib.request
from dataclasses import asdict, is_dataclass
from datetime import date
from pathlib import Path


def dir_bytes(path):
    """Total size of the files under ``path``."""
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


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

    def index_bytes(self, index_dir):
        size = dir_bytes(index_dir)
        return size, size

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

    def open(self, index_dir, **options):
        return self.impl.open_index(index_dir, **options)

    def index_bytes(self, index_dir):
        size = dir_bytes(index_dir)
        return size, size

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


class OpenSearch(Ours):
    """zhsearch on an OpenSearch cluster: the same public API with ``backend="opensearch"``.

    :param index_name: the alias the index lives under on the cluster.
    :param shards: primary shards of the index (a full build creates it).
    :param replicas: replicas of each shard.
    """

    name = "opensearch"

    def __init__(self, index_name="zhsearch-bench", shards=1, replicas=0):
        super().__init__()
        self.index_name = index_name
        self.shards = shards
        self.replicas = replicas

    def _reindex(self, source, url, full, jobs):
        report = self.impl.reindex(
            source,
            url,
            full=full,
            jobs=jobs,
            backend="opensearch",
            index_name=self.index_name,
            shards=self.shards,
            replicas=self.replicas,
        )
        return _report_counts(report)

    def build(self, source, url, jobs=None):
        return self._reindex(source, url, True, jobs)

    def update(self, source, url, jobs=None):
        return self._reindex(source, url, False, jobs)

    def open(self, url):
        return self.impl.open_index(url, backend="opensearch", index_name=self.index_name)

    def index_bytes(self, url):
        """Store size of the index from the cluster's ``_stats``: primaries, and all copies."""
        first = url.split(",")[0].rstrip("/")
        with urllib.request.urlopen(f"{first}/{self.index_name}/_stats/store", timeout=60) as resp:
            stats = json.load(resp)["_all"]
        return stats["primaries"]["store"]["size_in_bytes"], stats["total"]["store"]["size_in_bytes"]


SYSTEMS = {"ours": Ours, "baseline": Baseline, "opensearch": OpenSearch}
