"""Boilerplate learnt per feed from the archive (indexer.boilerplate, ingest.apply_templates).

Every post here is made up for the tests (tests/made_up_feeds.py and the snippets below).
"""

import dataclasses

import pytest
from made_up_feeds import (
    FEEDS,
    LOOKALIKES,
    QUOTES,
    TEMPLATE_MARKERS,
    post_paragraphs,
    write_feeds,
)

from indexer import boilerplate as bp
from indexer.ingest import TemplateNote, apply_templates, read_post_at


@pytest.fixture(scope="module")
def made_up(tmp_path_factory):
    """{feed: [Post, …]} for the made-up feeds, read through the ingest path (rules only)."""
    root = tmp_path_factory.mktemp("made_up_feeds")
    return {feed: [read_post_at(root, relpath) for relpath in relpaths] for feed, relpaths in write_feeds(root).items()}


def paragraphs(post):
    return post.text.split("\n\n") if post.text else []


def learn(posts):
    return bp.learn(posts[0].feed, [paragraphs(p) for p in posts])


# --- keys -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("——END——", "- end -"),
        ("第12期 详见 https://a.example/1", "第３期，详见：https://b.example/x?y=2"),
        ("关注微信号ｙａｎｇｌｉ０７", "关注微信号 yangli12"),
        ("（本文仅代表作者观点。）", "(本文仅代表作者观点)"),
        ("👉扫码关注", "扫码关注！"),
        ("联系 editor@example.cn", "联系：news@example.com"),
    ],
)
def test_variants_share_a_key(one, other):
    assert bp.key(one) == bp.key(other)


def test_text_after_a_url_stays_in_the_key():
    assert bp.key("详见 https://a.example/1，第3期") == "详见<url>第0期"
    assert bp.key("联系 editor@example.cn 或扫码") == "联系<url>或扫码"


def test_different_text_has_different_keys():
    assert bp.key("本文仅代表作者观点") != bp.key("本文仅代表编辑部观点")
    assert bp.key("  ") == ""


# --- learnt and removed, on feeds no rule names -------------------------------------------------


@pytest.mark.parametrize("feed", list(FEEDS))
def test_made_up_feed_templates_are_learnt_and_removed(made_up, feed):
    posts = made_up[feed]
    assert len(posts) >= 10
    templates = learn(posts)
    assert templates.posts == len(posts) and templates.threshold >= bp.MIN_COUNT
    kinds = {t.kind for t in templates.templates}
    assert "start" in kinds and "end" in kinds, templates.templates
    assert any(t.prefix for t in templates.templates), "the byline with varying names is a prefix"
    for i, post in enumerate(posts):
        header, article, footer = post_paragraphs(feed, i)
        before = paragraphs(post)
        for template_text in [*header, *footer]:  # the rules left the templates in: only learning removes them
            assert any(bp.key(template_text) == bp.key(p) for p in before), template_text
        stripped, note = apply_templates(post, templates)
        assert isinstance(note, TemplateNote) and note.skipped is None, note
        assert paragraphs(stripped) == article  # every article paragraph, in order, nothing else
        for marker in TEMPLATE_MARKERS[feed]:
            assert marker not in stripped.text, (i, marker)
        assert stripped.title == post.title and stripped.date == post.date


def test_each_feed_learns_its_own_kinds(made_up):
    tech = learn(made_up["科技/样例科技网/快讯"])
    by_key = {t.key: t for t in tech.templates}
    assert by_key[bp.key("限时预售：前50名下单即送精美礼品，立即抢购 https://x.example/1")].kind == "edge"
    assert by_key[bp.key("—— 样例科技网 · 每日快讯 第3期 ——")].kind == "end"
    byline = by_key[bp.key("样例科技网首席记者")]
    assert byline.prefix and byline.kind == "start" and byline.count == len(made_up["科技/样例科技网/快讯"])
    # One feed's templates are not another's.
    games = learn(made_up["游戏/样例游戏站/新闻"])
    assert not {t.key for t in tech.templates} & {t.key for t in games.templates}
    with pytest.raises(ValueError, match="another feed|given for a post of feed"):
        apply_templates(made_up["游戏/样例游戏站/新闻"][0], tech)


@pytest.mark.parametrize("feed", list(LOOKALIKES))
def test_lookalike_paragraphs_stay(made_up, feed):
    posts = made_up[feed]
    templates = learn(posts)
    assert LOOKALIKES[feed] in paragraphs(apply_templates(posts[4], templates)[0])
    if feed in QUOTES:
        assert QUOTES[feed] in apply_templates(posts[2], templates)[0].text


