"""Reliability under faults: failing batches, empty and damaged indexes, full disks, killed parents.

The crash and disk-full cases run `reindex` in a child process, as a user would.
"""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from fixture_posts import write_post

import indexer
from indexer import indexing
from indexer.store import current_generation

BIN = Path(sys.executable).parent


def run_cli(*args, timeout=300):
    """Run a console script of this venv (`reindex`, `zhsearch`); return the CompletedProcess."""
    return subprocess.run(
        [str(BIN / args[0]), *map(str, args[1:])], capture_output=True, text=True, timeout=timeout, check=False
    )


def write_binary(folder, name):
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(2000) + b"\x00")
    return path


def write_good(root, count, folder="a"):
    for i in range(count):
        write_post(root, f"{folder}/{i:03d}.md", title=f"第{i}篇 课后服务", body=f"<p>第{i}篇正文，编号{i}。</p>")


# ── 1. a share of posts that all fail ───────────────────────────────────────


def test_cli_batch_with_a_share_of_only_failures(tmp_path):
    root = tmp_path / "posts"
    write_good(root, 200)
    for i in range(4):
        write_binary(root / "zzz", f"{i}.md")
    result = run_cli("reindex", root, "--index", tmp_path / "index", "--jobs", 2)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(line.split(":")[1].strip() for line in result.stderr.splitlines()) == [
        f"zzz/{i}.md" for i in range(4)
    ]
    assert "200 added" in result.stdout and "4 failed" in result.stdout
    assert indexer.open_index(tmp_path / "index").doc_count == 200


def _slowed(slow):
    """An _analyse that sleeps on good posts or on bad ones, to force which worker finishes first."""
    real = indexing._analyse

    def analyse(source, *rest):
        bad = "zzz" in source.relpath or source.relpath.endswith("-bad.md")
        if slow == ("bad" if bad else "good"):
            threading.Event().wait(0.05)
        return real(source, *rest)

    return analyse


@pytest.mark.parametrize("slow", [None, "good", "bad"])
@pytest.mark.parametrize("layout", ["folders", "interleaved"])
@pytest.mark.parametrize("full", [False, True])
def test_share_of_only_failures_in_every_order(tmp_path, monkeypatch, slow, layout, full):
    # Round-robin shares (posts i::jobs) isolate the bad posts when they are every other one;
    # shares by folder isolate them when they have a folder of their own. Both layouts are tried.
    monkeypatch.setattr(indexing, "MIN_POSTS_FOR_WORKERS", 2)
    monkeypatch.setattr(indexing, "_analyse", _slowed(slow))  # forked workers inherit it
    assert threading.active_count() == 1  # so the pool forks
    root = tmp_path / "posts"
    if layout == "folders":
        write_good(root, 4)
        for i in range(4):
            write_binary(root / "zzz", f"{i}.md")
    else:
        for i in range(4):
            write_post(root, f"f/{2 * i:03d}-good.md", title=f"第{i}篇", body="<p>正文。</p>")
            write_binary(root / "f", f"{2 * i + 1:03d}-bad.md")
    if full:
        indexer.reindex(root, tmp_path / "index", jobs=1)
    report = indexer.reindex(root, tmp_path / "index", jobs=2, full=full)
    assert len(report.failed) == 4
    ix = indexer.open_index(tmp_path / "index")
    assert ix.doc_count == 4 and ix.search("正文").total == 4


