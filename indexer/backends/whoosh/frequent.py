"""The postings of each segment's frequent terms, kept in a file of our own beside it.

Whoosh keeps a term's postings as pickled blocks; decoding them costs about a
microsecond per posting, so a term in half the archive (经济 in 110,000 of
200,000 posts, in several fields) took half a second to read on the first
query that had it, and again after every commit. Those terms are few (about 1
in 10 of a segment's terms) but hold most of its postings, and a segment never
changes: so the writer keeps, for each segment, the terms of its word, char
and bigram fields that are in at least FREQUENT_SHARE of its documents, as
serialized compressed bitmaps (pyroaring) or, when smaller, one bit per
document, with the word fields' weights as a small-integer array (the weights
BM25 reads; char fields are scored only for clauses without words, and read
their weights from Whoosh). Reading one is a file read and a decoding in C.

The same file keeps the segment's lexicon of words (every term of the word
fields with its document frequency): the vocabulary spelling corrections and
pinyin readings look words up in, read in a fraction of a second instead of by
walking Whoosh's term tables (8 s at 200,000 posts).

The file (``frequent-<segment id>.bin``) is::

    header   "ZHFP", format (uint32), documents (uint64), terms (uint64), lexicon length (uint64)
    keys     uint64[terms], sorted: a 64-bit hash of field and term
    starts   uint64[terms + 1]: where each term's record starts (and the last ends)
    records  per term: name length (uint32), docs length (uint32), docs code
             (uint8: DOCS_*), weight code (uint8: WEIGHTS_*), 2 bytes unused,
             weight scale (float32), the name (field and term: "field\\0term"
             in UTF-8), the docs, the weights
    lexicon  per field of LEXICON_FIELDS: words (uint64), their bytes (uint64),
             document frequencies (uint32[words]), the words (UTF-8, "\\n" after each)

A record's name is compared on reading, so a hash collision never
returns another term's postings. The docs are the segment's docnums,
deleted ones included (deletions are the index state's, not the segment's).
A segment without the file (an older index, a full disk, a reader racing the
writer) or a term not in it is read from Whoosh's postings, as before: the
file only saves time.
"""

import hashlib
import math
import os
import struct
from pathlib import Path

import numpy as np
from pyroaring import BitMap

from . import adapter, segment_files
from .schema import BIGRAM_FIELDS, CHARS_COLUMN_FIELDS
from .tables import bitmap

FREQUENT_FILE = "frequent-{}.bin"
FREQUENT_FORMAT = 1
_MAGIC = b"ZHFP"
_HEADER = struct.Struct("<4sIQQQ")
_LEXICON_HEAD = struct.Struct("<QQ")
_RECORD = struct.Struct("<IIBB2xf")

# A term is kept when it is in this share of its segment's documents (and in MIN_DOCS or more):
# reading the postings of a rarer one from Whoosh costs at most a few milliseconds over a whole archive.
FREQUENT_SHARE = 0.01
MIN_DOCS = 64

# The fields whose frequent terms are kept: the word fields, the char fields and their bigram twins;
# and those whose weights are kept with them.
FIELDS = ("title", "content", *CHARS_COLUMN_FIELDS, *BIGRAM_FIELDS.values())
WEIGHTED_FIELDS = ("title", "content")
# The fields whose whole lexicon is kept.
LEXICON_FIELDS = ("title", "content")

# How a record keeps its docs: a serialized BitMap, or one bit per document of the segment
# (np.packbits, little bit order): smaller for a term in more than 1 in 16 documents.
DOCS_BITMAP, DOCS_BITS = 0, 1

# How a record keeps its weights: none (a field that is not scored), as multiples of the
# record's scale in uint8 or uint16 (Whoosh's weights are a count times the field's boost),
# or as they are (float32).
WEIGHTS_NONE, WEIGHTS_U8, WEIGHTS_U16, WEIGHTS_F32 = 0, 1, 2, 3
_WEIGHT_TYPES = {WEIGHTS_U8: np.uint8, WEIGHTS_U16: np.uint16, WEIGHTS_F32: np.float32}


def term_key(name):
    """The 64-bit key of a record's name (``field\\0term`` as UTF-8 bytes)."""
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "little")


def _name(field, text):
    return f"{field}\0{text}".encode()


