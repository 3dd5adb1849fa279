"""Contract tests of indexer/backends/whoosh/adapter.py: the private Whoosh names zhsearch relies on.

A Whoosh upgrade that changes any of them must fail here, in one place.
"""

import pytest
from fixture_posts import write_post
from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.writing import SegmentWriter

import indexer
from indexer.analysis import char_run, normalize, word_run
from indexer.backends.whoosh import adapter
from indexer.backends.whoosh import writer as writer_module
from indexer.backends.whoosh.schema import build_schema

TEXT = "中华人民共和国教育部：课后服务，双减以后的课后服务。ＧＤＰ增长５．２％"


@pytest.mark.parametrize("field", ["title", "content", "title_c", "content_c", "meta_c", "content_b", "title_b"])
def test_fast_postings_equal_whoosh_postings(field):
    schema = build_schema()
    norm = normalize(TEXT)[0]
    fast_value = word_run(norm) if field in ("title", "content") else char_run(norm)
    fast = sorted(schema[field].postings(fast_value))
    # Raw text goes through Whoosh's own analyzer and format encoding.
    reference = sorted(adapter.analysed_postings(schema[field].format, schema[field].analyzer, TEXT))
    assert fast == reference and fast


def test_postings_decoded_in_one_piece_are_whooshs(tmp_path):
    root = tmp_path / "posts"
    for i in range(300):  # more than one posting block
        write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇", body="<p>课后服务</p>" if i % 3 else "<p>双减</p>")
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")
    with ix.engine._searcher() as (searcher, _, _):
        reader = searcher.reader()
        compared = 0
        for leaf, _base in reader.leaf_readers():
            # Blocks hold 128 postings at most (Whoosh's blocklimit): this list has several.
            assert len(adapter.posting_ids(leaf, "content_c", "课")) > 128
            for field in ("content_c", "content_b", "title", "content", "title_c", "category"):
                for term in list(leaf.lexicon(field)):
                    text = term.decode("utf-8")
                    matcher = leaf.postings(field, text)
                    expected_ids, expected_weights = [], []
                    while matcher.is_active():  # Whoosh's own decoding, a posting at a time
                        expected_ids.append(matcher.id())
                        expected_weights.append(matcher.weight())
                        matcher.next()
                    ids, weights = adapter.posting_arrays(leaf, field, text)
                    assert ids.tolist() == expected_ids and weights.tolist() == expected_weights, (field, text)
                    assert adapter.posting_ids(leaf, field, text).tolist() == expected_ids
                    compared += len(expected_ids)
                # The same read from one walk of the term table; rarer terms than asked for give no postings.
                walked = list(adapter.field_postings(leaf, field, 0, True))
                assert [text for text, *_ in walked] == [term.decode("utf-8") for term in leaf.lexicon(field)]
                for text, frequency, ids, weights in walked:
                    assert frequency == leaf.doc_frequency(field, text)
                    expected = adapter.posting_arrays(leaf, field, text)
                    assert ids.tolist() == expected[0].tolist() and weights.tolist() == expected[1].tolist()
                assert all(ids is None for _, _, ids, _ in adapter.field_postings(leaf, field, 10**9, True))
            assert len(adapter.posting_ids(leaf, "content_c", "鑫")) == 0  # absent term
        assert compared > 2000


def test_numeric_column_reads_every_document_of_a_segment(tmp_path):
    root = tmp_path / "posts"
    for i in range(40):
        date = f"2022-05-{i % 28 + 1:02d} 08:00:00" if i % 5 else None  # some posts undated
        write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇", body="<p>课后服务</p>", date=date)
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")
    with ix.engine._searcher() as (searcher, _, _):
        for leaf, _base in searcher.reader().leaf_readers():
            values = adapter.numeric_column(leaf, "date")
            column = leaf.column_reader("date", translate=False)
            assert len(values) == leaf.doc_count_all() > 0
            expected = [column[d] if column[d] <= 2**63 - 1 else 0 for d in range(leaf.doc_count_all())]
            assert values.tolist() == expected
            assert len(set(expected)) > 2  # real dates, not only the default


def test_text_column_reads_every_document_of_a_segment(tmp_path):
    root = tmp_path / "posts"
    for i in range(40):
        write_post(root, f"频道{i % 3}/{i:03d}.md", title=f"第{i}篇", body="<p>课后服务</p>" * (i % 4 + 1))
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    (root / "频道1" / "004.md").unlink()  # a deleted document stays in its segment's column
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")
    with ix.engine._searcher() as (searcher, _, _):
        for leaf, _base in searcher.reader().leaf_readers():
            for field in ("path", "sig"):
                values = adapter.text_column(leaf, field)
                column = leaf.column_reader(field)
                assert values == [column[d] for d in range(leaf.doc_count_all())] and len(set(values)) > 2


