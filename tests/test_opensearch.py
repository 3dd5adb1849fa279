"""The OpenSearch backend against a real node: token streams, parity with Whoosh, lifecycle, faces.

Needs a node at $OPENSEARCH_URL (default http://127.0.0.1:9200): `scripts/opensearch up`.
Without one these tests skip (and CI, which starts one, fails on skips).
"""

import os
import random
import signal
import subprocess
import sys
import time
import uuid

import pytest
from fixture_posts import write_post

import indexer
from indexer import BackendUnavailableError, IndexLockedError, IndexNotFoundError, related
from indexer.analysis import normalize, query_words, word_tokens
from indexer.backends.opensearch import client as osc
from indexer.backends.opensearch.mapping import ANALYSIS, chars_text, words_text

pytestmark = pytest.mark.opensearch

OPENSEARCH_URL = os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200")


@pytest.fixture(scope="session")
def os_url():
    conn = osc.Connection.of(OPENSEARCH_URL)
    try:
        osc.call(conn, osc.client(conn).info)
    except BackendUnavailableError as exc:
        pytest.skip(f"no OpenSearch node: {exc}")
    return OPENSEARCH_URL


@pytest.fixture(scope="session")
def raw(os_url):
    """An opensearch-py client through the backend's adapter (for checks the faces cannot make)."""
    conn = osc.Connection.of(os_url)
    return osc.client(conn)


def unique(prefix="t"):
    return f"zhs-{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def index_name(raw):
    name = unique()
    yield name
    raw.indices.delete(index=f"{name}*", params={"ignore": 404, "expand_wildcards": "all"})


# ── the token-stream scheme ─────────────────────────────────────────────────


@pytest.fixture(scope="session")
def analyzer_index(raw):
    name = unique("analysis")
    raw.indices.create(index=name, body={"settings": {"analysis": ANALYSIS}})
    yield name
    raw.indices.delete(index=name)


def _analyze(raw, index, text):
    tokens = raw.indices.analyze(index=index, body={"analyzer": "zh_tokens", "text": text})["tokens"]
    return [(t["token"], t["position"]) for t in tokens]


@pytest.mark.parametrize(
    "sentence",
    [
        "首提保交楼至今已有三年",
        "北京市人民政府发布中华人民共和国的新规",
        "哈哈哈哈，延时服务和课后服务",
        "iPhone 15 发布了 3.5mm 接口",
    ],
)
def test_word_stream_keeps_every_token_and_position(raw, analyzer_index, sentence):
    pairs = [(w, p) for w, p, _, _ in word_tokens(normalize(sentence)[0])]
    got = _analyze(raw, analyzer_index, words_text(pairs))
    assert sorted(got) == sorted(pairs)
    assert any(p1 == p2 and w1 != w2 for w1, p1 in pairs for w2, p2 in pairs) or "哈" not in sentence


def test_char_stream_is_one_token_per_char_in_order(raw, analyzer_index):
    chars = "".join(c for c in normalize("延时 服务，𠀀字！AB1")[0] if c.isalnum())
    assert _analyze(raw, analyzer_index, chars_text(chars)) == [(c, i) for i, c in enumerate(chars)]


@pytest.fixture(scope="module")
def tiny(os_url, tmp_path_factory, raw):
    """Three posts that pin the matching rules."""
    root = tmp_path_factory.mktemp("tiny")
    write_post(root, "a.md", title="首提保交楼至今", body="<p>课后作业之后的延时服务，全市推开。</p>")
    write_post(root, "b.md", title="延时，服务", body="<p>延时，服务：标点隔开的两个词。</p>")
    write_post(root, "c.md", title="无关", body="<p>服务延时了很久。北京大学生物系的研究生。</p>")
    name = unique("tiny")
    indexer.reindex(root, os_url, index_name=name, jobs=1)
    whoosh_dir = tmp_path_factory.mktemp("tiny_whoosh")
    indexer.reindex(root, whoosh_dir, jobs=1)
    yield indexer.open_index(os_url, index_name=name), indexer.open_index(whoosh_dir)
    raw.indices.delete(index=f"{name}*")


