import time
from datetime import datetime, timezone

import pytest

from indexer import frontmatter
from indexer.frontmatter import FrontMatterError, parse, parse_date, split


def meta_of(text, fallback="文件名"):
    fm, body = split(text)
    return parse(fm, fallback_title=fallback, body=body), body


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Wed, 15 Dec 2021 05:07:15 GMT", datetime(2021, 12, 15, 5, 7, 15, tzinfo=timezone.utc)),
        ("2022-09-01T10:00:00+08:00", datetime(2022, 9, 1, 2, 0, tzinfo=timezone.utc)),
        ("2022-09-01T10:00:00Z", datetime(2022, 9, 1, 10, 0, tzinfo=timezone.utc)),
        ("2021-05-12 00:05:07", datetime(2021, 5, 12, 0, 5, 7, tzinfo=timezone.utc)),
        ("2021/05/12", datetime(2021, 5, 12, tzinfo=timezone.utc)),
        (datetime(2021, 5, 12, 0, 5, 7), datetime(2021, 5, 12, 0, 5, 7, tzinfo=timezone.utc)),
    ],
)
def test_dates_become_aware_utc(value, expected):
    parsed, warning = parse_date(value)
    assert parsed == expected and parsed.tzinfo is not None
    assert warning is None


def test_unparseable_date_is_empty_with_warning():
    meta, _ = meta_of("---\ntitle: t\ndate: Invalid Date\n---\nbody")
    assert meta.date is None
    assert any("Invalid Date" in w for w in meta.warnings)


def test_yaml_datetime_and_date_only():
    meta, _ = meta_of("---\ntitle: t\ndate: 2021-05-12 00:05:07\n---\n")
    assert meta.date == datetime(2021, 5, 12, 0, 5, 7, tzinfo=timezone.utc)
    meta, _ = meta_of("---\ntitle: t\ndate: 2021-05-12\n---\n")
    assert meta.date == datetime(2021, 5, 12, tzinfo=timezone.utc)


def test_real_post_shape():
    text = (
        "\n---\ntitle: '标题里有\"引号\"&nbsp;和实体'\ncategories: \n - 金融\n - 样例源\n"
        "headimg: 'https://picsum.photos/400/300?random=1'\nauthor: 样例源\ncomments: false\n"
        "date: Sat, 16 Oct 2021 09:56:06 GMT\n---\n\n<div>正文</div>  "
    )
    meta, body = meta_of(text)
    assert meta.title == '标题里有"引号" 和实体'
    assert meta.categories == ("金融", "样例源")
    assert meta.author == "样例源"
    assert meta.image is None  # placeholder images are not kept
    assert body.startswith("<div>正文")


@pytest.mark.parametrize(
    ("yaml_line", "expected"),
    [
        ("categories: 教育", ("教育",)),
        ("categories: 教育, 新闻", ("教育", "新闻")),
        ("categories: [教育, [新闻, 快讯]]", ("教育", "新闻", "快讯")),
        ("categories:", ()),
    ],
)
def test_categories_list_or_string(yaml_line, expected):
    meta, _ = meta_of(f"---\ntitle: t\n{yaml_line}\n---\n")
    assert meta.categories == expected


def test_tags_and_unquoted_title():
    meta, _ = meta_of("---\ntitle: 没有引号的标题\ntags:\n - 双减\n - 课后服务\n---\n")
    assert meta.title == "没有引号的标题"
    assert meta.tags == ("双减", "课后服务")


def test_no_front_matter_title_from_heading_or_file_name():
    meta, body = meta_of("# 第一个标题\n\n正文")
    assert meta.title == "第一个标题" and body.startswith("# 第一个标题")
    meta, _ = meta_of("<h1>网页<b>标题</b></h1><p>正文</p>")
    assert meta.title == "网页标题"
    meta, _ = meta_of("只有正文", fallback="文件名")
    assert meta.title == "文件名"


def test_body_with_dash_lines_stays_whole():
    _meta, body = meta_of("---\ntitle: t\n---\n第一段\n---\n第二段\n---\n第三段")
    assert body == "第一段\n---\n第二段\n---\n第三段"


def test_unclosed_front_matter_is_an_error():
    with pytest.raises(FrontMatterError, match="no closing"):
        split("---\ntitle: t\n正文")


def test_broken_yaml_names_the_problem():
    with pytest.raises(FrontMatterError, match="not valid YAML at line"):
        meta_of("---\ntitle: 'unclosed\ncategories: [a\n---\n")


def test_python_tag_never_runs(tmp_path):
    marker = tmp_path / "ran"
    text = f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\n"
    with pytest.raises(FrontMatterError, match="tag that is not allowed"):
        meta_of(text)
    assert not marker.exists()


def test_alias_bomb_rejected_fast():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 10):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.monotonic()
    with pytest.raises(FrontMatterError, match="aliases"):
        meta_of("---\n" + "\n".join(lines) + "\n---\n")
    assert time.monotonic() - start < 5


def test_gigantic_front_matter_rejected():
    huge = "---\ntitle: t\nx: '" + "长" * (frontmatter.MAX_FRONT_MATTER_CHARS + 1) + "'\n---\n"
    with pytest.raises(FrontMatterError, match="characters"):
        meta_of(huge)