def _weights(values):
    """(weight code, scale, bytes) for a term's weights (float32 array)."""
    if not len(values):
        return WEIGHTS_NONE, 0.0, b""
    scale = float(values.min())
    if scale > 0:
        counts = np.rint(values / np.float32(scale))
        if np.array_equal((counts * np.float32(scale)).astype(np.float32), values):
            for code in (WEIGHTS_U8, WEIGHTS_U16):
                if counts.max() <= np.iinfo(_WEIGHT_TYPES[code]).max:
                    return code, scale, counts.astype(_WEIGHT_TYPES[code]).tobytes()
    return WEIGHTS_F32, 0.0, values.astype(np.float32).tobytes()


def _docs(ids, size):
    """(docs code, bytes) for a term's docnums (ascending uint32) in a segment of `size` documents."""
    docs = bitmap(ids)
    docs.run_optimize()
    serialized = docs.serialize()
    if len(serialized) <= (size + 7) // 8:
        return DOCS_BITMAP, serialized
    bits = np.zeros(size, dtype=bool)
    bits[ids] = True
    return DOCS_BITS, np.packbits(bits, bitorder="little").tobytes()


def read_docs(kind, data, size):
    """The docnums (ascending uint32 array) that _docs wrote as (`kind`, `data`) for a segment of `size`."""
    if kind == DOCS_BITS:
        bits = np.unpackbits(np.frombuffer(data, np.uint8), count=size, bitorder="little")
        return np.flatnonzero(bits).astype(np.uint32)
    return np.frombuffer(BitMap.deserialize(data).to_array(), dtype=np.uint32)


def read_weights(code, scale, data):
    """The weights (float32 array) that _weights wrote as (`code`, `scale`, `data`)."""
    values = np.frombuffer(data, dtype=_WEIGHT_TYPES[code])
    return values if code == WEIGHTS_F32 else values.astype(np.float32) * np.float32(scale)


def segment_records(leaf):
    """([(key, record bytes)] of a segment's frequent terms sorted by key, lexicon bytes): see the module docstring."""
    size = leaf.doc_count_all()
    least = max(MIN_DOCS, FREQUENT_SHARE * size)
    records, lexicon = [], []
    for field in FIELDS:
        if field not in leaf.schema:
            continue
        weighted = field in WEIGHTED_FIELDS and leaf.schema[field].scorable
        words, counts = [], []
        for text, frequency, ids, weights in adapter.field_postings(leaf, field, least, weighted):
            if field in LEXICON_FIELDS:
                words.append(text)
                counts.append(frequency)
            if ids is None:
                continue
            code, scale, weight_bytes = _weights(weights) if weighted else (WEIGHTS_NONE, 0.0, b"")
            kind, docs_bytes = _docs(ids, size)
            name = _name(field, text)
            head = _RECORD.pack(len(name), len(docs_bytes), kind, code, scale)
            records.append((term_key(name), head + name + docs_bytes + weight_bytes))
        if field in LEXICON_FIELDS:
            lexicon.append(_lexicon_bytes(words, counts))
    records.sort(key=lambda record: record[0])
    # A key two names share (a hash collision) is kept for neither: both are read from Whoosh.
    keys = [key for key, _ in records]
    shared = {key for i, key in enumerate(keys) if (i and keys[i - 1] == key)}
    return [record for record in records if record[0] not in shared], b"".join(lexicon)


def _lexicon_bytes(words, counts):
    text = "".join(f"{word}\n" for word in words).encode("utf-8")
    return _LEXICON_HEAD.pack(len(words), len(text)) + np.array(counts, dtype=np.uint32).tobytes() + text


def read_lexicon(data):
    """{field: {word: documents}} from a file's lexicon bytes (see _lexicon_bytes)."""
    lexicon, at = {}, 0
    for field in LEXICON_FIELDS:
        count, size = _LEXICON_HEAD.unpack_from(data, at)
        at += _LEXICON_HEAD.size
        counts = np.frombuffer(data, np.uint32, count, at).tolist()
        at += 4 * count
        words = bytes(data[at : at + size]).decode("utf-8").split("\n")[:-1]
        at += size
        if len(words) != count:  # a word with a line break in it: the words cannot be told apart
            raise ValueError(f"{count} words of field {field} expected, {len(words)} read")
        lexicon[field] = dict(zip(words, counts))
    return lexicon


