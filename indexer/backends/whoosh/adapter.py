"""Every use of a private Whoosh name, in one place.

zhsearch relies on Whoosh internals for speed and for parallel writing; they
are not part of Whoosh's API and may change in any release (the dependency is
pinned below the next minor version). tests/test_whoosh_adapter.py pins the
contract of each function here, so an upgrade breaks this file loudly rather
than the backend quietly.

- Segments written by worker processes and committed together: the same
  calls Whoosh's own ``MpWriter`` makes (``_finalize_segment``,
  ``_merge_segments``, ``_commit_toc``, ``_finish``).
- Posting lists read a block at a time (``leaf._terms``, ``W3LeafMatcher``'s
  block decoding) instead of a posting at a time.
- Postings built directly in Whoosh's byte formats for pre-analysed tokens.
"""

from collections import Counter

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound
from whoosh.system import pack_uint
from whoosh.util.text import utf8encode

# ── writing segments ────────────────────────────────────────────────────────


def finalize_segment(writer):
    """Write out a SegmentWriter's segment and return it, without committing (for a parent to commit)."""
    return writer._finalize_segment()


def discard_segment(writer):
    """Close a SegmentWriter without its documents, leaving the index's shared temp folder alone.

    ``SegmentWriter.cancel()`` would destroy ``<index>.tmp``, which every
    writer of the index (the parent and the other workers) shares.
    """
    writer._close_segment()
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


def posting_blocks(leaf, field, text):
    """Yield the document ids of a term in one segment, a block (list) at a time; nothing if absent."""
    if not hasattr(leaf, "_terms"):  # an index of no segments reads through an EmptyReader
        return
    try:
        matcher = leaf._terms.matcher(field, leaf._text_to_bytes(field, text), leaf.schema[field].format)
    except TermNotFound:
        return
    if isinstance(matcher, W3LeafMatcher):
        # Whoosh's own block decoding, without its per-posting method calls.
        while matcher.is_active():
            matcher._read_ids()
            yield matcher._ids
            matcher._next_block()
        return
    ids = []
    while matcher.is_active():  # short lists inlined in the term index
        ids.append(matcher.id())
        matcher.next()
    yield ids


# ── building postings ───────────────────────────────────────────────────────


def char_postings(chars, boost):
    """Postings of a Frequency-format field for pre-analysed characters: (term, freq, weight, value)."""
    return ((utf8encode(char)[0], freq, freq * boost, pack_uint(freq)) for char, freq in Counter(chars).items())


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
