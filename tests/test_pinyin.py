"""Pinyin: a Latin query read as the index's Chinese words, and left alone when it is meant."""

import pytest
from fixture_posts import write_posts

import indexer
from indexer.pinyin import PinyinTable

POSTS = {
    "教育/样例/快讯/after-school.md": ("学校推进课后服务", "多地学校推进课后服务，家长普遍欢迎课后服务时间延长。"),
    "科技/样例/快讯/change-1.md": ("Climate change report", "A new climate change report was published today."),
    "科技/样例/快讯/change-2.md": ("Change of plans", "The change affects every city."),
    "科技/样例/快讯/change-3.md": ("Small change", "A small change in policy."),
    "科技/样例/快讯/moon.md": ("嫦娥探月新进展", "嫦娥五号探测器带回月球样品，嫦娥工程进展顺利。"),
}


@pytest.fixture(scope="module")
def ix(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pinyin_posts")
    write_posts(folder, POSTS)
    index_dir = tmp_path_factory.mktemp("pinyin_index")
    indexer.reindex(folder, index_dir, jobs=1)
    with indexer.open_index(index_dir) as opened:
        yield opened


@pytest.mark.parametrize("query", ["kehoufuwu", "ke hou fu wu", "KeHouFuWu"])
def test_pinyin_query_finds_the_chinese_words(ix, query):
    page = ix.search(query)
    assert [h.path for h in page.hits] == ["教育/样例/快讯/after-school.md"]
    assert page.note == "Showing results for 课后服务."


def test_a_real_english_word_with_verbatim_matches_is_not_read_as_pinyin(ix):
    page = ix.search("change")  # also chang'e, the pinyin of 嫦娥
    assert page.note is None
    assert {h.path for h in page.hits} == {f"科技/样例/快讯/change-{i}.md" for i in (1, 2, 3)}


def test_pinyin_false_turns_it_off(ix):
    page = ix.search("kehoufuwu", pinyin=False)
    assert page.total == 0 and page.note is None


def test_table_reads_only_letters_of_syllables():
    table = PinyinTable({"课后服务": 3, "课后": 5, "服务": 9, "中小企业": 2})
    assert table.reading("kehoufuwu") == "课后服务"  # one frequent word over two
    assert table.reading("zhongxiaoqiye") == "中小企业"
    assert table.reading("xyzw") is None
    assert table.reading("课后 fuwu") is None
    assert table.reading("fw") is None


def test_table_reads_initials_as_one_word_or_several():
    table = PinyinTable({"课后": 5, "客户": 9, "服务": 9, "中小企业": 2, "长沙市": 1})
    assert table.reading("zxqy") == "中小企业"
    assert table.readings("khfw") == ["客户服务", "课后服务"]  # the more frequent words first
    assert table.readings("css") == []  # 长沙市 is in too few posts to be read from initials
    assert table.readings("kh") == []  # two letters abbreviate too much