def _paths(ix, q):
    return sorted(h.path for h in ix.search(q, per_page=50).hits)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("保交", ["a.md"]),  # a sub-word of 提保交楼 (same position) matches as a word
        ("保交楼", ["a.md"]),  # verbatim over chars, though jieba cut 提保交楼
        ('"延时 服务"', ["a.md", "b.md"]),  # consecutive chars, punctuation never a token
        ("延时服务", ["a.md", "b.md", "c.md"]),  # verbatim, or its words apart (c: 服务延时)
        ('"服务延时"', ["c.md"]),
        ("延时服务 -标点", ["a.md", "c.md"]),
        ("title:延时服务", ["b.md"]),
    ],
)
def test_matching_rules_equal_whoosh(tiny, query, expected):
    ours, whoosh = tiny
    assert _paths(ours, query) == expected == _paths(whoosh, query)


def test_phrase_over_words_keeps_sub_word_positions(tiny, raw):
    ours, _ = tiny
    tokens = list(word_tokens(normalize("北京大学生物系的研究生")[0]))
    main = {pos: word for word, pos, _, _ in tokens}  # the main word comes last at its position
    sub, pos = next((w, p) for w, p, _, _ in tokens if w != main[p])
    # A sub-word shares its word's position: it and the next word are a phrase of adjacent words.
    for words, expected in (([sub, main[pos + 1]], 1), ([sub, main[pos + 2]], 0)):
        body = {"query": {"match_phrase": {"content": words_text([(w, i) for i, w in enumerate(words)])}}}
        assert raw.search(index=ours.engine.conn.index_name, body=body)["hits"]["total"]["value"] == expected


def test_exact_tier_comes_first(tiny):
    ours, _ = tiny
    hits = ours.search("延时服务").hits
    assert [h.exact for h in hits] == [True, True, False]


# ── parity with Whoosh ──────────────────────────────────────────────────────


def _queries(ix, seed, count):
    """Queries of every kind the language has, from the posts of `ix` (seeded)."""
    rng = random.Random(seed)
    posts = [ix.get(h.id) for h in ix.search("", per_page=10_000, sort="date", collapse=False).hits]
    seg = ix.engine.segmenter
    categories = sorted({c for p in posts for c in p.categories})
    authors = sorted({p.author for p in posts if p.author})
    feeds = sorted({p.feed for p in posts if p.feed})

    def substring(text, low=2, high=6):
        text = text.replace("\n", "")
        if len(text) <= low:
            return text or "中国"
        n = rng.randint(low, min(high, len(text)))
        start = rng.randrange(0, len(text) - n + 1)
        return text[start : start + n].replace('"', "")

    def word():
        post = rng.choice(posts)
        words = [w for w in query_words(normalize(post.title)[0], seg) if len(w) > 1] or ["中国"]
        return rng.choice(words)

    kinds = [
        lambda: (substring(rng.choice(posts).title), {}),
        lambda: (substring(rng.choice(posts).text, 2, 8), {}),
        lambda: (word(), {}),
        lambda: (f'"{substring(rng.choice(posts).text, 3, 6)}"', {}),
        lambda: (f"{word()} {word()}", {}),
        lambda: (f"{word()} -{word()}", {}),
        lambda: (f"{word()} OR {word()}", {}),
        lambda: (f"title:{word()}", {}),
        lambda: (f"category:{rng.choice(categories)}" if categories else word(), {}),
        lambda: (f"author:{rng.choice(authors)}" if authors else word(), {}),
        lambda: (word(), {"category": rng.choice(categories)} if categories else {}),
        lambda: (word(), {"date_from": "2023-01-01", "date_to": f"2024-{rng.randint(1, 12):02d}-15"}),
        lambda: (word(), {"sort": "date"}),
        lambda: ("", {"date_from": f"202{rng.randint(0, 4)}-0{rng.randint(1, 9)}-01"}),
        lambda: (word(), {"feed": "/".join(rng.choice(feeds).split("/")[: rng.randint(1, 3)])} if feeds else {}),
    ]
    return [rng.choice(kinds)() for _ in range(count)]