def write_segment_postings(folder, leaf):
    """Write a segment's frequent postings beside it (atomically: a reader sees the whole file or none)."""
    records, lexicon = segment_records(leaf)
    keys = np.array([key for key, _ in records], dtype=np.uint64)
    starts = np.zeros(len(records) + 1, dtype=np.uint64)
    at = _HEADER.size + keys.nbytes + starts.nbytes
    for i, (_, record) in enumerate(records):
        starts[i] = at
        at += len(record)
    starts[-1] = at
    head = _HEADER.pack(_MAGIC, FREQUENT_FORMAT, leaf.doc_count_all(), len(records), len(lexicon))
    path = Path(folder) / FREQUENT_FILE.format(adapter.segment_id(leaf))
    records = [record for _, record in records]
    segment_files.write_whole(path, [head, keys.tobytes(), starts.tobytes(), *records, lexicon])


def keep_frequent_postings(folder, reader):
    """Write the frequent postings of the segments that have none; delete those of segments gone (the writer's)."""
    segment_files.keep(
        folder,
        reader,
        FREQUENT_FILE,
        lambda folder, leaf: SegmentPostings.open(folder, leaf) is not None,
        # Looked up when called: tests stand in a failing writer.
        lambda folder, leaf: write_segment_postings(folder, leaf),
        "frequent postings",
    )


class SegmentPostings:
    """The frequent postings kept for one segment (read on demand, one positioned read per term).

    Holds the file open (a descriptor, read with os.pread: safe from several
    threads) until it is collected, as Whoosh's readers hold a segment's files;
    a file the writer deletes meanwhile is still read whole.
    """

    def __init__(self, path, fd, size, keys, starts, lexicon_size):
        self.path = path
        self._fd = fd
        self.size = size
        self._keys = keys
        self._starts = starts
        self._lexicon_size = lexicon_size

    def __del__(self):
        fd, self._fd = getattr(self, "_fd", None), None
        if fd is not None:
            os.close(fd)

    def _read(self, start, end):
        data = os.pread(self._fd, end - start, start)
        if len(data) != end - start:
            raise OSError(f"{self.path} is shorter than its directory says")
        return data

    @classmethod
    def open(cls, folder, leaf):
        """The segment's kept postings, or None when there is no file or it is not this segment's."""
        segment = adapter.segment_id(leaf)
        if segment is None:
            return None
        path = Path(folder) / FREQUENT_FILE.format(segment)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            magic, version, docs, count, lexicon_size = _HEADER.unpack(os.pread(fd, _HEADER.size, 0))
            if magic != _MAGIC or version != FREQUENT_FORMAT or docs != leaf.doc_count_all():
                raise ValueError("not this segment's file")
            directory = os.pread(fd, 16 * count + 8, _HEADER.size)
            if len(directory) != 16 * count + 8:
                raise ValueError("a short file")
            keys = np.frombuffer(directory, dtype=np.uint64, count=count)
            starts = np.frombuffer(directory, dtype=np.uint64, offset=8 * count)
            if int(starts[-1]) + lexicon_size != os.fstat(fd).st_size:
                raise ValueError("a short file")
        except (OSError, ValueError, struct.error):
            os.close(fd)
            return None
        return cls(path, fd, docs, keys, starts, lexicon_size)

    def lexicon(self):
        """{field: {word: documents}} of LEXICON_FIELDS (deleted documents counted, as Whoosh counts them),
        or None when the file cannot be read."""
        start = int(self._starts[-1])
        try:
            return read_lexicon(self._read(start, start + self._lexicon_size))
        except (OSError, ValueError, struct.error):
            return None

    def read(self, field, text, weights=False):
        """(docnums as a uint32 array, ascending; weights as a float32 array or None) of a kept term,
        or None when it is not kept (or `weights` are asked for and not kept with it).
        """
        name = _name(field, text)
        key = np.uint64(term_key(name))
        at = int(np.searchsorted(self._keys, key))
        if at >= len(self._keys) or self._keys[at] != key:
            return None
        start, end = int(self._starts[at]), int(self._starts[at + 1])
        try:
            data = self._read(start, end)
        except OSError:
            return None
        name_size, docs_size, kind, code, scale = _RECORD.unpack_from(data)
        at = _RECORD.size
        if data[at : at + name_size] != name:
            return None  # another term with the same key
        if weights and code == WEIGHTS_NONE:
            return None
        at += name_size
        docs = read_docs(kind, data[at : at + docs_size], self.size)
        return docs, (read_weights(code, scale, data[at + docs_size :]) if weights else None)


