"""Aliases: synonym files, the shipped list, learnt aliases, and how expansions rank."""

import json

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from fixture_posts import write_posts

import indexer
from indexer.aliases import AliasBlob, counts_of, learn
from indexer.cli import main
from indexer.query import parse
from indexer.synonyms import DEFAULT_SYNONYMS, expand, parse_rules

# Our own posts: the reader's words verbatim in some, only an alias in others.
POSTS = {
    "财经/样例/快讯/pboc-1.md": ("中国人民银行宣布降准", "中国人民银行今日宣布，下调金融机构存款准备金率。"),
    "财经/样例/快讯/pboc-2.md": ("人民银行开展逆回购", "中国人民银行以利率招标方式开展逆回购操作。"),
    # Only the short name, many times over: BM25 alone would rank it first.
    "财经/样例/快讯/pboc-3.md": (
        "央行降准释放资金",
        "央行降准。央行表示，央行将保持流动性合理充裕，央行货币政策稳健。",
    ),
    "财经/样例/快讯/pboc-4.md": ("央行公开市场操作", "央行今日开展七天期逆回购。"),
    "科技/样例/快讯/galaxa-1.md": ("星河数码发布新款手机", "星河数码（Galaxa）今日发布新款手机，售价三千元。"),
    "科技/样例/快讯/galaxa-2.md": ("Galaxa季度营收增长", "Galaxa公布第三季度财报，营收同比增长两成。"),
    "科技/样例/快讯/other.md": ("天气预报", "明天多云转晴，气温回升。"),
}

PBOC_VERBATIM = {"财经/样例/快讯/pboc-1.md", "财经/样例/快讯/pboc-2.md"}
PBOC_ALIAS_ONLY = {"财经/样例/快讯/pboc-3.md", "财经/样例/快讯/pboc-4.md"}


@pytest.fixture(scope="module")
def alias_posts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alias_posts")
    write_posts(folder, POSTS)
    return folder


@pytest.fixture(scope="module")
def alias_index(tmp_path_factory, alias_posts):
    index_dir = tmp_path_factory.mktemp("alias_index")
    indexer.reindex(alias_posts, index_dir, jobs=1)
    return index_dir


@pytest.fixture()
def ix(alias_index):
    with indexer.open_index(alias_index) as opened:
        yield opened


# ── rules ──


def test_parse_rules_reads_equivalents_and_one_way_rules():
    rules = parse_rules("# comment\n央行, 人民银行, 中国人民银行\n脸书 => Facebook, Meta\n\n  \n")
    assert rules.aliases("央行") == ("人民银行", "中国人民银行")
    assert rules.aliases("中国人民银行") == ("央行", "人民银行")
    assert rules.aliases("脸书") == ("Facebook", "Meta")
    assert rules.aliases("Facebook") == ()  # one way


def test_rules_are_looked_up_normalised():
    rules = parse_rules("特斯拉, Tesla\n")
    assert rules.aliases("TESLA") == ("特斯拉",)
    assert rules.aliases("ｔｅｓｌａ") == ("特斯拉",)


def test_the_shipped_list_has_over_a_hundred_rules_for_the_issue_s_names():
    rules = parse_rules(DEFAULT_SYNONYMS.read_text(encoding="utf-8"))
    lines = [
        line for line in DEFAULT_SYNONYMS.read_text(encoding="utf-8").splitlines() if line.strip()[:1] not in ("", "#")
    ]
    assert len(lines) >= 100
    for query, alias in [
        ("中国人民银行", "央行"),
        ("Tesla", "特斯拉"),
        ("脸书", "Facebook"),
        ("国家发展和改革委员会", "发改委"),
        ("新能源车", "新能源汽车"),
    ]:
        assert alias in rules.aliases(query), query


@pytest.mark.parametrize(
    ("query", "added"),
    [
        ("中国人民银行", ("央行", "人民银行")),
        ("中国人民银行降准", ("央行降准", "人民银行降准")),  # a known name inside a longer term
        ('"中国人民银行"', ()),  # quoted: exactly the text typed
        ("author:央行", ()),
        ("天气", ()),
    ],
)
def test_expand_adds_aliases_to_the_clause_s_group(query, added):
    rules = parse_rules("中国人民银行, 央行, 人民银行\n")
    parsed, expansions = expand(parse(query), rules)
    assert expansions == added
    if added:
        assert [c.text for c in parsed.groups[0]][1:] == list(added)
    else:
        assert parsed == parse(query)


# ── ranking: an alias never hides the verbatim posts ──


def test_alias_finds_posts_with_only_the_other_name(ix):
    page = ix.search("中国人民银行")
    assert {h.path for h in page.hits} == PBOC_VERBATIM | PBOC_ALIAS_ONLY
    assert page.total == 4
    assert "央行" in page.expansions


def test_posts_with_the_reader_s_words_come_first(ix):
    paths = [h.path for h in ix.search("中国人民银行").hits]
    assert set(paths[:2]) == PBOC_VERBATIM  # although pboc-3 says 央行 five times
    assert paths[0] == "财经/样例/快讯/pboc-1.md"  # exact phrase first, as without aliases


def test_every_page_keeps_the_tiers(ix):
    whole = [h.path for h in ix.search("中国人民银行", per_page=10).hits]
    paged = [h.path for p in range(1, 5) for h in ix.search("中国人民银行", page=p, per_page=1).hits]
    assert paged == whole
    assert ix.search("中国人民银行", page=3, per_page=1).total == 4