def test_source_folder_vanishing_during_a_full_rebuild(tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "posts"
    write_good(root, 100)
    indexer.reindex(root, tmp_path / "index", jobs=1)
    monkeypatch.setattr(indexing, "MIN_POSTS_FOR_WORKERS", 2)
    real_find = indexing.find_posts

    def find_then_vanish(source):
        found = real_find(source)
        shutil.rmtree(root)
        return found

    monkeypatch.setattr(indexing, "find_posts", find_then_vanish)
    with pytest.raises(indexer.ConfigError, match=r"none of the 100 posts could be read.*--allow-empty"):
        indexer.reindex(root, tmp_path / "index", jobs=2, full=True)
    # The live index is kept.
    assert indexer.open_index(tmp_path / "index").doc_count == 100


# ── 2. an index of no posts ─────────────────────────────────────────────────


def test_empty_index_answers(tmp_path):
    (tmp_path / "empty").mkdir()
    report = indexer.reindex(tmp_path / "empty", tmp_path / "index", jobs=1)
    assert report.added == 0
    ix = indexer.open_index(tmp_path / "index")
    for q in ("课后服务", "", "title:双减 OR 芯片 -广告"):
        page = ix.search(q)
        assert (page.total, page.hits, page.facets, page.months) == (0, (), {}, {})
    assert ix.ids("课后") == []
    assert ix.suggest("课") == []
    assert ix.stats().posts == 0 and ix.stats().top_categories == ()
    assert ix.doc_count == 0
    result = run_cli("zhsearch", "search", "课后", "--index", tmp_path / "index")
    assert result.returncode == 0 and result.stdout.startswith("0 results"), result.stderr
    result = run_cli("zhsearch", "stats", "--index", tmp_path / "index")
    assert result.returncode == 0 and "Posts:        0" in result.stdout, result.stderr


def test_empty_index_pages_answer(tmp_path):
    from webui import create_app

    (tmp_path / "empty").mkdir()
    indexer.reindex(tmp_path / "empty", tmp_path / "index", jobs=1)
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index")}).test_client()
    assert client.get("/healthz").json == {"ok": True, "generation": 1, "posts": 0}
    assert client.get("/api/search?q=课后").json["total"] == 0
    assert client.get("/?q=课后").status_code == 200
    assert client.get("/").status_code == 200
    assert client.get("/api/suggest?q=课").status_code == 200


def test_full_rebuild_from_an_empty_source_keeps_the_index_unless_allowed(tmp_path):
    root = tmp_path / "posts"
    write_good(root, 3)
    indexer.reindex(root, tmp_path / "index", jobs=1)
    (tmp_path / "empty").mkdir()
    result = run_cli("reindex", tmp_path / "empty", "--index", tmp_path / "index", "--full")
    assert result.returncode == 2
    assert "holds no posts, but the index" in result.stderr and "--allow-empty" in result.stderr
    assert indexer.open_index(tmp_path / "index").doc_count == 3
    result = run_cli("reindex", tmp_path / "empty", "--index", tmp_path / "index", "--full", "--allow-empty")
    assert result.returncode == 0, result.stderr
    assert indexer.open_index(tmp_path / "index").search("课后").total == 0


# ── 3. a full disk ──────────────────────────────────────────────────────────


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs (root only), so that writes fail with ENOSPC as on a full disk."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk, leave):
    """Fill `disk` with a file until only `leave` bytes are free; return the file."""
    import shutil

    filler = disk / "filler"
    free = shutil.disk_usage(disk).free + (filler.stat().st_size if filler.exists() else 0)
    with open(filler, "wb") as f:
        f.truncate(0)
        f.write(b"\0" * max(0, free - leave))
    return filler


def index_files(index_dir):
    return sorted(str(p.relative_to(index_dir)) for p in Path(index_dir).rglob("*") if p.name != ".writer.lock")


def test_disk_full_during_an_incremental_run(tmp_path, small_disk):
    root = tmp_path / "posts"
    write_good(root, 50)
    index_dir = small_disk / "index"
    assert run_cli("reindex", root, "--index", index_dir, "--jobs", 1).returncode == 0
    before = index_files(index_dir)
    write_good(root, 400, folder="b")
    filler = fill(small_disk, 40_000)
    result = run_cli("reindex", root, "--index", index_dir, "--jobs", 2)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"No space left on the disk holding the index '{index_dir}'" in result.stderr
    assert "the live index was left as it was" in result.stderr
    assert index_files(index_dir) == before  # nothing half-written stays behind
    assert indexer.open_index(index_dir).search("课后服务").total == 50
    filler.unlink()
    result = run_cli("reindex", root, "--index", index_dir, "--jobs", 2)
    assert result.returncode == 0, result.stderr
    assert indexer.open_index(index_dir).doc_count == 450


def test_full_rebuild_checks_free_space_before_it_starts(tmp_path, small_disk):
    root = tmp_path / "posts"
    write_good(root, 50)
    index_dir = small_disk / "index"
    indexer.reindex(root, index_dir, jobs=1)
    before = index_files(index_dir)
    fill(small_disk, 100_000)
    result = run_cli("reindex", root, "--index", index_dir, "--full")
    assert result.returncode == 2, result.stderr
    assert "No space left" in result.stderr and "MB is needed" in result.stderr
    assert index_files(index_dir) == before


def test_disk_full_during_a_full_rebuild_keeps_the_live_index(tmp_path, small_disk, monkeypatch):
    from indexer.backends.whoosh import writer

    root = tmp_path / "posts"
    write_good(root, 50)
    index_dir = small_disk / "index"
    indexer.reindex(root, index_dir, jobs=1)
    ix = indexer.open_index(index_dir)
    before = index_files(index_dir)
    write_good(root, 400, folder="b")
    fill(small_disk, 150_000)
    monkeypatch.setattr(writer, "BUILD_SPACE_FACTOR", 0)  # let the estimate pass: the disk fills during the build
    with pytest.raises(indexer.DiskFullError, match="No space left") as info:
        indexer.reindex(root, index_dir, jobs=1, full=True)
    # The error says how little room there is (the disk was filled to 150 kB; the failed batch is removed).
    assert 0 < info.value.free < 1_000_000
    assert f"{info.value.free / 1024 / 1024:.1f} MB free" in str(info.value)
    assert index_files(index_dir) == before
    assert ix.search("课后服务").total == 50 and current_generation(index_dir)[0] == 1


def test_leftovers_of_failed_runs_are_removed_before_anything_is_written(tmp_path, small_disk):
    root = tmp_path / "posts"
    write_good(root, 20)
    index_dir = small_disk / "index"
    indexer.reindex(root, index_dir, jobs=1)
    before = index_files(index_dir)
    _, gen_dir = current_generation(index_dir)
    # What killed runs leave: a half-built generation, temp and orphan segment files in the live one.
    (index_dir / "gen-000007").mkdir()
    (index_dir / "gen-000007" / "MAIN_x.seg").write_bytes(b"\1" * 300_000)
    (gen_dir / "MAIN.tmp").mkdir()
    (gen_dir / "MAIN.tmp" / "x.ctmp").write_bytes(b"\1" * 300_000)
    (gen_dir / "MAIN_orphan1234.pst").write_bytes(b"\1" * 300_000)
    (gen_dir / "zhsearch.json.tmp99").write_text("{")
    # Files kept beside segments: an orphan segment's, and a write cut short of a live one's.
    (gen_dir / "frequent-MAIN_orphan1234.bin").write_bytes(b"\1" * 300_000)
    live_tables = next(gen_dir.glob("tables-MAIN_*.bin"))
    live_tables.with_name(live_tables.name + ".tmp").write_bytes(b"\1" * 300_000)
    fill(small_disk, 0)
    write_post(root, "a/new.md", title="新的一篇", body="<p>新增的正文。</p>")
    result = run_cli("reindex", root, "--index", index_dir, "--jobs", 1)
    assert result.returncode == 0, result.stderr
    assert indexer.open_index(index_dir).search("新增的正文").total == 1
    # A segment, its kept tables and its kept postings.
    new_segment = tuple(gen_dir.name + prefix for prefix in ("/MAIN_", "/tables-MAIN_", "/frequent-MAIN_"))
    assert set(index_files(index_dir)) - set(before) <= {
        p for p in index_files(index_dir) if p.startswith(new_segment) or "_MAIN_" in p
    }
    assert not (index_dir / "gen-000007").exists() and not (gen_dir / "MAIN.tmp").exists()
    assert not (gen_dir / "MAIN_orphan1234.pst").exists() and not (gen_dir / "zhsearch.json.tmp99").exists()
    assert not (gen_dir / "frequent-MAIN_orphan1234.bin").exists()
    assert not live_tables.with_name(live_tables.name + ".tmp").exists() and live_tables.exists()


@pytest.mark.parametrize("full", [False, True])
def test_injected_disk_full_is_one_clear_error(tmp_path, monkeypatch, full):
    # Where no tmpfs can be mounted: ENOSPC from the one place Whoosh opens files for writing.
    import errno

    from indexer.backends.whoosh import adapter

    root = tmp_path / "posts"
    write_good(root, 20)
    indexer.reindex(root, tmp_path / "index", jobs=1)
    before = index_files(tmp_path / "index")
    write_good(root, 30, folder="b")

    def no_space(self, name, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", name)

    monkeypatch.setattr(adapter._ReadingStorage, "create_file", no_space)
    with pytest.raises(indexer.DiskFullError, match=f"the index '{tmp_path / 'index'}'"):
        indexer.reindex(root, tmp_path / "index", jobs=1, full=full)
    assert index_files(tmp_path / "index") == before
    assert indexer.open_index(tmp_path / "index").doc_count == 20


# ── 4. a damaged index ──────────────────────────────────────────────────────


def _seg(gen_dir):
    return sorted(gen_dir.glob("MAIN_*.seg"))[0]


def _toc(gen_dir):
    return sorted(gen_dir.glob("_MAIN_*.toc"))[-1]


def _truncate(path):
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size // 2)
    return path


def _zero(path):
    path.write_bytes(b"\0" * path.stat().st_size)
    return path


DAMAGE = {
    "truncated segment": lambda ix, gen: _truncate(_seg(gen)),
    "zeroed segment": lambda ix, gen: _zero(_seg(gen)),
    "empty segment": lambda ix, gen: _write(_seg(gen), b""),
    "truncated toc": lambda ix, gen: _truncate(_toc(gen)),
    "zeroed toc": lambda ix, gen: _zero(_toc(gen)),
    "CURRENT escapes": lambda ix, gen: _write(ix / "CURRENT", b"gen-000001/.."),
    "CURRENT garbage": lambda ix, gen: _write(ix / "CURRENT", b"\xff\xfe\0"),
}


def _write(path, data):
    path.write_bytes(data)
    return path


@pytest.fixture
def built(tmp_path):
    root = tmp_path / "posts"
    write_good(root, 30)
    indexer.reindex(root, tmp_path / "index", jobs=1)
    return root, tmp_path / "index", current_generation(tmp_path / "index")[1]


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_index_is_one_clear_error_and_full_rebuild_recovers(built, damage):
    root, index_dir, gen_dir = built
    damaged = DAMAGE[damage](index_dir, gen_dir)
    with pytest.raises(indexer.IndexCorruptError, match=r'Run "reindex --full"') as info:
        with indexer.open_index(index_dir) as ix:
            ix.search("课后服务")
            ix.stats()
    assert info.value.path == str(damaged)
    assert str(damaged) in str(info.value)
    result = run_cli("zhsearch", "search", "课后服务", "--index", index_dir)
    assert result.returncode == 1 and "Traceback" not in result.stderr and "Aborted" not in result.stderr
    assert result.stderr.startswith("Error: ") and "reindex --full" in result.stderr
    result = run_cli("reindex", root, "--index", index_dir, "--full")
    assert result.returncode == 0, result.stderr
    assert indexer.open_index(index_dir).search("课后服务").total == 30


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_index_answers_503_from_the_web(built, damage):
    from webui import create_app

    root, index_dir, gen_dir = built
    DAMAGE[damage](index_dir, gen_dir)
    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir)}).test_client()  # starts anyway
    for url in ("/api/search?q=课后服务", "/healthz", "/?q=课后服务"):
        response = client.get(url)
        assert response.status_code == 503, url
    assert "reindex --full" in client.get("/api/search?q=课后服务").json["error"]
    indexer.reindex(root, index_dir, jobs=1, full=True)
    assert client.get("/api/search?q=课后服务").json["total"] == 30