def _compare(whoosh, ours, queries):
    """Compare every query; return (ranked queries, mean top-10 overlap, failures)."""
    failures, overlaps = [], []
    for q, kwargs in queries:
        a = whoosh.search(q, per_page=10_000, collapse=False, **kwargs)
        b = ours.search(q, per_page=10_000, collapse=False, **kwargs)
        label = (q, kwargs)
        if a.total != b.total or {h.id for h in a.hits} != {h.id for h in b.hits}:
            failures.append((label, "set", a.total, b.total))
            continue
        if a.stories != b.stories:
            failures.append((label, "stories", a.stories, b.stories))
        if a.facets != b.facets or list(a.facets) != list(b.facets) or a.months != b.months:
            failures.append((label, "facets/months"))
        if a.tree != b.tree:
            failures.append((label, "feed tree"))
        if {h.id for h in a.hits if h.exact} != {h.id for h in b.hits if h.exact}:
            failures.append((label, "exact tier"))
        if [h.exact for h in b.hits] != sorted((h.exact for h in b.hits), reverse=True) and b.sort == "relevance":
            failures.append((label, "verbatim tier not first"))
        if b.sort == "date":
            dates_a = [h.date for h in a.hits]
            if dates_a != [h.date for h in b.hits]:
                failures.append((label, "date order"))
        elif a.total > 0:
            top_a, top_b = {h.id for h in a.hits[:10]}, {h.id for h in b.hits[:10]}
            overlaps.append(len(top_a & top_b) / len(top_a))
    return overlaps, failures


@pytest.fixture(scope="session")
def os_demo(os_url, demo_dir, raw):
    name = unique("demo")
    indexer.reindex(demo_dir, os_url, index_name=name, jobs=1)
    yield indexer.open_index(os_url, index_name=name)
    raw.indices.delete(index=f"{name}*")


@pytest.fixture(scope="session")
def os_corpus(os_url, corpus_dir, raw):
    name = unique("corpus")
    report = indexer.reindex(corpus_dir, os_url, index_name=name, jobs=2)
    assert not report.failed
    yield indexer.open_index(os_url, index_name=name)
    raw.indices.delete(index=f"{name}*")


PARITY = {}  # figures for the report at the end of the run

# Mean share of the related posts both backends list (BM25 differs in detail: Lucene's and Whoosh's).
RELATED_OVERLAP = 0.9


@pytest.mark.parametrize(("which", "count"), [("demo", 120), ("corpus", 300)])
def test_parity_with_whoosh(request, which, count):
    whoosh = request.getfixturevalue(f"{which}_search")
    ours = request.getfixturevalue(f"os_{which}")
    queries = _queries(whoosh, seed=20240, count=count)
    overlaps, failures = _compare(whoosh, ours, queries)
    mean = sum(overlaps) / len(overlaps)
    PARITY[which] = (len(queries), len(overlaps), mean)
    print(f"\nparity {which}: {len(queries)} queries, {len(overlaps)} ranked, mean top-10 overlap {mean:.3f}")
    assert not failures, failures[:10]
    assert mean >= 0.9


def test_ids_and_single_posts_equal_whoosh(demo_search, os_demo):
    for q in ("教育", "双减 OR 课后服务", ""):
        assert sorted(demo_search.ids(q)) == sorted(os_demo.ids(q))
    some = demo_search.search("", per_page=3).hits[0].id
    assert os_demo.get(some) == demo_search.get(some)
    assert os_demo.more_like(some, 3)
    assert os_demo.suggest(os_demo.get(some).title[:2])
    assert os_demo.boilerplate() == demo_search.boilerplate()  # kept with the index on both backends
    assert os_demo.aliases() == demo_search.aliases()
    stats = os_demo.stats()
    assert stats.posts == demo_search.stats().posts and stats.top_categories == demo_search.stats().top_categories
    with pytest.raises(indexer.PostNotFoundError):
        os_demo.get("0" * 16)