def test_expand_false_searches_only_the_words_typed(ix):
    page = ix.search("中国人民银行", expand=False)
    assert {h.path for h in page.hits} == PBOC_VERBATIM
    assert page.expansions == ()


def test_alias_does_not_change_a_query_without_aliases(ix):
    page = ix.search("天气预报")
    assert [h.path for h in page.hits] == ["科技/样例/快讯/other.md"]
    assert page.expansions == ()


def test_alias_words_are_highlighted(ix):
    hit = next(h for h in ix.search("中国人民银行").hits if h.path.endswith("pboc-4.md"))
    assert hit.title.text[slice(*hit.title.spans[0])] == "央行"


def test_a_synonym_file_is_read_again_when_it_changes(alias_index, tmp_path):
    rules = tmp_path / "mine.txt"
    rules.write_text("", encoding="utf-8")
    with indexer.open_index(alias_index, synonyms=rules) as opened:
        assert opened.search("天气预报").total == 1
        rules.write_text("天气预报 => 降准\n", encoding="utf-8")
        page = opened.search("天气预报")
        assert page.expansions == ("降准",)
        assert page.hits[0].path == "科技/样例/快讯/other.md"
        assert page.total == 3  # the two posts that say 降准


# ── learnt aliases ──


@pytest.mark.parametrize(
    ("text", "pairs"),
    [
        ("据中国证券监督管理委员会（证监会）消息", [("中国证券监督管理委员会", "证监会")]),
        ("特斯拉（Tesla）发布财报", [("特斯拉", "Tesla")]),
        ("国家发展和改革委员会，简称发改委，昨日", [("国家发展和改革委员会", "发改委")]),
        ("据了解，国家发展和改革委员会（以下简称发改委）", [("国家发展和改革委员会", "发改委")]),
        ("2021年国内生产总值（GDP）增长", [("国内生产总值", "GDP")]),
        ("足球回家（home）", []),  # a gloss in lower case
        ("上市公司董监高（高管）", []),  # brackets that explain, not abbreviate
        ("苏弼坤摄（人民视觉）", []),
    ],
)
def test_learn_finds_the_pairs_text_defines(text, pairs):
    assert learn(text) == pairs


def test_reindex_learns_aliases_and_lists_them(ix):
    assert ("星河数码", "Galaxa", 1) in ix.aliases()


def test_a_learnt_alias_is_searched(ix):
    page = ix.search("星河数码")
    assert [h.path for h in page.hits] == ["科技/样例/快讯/galaxa-1.md", "科技/样例/快讯/galaxa-2.md"]
    assert "Galaxa" in page.expansions


def test_a_vanished_post_takes_its_aliases_along(alias_posts, tmp_path):
    index_dir = tmp_path / "ix"
    indexer.reindex(alias_posts, index_dir, jobs=1)
    moved = tmp_path / "moved.md"
    with indexer.open_index(index_dir) as opened:
        assert [(full, short) for full, short, _ in opened.aliases()] == [("星河数码", "Galaxa")]
        (alias_posts / "科技/样例/快讯/galaxa-1.md").rename(moved)
        try:
            indexer.reindex(alias_posts, index_dir, jobs=1)
            assert opened.aliases() == []  # an open index reads the aliases again once they change
            assert "Galaxa" not in opened.search("星河数码").expansions
        finally:
            moved.rename(alias_posts / "科技/样例/快讯/galaxa-1.md")


def test_alias_blob_round_trips():
    blob = AliasBlob({"a.md": [("特斯拉", "Tesla")]})
    assert AliasBlob.load(blob.to_json()).counts() == {("特斯拉", "Tesla"): 1}
    # Queries read the small counts blob; an index written before it existed has only the posts' blob.
    assert counts_of(blob.counts_json()) == counts_of(None, blob.to_json()) == {("特斯拉", "Tesla"): 1}
    assert AliasBlob.load(json.dumps({"version": 0, "posts": {}})).posts == {}


# ── faces ──


def test_cli_aliases_lists_learnt_pairs(alias_index):
    result = CliRunner().invoke(main, ["aliases", "--index", str(alias_index)])
    assert result.exit_code == 0
    assert "星河数码 = Galaxa" in result.output


def test_cli_search_says_what_else_it_searched(alias_index):
    result = CliRunner().invoke(main, ["search", "中国人民银行", "--index", str(alias_index)])
    assert result.exit_code == 0
    assert "also searched: 人民银行, 央行, 人行" in result.output  # the shipped list's order
    result = CliRunner().invoke(main, ["search", "中国人民银行", "--no-expand", "--index", str(alias_index)])
    assert "also searched" not in result.output


def test_page_and_api_show_the_expansions(alias_index):
    from webui import create_app

    client = create_app({"TESTING": True, "INDEX_DIR": str(alias_index)}).test_client()
    body = client.get("/api/search?q=中国人民银行").get_json()
    assert body["expansions"][:3] == ["人民银行", "央行", "人行"]
    soup = BeautifulSoup(client.get("/?q=中国人民银行").data, "html.parser")
    assert [a.get_text() for a in soup.select(".expansions .alias")][:3] == ["人民银行", "央行", "人行"]