def test_writer_lock_and_generation_names_taken_by_other_things(built):
    root, index_dir, gen_dir = built
    (index_dir / ".writer.lock").unlink()
    (index_dir / ".writer.lock").mkdir()
    (index_dir / "gen-000002").write_text("not a folder")
    (index_dir / "gen-x").mkdir()
    write_post(root, "a/new.md", title="新的一篇", body="<p>新增的正文。</p>")
    assert indexer.reindex(root, index_dir, jobs=1).added == 1
    assert indexer.reindex(root, index_dir, jobs=1, full=True).added == 31
    assert current_generation(index_dir)[0] == 2
    (index_dir / ".writer.lock").unlink()
    (index_dir / ".writer.lock").symlink_to(root / "a/000.md")  # never truncate what a link points to
    assert indexer.reindex(root, index_dir, jobs=1).unchanged == 31
    assert (root / "a/000.md").stat().st_size > 0


def test_incremental_run_on_a_damaged_index_says_rebuild(built):
    root, index_dir, gen_dir = built
    _zero(_toc(gen_dir))
    write_post(root, "a/new.md", title="新的一篇", body="<p>新增的正文。</p>")
    result = run_cli("reindex", root, "--index", index_dir)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "is damaged" in result.stderr and 'Run "reindex --full"' in result.stderr


