"""The embedded backend's write side: generations of Whoosh indexes in one folder (see store.py).

Incremental batches update the live generation in place: Whoosh's commit is
atomic, so searchers see the old or the new state, never half. A full batch
builds a new generation beside the live one and switches ``CURRENT`` only
when it is complete, so an interrupted run leaves the old one answering.

Posts are added through parts: each part (in a worker process, or in the
writing process) writes Whoosh segments of its own, one per SEGMENT_DOCS
posts, and the writing process commits them all at once with its deletions.
Beside each segment, files of our own save readers work: its frequent terms'
postings (frequent.py; written by the part that wrote the segment) and its
per-post tables (tables.py; written at commit).
"""

import logging
import shutil
from datetime import timezone
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from ... import store
from ...engine import IndexWriter, PartWriter
from ...errors import IndexCorruptError, IndexNotFoundError, IndexVersionError, SearchEngineError
from ...models import feed_of
from . import adapter, frequent, tables
from .schema import BIGRAM_FIELDS, CHARS_COLUMN_FIELDS, build_schema, outdated_message

log = logging.getLogger(__name__)

# Posts per segment written by a part. Every segment costs each query a term
# lookup per term, and each term's postings carry a block header per segment, so
# an archive needs few, large segments: 200,000 posts make about 20.
SEGMENT_DOCS = 10_000

# Memory Whoosh's writer may use for its posting pool before spilling a sorted
# run to disk (merged when the segment is written), in MB: bounds a worker's memory.
WRITER_LIMIT_MB = 192

# Segments of fewer posts than this are small: what incremental runs leave.
SMALL_SEGMENT_DOCS = 1000

# Small segments tolerated before they are merged.
MAX_SMALL_SEGMENTS = 8

# A segment with more than this share of deleted posts is rewritten without them
# at the next commit (Whoosh only drops deleted posts when it merges a segment).
MAX_DELETED_SHARE = 0.25

# Index bytes per byte of post files, to estimate the size of a first build
# (10,000 and 20,000 posts: about 6; small posts cost more).
INDEX_BYTES_PER_SOURCE_BYTE = 7

# A build needs about this many times its final size free while it runs (segments
# are written, then merged and compounded, before the parts are removed).
BUILD_SPACE_FACTOR = 2


