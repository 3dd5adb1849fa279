"""Typos: did-you-mean for homophone slips and misspelt Latin words, pinyin initials, on both backends."""

import json
import os
import uuid

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from conftest_web import query_of
from fixture_posts import write_posts

import indexer
import webui
from indexer.cli import main
from indexer.pinyin import PinyinTable
from indexer.typos import LatinWords, correct

# Our own posts. 中小企业 is in six, and one more spells it 中小旗业 (a slip that made it into print).
POSTS = {
    "财经/样例/快讯/sme-1.md": ("中小企业贷款利率下降", "银行加大对中小企业的信贷支持，中小企业融资成本下降。"),
    "财经/样例/快讯/sme-2.md": ("中小企业数字化转型", "多地出台政策帮助中小企业数字化转型。"),
    "财经/样例/快讯/sme-3.md": ("减税惠及中小企业", "新一轮减税降费惠及大批中小企业。"),
    "财经/样例/快讯/sme-4.md": ("中小企业出口回暖", "沿海中小企业出口订单回暖。"),
    "财经/样例/快讯/sme-5.md": ("中小企业招聘旺季", "中小企业迎来招聘旺季，岗位需求增加。"),
    "财经/样例/快讯/sme-6.md": ("服务中小企业发展", "园区为中小企业提供一站式服务。"),
    "财经/样例/快讯/sme-typo.md": ("园区新闻", "园区召开中小旗业座谈会，听取意见。"),
    "社会/样例/快讯/loss-1.md": ("警方追回赃款", "警方帮助受害人挽回损失二十万元，其中大部分已经返还。"),
    "社会/样例/快讯/loss-2.md": ("消费者维权成功", "消费者通过调解挽回损失，其中一人获赔三千元。"),
    "社会/样例/快讯/loss-3.md": ("暴雨造成农业损失", "暴雨造成农业损失，其中玉米受灾最重。"),
    # 期中 is a real word, in one post; 其中 (the same sound) is in four.
    "教育/样例/快讯/exam.md": ("期中考试安排公布", "学校公布期中考试安排，其中数学考试在周三。"),
    "教育/样例/快讯/after-school-1.md": ("学校推进课后服务", "多地学校推进课后服务，家长欢迎。"),
    "教育/样例/快讯/after-school-2.md": ("课后服务延长时间", "课后服务时间延长到傍晚六点。"),
    # 客户 (kh, like 课后) is in more posts than 课后, but no post says 客户服务.
    "财经/样例/快讯/client-1.md": ("银行客户投诉增加", "今年银行客户投诉数量增加。"),
    "财经/样例/快讯/client-2.md": ("客户满意度调查", "调查显示客户满意度上升。"),
    "财经/样例/快讯/client-3.md": ("客户经理转岗", "多名客户经理转岗到零售部门。"),
    "科技/样例/快讯/fb-1.md": ("Facebook更新隐私政策", "Facebook今日更新隐私政策。"),
    "科技/样例/快讯/fb-2.md": ("Facebook用户增长放缓", "Facebook季度用户增长放缓。"),
    "科技/样例/快讯/fb-3.md": ("Facebook推出新功能", "Facebook推出短视频功能。"),
    # css is also the initials of 长沙市, which two posts name: a word with verbatim matches stays itself.
    "科技/样例/博客/css-1.md": ("CSS layout tips", "CSS grid makes page layout simple."),
    "科技/样例/博客/css-2.md": ("Learning CSS", "Start with CSS selectors and the box model."),
    "科技/样例/博客/css-3.md": ("CSS colors", "Modern CSS has color functions."),
    "社会/样例/快讯/changsha-1.md": ("长沙市发布暴雨预警", "长沙市气象台发布暴雨预警。"),
    "社会/样例/快讯/changsha-2.md": ("长沙市地铁新线开通", "长沙市地铁六号线开通运营。"),
}

SME = {f"财经/样例/快讯/sme-{i}.md" for i in range(1, 7)}
LOSS_VERBATIM = {"社会/样例/快讯/loss-1.md", "社会/样例/快讯/loss-2.md"}
FACEBOOK = {f"科技/样例/快讯/fb-{i}.md" for i in (1, 2, 3)}


@pytest.fixture(scope="module")
def typo_posts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("typo_posts")
    write_posts(folder, POSTS)
    return folder


@pytest.fixture(scope="module")
def typo_index(tmp_path_factory, typo_posts):
    index_dir = tmp_path_factory.mktemp("typo_index")
    indexer.reindex(typo_posts, index_dir, jobs=1)
    return index_dir


