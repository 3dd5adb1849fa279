"""Every use of a private Whoosh name, in one place.

zhsearch relies on Whoosh internals for speed and for parallel writing; they
are not part of Whoosh's API and may change in any release (the dependency is
pinned below the next minor version). tests/test_whoosh_adapter.py pins the
contract of each function here, so an upgrade breaks this file loudly rather
than the backend quietly.

- Segments written by worker processes and committed together: the same
  calls Whoosh's own ``MpWriter`` makes (``_finalize_segment``,
  ``_merge_segments``, ``_commit_toc``, ``_finish``).
- Postings with their weights, and the field-length columns BM25 reads,
  decoded into arrays (``W3LeafMatcher``'s blocks, ``W3PerDocReader``'s
  length columns) so that a tier is scored at once (scoring.py).
- A text column's offsets (``VarBytesColumn.Reader``, also under stored fields)
  derived from its lengths in C instead of a Python loop: opening the stored
  fields of a 10,000-post segment cost milliseconds, on every first hit in it.
- Numeric columns read as one array (``NumericColumn.Reader``'s file and offsets), and
  text columns in one read (``VarBytesColumn.Reader``'s offsets and lengths); the
  posts of a text column searched for a byte string in runs of neighbouring posts,
  one read per run (``ColumnSearch``).
- Posting lists read in one piece and their blocks decoded by us (``leaf._terms``,
  ``W3LeafMatcher``'s extent, Whoosh 3's block layout), ids summed in NumPy:
  Whoosh reads each block's header in about thirty small reads and decodes its
  ids a posting at a time.
- Postings built directly in Whoosh's byte formats for pre-analysed tokens.
- Building a segment: the posting pool's spilled runs pickled in chunks
  (``PostingPool._write_run``/``_read_run``), and each field's lengths looked up
  once (the per-document reader ``_finalize_segment`` asks).
"""

import io
import pickle
import re
import struct
import zlib
from array import array
from collections import Counter
from itertools import accumulate, chain
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, STORED_COLUMN, WHOOSH3_HEADER_MAGIC, W3LeafMatcher, _lenfield
from whoosh.columns import VarBytesColumn
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.system import pack_uint
from whoosh.util import random_name
from whoosh.util.numeric import byte_to_length
from whoosh.util.text import utf8encode
from whoosh.writing import PostingPool

# ── opening and checking an index folder ─────────────────────────────────────

_TOC = re.compile(r"_MAIN_([0-9]+)\.toc")


class _DroppedFile(io.FileIO):
    """A file that may be closed by the garbage collector, as a memory map would be, without a warning."""

    def _dealloc_warn(self, source):  # called when the buffer around it is collected first
        pass

    def __del__(self):  # when it is collected first
        if not self.closed:
            self.close()


class _ReadingStorage(FileStorage):
    """Whoosh's FileStorage reading files instead of memory-mapping them.

    A map of a file that is truncated while mapped kills the process with
    SIGBUS on the next access; a read just fails (and damaged_file names it).
    Searchers hold their files open until closed or dropped, like maps; so do
    the writers of a batch that failed half way (its files are deleted).
    """

    def __init__(self, path):
        super().__init__(path, supports_mmap=False)

    def open_file(self, name, **kwargs):
        return StructFile(io.BufferedReader(_DroppedFile(self._fpath(name), "rb")), name=name, **kwargs)

    def create_file(self, name, excl=False, mode="wb", **kwargs):
        if excl or self.readonly:
            return super().create_file(name, excl=excl, mode=mode, **kwargs)
        raw = _DroppedFile(self._fpath(name), mode.replace("b", ""))
        buffered = io.BufferedRandom(raw) if "+" in mode else io.BufferedWriter(raw)
        return StructFile(buffered, name=name, **kwargs)

    def temp_storage(self, name=None):
        return _ReadingStorage(str(Path(self.folder) / (name or f"{random_name()}.tmp"))).create()


