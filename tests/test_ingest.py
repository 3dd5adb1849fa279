"""Ingest of real posts (the shared corpus) and of hostile inputs we write ourselves."""

import html
import os
import time
from datetime import timezone
from email.utils import parsedate_to_datetime

import pytest
import yaml
from fixture_posts import write_post

import indexer
from indexer import Failure, Post
from indexer.ingest import read_post_at
from indexer.sources import find_posts

BOILERPLATE = ("海量资讯", "责任编辑", "appendQr", "文末二维码", "{border:", "&#123;", "<!--", "-->", "正文下iframe")


def _front_matter(path):
    text = path.read_text(encoding="utf-8")
    return yaml.safe_load(text.split("---", 2)[1])


@pytest.mark.corpus
def test_every_corpus_post_ingests_cleanly(corpus_dir):
    sources = find_posts(corpus_dir)
    assert len(sources) >= 200
    for source in sources:
        post = read_post_at(corpus_dir, source.relpath)
        assert isinstance(post, Post), post
        for marker in BOILERPLATE:
            assert marker not in post.text, (source.relpath, marker)
        meta = _front_matter(corpus_dir / source.relpath)
        assert post.title == " ".join(html.unescape(str(meta["title"])).replace("\xa0", " ").split())
        raw_date = meta.get("date")
        if hasattr(raw_date, "year"):
            assert post.date == raw_date.replace(tzinfo=timezone.utc)
        elif raw_date and raw_date != "Invalid Date":
            assert post.date == parsedate_to_datetime(raw_date).astimezone(timezone.utc)
        else:
            assert post.date is None
        assert post.categories == tuple(meta["categories"])
        assert post.feed == str(source.relpath).rsplit("/", 1)[0]


@pytest.mark.corpus
def test_corpus_sina_editor_becomes_metadata(corpus_dir):
    sina = [s for s in find_posts(corpus_dir) if "新浪财经" in s.relpath]
    assert sina
    posts = [read_post_at(corpus_dir, s.relpath) for s in sina]
    assert all(p.editor for p in posts), [p.path for p in posts if not p.editor]


@pytest.mark.corpus
def test_corpus_credited_author_is_searchable(corpus_dir, corpus_search):
    """The site's name in `author:` gives way to the person the post credits (阑夕 on 虎嗅)."""
    huxiu = [read_post_at(corpus_dir, s.relpath) for s in find_posts(corpus_dir) if "虎嗅" in s.relpath]
    his = {p.path for p in huxiu if p.author == "阑夕"}
    assert len(his) >= 2
    assert all("虎嗅" in p.categories for p in huxiu)  # the site stays findable by category
    for query in ("author:阑夕", "作者:阑夕", "阑夕"):
        found = {h.path for h in corpus_search.search(query, per_page=50).hits}
        assert his <= found, (query, his - found)


def test_credits_fill_author_and_source(tmp_path):
    body = "<p>作者：张小北</p><p>正文一段。</p><p>来源：样例日报</p><p>责任编辑：李南</p>"
    write_post(tmp_path, "site/feed/a.md", body=body)  # front matter author: the site's name
    write_post(tmp_path, "site/feed/b.md", body=body, extra="").write_text(
        (tmp_path / "site/feed/a.md").read_text(encoding="utf-8").replace("author: 样例源", "author: 真名作者"),
        encoding="utf-8",
    )
    post = read_post_at(tmp_path, "site/feed/a.md")
    assert (post.text, post.author, post.editor, post.source) == ("正文一段。", "张小北", "李南", "样例日报")
    # A real author in the front matter is kept.
    assert read_post_at(tmp_path, "site/feed/b.md").author == "真名作者"


# ── hostile inputs ──