def test_prefix_matches_only_at_a_word_boundary():
    templates = bp.FeedTemplates(
        "测试/源", posts=10, threshold=3, templates=(bp.Template("样例网编辑", "start", 10, prefix=True),)
    )
    body = ["这是一段足够长的正文，" * 10]
    kept, removed, skipped = bp.strip(["样例网编辑 王五", *body], templates)
    assert (kept, removed, skipped) == (body, ["样例网编辑 王五"], None)
    lookalike = "样例网编辑部成立于2010年"
    assert bp.strip([lookalike, *body], templates).kept == [lookalike, *body]


def test_templates_only_at_their_end():
    templates = bp.FeedTemplates(
        "测试/源", posts=10, threshold=3, templates=(bp.Template(bp.key("——本期完——"), "end", 9),)
    )
    long = [f"第{n}段正文，内容各不相同，" * 5 for n in range(12)]
    at_start = ["——本期完——", *long]
    assert bp.strip(at_start, templates).kept == at_start  # an "end" template is left at the start
    assert bp.strip([*long, "——本期完——"], templates).kept == long


# --- what is never learnt, and what is never removed ---------------------------------------------


def test_feed_with_two_posts_learns_nothing(made_up):
    two = made_up["科技/样例科技网/快讯"][:2]
    templates = learn(two)
    assert templates.templates == () and templates.threshold == 0 and templates.posts == 2
    assert apply_templates(two[0], templates) == (two[0], None)


def test_copies_of_one_post_count_once(made_up):
    posts = made_up["财经/样例财经周刊/深度"][:3]
    copies = [paragraphs(posts[0])] * 6 + [paragraphs(p) for p in posts[1:]]
    templates = bp.learn("财经/样例财经周刊/深度", copies)
    assert templates.posts == 3 and templates.templates == ()


def test_safety_cap_leaves_a_short_post_alone(made_up):
    feed = "科技/样例科技网/快讯"
    templates = learn(made_up[feed])
    header, _, footer = post_paragraphs(feed, 0)
    short = dataclasses.replace(made_up[feed][0], text="\n\n".join([*header, "短讯一句。", *footer]))
    stripped, note = apply_templates(short, templates)
    assert stripped == short
    assert note.removed == () and "not applied" in note.skipped and "more than 30%" in note.skipped
    assert str(note) == note.skipped


def test_numbers_are_data_not_templates():
    venues = ("东馆", "西馆", "南馆", "北馆", "中央大厅", "露天广场", "小剧场", "多功能厅", "报告厅", "展厅")
    posts = [
        [
            f"開場 {17 + i % 3}:00",
            f"開演 {18 + i % 2}:30",
            f"本场活动在{venues[i]}举行，主办方介绍了嘉宾阵容和入场须知，各场安排都不相同。",
            f"国家统计局今日发布数据，本月居民消费价格同比上涨{i % 3}.{i}%，环比持平。",
        ]
        for i in range(10)
    ]
    assert bp.learn("测试/活动", posts).templates == ()


# --- incremental counts and the stored forms -----------------------------------------------------


def test_merge_adds_and_subtracts_posts_exactly(made_up):
    posts = made_up["游戏/样例游戏站/新闻"]
    keys = [bp.post_keys(paragraphs(p)) for p in posts]
    everything = bp.count("游戏/样例游戏站/新闻", keys)
    assert bp.merge(bp.count("游戏/样例游戏站/新闻", keys[:4]), added=keys[4:]) == everything
    assert bp.merge(everything, removed=keys[:3]) == bp.count("游戏/样例游戏站/新闻", keys[3:])
    assert bp.merge(everything, removed=keys) == bp.count("游戏/样例游戏站/新闻", [])
    assert bp.templates_of(everything) == learn(posts)
    # A changed post: its old keys out, its new keys in.
    changed = bp.post_keys(paragraphs(posts[0])[1:])
    assert bp.merge(everything, removed=[keys[0]], added=[changed]) == bp.count(
        "游戏/样例游戏站/新闻", [changed, *keys[1:]]
    )
    with pytest.raises(ValueError, match="never counted"):
        bp.merge(bp.count("游戏/样例游戏站/新闻", keys[:2]), removed=[keys[5]])