def _free_port():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(index_dir):
    import re

    proc = subprocess.Popen(
        [str(BIN / "zhsearch"), "serve", "--index", str(index_dir), "--port", str(_free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    port = re.search(r"http://127.0.0.1:(\d+)", line)
    assert port, line
    return proc, f"http://127.0.0.1:{port[1]}"


def _get(url):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except urllib.error.URLError:  # not listening (yet)
        return None


def test_server_survives_a_segment_truncated_under_it(built):
    from urllib.parse import quote

    root, index_dir, gen_dir = built
    proc, base = _serve(index_dir)
    try:
        url = f"{base}/api/search?q={quote('课后服务')}"
        assert _get(url) == 200
        _truncate(_seg(gen_dir))
        for _ in range(4):
            assert _get(url) in (200, 503)
            assert _get(f"{base}/api/search?q={quote('正文')}&page=2&per_page=5") in (200, 503)
        assert proc.poll() is None  # no SIGBUS
        assert run_cli("reindex", root, "--index", index_dir, "--full").returncode == 0
        assert _get(url) == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def test_server_starts_on_a_damaged_index(built):
    from urllib.parse import quote

    root, index_dir, gen_dir = built
    _zero(_toc(gen_dir))
    proc, base = _serve(index_dir)
    try:
        assert _get(f"{base}/api/search?q={quote('课后服务')}") == 503
        assert _get(f"{base}/healthz") == 503
        assert run_cli("reindex", root, "--index", index_dir, "--full").returncode == 0
        assert _get(f"{base}/healthz") == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


# ── 8. workers of a killed reindex ──────────────────────────────────────────

# Run in a child process: a reindex whose workers are slow, so that it can be killed while they work.
_SLOW_REINDEX = """
import sys, time, pathlib, indexer
from indexer import indexing
real = indexing._analyse
def slow(source, *rest):
    pathlib.Path(sys.argv[3]).touch()
    time.sleep(0.5)
    return real(source, *rest)
indexing._analyse = slow
indexing.reindex(sys.argv[1], sys.argv[2], jobs=2)
"""


def _children(pid):
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_workers_die_with_their_parent_and_free_the_lock(tmp_path):
    import signal
    import time

    root = tmp_path / "posts"
    write_good(root, 200)
    marker = tmp_path / "working"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_REINDEX, str(root), str(tmp_path / "index"), str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists() or len(_children(proc.pid)) < 2:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        workers = _children(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 2
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(w) for w in workers)
    # The lock died with them: the next run works at once.
    report = indexer.reindex(root, tmp_path / "index", jobs=1)
    assert report.added == 200


def test_a_held_lock_names_a_live_process(tmp_path):
    from indexer.store import WriterLock

    root = tmp_path / "posts"
    write_good(root, 3)
    indexer.reindex(root, tmp_path / "index", jobs=1)
    with WriterLock(tmp_path / "index"):
        with pytest.raises(indexer.IndexLockedError) as info:
            indexer.reindex(root, tmp_path / "index", jobs=1)
        assert _alive(info.value.pid)


# ── 10. small ones ──────────────────────────────────────────────────────────


def test_empty_date_bound_is_no_limit_and_the_schema_says_so(built):
    import jsonschema

    from webui import create_app
    from webui.api import load_openapi

    _, index_dir, _ = built
    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir)}).test_client()
    total = client.get("/api/search?q=课后服务").json["total"]
    for bound in ("from", "to"):
        assert client.get(f"/api/search?q=课后服务&{bound}=").json["total"] == total
        schema = load_openapi()["components"]["parameters"][bound]["schema"]
        jsonschema.validate("", schema, format_checker=jsonschema.FormatChecker())
        jsonschema.validate("2022-05-31", schema, format_checker=jsonschema.FormatChecker())
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate("2022-13-31", schema, format_checker=jsonschema.FormatChecker())
        assert client.get(f"/api/search?q=课后服务&{bound}=2022-13-31").status_code == 400