def test_related_posts_use_the_same_key_terms_as_whoosh(demo_search, os_demo):
    """OpenSearch runs the core's key terms (related.py), not its own more_like_this."""
    ids = [hit.id for hit in demo_search.search("", per_page=10_000).hits]
    article = demo_search.get(ids[0])
    words = list(related.candidate_words(article, demo_search.engine.segmenter))
    assert os_demo.engine.doc_frequencies(words) == demo_search.engine.doc_frequencies(words)
    overlaps = []
    for post_id in ids:
        a = [hit.id for hit in demo_search.more_like(post_id)]
        b = [hit.id for hit in os_demo.more_like(post_id)]
        assert post_id not in b and len(a) == len(b)
        overlaps.append(len(set(a) & set(b)) / len(a) if a else 1.0)
    print(f"\nrelated parity: {len(ids)} posts, mean overlap {sum(overlaps) / len(overlaps):.3f}")
    assert sum(overlaps) / len(overlaps) >= RELATED_OVERLAP


# ── lifecycle ───────────────────────────────────────────────────────────────


@pytest.fixture
def posts(tmp_path):
    root = tmp_path / "posts"
    for i in range(40):
        write_post(root, f"feed/{i:03d}.md", title=f"第{i}篇", body=f"<p>第{i}篇的正文，讲述城市的发展变化。</p>")
    return root


def _alias_target(raw, name):
    return sorted(raw.indices.get_alias(name=name))


def test_full_rebuild_switches_the_alias(os_url, posts, index_name, raw):
    first = indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    assert _alias_target(raw, index_name) == [f"{index_name}-000001"]
    ix = indexer.open_index(os_url, index_name=index_name)
    assert ix.doc_count == 40 and first.generation == 1
    second = indexer.reindex(posts, os_url, index_name=index_name, jobs=1, full=True)
    assert second.generation == 2 and _alias_target(raw, index_name) == [f"{index_name}-000002"]
    assert not raw.indices.exists(index=f"{index_name}-000001")
    assert ix.generation == 2 and ix.search("第7篇").total >= 1


def test_incremental_runs_by_signature(os_url, posts, index_name):
    indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    write_post(posts, "feed/007.md", title="第7篇", body="<p>新增了人工智能课程。</p>")
    (posts / "feed/008.md").unlink()
    write_post(posts, "feed/new.md", title="新文章", body="<p>芯片出货量增长。</p>")
    report = indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (1, 1, 1, 38)
    ix = indexer.open_index(os_url, index_name=index_name)
    assert ix.doc_count == 40 and ix.search("人工智能").total == 1 and ix.search("第8篇").total == 0
    assert indexer.reindex(posts, os_url, index_name=index_name, jobs=2).unchanged == 40


def test_parallel_workers_build_the_same_index(os_url, posts, index_name, tmp_path):
    for i in range(80):
        write_post(posts, f"more/{i:03d}.md", title=f"编号{i}", body=f"<p>编号{i}的内容。</p>")
    report = indexer.reindex(posts, os_url, index_name=index_name, jobs=2)
    assert report.added == 120 and not report.failed
    assert indexer.open_index(os_url, index_name=index_name).doc_count == 120


def test_failed_posts_are_reported_and_keep_their_old_version(os_url, posts, index_name):
    indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    (posts / "feed/003.md").write_text("---\ntitle: '坏掉\n---\n", encoding="utf-8")
    report = indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    assert [f.path for f in report.failed] == ["feed/003.md"]
    assert indexer.open_index(os_url, index_name=index_name).search("第3篇").total >= 1