@pytest.fixture(scope="module", params=["whoosh", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def typo_backend(request, typo_posts, typo_index):
    """App settings (and open_index arguments) of the posts on each backend."""
    if request.param == "whoosh":
        yield {"INDEX_DIR": str(typo_index)}, (str(typo_index), {})
        return
    url = os.environ.get("OPENSEARCH_URL", "http://127.0.0.1:9200")
    name = f"zhs-typos-{uuid.uuid4().hex[:8]}"
    try:
        indexer.reindex(typo_posts, url, index_name=name)
    except indexer.SearchEngineError as exc:
        pytest.skip(f"no OpenSearch node at {url}: {exc}")
    yield {"URL": url, "INDEX_NAME": name}, (url, {"index_name": name})
    from indexer.backends.opensearch import client as osc

    osc.client(osc.Connection.of(url)).indices.delete(index=f"{name}*")


@pytest.fixture(scope="module")
def ix(typo_backend):
    location, options = typo_backend[1]
    with indexer.open_index(location, **options) as opened:
        yield opened


@pytest.fixture(scope="module")
def client(typo_backend):
    return webui.create_app({"TESTING": True, **typo_backend[0]}).test_client()


def paths(page):
    return {hit.path for hit in page.hits}


# ── library ──


def test_a_slip_that_finds_nothing_is_searched_corrected_with_a_note(ix):
    page = ix.search("挽回孙失")
    assert page.suggestion == "挽回损失"
    assert page.note_code == "corrected"
    assert page.note == "Showing results for 挽回损失; search instead for 挽回孙失."
    assert page.query == "挽回孙失" and page.searched == "挽回损失"
    assert paths(page) == LOSS_VERBATIM
    assert any(hit.snippet.text[a:b] == "挽回损失" for hit in page.hits for a, b in hit.snippet.spans)


def test_correct_false_searches_the_query_as_typed_and_still_suggests(ix):
    page = ix.search("挽回孙失", correct=False)
    assert page.total == 0 and page.note_code is None
    assert page.suggestion == "挽回损失"


def test_the_correction_is_never_applied_when_the_query_has_results(ix):
    page = ix.search("中小旗业")  # one post has the slip verbatim; six have the word meant
    assert paths(page) == {"财经/样例/快讯/sme-typo.md"}
    assert page.note_code is None and page.note is None
    assert page.suggestion == "中小企业"
    assert paths(ix.search(page.suggestion)) == SME


def test_only_the_slip_of_a_query_with_several_terms_changes(ix):
    page = ix.search("暴雨 孙失 -广告")
    assert page.suggestion == "暴雨 损失 -广告"
    assert page.note_code == "corrected"  # rather than the any-term results of the query as typed
    assert paths(page) == {"社会/样例/快讯/loss-3.md"}
    # A correction that finds no more posts than the query is not offered.
    page = ix.search("暴雨 孙失 -玉米")
    assert page.suggestion is None and page.note_code == "any_term"


@pytest.mark.parametrize("query", ["期中", "期中考试", "其中", "中小企业", "长沙市", "课后服务"])
def test_words_that_exist_are_not_corrected(ix, query):
    page = ix.search(query)
    assert page.total >= 1
    assert page.suggestion is None and page.note_code is None


def test_a_misspelt_latin_word_is_corrected(ix):
    page = ix.search("Facebok")
    assert page.suggestion == "facebook"
    assert page.note_code == "corrected"
    assert paths(page) == FACEBOOK
    assert ix.search("Facebook").suggestion is None


def test_pinyin_initials_read_as_the_index_words_posts_hold_together(ix):
    page = ix.search("khfw")  # 客户服务 would join more frequent words, but no post holds them together
    assert page.note_code == "pinyin" and page.reading == "课后服务"
    assert paths(page) == {"教育/样例/快讯/after-school-1.md", "教育/样例/快讯/after-school-2.md"}


def test_an_english_word_with_verbatim_matches_is_not_read_as_initials(ix):
    page = ix.search("css")  # the initials of 长沙市 too
    assert page.note_code is None and page.reading is None and page.suggestion is None
    assert paths(page) == {f"科技/样例/博客/css-{i}.md" for i in (1, 2, 3)}


@pytest.mark.parametrize("value", ["maybe", 2, "00"])
def test_correct_must_be_yes_or_no(ix, value):
    with pytest.raises(indexer.QueryError) as raised:
        ix.search("挽回孙失", correct=value)
    assert raised.value.param == "correct"
    assert "correct must be 1 or 0" in str(raised.value)


@pytest.mark.parametrize(("value", "expected"), [("0", False), ("false", False), ("1", True), ("", True), (None, True)])
def test_correct_text_values(value, expected):
    assert indexer.check_params("x", correct=value).correct is expected


# ── the rules, without an index ──


def test_a_window_common_as_text_is_left_alone():
    # 京市 sounds like 京师, but 北京市场 holds it across two words: it is common as text.
    vocabulary = {"京师": 10, "北京": 50, "市场": 50}
    args = PinyinTable(vocabulary), LatinWords(vocabulary)
    assert correct("北京市场", vocabulary, *args, known=lambda w: False, posts_with=lambda t: 40) is None
    assert correct("北京市场", vocabulary, *args, known=lambda w: False, posts_with=lambda t: 0) == "北京师场"


def test_a_real_word_however_rare_is_not_corrected():
    def fix(vocabulary, known):
        args = PinyinTable(vocabulary), LatinWords(vocabulary)
        return correct("期中", vocabulary, *args, known=known, posts_with=lambda t: 0)

    assert fix({"其中": 50, "期中": 1}, known=lambda w: False) is None  # a word of the index
    assert fix({"其中": 50}, known=lambda w: w == "期中") is None  # a word of jieba's dictionary
    assert fix({"其中": 50}, known=lambda w: False) == "其中"  # neither: a slip


def test_a_correction_must_be_a_frequent_word():
    vocabulary = {"损失": 2, "挽回": 9}
    args = PinyinTable(vocabulary), LatinWords(vocabulary)
    assert correct("挽回孙失", vocabulary, *args, known=lambda w: False, posts_with=lambda t: 0) is None


def test_latin_words_nearest_is_the_closest_then_the_most_frequent():
    latin = LatinWords({"facebook": 5, "facebooks": 40, "face": 9, "tesla": 2})
    assert latin.nearest("facebok") == ("facebook", 5)
    assert latin.nearest("tesle") is None  # tesla is in too few posts
    assert latin.nearest("zzzz") is None


# ── faces ──


def test_cli_says_what_it_searched_and_what_it_suggests(typo_index):
    runner = CliRunner()
    result = runner.invoke(main, ["search", "挽回孙失", "--index", str(typo_index)])
    assert result.exit_code == 0, result.output
    assert "Showing results for 挽回损失; search instead for 挽回孙失." in result.output
    result = runner.invoke(main, ["search", "挽回孙失", "--no-correct", "--index", str(typo_index)])
    assert result.output.startswith("0 results") and "Did you mean: 挽回损失" in result.output
    result = runner.invoke(main, ["search", "中小旗业", "--json", "--index", str(typo_index)])
    body = json.loads(result.output)
    assert body["suggestion"] == "中小企业" and body["note_code"] is None and body["total"] == 1


def test_api_corrected_and_uncorrected(client):
    body = client.get("/api/search?q=挽回孙失").get_json()
    assert body["note_code"] == "corrected" and body["suggestion"] == "挽回损失"
    assert {hit["path"] for hit in body["hits"]} == LOSS_VERBATIM
    assert all(query_of(hit["url"]) == {"q": "挽回损失"} for hit in body["hits"])
    body = client.get("/api/search?q=挽回孙失&correct=0").get_json()
    assert body["total"] == 0 and body["note_code"] is None and body["suggestion"] == "挽回损失"
    response = client.get("/api/search?q=挽回孙失&correct=maybe")
    assert response.status_code == 400
    assert response.get_json()["error"].startswith("correct must be 1 or 0")


def test_page_shows_the_correction_and_links_back_to_the_query(client):
    soup = BeautifulSoup(client.get("/?q=挽回孙失").data, "html.parser")
    note = soup.select_one("p.note")
    assert note.get_text(strip=True) == "已显示“挽回损失”的结果。仍然搜索：挽回孙失"
    back = note.select_one("a.search-instead")
    assert query_of(back["href"]) == {"q": "挽回孙失", "correct": "0"}
    assert {query_of(a["href"])["q"] for a in soup.select(".hit-title a")} == {"挽回损失"}

    soup = BeautifulSoup(client.get(back["href"]).data, "html.parser")
    assert not soup.select(".hit") and soup.select_one("a.search-instead") is None
    suggestion = soup.select_one(".did-you-mean a.suggestion")
    assert suggestion.get_text() == "挽回损失"
    assert query_of(suggestion["href"]) == {"q": "挽回损失"}


def test_page_offers_a_suggestion_beside_results(client):
    soup = BeautifulSoup(client.get("/?q=中小旗业").data, "html.parser")
    assert len(soup.select(".hit")) == 1
    assert soup.select_one(".did-you-mean").get_text(strip=True) == "您是不是要找：中小企业"
    assert soup.select_one("a.search-instead") is None


def test_page_explains_a_bad_correct_value(client):
    response = client.get("/?q=挽回孙失&correct=maybe")
    assert response.status_code == 400
    assert "correct 只能是 1" in response.get_data(as_text=True)