@pytest.mark.parametrize(
    ("url", "kept"),
    [
        ("https://img.example.com/a.jpg", True),
        ("http://example.com/x.png?w=1", True),
        ('http://x"onerror="alert(1)', False),
        ("javascript:alert(1)", False),
        ("//example.com/a.jpg", False),
        ("http://exa mple.com/a.jpg", False),
        ("http://example.com:99999/a.jpg", False),
        ("data:image/png;base64,AAAA", False),
    ],
)
def test_json_image_is_only_a_well_formed_http_url(tmp_path, url, kept):
    from webui import create_app

    root = tmp_path / "posts"
    write_post(root, "a/1.md", title="图片测试", extra=f"image: '{url}'\n")
    indexer.reindex(root, tmp_path / "index", jobs=1)
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index")}).test_client()
    hit = client.get("/api/search?q=图片测试").json["hits"][0]
    assert hit["image"] == (url if kept else None)
    assert client.get(f"/api/article/{hit['id']}").json["image"] == (url if kept else None)


# ── 11. the index folder is trusted code ────────────────────────────────────


def test_opening_an_index_others_may_write_warns(built):
    from indexer.store import IndexPermissionWarning

    _, index_dir, gen_dir = built
    gen_dir.chmod(0o777)
    with pytest.warns(IndexPermissionWarning, match=r"writable by other users.*chmod go-w"):
        indexer.open_index(index_dir).close()
    gen_dir.chmod(0o755)
    index_dir.chmod(0o775)
    with pytest.warns(IndexPermissionWarning, match=str(index_dir)):
        indexer.open_index(index_dir).close()
    index_dir.chmod(0o755)
    indexer.open_index(index_dir).close()  # no warning (filterwarnings = error)


