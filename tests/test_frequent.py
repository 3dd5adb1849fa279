"""The postings of frequent terms that the writer keeps beside each segment (indexer/backends/whoosh/frequent.py).

They only save time: every term read from them must equal what Whoosh's own
postings give (docnums, deletions dropped, and weights), and a missing,
foreign or colliding record must fall back to Whoosh's postings.
"""

import numpy as np
import pytest
from fixture_posts import write_post
from test_exactness import assert_exact

import indexer
from indexer.backends.whoosh import frequent
from indexer.backends.whoosh.frequent import FrequentPostings, SegmentPostings


@pytest.fixture
def keep_every_term(monkeypatch):
    """Keep every term, however rare, so that a small index reads all its postings from the files."""
    monkeypatch.setattr(frequent, "FREQUENT_SHARE", 0.0)
    monkeypatch.setattr(frequent, "MIN_DOCS", 1)


def _changed_archive(demo_dir, tmp_path):
    """An index of the demo posts, then one post deleted and one replaced: two segments, deletions in the first."""
    root = tmp_path / "posts"
    for path in demo_dir.rglob("*.md"):
        target = root / path.relative_to(demo_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    index = tmp_path / "ix"
    indexer.reindex(root, index, jobs=1)
    posts = sorted(root.rglob("*.md"))
    posts[0].unlink()
    write_post(root / "科技", "替换.md", title="替换的一篇", body="<p>课后服务与人工智能的新进展。</p>")
    posts[1].write_text(posts[1].read_text(encoding="utf-8").replace("</p>", "补充一句。</p>", 1), encoding="utf-8")
    indexer.reindex(root, index, jobs=1)
    return indexer.open_index(index)


def _terms(reader, field):
    return sorted({t.decode("utf-8") if isinstance(t, bytes) else t for t in reader.lexicon(field)})


def test_kept_postings_equal_whoosh_postings(keep_every_term, demo_dir, tmp_path):
    ix = _changed_archive(demo_dir, tmp_path)
    gen_dir = ix.engine._live()[1]
    with ix.engine._searcher() as (searcher, _, _):
        reader = searcher.reader()
        segments = len(reader.leaf_readers())
        assert segments == 2 and any(leaf.has_deletions() for leaf, _ in reader.leaf_readers())
        assert len(list(gen_dir.glob("frequent-*.bin"))) == segments
        kept, decoded = FrequentPostings(reader, gen_dir), FrequentPostings(reader)
        assert kept.kept_segments == segments and decoded.kept_segments == 0
        compared = 0
        for field in frequent.FIELDS:
            for text in _terms(reader, field):
                assert kept.docs(reader, field, text) == decoded.docs(reader, field, text), (field, text)
                if field in frequent.WEIGHTED_FIELDS or field in ("title_c", "content_c"):
                    (docs, weights), (want_docs, want_weights) = (
                        kept.arrays(reader, field, text),
                        decoded.arrays(reader, field, text),
                    )
                    assert docs.tolist() == want_docs.tolist() and weights.tolist() == want_weights.tolist()
                compared += 1
        assert compared > 1000
        # The vocabulary (spelling corrections, pinyin) read from the kept lexicons is Whoosh's.
        vocabulary = kept.vocabulary(reader)
        assert vocabulary == decoded.vocabulary(reader) and vocabulary.get("人工智能", 0) > 0
        # Nothing deleted is found: the deleted and the replaced versions' docnums are not live.
        live = ix.engine._tables(searcher, ix.generation).live
        assert kept.docs(reader, "content_c", "的") <= live


def test_search_reading_kept_postings_is_exact(keep_every_term, demo_dir, tmp_path):
    """Totals, facets, filters and date order against a brute-force count, every term read from the files."""
    ix = _changed_archive(demo_dir, tmp_path)
    with ix.engine._searcher() as (searcher, generation, _):
        assert ix.engine._postings(searcher, generation).kept_segments == 2
    assert_exact(ix, seed=5)


def test_a_record_of_another_term_is_never_read(keep_every_term, demo_dir, tmp_path, monkeypatch):
    """Every name sharing one key: the writer keeps none of them, and searches decode them all."""
    monkeypatch.setattr(frequent, "term_key", lambda name: 7)
    ix = _changed_archive(demo_dir, tmp_path)
    gen_dir = ix.engine._live()[1]
    with ix.engine._searcher() as (searcher, _, _):
        reader = searcher.reader()
        for leaf, _ in reader.leaf_readers():
            assert len(SegmentPostings.open(gen_dir, leaf)._keys) == 0
        decoded = FrequentPostings(reader)
        kept = FrequentPostings(reader, gen_dir)
        assert kept.docs(reader, "content", "课后") == decoded.docs(reader, "content", "课后")
    found = ix.search("课后服务", expand=False)
    for path in gen_dir.glob("frequent-*.bin"):
        path.unlink()
    assert indexer.open_index(tmp_path / "ix").search("课后服务", expand=False).total == found.total > 0


def test_a_file_that_is_not_the_segments_is_ignored(keep_every_term, demo_dir, tmp_path):
    ix = _changed_archive(demo_dir, tmp_path)
    gen_dir = ix.engine._live()[1]
    files = sorted(gen_dir.glob("frequent-*.bin"))
    before = ix.search("人工智能", expand=False).total
    files[0].write_bytes(files[0].read_bytes()[:100])  # cut short
    data = bytearray(files[1].read_bytes())
    data[8:16] = (12345).to_bytes(8, "little")  # another segment's document count
    files[1].write_bytes(bytes(data))
    with ix.engine._searcher() as (searcher, _, _):
        reader = searcher.reader()
        assert [SegmentPostings.open(gen_dir, leaf) for leaf, _ in reader.leaf_readers()] == [None, None]
    fresh = indexer.open_index(tmp_path / "ix")
    assert fresh.search("人工智能", expand=False).total == before > 0
    assert fresh.engine.vocabulary() == ix.engine.vocabulary() and fresh.engine.vocabulary()
    # The next reindex, even one that changes nothing, writes them again.
    indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=1)
    with fresh.engine._searcher() as (searcher, _, _):
        reader = searcher.reader()
        assert all(SegmentPostings.open(gen_dir, leaf) for leaf, _ in reader.leaf_readers())