def open_index_dir(folder):
    """Open a Whoosh index folder (files read, never memory-mapped: see _ReadingStorage)."""
    return _ReadingStorage(str(folder)).open_index()


def damaged_file(folder):
    """Return the path of a file of the index in `folder` that cannot be read as written, or None.

    Checks the table of contents, then each segment: that its files exist and
    are as long as the segment's own directory says, and that it opens.
    """
    folder = Path(folder)
    storage = _ReadingStorage(str(folder))
    try:
        ix = storage.open_index()
        segments = ix._segments()
        schema = ix.schema
    except Exception:  # noqa: BLE001 (any failure to read the TOC means it is damaged)
        tocs = sorted((int(m[1]), p) for p in folder.iterdir() if (m := _TOC.fullmatch(p.name)))
        return tocs[-1][1] if tocs else folder
    for segment in segments:
        name = segment.make_filename(segment.COMPOUND_EXT) if segment.is_compound() else segment.segment_id()
        try:
            if segment.is_compound():
                size = storage.file_length(name)
                compound = segment.open_compound_file(storage)
                try:
                    end = max((sum(compound.range(n)) for n in compound.list()), default=0)
                finally:
                    compound.close()
                if size < end:
                    return folder / name
            SegmentReader(storage, schema, segment).close()
        except Exception:  # noqa: BLE001 (any failure to open a segment means it is damaged)
            return folder / name
    return None


def open_stored_fields(leaf):
    """Open a segment's stored fields (a column of all its documents), as its first stored document would."""
    if hasattr(leaf, "_perdoc") and leaf.doc_count_all():
        leaf._perdoc._cached_reader("_stored", STORED_COLUMN)


def segment_id(leaf):
    """The id of the segment a leaf reader reads (the stem of its files), or None (an empty index's reader)."""
    segment = leaf.segment() if hasattr(leaf, "segment") else None
    return segment.segment_id() if segment is not None else None


def unreferenced_files(folder, kept=()):
    """Files in an index folder that its table of contents does not use: leftovers of failed writes.

    :param kept: name patterns of files kept beside each segment (``"tables-{}.bin"``, the
        segment id in the braces): those of segments not in the TOC, and their
        unfinished ``.tmp`` versions, are leftovers too.
    :raises Exception: whatever Whoosh raises for a damaged TOC.
    """
    ix = open_index_dir(folder)
    try:
        live = {segment.segment_id() for segment in ix._segments()}
        toc = f"_MAIN_{ix.latest_generation()}.toc"
    finally:
        ix.close()
    leftovers = []
    for path in Path(folder).iterdir():
        name = path.name
        if name == "MAIN.tmp" or (
            name.startswith("MAIN_") and name != "MAIN_WRITELOCK" and name.split(".")[0] not in live
        ):
            leftovers.append(path)
        elif _TOC.fullmatch(name) and name != toc:
            leftovers.append(path)
        else:
            for pattern in kept:
                prefix, suffix = pattern.split("{}")
                stem = name.removesuffix(".tmp")
                if stem.startswith(prefix) and stem.endswith(suffix):
                    if stem != name or stem[len(prefix) : len(stem) - len(suffix)] not in live:
                        leftovers.append(path)
    return leftovers


# ── writing segments ────────────────────────────────────────────────────────


