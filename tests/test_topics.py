"""The topic model behind related posts (indexer/topics.py): what a text is about."""

import dataclasses
import json

from fixture_posts import write_posts

import indexer
from indexer import related, topics


def test_words_of_one_subject_share_topics():
    model = topics.model()
    assert model is not None, "the topic model's data (package jionlp) is missing"
    school = model.mixture({"课后": 2.0, "学生": 1.0, "作业": 1.0})
    exam = model.mixture({"高考": 1.0, "作文": 1.0, "考生": 1.0})
    game = model.mixture({"游戏": 1.0, "玩家": 1.0, "关卡": 1.0})
    assert topics.similarity(school, exam) > 0.5
    assert topics.similarity(school, exam) > 2 * topics.similarity(school, game)
    assert abs(topics.similarity(exam, exam) - 1.0) < 1e-6


def test_words_the_model_does_not_know_say_nothing():
    model = topics.model()
    unknown = model.mixture({"澜江市": 3.0, "": 1.0})
    assert not unknown.any()
    assert topics.similarity(unknown, model.mixture({"高考": 1.0})) == 0.0
    assert topics.similarity(None, unknown) == 0.0


# A notice on after-school services; an essay-prompt post that shares only 学生 and
# 教育 with it; a game post that shares 免费, which the notice weighs more (a title
# word counts three times, and 学生 and 教育 are common in any text).
POSTS = {
    "教育/notice.md": (
        "澜江市中小学课后服务免费报名",
        "澜江市教育局通知，全市中小学开展课后服务，学生在校内完成作业，学校组织科普和艺术活动，家长免费报名。"
        "课后服务由教师轮流值守，经费由财政保障。",
    ),
    "新闻/essay.md": (
        "今年高考语文作文题公布",
        "今年高考语文科目结束，多地作文题公布。考生需根据材料自拟题目，写一篇不少于800字的文章。"
        "教育部考试中心称，试题注重考查学生的思维能力。",
    ),
    "游戏/game.md": (
        "新游戏周末开放测试",
        "某游戏平台宣布本周末开放新游戏，玩家可免费参加测试，体验全新关卡。",
    ),
    "财经/market.md": ("澜江港口吞吐量创新高", "澜江港十月集装箱吞吐量同比上升，航线增加，港口货运繁忙。"),
}


def test_a_post_on_the_subject_ranks_above_one_sharing_a_heavier_word(tmp_path, monkeypatch):
    indexer.reindex(write_posts(tmp_path / "posts", POSTS), tmp_path / "ix", jobs=1)
    with indexer.open_index(tmp_path / "ix") as ix:
        notice = next(hit for hit in ix.search("", per_page=10).hits if hit.path == "教育/notice.md")
        assert [hit.path for hit in ix.more_like(notice.id)][:2] == ["新闻/essay.md", "游戏/game.md"]
        # Shared words alone rank the game post first: the topics make the difference.
        monkeypatch.setattr(related, "TOPIC_SHARE", 0.0)
        assert [hit.path for hit in ix.more_like(notice.id)][0] == "游戏/game.md"


def test_without_a_topic_model_related_posts_rank_by_shared_words(demo_search, monkeypatch):
    post = demo_search.search("保交楼").hits[0]
    with_topics = demo_search.more_like(post.id)
    monkeypatch.setattr(topics, "model", lambda: None)
    monkeypatch.setattr(related, "CANDIDATES_PER_POST", 6)
    without = demo_search.more_like(post.id)
    assert without and post.id not in {hit.id for hit in without}
    assert related.about(demo_search.get(post.id), demo_search.engine.segmenter) is None
    assert {hit.id for hit in without} & {hit.id for hit in with_topics}


def test_the_table_is_read_row_by_row_as_json_would_read_it():
    text = json.dumps(
        {"高考": {"72": 0.7156, "88": 0.2273}, 'a"b\\c': {"3": 1e-05}, "教育": {}}, ensure_ascii=False, indent=1
    )
    rows = dict(topics._rows(text))
    assert rows == {
        word: {topic: float(weight) for topic, weight in row.items()} for word, row in json.loads(text).items()
    }
    model = topics.TopicModel(rows.items())
    assert "高考" in model and 'a"b\\c' in model and "考生" not in model
    assert model.mixture({"高考": 1.0})[72] > model.mixture({"高考": 1.0})[88] > 0


def test_a_posts_topics_are_read_once_until_its_text_changes(demo_search, monkeypatch):
    article = demo_search.get(demo_search.search("保交楼").hits[0].id)
    seg = demo_search.engine.segmenter
    first = related.about(article, seg)
    read = []
    real = related.candidate_words
    monkeypatch.setattr(related, "candidate_words", lambda post, seg: read.append(post.id) or real(post, seg))
    assert (related.about(article, seg) == first).all() and not read
    changed = related.about(dataclasses.replace(article, text="高考作文题公布，考生自拟题目。" + article.text), seg)
    assert read == [article.id] and not (changed == first).all()