# ── 7. deleted posts are reclaimed ──────────────────────────────────────────


def _stored_and_live(index_dir):
    from whoosh.index import open_dir

    with open_dir(str(current_generation(index_dir)[1])).reader() as reader:
        return reader.doc_count_all(), reader.doc_count(), len(list(reader.leaf_readers()))


def test_segments_with_many_deleted_posts_are_rewritten(tmp_path, monkeypatch):
    from indexer.backends.whoosh import writer

    monkeypatch.setattr(writer, "SEGMENT_DOCS", 20)
    monkeypatch.setattr(writer, "SMALL_SEGMENT_DOCS", 20)
    root = tmp_path / "posts"
    write_good(root, 100)
    indexer.reindex(root, tmp_path / "index", jobs=1)
    assert _stored_and_live(tmp_path / "index") == (100, 100, 5)
    for round_ in range(10):  # heavy incremental runs: a third of the posts change each time
        for i in range(round_ % 3, 100, 3):
            write_post(root, f"a/{i:03d}.md", title=f"第{i}篇 课后服务", body=f"<p>第{round_}轮改过的第{i}篇。</p>")
        assert indexer.reindex(root, tmp_path / "index", jobs=1).updated >= 33
        stored, live, _ = _stored_and_live(tmp_path / "index")
        assert live == 100
        assert stored - live <= 0.5 * live, (round_, stored, live)
    assert indexer.open_index(tmp_path / "index").search("第9轮改过的").total >= 33
    result = run_cli("reindex", root, "--index", tmp_path / "index", "--optimize")
    assert result.returncode == 0, result.stderr
    assert _stored_and_live(tmp_path / "index") == (100, 100, 1)
    assert indexer.open_index(tmp_path / "index").search("课后服务").total == 100