def spill_in_chunks(writer):
    """Give a new SegmentWriter a posting pool that spills its sorted runs in chunks; return the writer.

    Whoosh's pool pickles each posting on its own into a run file and reads it back
    the same way: two pickle calls per posting, 17% of a build's time (cProfile of a
    1,000-post build, 1.7 million postings). The same runs written as chunks of
    RUN_CHUNK postings cost one call per chunk; the merge order is unchanged.
    """
    pool = writer.pool
    writer.pool = _ChunkedPostingPool(pool.tempstore, pool.segment, limitmb=pool.limit // (1024 * 1024))
    return writer


# Postings per pickled chunk of a spilled run (about 1 MB by Whoosh's size estimate).
RUN_CHUNK = 4096


class _ChunkedPostingPool(PostingPool):
    def _write_run(self, f, items):
        chunk = []
        for item in items:
            chunk.append(item)
            if len(chunk) == RUN_CHUNK:
                pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
                chunk = []
        if chunk:
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
        f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                yield from pickle.load(f)
        except EOFError:
            return
        finally:
            f.close()
            self._remove_run(path)


def finalize_segment(writer):
    """Write out a SegmentWriter's segment and return it, without committing (for a parent to commit)."""
    per_document_reader = writer.per_document_reader
    writer.per_document_reader = lambda: _SegmentLengths(per_document_reader())
    return writer._finalize_segment()


class _SegmentLengths:
    """A new segment's per-document reader that looks up whether a field has lengths once per field.

    While it writes postings, Whoosh asks each posting's field length; for a field
    without lengths (the bigram fields: Existence format) its reader stats the column
    file every time, not caching the absence: a stat per posting, 12% of a build's
    time (cProfile of a 1,000-post build).
    """

    def __init__(self, reader):
        self._reader = reader
        self._has_lengths = {}

    def doc_field_length(self, docnum, fieldname, default=0):
        known = self._has_lengths.get(fieldname)
        if known is None:
            known = self._has_lengths[fieldname] = self._reader.has_column(_lenfield(fieldname))
        return self._reader.doc_field_length(docnum, fieldname, default) if known else default

    def __getattr__(self, name):
        return getattr(self._reader, name)


def discard_segment(writer):
    """Close a SegmentWriter without its documents, leaving the index's shared temp folder alone.

    ``SegmentWriter.cancel()`` would destroy ``<index>.tmp``, which every
    writer of the index (the parent and the other workers) shares.
    """
    try:
        writer._close_segment()
    except OSError:
        pass  # e.g. a full disk again: the batch's files are deleted anyway
    writer.is_closed = True


def commit_with_segments(writer, segments, mergetype):
    """Commit `writer` (its deletions, additions and merges by `mergetype`) together with `segments`.

    Whoosh's MpWriter multisegment commit: the segments were written by other
    SegmentWriters on the same index and are added to the new table of contents.
    """
    finalsegments = writer._merge_segments(mergetype, False, False)
    finalsegments += segments
    if writer._added:
        finalsegments.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(finalsegments)
    writer._finish()


# ── reading postings ────────────────────────────────────────────────────────


def _term_matcher(leaf, field, text):
    """The raw matcher of a term's postings in one segment, or None if the segment lacks the term."""
    if not hasattr(leaf, "_terms"):  # an index of no segments reads through an EmptyReader
        return None
    try:
        return leaf._terms.matcher(field, leaf._text_to_bytes(field, text), leaf.schema[field].format)
    except TermNotFound:
        return None


def _column_bytes(column, size):
    """The stored bytes of a fixed-width column reader's first `size` documents (fewer if it holds fewer)."""
    count = min(column._count, size)
    return column._dbfile.get(column._basepos, count * column._fixedlen)


def posting_ids(leaf, field, text):
    """The document ids of a term in one segment, ascending, as a uint32 array (empty if absent)."""
    return _postings(leaf, field, text, weights=False)[0]


def numeric_column(leaf, field):
    """A segment's numeric column as a NumPy int64 array, one value per document.

    Documents without a value, and values beyond int64, read as 0 (callers
    know from postings which documents have one). The column's bytes are read
    in one piece; Whoosh's reader unpacks them one document at a time.
    """
    size = leaf.doc_count_all()
    values = np.zeros(size, dtype=np.int64)
    if not size or not leaf.has_column(field):
        return values
    column = leaf.column_reader(field, translate=False)
    raw = np.frombuffer(_column_bytes(column, size), dtype=">" + column._typecode)
    if raw.dtype.kind == "u":
        raw = np.where(raw > np.iinfo(np.int64).max, 0, raw)
    values[: len(raw)] = raw
    return values


def text_column(leaf, field):
    """A segment's variable-length text column as a list of str, one per document ("" for none).

    The column's bytes are read in one piece; Whoosh's reader reads each document's
    bytes from the file on its own (two reads per post: seconds for 200,000 posts).
    """
    size = leaf.doc_count_all()
    if not size or not leaf.has_column(field):
        return [""] * size
    column = leaf.column_reader(field, translate=False)
    if not isinstance(column, VarBytesColumn.Reader):
        return [column[docnum].decode("utf-8") for docnum in range(size)]
    offsets, lengths = column._offsets, column._lengths
    data = column._dbfile.get(column._basepos, max((o + n for o, n in zip(offsets, lengths)), default=0))
    return [data[o : o + n].decode("utf-8") for o, n in zip(offsets, lengths)]


def _read_offsets_and_lengths(self):
    """``VarBytesColumn.Reader._read_offsets_and_lengths`` with offsets from itertools.accumulate.

    Whoosh's own, but for the last step: where the column kept no offsets,
    they are the running sum of the lengths, which Whoosh adds up in Python.
    """
    dbfile, doccount = self._dbfile, self._doccount
    lastbyte = self._basepos + self._length - 1
    lens_code = chr(dbfile.get_byte(lastbyte))
    offsets = None
    if lens_code == "X":
        self.had_stored_offsets = True
        lens_code = chr(dbfile.get_byte(lastbyte - 2))
        offsets_code = chr(dbfile.get_byte(lastbyte - 1))
        offsetstart = (lastbyte - 2) - doccount * struct.calcsize(offsets_code)
        offsets = dbfile.get_array(offsetstart, offsets_code, doccount)
        lastbyte = offsetstart
    lengths = dbfile.get_array(lastbyte - struct.calcsize(lens_code) * doccount, lens_code, doccount)
    if offsets is None:
        offsets = array("L", accumulate(lengths, initial=0))
        offsets.pop()
    self._offsets = offsets
    self._lengths = lengths


WHOOSH_READ_OFFSETS = VarBytesColumn.Reader._read_offsets_and_lengths
VarBytesColumn.Reader._read_offsets_and_lengths = _read_offsets_and_lengths


# A run of posts read in one piece is cut when the next post lies this far beyond
# its end (reading the gap would cost more than another read) or the run is this long.
RUN_GAP_BYTES = 64 * 1024
RUN_MAX_BYTES = 4 * 1024 * 1024


class ColumnSearch:
    """Which posts hold a byte string in one line of their value of a text column (VarBytesColumn).

    A column value is lines of bytes; ``having(docnums, line, needle)`` keeps the
    docnums whose line number `line` contains `needle`. Whoosh reads one post's
    value per call (a seek and a read each: tens of thousands for a common phrase);
    here the sorted docnums of each segment are read in runs of neighbours, one
    read per run, and searched in place (``bytes.find`` within bounds, no copies).
    Keeps per-segment column readers, opened when a segment first has posts to
    check (opening one reads the offsets of all its posts): one per searcher,
    not shared between threads.
    """

    def __init__(self, reader, field):
        self._field = field
        self._segments = []  # (base docnum, end docnum, leaf)
        for leaf, base in reader.leaf_readers():
            self._segments.append((base, base + leaf.doc_count_all(), leaf))
        self._columns = {}  # base docnum -> column reader, or None for a segment without the column

    def _column(self, base, leaf):
        if base not in self._columns:
            has = leaf.doc_count_all() and leaf.has_column(self._field)
            self._columns[base] = leaf.column_reader(self._field, translate=False) if has else None
        return self._columns[base]

    def having(self, docnums, line, needle):
        """Those of `docnums` (ascending ints) whose line `line` holds `needle` (bytes without a newline)."""
        found, at = [], 0
        docnums = list(docnums)
        for base, end, leaf in self._segments:
            start = at
            while at < len(docnums) and docnums[at] < end:
                at += 1
            if start == at:
                continue
            column = self._column(base, leaf)
            if column is None:
                continue
            local = [d - base for d in docnums[start:at]]
            if isinstance(column, VarBytesColumn.Reader):
                found.extend(base + d for d in _search_runs(column, local, line, needle))
            else:
                found.extend(base + d for d in local if _line_has(column[d], 0, None, line, needle))
        return found


def _search_runs(column, docnums, line, needle):
    offsets, lengths = column._offsets, column._lengths
    i = 0
    while i < len(docnums):
        first = docnums[i]
        run_start = offsets[first]
        run_end = run_start + lengths[first]
        j = i + 1
        while j < len(docnums):
            nxt = docnums[j]
            nxt_end = offsets[nxt] + lengths[nxt]
            if offsets[nxt] - run_end > RUN_GAP_BYTES or nxt_end - run_start > RUN_MAX_BYTES:
                break
            run_end = max(run_end, nxt_end)
            j += 1
        data = column._dbfile.get(column._basepos + run_start, run_end - run_start)
        for docnum in docnums[i:j]:
            begin = offsets[docnum] - run_start
            if _line_has(data, begin, begin + lengths[docnum], line, needle):
                yield docnum
        i = j


def _line_has(data, begin, end, line, needle):
    """Whether line `line` of data[begin:end] (lines split at b"\n") contains `needle`."""
    end = len(data) if end is None else end
    for _ in range(line):
        newline = data.find(b"\n", begin, end)
        if newline < 0:
            return False
        begin = newline + 1
    stop = data.find(b"\n", begin, end)
    return data.find(needle, begin, end if stop < 0 else stop) >= 0


def posting_arrays(leaf, field, text):
    """(document ids, weights) of a term in one segment as NumPy arrays (uint32, float32); empty if absent."""
    return _postings(leaf, field, text, weights=True)


def field_postings(leaf, field, least, weights):
    """Yield (term text, document frequency, ids, weights) of every term of `field` in one segment.

    Ids (uint32) only for terms in `least` documents or more, else None; weights
    (float32) with them if `weights`, else None. One walk of the term table:
    each term's postings are read from the extent its entry gives, not looked up again.
    """
    if not hasattr(leaf, "_terms"):  # an index of no segments reads through an EmptyReader
        return
    postfile = leaf._terms._postfile
    for term, info in leaf.iter_field(field):
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        frequency = info.doc_frequency()
        if frequency < least:
            yield text, frequency, None, None
        elif info.is_inlined():
            ids, values, _ = info.inlined_postings()
            yield text, frequency, np.asarray(ids, np.uint32), np.asarray(values, np.float32) if weights else None
        else:
            offset, length = info.extent()
            yield text, frequency, *_decode_blocks(postfile.get(offset, _int(length)), weights)


def _int(value):
    """W3TermInfo.from_bytes leaves the length it unpacks in a 1-tuple."""
    return value[0] if isinstance(value, tuple) else value


def _postings(leaf, field, text, weights):
    matcher = _term_matcher(leaf, field, text)
    if isinstance(matcher, W3LeafMatcher) and not matcher._byteids:
        return _decode_blocks(matcher._postfile.get(matcher._startoffset, _int(matcher._length)), weights)
    ids, values = [], []
    while matcher is not None and matcher.is_active():  # short lists inlined in the term index
        ids.append(matcher.id())
        if weights:
            values.append(matcher.weight())
        matcher.next()
    return np.asarray(ids, dtype=np.uint32), (np.asarray(values, dtype=np.float32) if weights else None)


_BLOCK_LENGTH = struct.Struct("!i")


def _decode_blocks(data, weights):
    """(ids uint32, weights float32 or None) of a posting list in Whoosh 3's block format, read in one piece.

    What ``W3LeafMatcher`` decodes block by block, with its file reads: the
    list is WHOOSH3_HEADER_MAGIC, then blocks of a signed length (negative for
    the last), a pickled info tuple (count, last id, max weight, compression,
    min and max length bytes) and the pickled (maybe zlib-compressed) data
    tuple (ids as deltas, weights: None for all 1.0, one float for all the
    same, or a tuple; values). Here the whole list is one read, the
    ids' deltas are summed in NumPy, and the weights are made arrays at once.
    """
    if data[:4] != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"Block tag error {bytes(data[:4])!r}")
    view, at = memoryview(data), 4
    deltas, counts, block_weights = [], [], []
    while True:
        (length,) = _BLOCK_LENGTH.unpack_from(data, at)
        end = at + 4 + abs(length)
        block = io.BytesIO(view[at + 4 : end])
        count, _last, _most, compression, _low, _high = pickle.load(block)
        body = view[at + 4 + block.tell() : end]
        ids, block_weight, _values = pickle.loads(zlib.decompress(body) if compression else body)
        deltas.append(ids)
        counts.append(count)
        if weights:
            block_weights.append(block_weight)
        if length < 0:
            break
        at = end
    total = sum(counts)
    values = np.fromiter(chain.from_iterable(deltas), dtype=np.int64, count=total)
    # Each block's deltas start from 0: sum them, then take off the sum of the blocks before.
    summed = np.cumsum(values)
    ends = np.cumsum(counts)
    summed -= np.repeat(np.concatenate(([0], summed[ends[:-1] - 1])), counts)
    ids = summed.astype(np.uint32)
    if not weights:
        return ids, None
    parts = [
        np.ones(n, dtype=np.float32)
        if w is None
        else np.full(n, w, dtype=np.float32)
        if isinstance(w, float)
        else np.asarray(w, dtype=np.float32)
        for n, w in zip(counts, block_weights)
    ]
    return ids, np.concatenate(parts)