class WhooshWriter(IndexWriter):
    """Write the embedded index in `index_dir` (created if missing)."""

    def __init__(self, index_dir):
        self.index_dir = Path(index_dir)
        self._lock = store.WriterLock(self.index_dir)
        self._live = None  # (generation, folder) or None
        self._gen_dir = None  # folder of the batch
        self._generation = None
        self._full = False
        self._user_dict = None
        self._blobs = {}
        self._committed = False
        self._needed = None  # bytes the batch was estimated to need

    @property
    def location(self):
        """How reports name the index: its folder."""
        return str(self.index_dir)

    def __enter__(self):
        self._lock.__enter__()
        try:
            try:
                self._live = store.current_generation(self.index_dir)
            except (IndexNotFoundError, IndexCorruptError):
                self._live = None  # a damaged CURRENT: only a full build can follow
            self._remove_leftovers()
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            if exc_type is not None and not self._committed and self._gen_dir is not None:
                self._discard_batch()
        finally:
            self._lock.__exit__(exc_type, exc, tb)
        if isinstance(exc, OSError) and exc.errno in store.NO_SPACE:
            # A full disk, wherever it struck (a worker, the commit, the switch): one clear error.
            raise store.disk_full_error(self.index_dir, self._needed) from exc

    def _remove_leftovers(self):
        """Delete what failed or killed runs left, before this run writes anything."""
        store.remove_stale_generations(self.index_dir, keep_previous=True)
        if self._live:
            _remove_unreferenced(self._live[1])

    def _discard_batch(self):
        """Remove what an uncommitted batch wrote: its generation, or its segments in the live one."""
        if self._full:
            store.clear(self._gen_dir)
        else:
            _remove_unreferenced(self._gen_dir)

    def live_meta(self):
        return store.read_meta(self._live[1]) if self._live else None

    def live_user_dict(self):
        return store.stored_user_dict(self._live[1]) if self._live else None

    def read_blob(self, name):
        return store.read_blob(self._live[1], name) if self._live else None

    def stage_blob(self, name, text):
        self._blobs[name] = text

    def signatures(self):
        """Map path → signature for every live document, read from columns (no stored fields)."""
        if not self._live:
            return {}
        gen_dir = self._live[1]
        try:
            ix = adapter.open_index_dir(gen_dir)
            with ix.reader() as reader:
                if not reader.doc_count_all():
                    return {}
                found = {}
                for leaf, _ in reader.leaf_readers():
                    paths, sigs = adapter.text_column(leaf, "path"), adapter.text_column(leaf, "sig")
                    found.update((paths[docnum], sigs[docnum]) for docnum in leaf.all_doc_ids())
                return found
        except SearchEngineError:
            raise
        except Exception as exc:
            damaged = adapter.damaged_file(gen_dir)
            if damaged is None:
                raise
            raise store.corrupt_error(self.index_dir, damaged, exc) from exc

    def begin(self, full, user_dict=None, source_bytes=0):
        self._full = full or not self._live
        if self._full:
            store.remove_stale_generations(self.index_dir)
            self._check_space(source_bytes)
            self._generation = (self._live[0] if self._live else 0) + 1
            self._gen_dir = store.generation_dir(self.index_dir, self._generation)
            store.clear(self._gen_dir)
            self._gen_dir.mkdir()
            if user_dict is not None:
                shutil.copyfile(user_dict, self._gen_dir / store.USER_DICT_FILE)
            whoosh_index.create_in(str(self._gen_dir), build_schema())
        else:
            ix = adapter.open_index_dir(self._live[1])
            outdated = outdated_message(ix.schema, self.index_dir)
            ix.close()
            if outdated:
                raise IndexVersionError(outdated)
            store.remove_stale_generations(self.index_dir, keep_previous=True)  # e.g. left by a killed --full
            self._generation, self._gen_dir = self._live
        self._user_dict = store.stored_user_dict(self._gen_dir)

    @property
    def generation(self):
        return self._generation

    @property
    def user_dict(self):
        return self._user_dict

    def part_spec(self):
        return ("whoosh", str(self._gen_dir))

    def part(self):
        return WhooshPart(str(self._gen_dir))

    def _check_space(self, source_bytes):
        """Raise DiskFullError before a full build that would not fit beside the live index.

        The new generation will be about the size of the live one; a first build
        is estimated from the size of the posts.
        """
        final = store.folder_size(self._live[1]) if self._live else source_bytes * INDEX_BYTES_PER_SOURCE_BYTE
        self._needed = BUILD_SPACE_FACTOR * final
        if shutil.disk_usage(self.index_dir).free < self._needed:
            raise store.disk_full_error(self.index_dir, self._needed)

    def commit(self, tokens, replaced, deleted, meta, optimize=False):
        ix = adapter.open_index_dir(self._gen_dir)
        writer = adapter.spill_in_chunks(ix.writer(limitmb=WRITER_LIMIT_MB))
        try:
            for path in (*replaced, *deleted):
                writer.delete_by_term("path", path)
            adapter.commit_with_segments(writer, [s for segments in tokens for s in segments], _merge_small_segments)
        except BaseException:
            writer.cancel()
            raise
        if optimize:
            ix.optimize()  # one segment, no deleted posts
        with ix.reader() as reader:
            # Before readers see a new generation; for segments the parts kept none of (merged ones).
            tables.keep_segment_tables(self._gen_dir, reader)
            frequent.keep_frequent_postings(self._gen_dir, reader)
        ix.close()
        for name, text in self._blobs.items():
            store.write_atomic(store.blob_path(self._gen_dir, name), text)
        self._committed = not self._full  # a full batch counts once CURRENT names it
        store.write_meta(
            self._gen_dir, {**(store.read_meta(self._gen_dir) or {}), **meta, "generation": self._generation}
        )
        if self._full:
            # The switch: searchers opening the index from now on see the new generation.
            store.switch(self.index_dir, self._gen_dir)
            self._committed = True
            store.remove_stale_generations(self.index_dir, keep_previous=True)