def _hostile_tree(root):
    """Write every hostile fixture; return {relpath: expected "ok" or a reason fragment}."""
    write_post(root, "ok/普通.md", title="普通文章", body="<p>课后服务正常开展。</p>")
    (root / "bad").mkdir()
    (root / "bad/empty.md").write_bytes(b"")
    (root / "bad/binary.md").write_bytes(bytes(range(256)) * 64)
    (root / "bad/nul.md").write_bytes("---\ntitle: t\n---\n正文".encode() + b"\x00\x01")
    (root / "ok/gbk.md").write_bytes("---\ntitle: 国标编码\n---\n<p>双减政策落地。</p>".encode("gbk"))
    (root / "bad/broken-yaml.md").write_text("---\ntitle: 'x\n  : [\n---\n正文", encoding="utf-8")
    (root / "bad/unclosed.md").write_text("---\ntitle: 没有结尾\n正文", encoding="utf-8")
    bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        bomb.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ",".join([f"*{chr(96 + i)}"] * 9) + "]")
    (root / "bad/alias-bomb.md").write_text("---\n" + "\n".join(bomb) + "\n---\n正文", encoding="utf-8")
    (root / "bad/python-tag.md").write_text(
        f"---\ntitle: !!python/object/apply:os.system ['touch {root}/PWNED']\n---\n正文", encoding="utf-8"
    )
    write_post(root, "ok/deep.md", title="深层嵌套", body="<div>" * 3000 + "深处的文字" + "</div>" * 3000)
    write_post(root, "ok/unclosed-tags.md", title="未闭合", body="<span><b><i>" * 1000 + "未闭合的文字")
    paragraph = "<p>" + "大型文章的段落内容，测试六兆字节的帖子。" * 50 + "</p>\n"
    write_post(root, "ok/huge.md", title="巨大文章", body=paragraph * (6 * 1024 * 1024 // len(paragraph.encode())))
    (root / "ok/crlf.md").write_bytes("\r\n---\r\ntitle: 回车换行\r\n---\r\n<p>第一段</p>\r\n".encode())
    (root / "ok/bom.md").write_bytes(b"\xef\xbb\xbf" + "---\ntitle: 字节序标记\n---\n<p>正文</p>".encode())
    write_post(root, 'ok/it\'s "odd" ｜ 名字 .md', title="奇怪的文件名")
    (root / "ok/no-front-matter.md").write_text("# 没有前言\n\n只有 Markdown 正文。", encoding="utf-8")
    os.symlink(root, root / "ok/loop")
    return {
        "ok/普通.md": "ok",
        "ok/gbk.md": "ok",
        "ok/deep.md": "ok",
        "ok/unclosed-tags.md": "ok",
        "ok/huge.md": "ok",
        "ok/crlf.md": "ok",
        "ok/bom.md": "ok",
        'ok/it\'s "odd" ｜ 名字 .md': "ok",
        "ok/no-front-matter.md": "ok",
        "bad/empty.md": "ok",  # an empty file is a post with no text, titled by its file name
        "bad/binary.md": "binary",
        "bad/nul.md": "NUL",
        "bad/broken-yaml.md": "not valid YAML",
        "bad/unclosed.md": "no closing",
        "bad/alias-bomb.md": "aliases",
        "bad/python-tag.md": "not allowed",
    }


def test_hostile_inputs_give_a_record_or_a_reason(tmp_path):
    root = tmp_path / "posts"
    root.mkdir()
    expected = _hostile_tree(root)
    found = {s.relpath for s in find_posts(root)}
    assert found == set(expected)
    for relpath, outcome in expected.items():
        start = time.monotonic()
        result = read_post_at(root, relpath)
        assert time.monotonic() - start < 30, relpath
        if outcome == "ok":
            assert isinstance(result, Post), (relpath, result)
        else:
            assert isinstance(result, Failure), relpath
            assert outcome in result.reason, (relpath, result.reason)
    assert not (root / "PWNED").exists()


def test_hostile_records_are_right(tmp_path):
    root = tmp_path / "posts"
    root.mkdir()
    _hostile_tree(root)
    gbk = read_post_at(root, "ok/gbk.md")
    assert gbk.title == "国标编码" and "双减政策落地" in gbk.text and gbk.warnings
    assert "深处的文字" in read_post_at(root, "ok/deep.md").text
    assert "未闭合的文字" in read_post_at(root, "ok/unclosed-tags.md").text
    assert read_post_at(root, "ok/crlf.md").title == "回车换行"
    assert read_post_at(root, "ok/bom.md").title == "字节序标记"
    assert read_post_at(root, "ok/no-front-matter.md").title == "没有前言"
    assert read_post_at(root, "bad/empty.md").title == "empty"
    huge = read_post_at(root, "ok/huge.md")
    assert len(huge.text) > 1_500_000


def test_reindex_reports_each_broken_post_and_indexes_the_rest(tmp_path):
    root = tmp_path / "posts"
    root.mkdir()
    expected = _hostile_tree(root)
    report = indexer.reindex(root, tmp_path / "index", jobs=1)
    failed = {f.path: f.reason for f in report.failed}
    assert set(failed) == {p for p, outcome in expected.items() if outcome != "ok"}
    assert report.added == sum(1 for outcome in expected.values() if outcome == "ok")
    ix = indexer.open_index(tmp_path / "index")
    assert ix.search("深处的文字").total == 1
    assert ix.search("国标编码").total == 1
