"""`reindex`: incremental updates, full rebuilds, locking and crash safety."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from fixture_posts import write_post

import indexer
from indexer import ConfigError, IndexLockedError
from indexer.store import WriterLock as _WriterLock
from indexer.store import current_generation


@pytest.fixture
def posts(tmp_path):
    root = tmp_path / "posts"
    write_post(root, "教育/a.md", title="课后服务覆盖全市", body="<p>全市学校开展课后服务。</p>")
    write_post(root, "教育/b.md", title="双减一周年", body="<p>双减政策实施一年。</p>")
    write_post(root, "金融/c.md", title="保交楼项目交付", body="<p>首批保交楼项目交付。</p>")
    return root


def build(posts, tmp_path, **kwargs):
    return indexer.reindex(posts, tmp_path / "index", jobs=1, **kwargs)


def test_first_run_adds_everything_second_changes_nothing(posts, tmp_path):
    first = build(posts, tmp_path)
    assert (first.added, first.updated, first.deleted, first.unchanged, first.failed) == (3, 0, 0, 0, ())
    second = build(posts, tmp_path)
    assert (second.added, second.updated, second.deleted, second.unchanged) == (0, 0, 0, 3)


def test_touch_one_post_is_exactly_one_update(posts, tmp_path):
    build(posts, tmp_path)
    os.utime(posts / "教育/a.md", ns=(time.time_ns(), time.time_ns() + 10**9))
    report = build(posts, tmp_path)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (0, 1, 0, 2)
    assert indexer.open_index(tmp_path / "index").doc_count == 3


def test_changed_post_is_searchable_by_its_new_text(posts, tmp_path):
    build(posts, tmp_path)
    write_post(posts, "教育/b.md", title="双减一周年", body="<p>新增了人工智能课程。</p>")
    assert build(posts, tmp_path).updated == 1
    ix = indexer.open_index(tmp_path / "index")
    assert ix.search("人工智能").total == 1
    assert ix.search("双减政策实施").total == 0


def test_deleted_post_is_gone_from_results(posts, tmp_path):
    build(posts, tmp_path)
    ix = indexer.open_index(tmp_path / "index")
    assert ix.search("保交楼").total == 1
    (posts / "金融/c.md").unlink()
    report = build(posts, tmp_path)
    assert (report.deleted, report.unchanged) == (1, 2)
    assert ix.search("保交楼").total == 0


def test_new_post_is_added(posts, tmp_path):
    build(posts, tmp_path)
    write_post(posts, "科技/d.md", title="芯片出货增长", body="<p>芯片出货量增长。</p>")
    report = build(posts, tmp_path)
    assert (report.added, report.unchanged) == (1, 3)


def test_post_that_breaks_keeps_its_previous_version(posts, tmp_path):
    build(posts, tmp_path)
    (posts / "教育/a.md").write_text("---\ntitle: '坏掉\n---\n", encoding="utf-8")
    report = build(posts, tmp_path)
    assert [f.path for f in report.failed] == ["教育/a.md"]
    assert indexer.open_index(tmp_path / "index").search("课后服务").total == 1


def test_second_writer_gets_a_clear_error(posts, tmp_path):
    build(posts, tmp_path)
    with (
        _WriterLock(tmp_path / "index"),
        pytest.raises(IndexLockedError, match=f"being updated by process {os.getpid()}") as info,
    ):
        build(posts, tmp_path)
    assert info.value.pid == os.getpid()
    assert build(posts, tmp_path).unchanged == 3  # the lock is released


def test_full_rebuild_switches_generation_and_searchers_follow(posts, tmp_path):
    build(posts, tmp_path)
    ix = indexer.open_index(tmp_path / "index")
    old_generation = ix.generation
    write_post(posts, "科技/d.md", title="芯片出货增长", body="<p>芯片出货量增长。</p>")
    with ix.engine._searcher() as (old_searcher, _, _):  # a search running during the switch
        report = build(posts, tmp_path, full=True)
        assert old_searcher.doc_count() == 3
    assert report.full and report.added == 4
    assert ix.generation == old_generation + 1
    assert ix.search("芯片").total == 1


def test_bad_source_and_stale_analysis_are_config_errors(posts, tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        indexer.reindex(tmp_path / "missing", tmp_path / "index")
    build(posts, tmp_path)
    other = tmp_path / "other"
    write_post(other, "x.md")
    with pytest.raises(ConfigError, match="--full"):
        indexer.reindex(other, tmp_path / "index", jobs=1)
    userdict = tmp_path / "dict.txt"
    userdict.write_text("课后服务 100 n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="different text analysis"):
        build(posts, tmp_path, user_dict=userdict)
    assert build(posts, tmp_path, user_dict=userdict, full=True).added == 3
    # Later runs use the dictionary stored with the index.
    assert build(posts, tmp_path).unchanged == 3


def test_emptied_source_is_refused(posts, tmp_path):
    build(posts, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    for path in posts.rglob("*.md"):
        path.unlink()
    with pytest.raises(ConfigError, match="Refusing"):
        build(posts, tmp_path)
    assert indexer.open_index(tmp_path / "index").doc_count == 3


def test_worker_processes_index_the_same_as_one_process(tmp_path):
    root = tmp_path / "posts"
    for i in range(80):
        write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇 课后服务", body=f"<p>第{i}篇正文，提到双减和编号{i}。</p>")
    one = indexer.reindex(root, tmp_path / "one", jobs=1)
    two = indexer.reindex(root, tmp_path / "two", jobs=2)
    assert one.added == two.added == 80
    a, b = indexer.open_index(tmp_path / "one"), indexer.open_index(tmp_path / "two")
    for query in ("课后服务", "编号7", "第42篇"):
        # Workers finish in any order, so equal scores may tie in another order.
        ranked_a = sorted((h.score, h.id) for h in a.search(query, per_page=100).hits)
        ranked_b = sorted((h.score, h.id) for h in b.search(query, per_page=100).hits)
        assert ranked_a == ranked_b


# Run in a child process: a full rebuild that stops just before it switches CURRENT,
# says so in a marker file, and waits there to be killed.
_STOPPED_REBUILD = """
import sys, pathlib, indexer, indexer.store
def stop(gen_dir):
    pathlib.Path(sys.argv[3]).write_text(str(gen_dir))
    sys.stdin.read()
