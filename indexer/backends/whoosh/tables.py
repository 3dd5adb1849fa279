"""What one state of the index knows about all of its posts, as bitmaps and arrays.

Built once per index state (a commit or a new generation makes a new one)
from postings and columns, never from stored documents, and kept as compact
structures instead of per-post Python objects: the live posts, each category's
and each feed's posts as compressed bitmaps (pyroaring), the dates as one
NumPy array and the date order as another. Facets are then intersection
counts in C, a date range is a slice of the date order, the newest posts are
the head of it; what a request costs grows with its answer, not the archive.

The bitmaps of a segment never change (deletions are the state's), so the
writer keeps them in a file per segment (``tables-<segment id>.bin``: serialized
BitMaps of each category, feed folder and month); a state's tables are then
read, shifted and joined instead of decoded from posting lists, which took most
of the first query's second at 100,000 posts. The file also keeps the
segment's post ids as sorted 64-bit keys with their docnums, so that posts are
found by id (a story's members, the posts of the ``stories`` blob) with a
binary search instead of a term lookup per id and segment. A segment without
the file (an index from before, or a reader racing the writer) is read from its
postings and its ``path`` column.
"""

import json
import struct
import threading
from array import array
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
from pyroaring import BitMap
from whoosh.util.times import datetime_to_long

from ...models import in_feed, post_id
from . import adapter, segment_files

# The date value of an undated post: sorts after every real date when negated.
NO_DATE = np.iinfo(np.int64).min


def bitmap(values):
    """A BitMap of the docnums in a NumPy array (through a typed array: the fast path)."""
    typed = array("I")
    typed.frombytes(np.ascontiguousarray(values, dtype=np.uint32).tobytes())
    return BitMap(typed)


# The fields whose terms' posts a segment's tables keep, and the file that keeps them.
SEGMENT_FIELDS = ("category", "folder", "month")
SEGMENT_FILE = "tables-{}.bin"
SEGMENT_FORMAT = 2


def id_key(text):
    """The 64-bit key of a post id (16 hex digits: models.post_id), or None for anything else."""
    if len(text) != 16:
        return None
    try:
        return int(text, 16)
    except ValueError:
        return None


def id_keys(ids):
    """The keys of post ids as a uint64 array (an id that is no post id gets a key no post has: 0)."""
    return np.fromiter(((id_key(i) or 0) for i in ids), dtype=np.uint64, count=len(ids))


