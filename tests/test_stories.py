"""One story once: near-duplicate posts are one story, shown as its best hit with the others under it.

Posts are made up here: one port story carried by three feeds (with a prefix, other
punctuation, a new title), another story about the same port, and two different
stories of one column that share its long lead and footer (not copies: Jaccard 0.46
on 5-char shingles, below the threshold). The library tests run on both backends;
the page and API tests (the demo posts hold one story carried by two feeds) run on
both through conftest_web.
"""

import os
import uuid

import pytest
from click.testing import CliRunner
from conftest_web import soup_of
from fixture_posts import write_post

import indexer
from indexer import duplicates
from indexer.cli import main

pytest_plugins = ["conftest_web"]

PORT = [
    "临川港务集团今天发布消息，今年前十个月临川港完成集装箱吞吐量三百二十万标准箱，同比增长百分之十二点五。",
    "其中外贸航线增长较快，新开通的三条远洋航线已经稳定运营，货主反映订舱比去年容易。",
    "港务集团负责人表示，明年将继续扩建南区码头，预计新增泊位四个，并推进智慧港口建设，让船舶平均等泊时间再缩短一成。",
]
OPEN_DAY = [
    "临川港今天举办第一届港口开放日活动，上千名市民登上码头参观，孩子们第一次近距离看到巨大的岸桥吊车。",
    "活动持续两天，港务集团还准备了航运知识讲座和船模展览，报名通道已经开放。",
]
# A column's lead and footer around two different pieces of news.
LEAD = "【样例晨报·港口观察】本栏目每日汇总临川港及周边港区的重要动态，内容由样例晨报编辑部整理，仅供读者参考，转载请注明出处。"
FOOT = "本文来源于样例晨报港口观察栏目。欢迎读者通过样例晨报客户端提供新闻线索，一经采用将奉上稿酬。栏目编辑：港口观察编辑部。"
CRANES = "临川港南区码头今天完成新一轮岸桥设备更新，六台新型岸桥投入使用，单机作业效率提高约两成，码头方面预计年底前全部旧设备退役。"
RAIL = "临川港与内陆城市溪川签署海铁联运合作协议，每周将开行四班集装箱专列，溪川企业的出口货物运到港口的时间缩短到一天以内。"

PORT_COPIES = {  # path -> (title, paragraphs)
    "财经/样例日报/要闻/port.md": ("临川港前十月吞吐量增长一成多", PORT),
    "科技/样例快讯/快讯/port.md": (
        "临川港集装箱吞吐量同比增长12.5%",
        ["样例快讯消息，" + PORT[0].replace("，", ", "), *PORT[1:]],
    ),
    "综合/样例晚报/国内/port-refetched.md": (
        "临川港：明年扩建南区码头",
        [*PORT[:1], PORT[1].replace("货主", "不少货主"), *PORT[2:]],
    ),
}
OTHERS = {
    "综合/样例晚报/国内/open-day.md": ("临川港举办开放日", OPEN_DAY),
    "综合/样例晨报/港口观察/cranes.md": ("港口观察：南区码头更新岸桥", [LEAD, CRANES, FOOT]),
    "综合/样例晨报/港口观察/rail.md": ("港口观察：海铁联运专列开通", [LEAD, RAIL, FOOT]),
}
# Another feed's copy of the port story, added later.
LATE_COPY = ("综合/样例周刊/航运/port.md", ("临川港吞吐量前十月增长", ["样例周刊讯 " + PORT[0], *PORT[1:]]))


def write(root, path, title, paragraphs):
    folder, name = path.rsplit("/", 1)
    write_post(root / folder, name, title=title, body="".join(f"<p>{p}</p>" for p in paragraphs))


def story_source(root):
    for path, (title, paragraphs) in {**PORT_COPIES, **OTHERS}.items():
        write(root, path, title, paragraphs)
    return root


def paths_of(hits):
    return [h.path for h in hits]