class WhooshPart(PartWriter):
    """Writes added posts into new segments of a generation (one per SEGMENT_DOCS posts)."""

    def __init__(self, gen_dir):
        self.gen_dir = gen_dir
        self.ix = adapter.open_index_dir(gen_dir)
        self.schema = self.ix.schema
        self.segments = []
        self.writer = None
        self.added = 0

    def add(self, analysed):
        if self.writer is None:
            # _lk=False: the writing process holds the index lock, as Whoosh's own MpWriter does.
            self.writer = adapter.spill_in_chunks(SegmentWriter(self.ix, _lk=False, limitmb=WRITER_LIMIT_MB))
            self.added = 0
        self.writer.add_document(**document(analysed, self.schema))
        self.added += 1
        if self.added >= SEGMENT_DOCS:
            self._close()

    def _close(self):
        if self.writer is not None:
            segment = adapter.finalize_segment(self.writer)
            self.writer = None
            self.segments.append(segment)
            self._keep_frequent(segment)

    def _keep_frequent(self, segment):
        """Keep the new segment's frequent postings here, in parallel with the other parts, not at commit."""
        reader = SegmentReader(self.ix.storage, self.schema, segment)
        try:
            frequent.write_segment_postings(self.gen_dir, reader)
        except OSError as error:  # the commit tries again; readers decode the postings meanwhile
            log.warning("Could not keep the postings of segment %s (%s).", segment.segment_id(), error)
        finally:
            reader.close()

    def finish(self):
        self._close()
        return self.segments

    def discard(self):
        if self.writer is not None:
            adapter.discard_segment(self.writer)
            self.writer = None
        self.segments = []


def open_part(spec):
    """Make the part described by WhooshWriter.part_spec() (in a worker process)."""
    return WhooshPart(spec[1])


def document(analysed, schema):
    """Return Whoosh add_document() fields for an AnalysedPost, text fields as ready postings."""
    post = analysed.post
    date = post.date.astimezone(timezone.utc).replace(tzinfo=None) if post.date else None
    doc = {
        "id": post.id,
        "path": post.path,
        "sig": analysed.signature,
        "sha256": post.sha256,
        "title": schema["title"].postings(analysed.title_words),
        "_stored_title": post.title,
        "content": schema["content"].postings(analysed.content_words),
        **{field: schema[field].postings(run) for field, run in analysed.chars.items()},
        **{BIGRAM_FIELDS[field]: schema[BIGRAM_FIELDS[field]].postings(run) for field, run in analysed.chars.items()},
        "chars": "\n".join(analysed.chars[field] for field in CHARS_COLUMN_FIELDS).encode("utf-8"),
        "category": ",".join(c.replace(",", " ") for c in post.categories) or None,
        "_stored_category": list(post.categories),
        "month": date.strftime("%Y-%m") if date else None,
        "folder": feed_of(post.path) or None,
        "date": date,
        "body": post.text,
        "tags": list(post.tags),
        "author": post.author,
        "editor": post.editor,
        "image": post.image,
        "feed": post.feed,
    }
    return {k: v for k, v in doc.items() if v is not None}


def _remove_unreferenced(gen_dir):
    """Delete the files in a generation that its TOC does not use (a damaged TOC: leave them)."""
    try:
        leftovers = adapter.unreferenced_files(gen_dir, kept=(tables.SEGMENT_FILE, frequent.FREQUENT_FILE))
    except Exception:  # noqa: BLE001 (a damaged index is reported by whoever reads it)
        return
    for path in [*leftovers, *Path(gen_dir).glob(f"{store.META_FILE}.tmp*")]:
        store.clear(path)


def _merge_small_segments(writer, segments):
    """Whoosh merge policy: fold the small segments incremental runs leave into the new one.

    Whoosh's default (MERGE_SMALL) would, with a few dozen segments of
    SEGMENT_DOCS posts, merge nearly all of them in one incremental run.
    Here segments of SMALL_SEGMENT_DOCS or more stay as they are, and the small
    ones are merged once there are MAX_SMALL_SEGMENTS of them, so an
    incremental run costs about what it indexes. A segment of any size whose
    share of deleted posts passes MAX_DELETED_SHARE is rewritten without
    them, so updates never leave the index mostly dead posts.
    """
    small = [s for s in segments if s.doc_count_all() < SMALL_SEGMENT_DOCS]
    if len(small) < MAX_SMALL_SEGMENTS:
        small = []
    worn = [s for s in segments if s not in small and s.deleted_count() > MAX_DELETED_SHARE * s.doc_count_all()]
    if not small and not worn:
        return segments
    merged = small + worn
    for segment in merged:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in merged]