class Tables:
    """Per-post tables of one reader's view of the index (see the module docstring)."""

    def __init__(self, reader, folder=None):
        """:param folder: the index folder, where the writer keeps each segment's tables (None: read postings)."""
        self.size = reader.doc_count_all()
        self.live = BitMap(range(self.size))
        dates, segments = [], []
        self._ids = []  # (base docnum, sorted id keys, their docnums in the segment) per segment
        for leaf, base in reader.leaf_readers():
            if leaf.has_deletions():
                self.live -= BitMap(base + d for d in leaf.deleted_docs_set)
            dates.append(adapter.numeric_column(leaf, "date"))
            tables = (folder and read_segment_tables(folder, leaf)) or segment_tables(leaf)
            segments.append((base, tables))
            self._ids.append((base, *tables["ids"]))
        joined = {field: _join(segments, field, self.live) for field in SEGMENT_FIELDS}
        dated = BitMap.union(BitMap(), *joined["month"].values())
        self.categories = {name: docs for name, docs in joined["category"].items() if docs}
        self.feeds = {name: docs for name, docs in joined["folder"].items() if docs}
        self.dates = np.concatenate(dates) if dates else np.zeros(0, dtype=np.int64)
        undated = self.live - dated
        if undated:
            self.dates[np.frombuffer(undated.to_array(), dtype=np.uint32)] = NO_DATE
        # Dated live posts, oldest first (ties in index order): date ranges are slices of it.
        with_date = np.frombuffer((self.live & dated).to_array(), dtype=np.uint32)
        self.ascending = with_date[np.argsort(self.dates[with_date], kind="stable")]
        self.ascending_dates = self.dates[self.ascending]
        # Every live post, newest first (undated last, in index order): the empty query's order.
        live = np.frombuffer(self.live.to_array(), dtype=np.uint32)
        self.order = live[_newest_first(live, self.dates[live])]
        self._lock = threading.Lock()
        self._months = {}
        self._feed_sets = {}

    # ── filters ──

    def date_range(self, low, high):
        """Live posts dated from `low` to `high` (naive UTC datetimes, inclusive; None: open)."""
        start = 0 if low is None else np.searchsorted(self.ascending_dates, datetime_to_long(low), side="left")
        end = (
            len(self.ascending)
            if high is None
            else np.searchsorted(self.ascending_dates, datetime_to_long(high), side="right")
        )
        return bitmap(self.ascending[start:end])

    def in_feed(self, prefix):
        """Live posts in the feed folder `prefix` or below it."""
        with self._lock:
            docs = self._feed_sets.get(prefix)
        if docs is None:
            docs = BitMap.union(BitMap(), *(d for feed, d in self.feeds.items() if in_feed(feed, prefix)))
            with self._lock:
                self._feed_sets[prefix] = docs
        return docs

    def with_ids(self, keys):
        """Live docnums of the posts whose id keys (see id_key) are in the uint64 array `keys`."""
        return BitMap(self.locate(keys)[1].tolist()) & self.live

    def locate(self, keys):
        """(positions in `keys`, docnums) of the posts with those keys, deleted ones included.

        A segment holds a path once (``path`` is unique, and a merge copies live
        documents only), so a key matches at most one document per segment; a
        post's replaced versions lie in other segments, deleted.
        """
        found, docnums = [], []
        for base, sorted_keys, docs in self._ids:
            if not len(sorted_keys) or not len(keys):
                continue
            at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
            hit = np.flatnonzero(sorted_keys[at] == keys)
            found.append(hit)
            docnums.append(docs[at[hit]].astype(np.int64) + base)
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(found), np.concatenate(docnums)

    # ── order ──

    def newest(self, docs, offset, limit):
        """Docnums of `docs` from `offset`, at most `limit`, newest first; undated last, in index order."""
        if not docs or limit <= 0:
            return []
        wanted = np.frombuffer(docs.to_array(), dtype=np.uint32)
        if len(wanted) * 16 >= len(self.order):
            # Much of the archive (the empty query, a large category): filter the kept order.
            if len(wanted) == len(self.order):
                return self.order[offset : offset + limit].tolist()
            keep = np.zeros(self.size, dtype=bool)
            keep[wanted] = True
            return self.order[keep[self.order]][offset : offset + limit].tolist()
        return wanted[_newest_first(wanted, self.dates[wanted])[offset : offset + limit]].tolist()

    # ── counts ──

    def months(self, tz):
        """{"YYYY-MM": live posts dated in that month in `tz`}, in month order."""
        zone = getattr(tz, "key", None) or str(tz)
        with self._lock:
            months = self._months.get(zone)
        if months is None:
            months = self._month_sets(tz)
            with self._lock:
                self._months[zone] = months
        return months

    def _month_sets(self, tz):
        if not len(self.ascending):
            return {}
        first, last = (
            _to_datetime(v).replace(tzinfo=timezone.utc).astimezone(tz) for v in self.ascending_dates[[0, -1]]
        )
        months, year, month = {}, first.year, first.month
        while (year, month) <= (last.year, last.month):
            following = (year + month // 12, month % 12 + 1)
            start, end = (
                datetime(y, m, 1, tzinfo=tz).astimezone(timezone.utc).replace(tzinfo=None)
                for y, m in ((year, month), following)
            )
            lo = np.searchsorted(self.ascending_dates, datetime_to_long(start), side="left")
            hi = np.searchsorted(self.ascending_dates, datetime_to_long(end), side="left")
            if hi > lo:
                months[f"{year:04d}-{month:02d}"] = bitmap(self.ascending[lo:hi])
            year, month = following
        return months

    def count_categories(self):
        """{category: live posts} largest first."""
        return dict(sorted(((n, len(d)) for n, d in self.categories.items()), key=lambda item: (-item[1], item[0])))

    def count(self, docs, tz):
        """Counts over `docs`: ({category: n} largest first, {month: n} in order, {feed path: n})."""
        facets = {name: n for name, d in self.categories.items() if (n := docs.intersection_cardinality(d))}
        facets = dict(sorted(facets.items(), key=lambda item: (-item[1], item[0])))
        per_month = {m: n for m, d in self.months(tz).items() if (n := docs.intersection_cardinality(d))}
        per_feed = {feed: n for feed, d in self.feeds.items() if (n := docs.intersection_cardinality(d))}
        return facets, per_month, per_feed


def _newest_first(docs, dates):
    """Positions of `docs` (dates `dates`) newest first; equal dates and undated posts in index order."""
    # lexsort: the last key is the primary one.
    return np.lexsort((docs, np.where(dates == NO_DATE, np.iinfo(np.int64).max, -dates)))


def _join(segments, field, live):
    """{term: live docnums} of `field` over (base docnum, segment tables) pairs."""
    joined = {}
    for base, tables in segments:
        for term, docs in tables[field].items():
            shifted = docs.shift(base) if base else docs
            joined[term] = joined[term] | shifted if term in joined else shifted
    return {term: docs & live for term, docs in joined.items()}


# ── one segment's tables, kept by the writer ──


def segment_tables(leaf):
    """{field: {term: BitMap of the segment's docnums, deleted ones included}} for SEGMENT_FIELDS,
    and "ids": (sorted uint64 id keys, uint32 docnums in that order) of all its posts."""
    tables = {"ids": segment_ids(leaf)}
    for field in SEGMENT_FIELDS:
        terms = tables[field] = {}
        for term in leaf.lexicon(field):
            name = term.decode("utf-8")
            terms[name] = bitmap(adapter.posting_ids(leaf, field, name))
    return tables


def segment_ids(leaf):
    """(sorted uint64 keys of the segment's post ids, uint32 docnums in that order), from its ``path`` column."""
    keys = id_keys([post_id(path) for path in adapter.text_column(leaf, "path")])
    order = np.argsort(keys, kind="stable")
    return keys[order], order.astype(np.uint32)


def write_segment_tables(folder, leaf):
    """Write a segment's tables beside it (atomically: a reader sees the whole file or none)."""
    header, chunks, at = {}, [], 0
    tables = segment_tables(leaf)
    for field in SEGMENT_FIELDS:
        spans = header[field] = {}
        for term, docs in tables[field].items():
            data = docs.serialize()
            spans[term] = [at, len(data)]
            chunks.append(data)
            at += len(data)
    ids = {}
    for name, values in zip(("keys", "docs"), tables["ids"]):
        data = values.tobytes()
        ids[name] = [at, len(data)]
        chunks.append(data)
        at += len(data)
    head = {"format": SEGMENT_FORMAT, "docs": leaf.doc_count_all(), "fields": header, "ids": ids}
    head = json.dumps(head).encode("utf-8")
    path = Path(folder) / SEGMENT_FILE.format(adapter.segment_id(leaf))
    segment_files.write_whole(path, [struct.pack("<Q", len(head)) + head, *chunks])


def read_segment_tables(folder, leaf):
    """A segment's kept tables, or None when there is no file or it is not this segment's."""
    kept = _kept_file(folder, leaf)
    if kept is None:
        return None
    head, body = kept
    tables = {
        field: {term: BitMap.deserialize(body[at : at + n]) for term, (at, n) in head["fields"].get(field, {}).items()}
        for field in SEGMENT_FIELDS
    }
    (key_at, key_n), (doc_at, doc_n) = head["ids"]["keys"], head["ids"]["docs"]
    tables["ids"] = (
        np.frombuffer(body[key_at : key_at + key_n], dtype=np.uint64),
        np.frombuffer(body[doc_at : doc_at + doc_n], dtype=np.uint32),
    )
    return tables


def _kept_file(folder, leaf):
    """(header, bitmaps' bytes) of a segment's tables file, or None when there is none that is this segment's."""
    segment = adapter.segment_id(leaf)
    if segment is None:
        return None
    try:
        data = (Path(folder) / SEGMENT_FILE.format(segment)).read_bytes()
        (size,) = struct.unpack_from("<Q", data)
        head = json.loads(data[8 : 8 + size])
    except (OSError, ValueError, struct.error):
        return None
    if head.get("format") != SEGMENT_FORMAT or head.get("docs") != leaf.doc_count_all():
        return None
    return head, memoryview(data)[8 + size :]


def keep_segment_tables(folder, reader):
    """Write the tables of the segments that have none; delete those of segments gone (the writer's)."""
    segment_files.keep(
        folder,
        reader,
        SEGMENT_FILE,
        lambda folder, leaf: _kept_file(folder, leaf) is not None,
        # Looked up when called: tests stand in a failing writer.
        lambda folder, leaf: write_segment_tables(folder, leaf),
        "tables",
    )


_EPOCH = datetime(1, 1, 1)


def _to_datetime(value):
    """A Whoosh date value (microseconds since datetime.min) as a naive UTC datetime."""
    return _EPOCH + timedelta(microseconds=int(value))


class StoryTable:
    """Which story each post belongs to (stories.py), for one state's Tables.

    Only posts with copies are listed by the ``stories`` blob; every other post
    is a story of its own, named by its id. So the table keeps the listed posts
    only: a bitmap of them, a label per docnum for counting, and each story's
    posts; a post of its own story is found by its id in the Tables.
    """

    def __init__(self, tables, labels):
        """:param tables: the state's Tables; `labels`: {path: story id} of the posts that have copies."""
        self._tables = tables
        self._story = {}  # docnum -> story id, listed posts only
        self.members = {}  # story id -> BitMap of its live docnums
        paths = list(labels)
        at, docnums = tables.locate(id_keys([post_id(path) for path in paths]))
        live = tables.live
        for i, docnum in zip(at.tolist(), docnums.tolist()):
            if docnum in live:
                story = labels[paths[i]]
                self._story[docnum] = story
                self.members.setdefault(story, BitMap()).add(docnum)
        self.listed = BitMap(self._story)
        numbers = {story: n for n, story in enumerate(self.members)}
        self.label = np.full(tables.size, -1, dtype=np.int64)
        for docnum, story in self._story.items():
            self.label[docnum] = numbers[story]

    def of(self, docnum, own_id):
        """The story id of a post whose id is `own_id`."""
        return self._story.get(docnum, own_id)

    def count(self, docs):
        """How many stories the posts `docs` (a BitMap) belong to."""
        listed = docs & self.listed
        if not listed:
            return len(docs)
        labels = self.label[np.frombuffer(listed.to_array(), dtype=np.uint32)]
        labels.sort()  # distinct labels counted without np.unique (its first call imports numpy.ma: 20 ms)
        return len(docs) - len(listed) + 1 + int(np.count_nonzero(np.diff(labels)))

    def docs(self, stories):
        """The live posts of the stories named (ids from `of`)."""
        found = BitMap()
        single = []
        for story in stories:
            members = self.members.get(story)
            if members is not None:
                found |= members
            else:  # a story of one post, named by the post's id
                single.append(story)
        if single:
            found |= self._tables.with_ids(id_keys(single)) - self.listed
        return found