def test_postings_that_cannot_be_kept_leave_the_index_whole(demo_dir, tmp_path, monkeypatch):
    def full_disk(folder, leaf):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(frequent, "write_segment_postings", full_disk)
    report = indexer.reindex(demo_dir, tmp_path / "ix", jobs=1)
    assert report.added > 0 and not list((tmp_path / "ix").glob("gen-*/frequent-*"))
    assert indexer.open_index(tmp_path / "ix").search("课后服务", expand=False).total > 0


@pytest.mark.parametrize(
    ("ids", "size", "kind"),
    [
        ([3, 700, 9000], 10_000, frequent.DOCS_BITMAP),  # sparse: the bitmap is smaller
        (list(range(0, 10_000, 3)), 10_000, frequent.DOCS_BITS),  # dense: a bit per document is
        (list(range(5, 70_000, 2)), 70_001, frequent.DOCS_BITS),
        ([], 10, frequent.DOCS_BITS),  # two bytes of bits against an empty bitmap's eight
    ],
)
def test_docs_are_read_as_written(ids, size, kind):
    written_kind, data = frequent._docs(np.array(ids, dtype=np.uint32), size)
    assert written_kind == kind
    assert frequent.read_docs(written_kind, data, size).tolist() == ids


@pytest.mark.parametrize(
    ("weights", "code"),
    [
        ([2.5, 5.0, 7.5, 2.5], frequent.WEIGHTS_U8),  # a count times the field's boost
        ([1.0, 300.0, 2.0], frequent.WEIGHTS_U16),
        ([1.0, 1.5], frequent.WEIGHTS_F32),  # not multiples of the smallest
        ([0.0, 1.0], frequent.WEIGHTS_F32),
    ],
)
def test_weights_are_read_as_written(weights, code):
    values = np.array(weights, dtype=np.float32)
    written_code, scale, data = frequent._weights(values)
    assert written_code == code
    assert frequent.read_weights(written_code, scale, data).tolist() == values.tolist()