def test_text_column_offsets_are_whooshs(tmp_path):
    """The offsets of text columns (and of stored fields) summed in C equal those Whoosh's loop makes."""
    root = tmp_path / "posts"
    for i in range(40):
        write_post(root, f"频道{i % 3}/{i:03d}.md", title=f"第{i}篇", body="<p>课后服务</p>" * (i % 4 + 1))
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")
    with ix.engine._searcher() as (searcher, _, _):
        compared = 0
        for leaf, _base in searcher.reader().leaf_readers():
            stored = leaf._perdoc._cached_reader("_stored", whoosh3.STORED_COLUMN)
            for column in (leaf.column_reader("chars", translate=False), stored._child):  # pickles over var bytes
                offsets, lengths = list(column._offsets), list(column._lengths)
                adapter.WHOOSH_READ_OFFSETS(column)
                assert offsets == list(column._offsets) and lengths == list(column._lengths)
                assert len(offsets) == leaf.doc_count_all() and len(set(offsets)) == len(offsets)
                compared += 1
        assert compared == 2
        assert searcher.stored_fields(3)["path"].endswith(".md")


@pytest.mark.parametrize("gap, longest", [(0, 1), (200, 600), (64 * 1024, 4 * 1024 * 1024)])
def test_column_search_finds_what_reading_each_post_finds(tmp_path, monkeypatch, gap, longest):
    """Posts read in runs of neighbours (any run length) give the answer of reading them one at a time."""
    monkeypatch.setattr(adapter, "RUN_GAP_BYTES", gap)
    monkeypatch.setattr(adapter, "RUN_MAX_BYTES", longest)
    root = tmp_path / "posts"
    for i in range(60):
        body = "<p>课后服务</p>" * (i % 4) + ("<p>同比增长</p>" if i % 5 == 0 else "<p>同比下降</p>")
        write_post(root, f"频道{i % 3}/{i:03d}.md", title="同比增长" if i % 7 == 0 else f"第{i}篇", body=body)
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    write_post(root, "频道1/new.md", title="新的一篇", body="<p>同比增长</p>")  # a second segment
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")
    with ix.engine._searcher() as (searcher, _, _):
        reader = searcher.reader()
        column = reader.column_reader("chars")
        search = adapter.ColumnSearch(reader, "chars")
        everyone = list(range(reader.doc_count_all()))
        for needle in ("同比增长", "课后服务", "篇", "不存在"):
            for line in (0, 1):
                wanted = needle.encode("utf-8")
                expected = [d for d in everyone if wanted in column[d].split(b"\n")[line]]
                assert search.having(everyone, line, wanted) == expected
                assert search.having(everyone[::3], line, wanted) == [d for d in expected if d % 3 == 0]
        assert len(search.having(everyone, 1, "同比增长".encode())) == 13  # 12 posts of the first run and the new one
        assert len(search.having(everyone, 0, "同比增长".encode())) == 9


def test_discarded_segment_leaves_the_shared_temp_folder(tmp_path):
    ix = whoosh_index.create_in(str(tmp_path), build_schema())
    keeper = SegmentWriter(ix, _lk=False)
    dropped = SegmentWriter(ix, _lk=False)
    shared = tmp_path / f"{ix.indexname}.tmp"
    assert shared.is_dir()
    adapter.discard_segment(dropped)
    assert dropped.is_closed and shared.is_dir()  # Whoosh's cancel() destroys it under the other writers
    keeper.add_document(id="0123456789abcdef", path="a.md", body="课后服务")
    segment = adapter.finalize_segment(keeper)  # needs the temp folder the other writer shares
    writer = ix.writer()
    adapter.commit_with_segments(writer, [segment], lambda w, segments: segments)
    assert whoosh_index.open_dir(str(tmp_path)).doc_count() == 1


def test_segments_spilled_in_chunks_hold_the_same_postings(tmp_path, monkeypatch):
    root = tmp_path / "posts"
    for i in range(60):
        body = "".join(f"<p>第{j}段：课后服务、双减与保交楼，{i * j}万元。</p>" for j in range(i % 7 + 1))
        write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇", body=body)
    indexer.reindex(root, tmp_path / "whole", jobs=1)
    monkeypatch.setattr(writer_module, "WRITER_LIMIT_MB", 1)  # many runs spilled, in chunks
    monkeypatch.setattr(adapter, "RUN_CHUNK", 7)
    spilled = []
    real = adapter._ChunkedPostingPool._write_run
    monkeypatch.setattr(
        adapter._ChunkedPostingPool, "_write_run", lambda self, f, items: spilled.append(1) or real(self, f, items)
    )
    indexer.reindex(root, tmp_path / "spilled", jobs=1)
    assert len(spilled) > 1
    postings = []
    for name in ("whole", "spilled"):
        with indexer.open_index(tmp_path / name).engine._searcher() as (searcher, _, _):
            reader = searcher.reader()
            postings.append(
                [
                    (field, text, list(reader.postings(field, text).items_as("weight")))
                    for field, text in reader.all_terms()
                ]
            )
    assert postings[0] == postings[1] and len(postings[0]) > 100