# ── 5. costly queries ───────────────────────────────────────────────────────


def test_or_alternatives_count_towards_the_term_limit(built):
    from indexer.config import MAX_QUERY_CLAUSES

    _, index_dir, _ = built
    ix = indexer.open_index(index_dir)
    common = "的是在和了有不人中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    ok = " OR ".join(["课后", *common[: MAX_QUERY_CLAUSES - 1]])
    assert ix.search(ok).total == 30
    with pytest.raises(indexer.QueryError, match=r"counting each OR alternative.*the limit is 32") as info:
        ix.search(" OR ".join(common[: MAX_QUERY_CLAUSES + 1]), names={"q": "QUERY"})
    assert info.value.param == "QUERY"
    with pytest.raises(indexer.QueryError, match="OR alternative"):
        ix.search(" OR ".join(common[:20]) + " " + " ".join(f"-{c}" for c in common[20:33]))


def test_postings_limit_names_itself(built, monkeypatch):
    from indexer import config

    _, index_dir, _ = built
    ix = indexer.open_index(index_dir)
    assert ix.search("课后服务 正文 编号 第 篇").total == 30
    monkeypatch.setattr(config, "MAX_QUERY_POSTINGS", 300)
    assert ix.search("第7篇").total >= 1  # a rarer term is still fine
    with pytest.raises(indexer.QueryError, match=r"would read [0-9,]+ postings, more than the 300") as info:
        ix.search("课后服务 正文 编号 第 篇", names={"q": "QUERY"})
    assert info.value.param == "QUERY"
    from webui import create_app

    client = create_app({"TESTING": True, "INDEX_DIR": str(index_dir)}).test_client()
    response = client.get("/api/search?q=课后服务 正文 编号 第 篇")
    assert response.status_code == 400 and "postings" in response.json["error"]


def test_time_budget_returns_what_was_found_with_a_note(built):
    _, index_dir, _ = built
    ix = indexer.open_index(index_dir)
    full = ix.search("课后服务 正文 编号", per_page=50)
    assert full.note is None and full.total == 30
    cut = ix.search("课后服务 正文 编号", per_page=50, time_budget=0)
    assert cut.note and "took too long" in cut.note
    assert {h.id for h in cut.hits} <= {h.id for h in full.hits}  # missing matches, never wrong ones
    assert ix.search("课后服务 正文 编号", per_page=50).total == 30  # the next search has its own budget


# ── 6. every core at work ───────────────────────────────────────────────────


def test_serve_with_worker_processes(built):
    import re
    import time
    from urllib.parse import quote

    _, index_dir, _ = built
    port = _free_port()
    proc = subprocess.Popen(
        [str(BIN / "zhsearch"), "serve", "--index", str(index_dir), "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert re.search(r"with 2 workers", proc.stdout.readline())
        deadline = time.monotonic() + 60
        while len(_children(proc.pid)) < 2 or _get(f"http://127.0.0.1:{port}/healthz") != 200:
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        for _ in range(6):  # spread over both workers, each with its own files
            assert _get(f"http://127.0.0.1:{port}/api/search?q={quote('课后服务')}") == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 0