def _lock(raw, name, **fields):
    doc = {"kind": "lock", "host": "elsewhere", "pid": 4242, "expires": time.time() + 600, **fields}
    raw.index(index=f"{name}-meta", id="lock", body=doc, params={"refresh": "true"})


def test_a_held_lock_refuses_a_second_writer(os_url, posts, index_name, raw):
    indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    _lock(raw, index_name)
    with pytest.raises(IndexLockedError, match="process 4242 on elsewhere") as caught:
        indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    assert caught.value.pid == 4242


def test_an_expired_lock_is_taken_over(os_url, posts, index_name, raw):
    indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    _lock(raw, index_name, expires=time.time() - 1)
    assert indexer.reindex(posts, os_url, index_name=index_name, jobs=1).unchanged == 40
    assert not raw.exists(index=f"{index_name}-meta", id="lock")  # released at the end


_STOPPED_REBUILD = """
import sys, pathlib, indexer
import indexer.backends.opensearch.writer as w
def stop(physical):
    pathlib.Path(sys.argv[4]).write_text(physical)
    sys.stdin.read()
w.before_switch = stop
if __name__ == "__main__":
    indexer.reindex(sys.argv[1], sys.argv[2], index_name=sys.argv[3], full=True, jobs=1)
"""


def test_killed_full_rebuild_leaves_the_alias_on_the_old_index(os_url, posts, index_name, raw, tmp_path):
    indexer.reindex(posts, os_url, index_name=index_name, jobs=1)
    marker = tmp_path / "stopped"
    script = tmp_path / "stopped_rebuild.py"
    script.write_text(_STOPPED_REBUILD, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, str(script), str(posts), os_url, index_name, str(marker)],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "the rebuild never reached the switch"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate()
    assert marker.read_text() == f"{index_name}-000002"
    assert raw.count(index=f"{index_name}-000002")["count"] == 40  # complete, but not live
    assert _alias_target(raw, index_name) == [f"{index_name}-000001"]
    ix = indexer.open_index(os_url, index_name=index_name)
    assert ix.doc_count == 40 and ix.generation == 1 and ix.search("第7篇").total >= 1
    # The dead writer's lock (same host, dead pid) does not block the next run, which cleans up.
    assert indexer.reindex(posts, os_url, index_name=index_name, jobs=1).unchanged == 40
    assert not raw.indices.exists(index=f"{index_name}-000002")


# ── errors ──────────────────────────────────────────────────────────────────


def test_missing_index_says_run_reindex(os_url):
    with pytest.raises(IndexNotFoundError, match='Run "reindex --url'):
        indexer.open_index(os_url, index_name=unique("missing"))


def test_cluster_down_is_a_clear_error(demo_dir):
    down = "http://127.0.0.1:9"  # nothing listens on the discard port
    with pytest.raises(BackendUnavailableError, match="Cannot reach OpenSearch at http://127.0.0.1:9"):
        indexer.open_index(down)
    with pytest.raises(BackendUnavailableError, match="Is the cluster running"):
        indexer.reindex(demo_dir, down, jobs=1)


def test_options_of_the_other_backend_are_refused(tmp_path):
    with pytest.raises(indexer.ConfigError, match="only apply to the opensearch backend"):
        indexer.open_index(tmp_path, index_name="x")


# ── faces ───────────────────────────────────────────────────────────────────