indexer.store.before_switch = stop
indexer.reindex(sys.argv[1], sys.argv[2], full=True, jobs=1)
"""


def test_killed_full_rebuild_leaves_the_old_index_answering(tmp_path):
    root = tmp_path / "posts"
    for i in range(40):
        write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇", body=f"<p>第{i}篇的正文，讲述城市的发展变化。</p>")
    index_dir = tmp_path / "index"
    indexer.reindex(root, index_dir, jobs=1)
    generation, _ = current_generation(index_dir)
    marker = tmp_path / "stopped"
    proc = subprocess.Popen(
        [sys.executable, "-c", _STOPPED_REBUILD, str(root), str(index_dir), str(marker)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():  # the child writes it at the switch, complete but not yet live
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the rebuild never reached the switch"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()  # reaps it and closes the pipes
    new_gen = index_dir / f"gen-{generation + 1:06d}"
    assert marker.read_text() == str(new_gen) and any(new_gen.iterdir())
    assert current_generation(index_dir)[0] == generation
    ix = indexer.open_index(index_dir)
    assert ix.doc_count == 40 and ix.search("第7篇").total >= 1
    # The next run cleans up and works.
    assert indexer.reindex(root, index_dir, jobs=1).unchanged == 40
    assert not new_gen.exists()


def _segment_count(index_dir):
    from whoosh.index import open_dir

    with open_dir(current_generation(index_dir)[1]).reader() as reader:
        return len(list(reader.leaf_readers()))


def test_segments_stay_few_over_many_incremental_runs(tmp_path, monkeypatch):
    from indexer.backends.whoosh import writer as indexing

    monkeypatch.setattr(indexing, "SEGMENT_DOCS", 20)
    monkeypatch.setattr(indexing, "SMALL_SEGMENT_DOCS", 20)
    root = tmp_path / "posts"
    for i in range(100):
        write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇", body=f"<p>编号{i}的正文。</p>")
    indexer.reindex(root, tmp_path / "index", jobs=1)
    assert _segment_count(tmp_path / "index") == 5
    for round_ in range(3 * indexing.MAX_SMALL_SEGMENTS):
        write_post(root, f"feed/{round_:03d}.md", title=f"第{round_}篇", body=f"<p>第{round_}轮改过的正文。</p>")
        assert indexer.reindex(root, tmp_path / "index", jobs=1).updated == 1
        assert _segment_count(tmp_path / "index") <= 5 + indexing.MAX_SMALL_SEGMENTS
    ix = indexer.open_index(tmp_path / "index")
    assert ix.doc_count == 100
    assert ix.search("轮改过的正文").total == 3 * indexing.MAX_SMALL_SEGMENTS


# ── bugs found on the way (each failed before its fix) ───────────────────────


def test_full_rebuild_keeps_the_index_user_dictionary(posts, tmp_path):
    user_dict = tmp_path / "dict.txt"
    user_dict.write_text("提保交楼 1000 v\n", encoding="utf-8")
    write_post(posts, "金融/d.md", title="会议首提保交楼至今", body="<p>会议首提保交楼至今已有一年。</p>")
    first = build(posts, tmp_path, user_dict=user_dict)
    assert first.user_dict and not first.user_dict_kept
    rebuilt = build(posts, tmp_path, full=True)  # no --user-dict this time
    assert rebuilt.user_dict_kept and "kept the index's user dictionary" in rebuilt.summary()
    _, gen_dir = current_generation(tmp_path / "index")
    assert (gen_dir / "userdict.txt").read_text(encoding="utf-8") == "提保交楼 1000 v\n"
    # Incremental runs still agree with the index's analysis (no "different text analysis" error).
    assert build(posts, tmp_path).unchanged == 4


def test_empty_post_file_is_indexed_with_a_warning(posts, tmp_path):
    (posts / "教育" / "空白.md").write_text("", encoding="utf-8")
    report = build(posts, tmp_path)
    assert report.added == 4 and not report.failed
    assert [path for path, _ in report.warnings] == ["教育/空白.md"]
    assert "empty" in report.warnings[0][1]
    assert ", 1 warning in" in report.summary()


def test_opening_an_index_built_with_other_analysis_says_rebuild(posts, tmp_path):
    import json

    build(posts, tmp_path)
    _, gen_dir = current_generation(tmp_path / "index")
    meta = json.loads((gen_dir / "zhsearch.json").read_text(encoding="utf-8"))
    meta["fingerprint"] = "v0/an-older-analysis"
    (gen_dir / "zhsearch.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(indexer.IndexVersionError, match=r'Run "reindex --full"'):
        indexer.open_index(tmp_path / "index")
    assert build(posts, tmp_path, full=True).added == 3
    assert indexer.open_index(tmp_path / "index").search("双减").total == 1


def test_segmenters_are_cached_by_content_and_bounded(tmp_path):
    from indexer import analysis

    paths = []
    for i in range(analysis.MAX_SEGMENTERS + 2):
        paths.append(tmp_path / f"dict{i}.txt")
        paths[-1].write_text(f"词典词{i} 100 n\n", encoding="utf-8")
        analysis.segmenter(paths[-1])
    assert len(analysis._segmenters) == analysis.MAX_SEGMENTERS
    copy = tmp_path / "copy.txt"
    copy.write_text(paths[-1].read_text(encoding="utf-8"), encoding="utf-8")
    assert analysis.segmenter(copy) is analysis.segmenter(paths[-1])


def test_tables_built_by_an_old_reader_do_not_serve_the_new_state(posts, tmp_path):
    build(posts, tmp_path)
    ix = indexer.open_index(tmp_path / "index")
    assert set(ix.search("").facets) == {"测试", "样例源"}
    # The same number of posts, in other categories.
    for path in posts.rglob("*.md"):
        path.write_text(path.read_text(encoding="utf-8").replace(" - 样例源", " - 另一源"), encoding="utf-8")
    with ix.engine._searcher() as (old_searcher, old_generation, _):
        build(posts, tmp_path, full=True)
        ix.engine._tables(old_searcher, old_generation)  # a request still on the old reader
    assert set(ix.search("").facets) == {"测试", "另一源"}


def test_search_index_closes_and_reopens(posts, tmp_path):
    build(posts, tmp_path)
    with indexer.open_index(tmp_path / "index") as ix:
        assert ix.search("双减").total == 1
    assert ix.engine._state is None  # files released
    assert ix.search("双减").total == 1  # and opened again on use


def test_searching_while_reindex_commits(tmp_path):
    root = tmp_path / "posts"
    for i in range(30):
        write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇 课后服务", body=f"<p>第{i}篇正文。</p>")
    build(root, tmp_path)
    ix = indexer.open_index(tmp_path / "index")
    seen, errors, stop = set(), [], threading.Event()

    def search_loop():
        while not stop.is_set():
            try:
                seen.add(ix.search("课后服务").total)
            except Exception as exc:  # noqa: BLE001 (any failure is what this test looks for)
                errors.append(exc)

    threads = [threading.Thread(target=search_loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for i in range(30, 40):
            write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇 课后服务", body=f"<p>第{i}篇正文。</p>")
            build(root, tmp_path)
        build(root, tmp_path, full=True)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert not errors
    assert seen <= set(range(30, 41)) and ix.search("课后服务").total == 40