@pytest.fixture(params=["whoosh", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def build(request, tmp_path):
    """``build(source, **kw)`` → (reindex report, an open SearchIndex) of the source on one backend."""
    opened, made = [], []
    if request.param == "whoosh":
        location, options = tmp_path / "index", {}
    else:
        location = os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200")
        options = {"index_name": f"zhs-stories-{uuid.uuid4().hex[:8]}"}
        made.append(options["index_name"])

    def run(source, **kwargs):
        try:
            report = indexer.reindex(source, location, jobs=1, **options, **kwargs)
        except indexer.BackendUnavailableError as exc:
            pytest.skip(f"no OpenSearch node: {exc}")
        ix = indexer.open_index(location, **options)
        opened.append(ix)
        return report, ix

    yield run
    for ix in opened:
        ix.close()
    if made:
        from indexer.backends.opensearch import client as osc

        osc.client(osc.Connection.of(location)).indices.delete(index=f"{made[0]}*")


def test_one_story_in_three_feeds_is_one_hit_with_two_similar(build, tmp_path):
    _, ix = build(story_source(tmp_path / "src"))
    page = ix.search("临川港")
    assert page.collapsed and page.total == 6 and page.stories == 4 and len(page.hits) == 4
    port = [h for h in page.hits if h.path in PORT_COPIES]
    assert len(port) == 1
    similar = port[0].similar
    assert sorted(s.path for s in similar) == sorted(set(PORT_COPIES) - {port[0].path})
    assert {s.feed for s in similar} == {p.rsplit("/", 1)[0] for p in PORT_COPIES} - {port[0].feed}
    assert all(s.title == PORT_COPIES[s.path][0] and s.date is not None for s in similar)
    assert all(not h.similar for h in page.hits if h is not port[0])


def test_stories_sharing_a_template_are_not_collapsed(build, tmp_path):
    _, ix = build(story_source(tmp_path / "src"))
    page = ix.search("港口观察")
    column = [p for p in OTHERS if "港口观察/" in p]
    assert sorted(paths_of(page.hits)) == sorted(column)
    assert all(not h.similar for h in page.hits) and page.stories == page.total == 2


def test_collapse_false_lists_every_post(build, tmp_path):
    _, ix = build(story_source(tmp_path / "src"))
    page = ix.search("临川港", collapse=False, per_page=4)
    assert not page.collapsed and page.total == 6 and page.stories == 4
    assert page.pages == 2 and len(page.hits) == 4 and all(not h.similar for h in page.hits)
    assert ix.search("临川港", per_page=4).pages == 1


@pytest.mark.parametrize("query", ["临川港", "港口", "集装箱", "南区码头", "", "临川港 -开放日"])
def test_a_story_is_shown_by_its_highest_ranked_post_in_ranked_order(build, tmp_path, query):
    _, ix = build(story_source(tmp_path / "src"))
    every = ix.search(query, collapse=False, per_page=100).hits
    stories = ix.search(query, per_page=100).hits
    story_of = {post: hit.id for hit in stories for post in (hit.id, *(s.id for s in hit.similar))}
    assert sorted(story_of) == sorted(h.id for h in every)  # every match is shown, once
    firsts = list(dict.fromkeys(story_of[h.id] for h in every))
    assert [h.id for h in stories] == firsts
    assert [h.exact for h in stories] == sorted((h.exact for h in stories), reverse=True)


def test_pages_show_each_story_once(build, tmp_path):
    _, ix = build(story_source(tmp_path / "src"))
    first = ix.search("临川港", per_page=1)
    assert first.pages == first.stories == 4
    pages = [ix.search("临川港", per_page=1, page=n) for n in range(1, first.pages + 1)]
    shown = [post for p in pages for h in p.hits for post in (h.path, *(s.path for s in h.similar))]
    assert all(len(p.hits) == 1 for p in pages)
    assert sorted(shown) == sorted(set(shown)) and len(shown) == first.total
    assert paths_of(h for p in pages for h in p.hits) == paths_of(ix.search("临川港").hits)


def test_a_new_copy_joins_its_story_and_only_it_is_signed(build, tmp_path, monkeypatch):
    source = story_source(tmp_path / "src")
    build(source)
    signed = []
    real = duplicates.signature
    monkeypatch.setattr(duplicates, "signature", lambda text: signed.append(text) or real(text))
    write(source, LATE_COPY[0], *LATE_COPY[1])
    report, ix = build(source)
    assert (report.added, report.updated, report.unchanged) == (1, 0, 6)
    assert len(signed) == 1  # the other posts' signatures were kept with the index
    page = ix.search("临川港")
    assert page.total == 7 and page.stories == 4
    port = next(h for h in page.hits if h.path in {*PORT_COPIES, LATE_COPY[0]})
    assert sorted([port.path, *(s.path for s in port.similar)]) == sorted([*PORT_COPIES, LATE_COPY[0]])


def test_a_deleted_or_rewritten_post_leaves_its_story(build, tmp_path):
    source = story_source(tmp_path / "src")
    build(source)
    gone, changed = list(PORT_COPIES)[:2]
    (source / gone).unlink()
    write(
        source,
        changed,
        "临川港开通新航线",
        ["临川港今天开通一条直达南美的集装箱航线，首班船装载了两千多个标准箱的家电和机械产品，航程约三十五天。"],
    )
    report, ix = build(source)
    assert (report.deleted, report.updated) == (1, 1)
    page = ix.search("临川港")
    assert page.total == 5 and page.stories == 5 and all(not h.similar for h in page.hits)
    assert gone not in paths_of(page.hits)


def test_a_lone_story_id_stays_when_copies_come_and_go():
    """A post that joins a story takes its id; the others' documents are not touched."""
    text = "".join(PORT)
    kept = duplicates.Stories()
    assert kept.update({"a.md": duplicates.signature(text)}, []) == {}
    updates = kept.update({"b.md": duplicates.signature("样例快讯消息，" + text)}, [])
    assert updates == {"b.md": kept.label("a.md")} and kept.label("b.md") == kept.label("a.md")
    assert kept.update({"c.md": duplicates.signature(text + "（完）")}, []) == {"c.md": kept.label("a.md")}
    story = kept.label("a.md")
    assert kept.update({}, ["a.md"]) == {} and kept.label("b.md") == kept.label("c.md") == story
    assert kept.update({"d.md": duplicates.signature(CRANES * 2)}, []) == {}  # a story of its own
    assert kept.update({"e.md": duplicates.signature("太短了")}, []) == {} and "e.md" not in kept.signatures


def test_the_cli_says_both_totals_and_lists_similar_posts(tmp_path):
    index = tmp_path / "index"
    indexer.reindex(story_source(tmp_path / "src"), index, jobs=1)
    runner = CliRunner()
    result = runner.invoke(main, ["search", "临川港", "--index", str(index)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("6 results, 4 stories for '临川港'")
    assert "+ 2 similar:" in result.output
    flat = runner.invoke(main, ["search", "临川港", "--index", str(index), "--no-collapse"])
    assert flat.exit_code == 0 and flat.output.startswith("6 results for '临川港'")
    assert "similar" not in flat.output and flat.output.count("\n6. ") == 1


def test_known_items_come_first_and_are_all_shown_when_collapsed(demo_search):
    for phrase in ("数字人民币", "消费券", "澜江市", "课后服务", "人工智能"):
        every = demo_search.search(phrase, collapse=False, per_page=100)
        truth = {h.id for h in every.hits if h.exact}
        page = demo_search.search(phrase, per_page=100)
        exact = [h for h in page.hits if h.exact]
        assert page.hits[: len(exact)] == tuple(exact), phrase
        assert {post for h in exact for post in (h.id, *(s.id for s in h.similar))} == truth, phrase


# ── page and API (both backends; the demo's 澜江市 story is carried by two feeds) ──

DEMO_STORY = "澜江市"


def test_page_folds_the_similar_posts_under_the_hit(web_client):
    soup = soup_of(web_client.get(f"/?q={DEMO_STORY}"))
    summary = soup.select_one(".summary").get_text()
    total, stories = int(soup.select_one(".summary .total").text), int(soup.select_one(".summary .stories").text)
    assert stories == total - 1 and f"合并相似后 {stories} 条" in summary
    folded = soup.select(".hit details.similar")
    assert len(folded) == 1
    assert folded[0].select_one("summary").get_text(strip=True) == "另有 1 篇相似报道"
    link = folded[0].select_one("li a")
    assert "数字人民币消费券" in link.text and link["href"].startswith("/article/")
    assert folded[0].select_one("li .feed").text in ("金融/演示财经/国内财经", "科技/样例科技网/快讯")
    switch = soup.select_one(".summary a.collapse-switch")
    assert switch.text == f"显示全部 {total} 篇" and "collapse=0" in switch["href"]


def test_page_with_collapse_0_lists_every_post(web_client):
    soup = soup_of(web_client.get(f"/?q={DEMO_STORY}&collapse=0"))
    assert not soup.select(".hit details.similar") and not soup.select(".summary .stories")
    titles = [a.text for a in soup.select(".hit-title a")]
    assert sum("数字人民币消费券" in t for t in titles) == 2
    assert soup.select_one(".summary a.collapse-switch").text == "合并相似报道"
    assert soup.select_one('.date-filter input[name="collapse"]')["value"] == "0"


def test_api_returns_the_similar_posts_and_both_totals(web_client):
    body = web_client.get(f"/api/search?q={DEMO_STORY}").get_json()
    assert body["collapsed"] is True and body["total_stories"] == body["total"] - 1
    folded = [h for h in body["hits"] if h["similar"]]
    assert len(folded) == 1 and len(body["hits"]) == body["total_stories"]
    (other,) = folded[0]["similar"]
    assert set(other) == {"id", "path", "url", "title", "feed", "date"}
    assert other["id"] != folded[0]["id"] and "数字人民币消费券" in other["title"]
    assert other["url"].startswith(f"/article/{other['id']}")
    article = web_client.get(f"/api/article/{other['id']}").get_json()
    assert article["title"] == other["title"] and article["feed"] == other["feed"]
    flat = web_client.get(f"/api/search?q={DEMO_STORY}&collapse=0").get_json()
    assert flat["collapsed"] is False and len(flat["hits"]) == flat["total"] == body["total"]
    assert flat["total_stories"] == body["total_stories"] and all(not h["similar"] for h in flat["hits"])


def test_api_refuses_a_bad_collapse_value(web_client):
    response = web_client.get(f"/api/search?q={DEMO_STORY}&collapse=maybe")
    body = response.get_json()
    assert response.status_code == 400 and body["ok"] is False and "collapse must be 1" in body["error"]


def test_shared_corpus_copies_are_found(corpus_search):
    """The shared corpus holds copies (a release retitled twice, a story from two feeds): each is one story."""
    page = corpus_search.search("", per_page=1000)
    folded = [h for h in page.hits if h.similar]
    assert page.stories < page.total and len(folded) >= 5
    assert page.total - page.stories == sum(len(h.similar) for h in folded)


def test_an_index_without_signatures_signs_every_post_at_its_next_update(tmp_path):
    source = story_source(tmp_path / "src")
    index = tmp_path / "index"
    indexer.reindex(source, index, jobs=1)
    gen = next(index.glob("gen-*"))
    for blob in ("minhash", "stories"):  # as an index made before stories were kept
        (gen / f"blob-{blob}.json").unlink()
    assert indexer.open_index(index).search("临川港").stories == 6
    write(source, LATE_COPY[0], *LATE_COPY[1])
    report = indexer.reindex(source, index, jobs=1)
    assert (report.added, report.updated) == (1, 6)
    assert indexer.open_index(index).search("临川港").stories == 4