class FrequentPostings:
    """The postings of a term over all segments of an index state: kept ones read from the files, others decoded.

    Global docnums (a segment's base added), deleted documents dropped. Made
    once per index state and shared by the threads searching it: each passes
    its own reader (Whoosh readers are not shared between threads) for the
    terms to decode, and reads of the files are thread-safe.
    """

    def __init__(self, reader, folder=None):
        """:param folder: the index folder, where the writer keeps the files (None: decode every term)."""
        self._segments = []  # (segment id, SegmentPostings or None, deleted docnums as a sorted uint32 array)
        for leaf, _ in reader.leaf_readers():
            kept = SegmentPostings.open(folder, leaf) if folder is not None else None
            deleted = np.fromiter(sorted(leaf.deleted_docs_set), dtype=np.uint32) if leaf.has_deletions() else None
            self._segments.append((adapter.segment_id(leaf), kept, deleted))

    @property
    def kept_segments(self):
        """How many of the state's segments have their frequent postings kept."""
        return sum(kept is not None for _, kept, _ in self._segments)

    def _leaves(self, reader):
        """(leaf, base, SegmentPostings or None, deleted docnums or None) of `reader`, a reader of this state."""
        leaves = reader.leaf_readers()
        if [adapter.segment_id(leaf) for leaf, _ in leaves] != [segment for segment, _, _ in self._segments]:
            raise ValueError("The reader is not one of this index state.")
        return [(leaf, base, kept, deleted) for (leaf, base), (_, kept, deleted) in zip(leaves, self._segments)]

    def docs(self, reader, field, text):
        """Live docnums having `text` in `field`, as a BitMap (`reader`: the calling thread's, of this state)."""
        found = BitMap()
        for leaf, base, kept, deleted in self._leaves(reader):
            got = kept.read(field, text) if kept is not None else None
            ids = got[0] if got is not None else adapter.posting_ids(leaf, field, text)
            if not len(ids):
                continue
            if deleted is not None:
                ids = ids[~np.isin(ids, deleted, assume_unique=True)]
            found |= bitmap(ids + np.uint32(base) if base else ids)
        return found

    def vocabulary(self, reader):
        """{word: posts} over LEXICON_FIELDS (the larger count of the fields), from the kept lexicons.

        A segment without one is read from Whoosh's term table, a term at a time.
        """
        counts = {field: {} for field in LEXICON_FIELDS}
        for leaf, _, kept, _ in self._leaves(reader):
            lexicon = kept.lexicon() if kept is not None else None
            if lexicon is None:
                lexicon = {field: _whoosh_lexicon(leaf, field) for field in LEXICON_FIELDS}
            for field, words in lexicon.items():
                total = counts[field]
                if not total:
                    total.update(words)
                    continue
                for word, n in words.items():
                    total[word] = total.get(word, 0) + n
        words = {}
        for total in counts.values():
            if not words:
                words.update(total)
                continue
            for word, n in total.items():
                if n > words.get(word, 0):
                    words[word] = n
        return words

    def arrays(self, reader, field, text):
        """(live docnums uint32, weights float32) of `text` in `field`, in docnum order (`reader`: as for docs)."""
        docs, weights = [], []
        for leaf, base, kept, deleted in self._leaves(reader):
            got = kept.read(field, text, weights=True) if kept is not None else None
            ids, values = got if got is not None else adapter.posting_arrays(leaf, field, text)
            if deleted is not None and len(ids):
                keep = ~np.isin(ids, deleted, assume_unique=True)
                ids, values = ids[keep], values[keep]
            docs.append(ids + np.uint32(base))
            weights.append(values)
        if not docs:
            return np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.float32)
        return np.concatenate(docs), np.concatenate(weights)


def _whoosh_lexicon(leaf, field):
    """{word: documents} of a field in one segment, from Whoosh's term table."""
    if field not in leaf.schema:
        return {}
    return {text: frequency for text, frequency, _, _ in adapter.field_postings(leaf, field, math.inf, False)}