_BYTE_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


def field_lengths(leaf, field):
    """Each document's length in a scorable field, as Whoosh's BM25 reads it (one byte, decoded), float32."""
    size = leaf.doc_count_all()
    codes = np.zeros(size, dtype=np.uint8)
    if size and hasattr(leaf, "_perdoc"):
        column = leaf._perdoc._cached_reader(_lenfield(field), LENGTHS_COLUMN)
        if column is not None:
            raw = np.frombuffer(_column_bytes(column, size), dtype=np.uint8)
            codes[: len(raw)] = raw
    return _BYTE_LENGTHS[codes]


# ── building postings ───────────────────────────────────────────────────────


def char_postings(chars, boost):
    """Postings of a Frequency-format field for pre-analysed characters: (term, freq, weight, value)."""
    return ((utf8encode(char)[0], freq, freq * boost, pack_uint(freq)) for char, freq in Counter(chars).items())


def bigram_postings(chars, boost):
    """Postings of an Existence-format field for the bigrams of pre-analysed characters."""
    grams = {chars[i : i + 2] for i in range(len(chars) - 1)}
    return ((utf8encode(gram)[0], 1, boost, b"") for gram in grams)


def word_postings(pairs, fmt):
    """Postings of a Positions-format field for (word, position) pairs: (term, freq, weight, value)."""
    positions = {}
    for word, pos in pairs:
        positions.setdefault(word, []).append(pos)
    boost = fmt.field_boost
    return (
        (utf8encode(word)[0], len(poslist), len(poslist) * boost, fmt.encode(poslist))
        for word, poslist in positions.items()
    )


def analysed_postings(fmt, analyzer, value):
    """Postings of any field format through Whoosh's own path (the reference the fast paths must equal)."""
    return (
        (utf8encode(term)[0], freq, weight, encoded)
        for term, freq, weight, encoded in fmt.word_values(value, analyzer, mode="index")
    )
