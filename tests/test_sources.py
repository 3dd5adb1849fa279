import os

import pytest

from indexer.errors import ConfigError, PostParseError
from indexer.sources import find_posts, read_text


def test_walk_takes_markdown_only_recursively(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "文章.md").write_text("x", encoding="utf-8")
    (tmp_path / "a" / "two.markdown").write_text("x", encoding="utf-8")
    (tmp_path / "a" / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "UPPER.MD").write_text("x", encoding="utf-8")
    assert [f.relpath for f in find_posts(tmp_path)] == ["UPPER.MD", "a/b/文章.md", "a/two.markdown"]


def test_odd_file_names_keep_their_identity(tmp_path):
    names = ['it\'s "quoted".md', " .md", "新闻｜快讯.md", "with space  twice.md", "(更新) 标题.md"]
    for name in names:
        (tmp_path / name).write_text("x", encoding="utf-8")
    assert sorted(f.relpath for f in find_posts(tmp_path)) == sorted(names)


def test_symlink_loop_is_survived(tmp_path):
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "post.md").write_text("x", encoding="utf-8")
    os.symlink(tmp_path, tmp_path / "feed" / "loop")
    os.symlink(tmp_path / "missing.md", tmp_path / "broken.md")
    assert [f.relpath for f in find_posts(tmp_path)] == ["feed/post.md"]


def test_missing_or_file_source_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        find_posts(tmp_path / "nope")
    (tmp_path / "file.md").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a folder"):
        find_posts(tmp_path / "file.md")


def test_signature_changes_with_mtime(tmp_path):
    post = tmp_path / "p.md"
    post.write_text("x", encoding="utf-8")
    before = find_posts(tmp_path)[0].signature
    os.utime(post, ns=(1, 1_000_000_000))
    assert find_posts(tmp_path)[0].signature != before


@pytest.mark.parametrize(
    ("data", "text", "warned"),
    [
        ("标题\n正文".encode(), "标题\n正文", False),
        (b"\xef\xbb\xbf" + "标题".encode(), "标题", False),
        ("标题\r\n正文\r\n".encode(), "标题\n正文\n", False),
        ("课后服务，双减政策".encode("gbk"), "课后服务，双减政策", True),
    ],
)
def test_decoding(tmp_path, data, text, warned):
    path = tmp_path / "p.md"
    path.write_bytes(data)
    got, warning = read_text(path)
    assert got == text
    assert (warning is not None) == warned


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"abc\x00def", "NUL bytes"),
        (bytes(range(1, 32)) * 40, "binary"),
    ],
)
def test_binary_is_rejected_with_reason(tmp_path, data, reason):
    path = tmp_path / "p.md"
    path.write_bytes(data)
    with pytest.raises(PostParseError, match=reason):
        read_text(path)