def test_json_round_trips(made_up):
    posts = made_up["科技/样例科技网/快讯"]
    keys = [bp.post_keys(paragraphs(p)) for p in posts]
    counts = bp.count(posts[0].feed, keys)
    templates = bp.templates_of(counts)
    assert bp.FeedTemplates.from_json(templates.to_json()) == templates
    assert bp.FeedCounts.from_json(counts.to_json()) == counts
    assert all(bp.PostKeys.from_json(k.to_json()) == k for k in keys)
    assert '"kind": "start"' in templates.to_json()
    with pytest.raises(ValueError, match="reindex --full"):
        bp.FeedTemplates.from_json(templates.to_json().replace('"version": 1', '"version": 99'))


def test_signature_follows_the_templates_not_the_counts(made_up):
    posts = made_up["财经/样例财经周刊/深度"]
    templates = learn(posts)
    recounted = dataclasses.replace(
        templates,
        posts=templates.posts + 1,
        templates=tuple(dataclasses.replace(t, count=t.count + 1) for t in templates.templates),
    )
    assert recounted.signature == templates.signature
    fewer = dataclasses.replace(templates, templates=templates.templates[1:])
    assert fewer.signature != templates.signature


def test_no_templates_no_change(made_up):
    post = made_up["科技/样例科技网/快讯"][0]
    assert apply_templates(post, None) == (post, None)
    assert bp.strip(paragraphs(post), bp.FeedTemplates(post.feed, 0)) == (paragraphs(post), [], None)


# ── through reindex: learnt, stored with the index, stripped, updated, listed ──


def _index_texts(ix):
    return {hit.path: ix.get(hit.id).text for hit in ix.search("", per_page=1000, collapse=False).hits}


def test_reindex_learns_strips_and_lists_templates(tmp_path):
    from click.testing import CliRunner

    import indexer
    from indexer import cli

    written = write_feeds(tmp_path / "posts")
    report = indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=2)
    assert report.added == sum(len(paths) for paths in written.values()) and report.templates >= 12
    ix = indexer.open_index(tmp_path / "ix")
    texts = _index_texts(ix)
    for feed, paths in written.items():
        for i, path in enumerate(paths):
            _, body, _ = post_paragraphs(feed, i)
            assert texts[path].split("\n\n") == body, path  # every article paragraph, nothing else
            assert not any(marker in texts[path] for marker in TEMPLATE_MARKERS[feed])
    # A footer phrase is no longer found; an article phrase is.
    assert ix.search('"头条配图由"').total == 0
    assert ix.search(LOOKALIKES["科技/样例科技网/快讯"]).total == 1
    listed = CliRunner().invoke(cli.main, ["boilerplate", "科技", "--index", str(tmp_path / "ix")])
    assert listed.exit_code == 0, listed.output
    assert "科技/样例科技网/快讯: 5 templates from 12 posts" in listed.output
    assert "头条配图由样例图库提供" in listed.output


def test_incremental_runs_update_the_counts_and_restrip_a_feed(tmp_path):
    import shutil

    import indexer

    feed = "游戏/样例游戏站/新闻"
    root = tmp_path / "posts"
    written = write_feeds(root)

    def with_byline(n):  # of the feed's first n posts, those whose header names the editor on duty
        return sum(any("值班小编" in p for p in post_paragraphs(feed, i)[0]) for i in range(n))

    assert 0 < with_byline(4) < with_byline(len(written[feed]))
    keep = written[feed][:4]  # below MIN_POSTS: the feed learns nothing yet
    for path in written[feed][4:]:
        (root / path).unlink()
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")
    assert ix.search('"值班小编"').total == with_byline(4)  # not learnt: still indexed
    assert [t.feed for t in ix.boilerplate(feed)] == [feed] and not ix.boilerplate(feed)[0].templates
    write_feeds(tmp_path / "again")
    for path in written[feed][4:]:  # the other posts come (back): now there are enough
        shutil.copy2(tmp_path / "again" / path, root / path)
    report = indexer.reindex(root, tmp_path / "ix", jobs=1)
    assert report.added == len(written[feed]) - len(keep)
    assert report.updated == len(keep)  # unchanged files, written again without the templates
    assert ix.search('"值班小编"').total == 0
    assert ix.boilerplate(feed)[0].templates
    for path in written[feed][4:]:  # back below the threshold: templates forgotten, text back
        (root / path).unlink()
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    assert ix.search('"值班小编"').total == with_byline(4)