def test_cli_reindex_search_stats(os_url, posts, index_name, tmp_path):
    from click.testing import CliRunner

    from indexer.cli import main, reindex_command

    runner = CliRunner()
    url = ["--url", os_url, "--index-name", index_name]
    result = runner.invoke(reindex_command, [str(posts), *url, "--shards", "2"])
    assert result.exit_code == 0, result.output
    assert f"into {index_name} on {os_url}" in result.output
    result = runner.invoke(main, ["search", "第7篇", *url, "--json"])
    assert result.exit_code == 0 and '"total": 1' in result.output
    result = runner.invoke(main, ["stats", *url])
    assert result.exit_code == 0 and "Posts:        40" in result.output
    result = runner.invoke(main, ["search", "x", "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and "Error: Cannot reach OpenSearch" in result.output
    result = runner.invoke(reindex_command, [str(posts), "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_web_app_reads_the_url_from_the_environment(os_demo, monkeypatch):
    import webui

    monkeypatch.setenv("ZHSEARCH_URL", OPENSEARCH_URL)
    monkeypatch.setenv("ZHSEARCH_INDEX_NAME", os_demo.engine.conn.index_name)
    client = webui.create_app().test_client()
    answer = client.get("/api/search?q=教育").get_json()
    assert answer["ok"] and answer["total"] == os_demo.search("教育").total
    assert client.get("/healthz").get_json()["posts"] == os_demo.doc_count


def test_web_app_answers_503_when_the_cluster_is_down():
    import webui

    client = webui.create_app({"TESTING": True, "URL": "http://127.0.0.1:9"}).test_client()
    response = client.get("/api/search?q=教育")
    assert response.status_code == 503 and "Cannot reach OpenSearch" in response.get_json()["error"]


def test_learnt_boilerplate_is_kept_and_stripped_as_in_whoosh(os_url, raw, tmp_path):
    from made_up_feeds import TEMPLATE_MARKERS, write_feeds

    write_feeds(tmp_path / "posts")
    name = unique("feeds")
    try:
        indexer.reindex(tmp_path / "posts", os_url, index_name=name, jobs=2)
        indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=2)
        ours, whoosh = indexer.open_index(os_url, index_name=name), indexer.open_index(tmp_path / "ix")
        assert ours.boilerplate() == whoosh.boilerplate() and any(t.templates for t in ours.boilerplate())
        texts = {h.id: ours.get(h.id) for h in ours.search("", per_page=100, collapse=False).hits}
        assert {i: a.text for i, a in texts.items()} == {
            h.id: whoosh.get(h.id).text for h in whoosh.search("", per_page=100, collapse=False).hits
        }
        for article in texts.values():
            assert not any(marker in article.text for marker in TEMPLATE_MARKERS[article.feed]), article.path
    finally:
        raw.indices.delete(index=f"{name}*")


def test_texts_larger_than_one_request_are_kept_in_parts(os_url, raw, tmp_path, monkeypatch):
    """A large archive's learnt boilerplate is more than OpenSearch takes in one request (100 MB at 200,000
    posts): texts are kept in parts, read back whole, and a new text leaves none of the old parts behind."""
    from made_up_feeds import write_feeds

    from indexer.backends.opensearch import writer

    monkeypatch.setattr(writer, "BLOB_PART_CHARS", 300)
    write_feeds(tmp_path / "posts")
    name = unique("parts")

    def parts():
        raw.indices.refresh(index=f"{name}-meta")
        kept = {}
        for kind in ("blob", "blob-part"):
            found = raw.search(index=f"{name}-meta", body={"query": {"term": {"kind": kind}}, "size": 1000})
            kept[kind] = [h["_source"] for h in found["hits"]["hits"]]
        return sum(h["parts"] - 1 for h in kept["blob"]), len(kept["blob-part"])

    try:
        for run in range(2):
            if run:  # a new post changes the learnt texts: they are written again
                write_post(
                    tmp_path / "posts" / "财经" / "新站" / "要闻", "新的.md", title="新的一篇", body="<p>新的正文。</p>"
                )
            indexer.reindex(tmp_path / "posts", os_url, index_name=name, jobs=1)
            indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=1)
            ours, whoosh = indexer.open_index(os_url, index_name=name), indexer.open_index(tmp_path / "ix")
            assert ours.boilerplate() == whoosh.boilerplate() and any(t.templates for t in ours.boilerplate())
            assert ours.search("新的正文").total == whoosh.search("新的正文").total == run
            listed, kept = parts()
            assert listed == kept and kept > 10  # every part a text lists is there, and no other
    finally:
        raw.indices.delete(index=f"{name}*")
