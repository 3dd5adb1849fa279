"""Tests for indexer.clean: body HTML/Markdown -> clean article text.

Snippets below are written for these tests; the corpus test reads the shared posts in place.
"""

import re
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Comment

from indexer import clean
from indexer.clean import DEFAULT_RULES, Cleaned, Rule, clean_body

CORPUS_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "posts"


# --- inline vs block ----------------------------------------------------------------------


def test_inline_tags_do_not_split_words():
    body = '<div><p>南<a class="keyword" href="/x">太平洋</a>无核区，<span>股</span><b>票</b><font>代</font><em>码</em><i>段</i><strong>落</strong></p></div>'
    assert clean_body(body).text == "南太平洋无核区，股票代码段落"


def test_nineteen_deep_span_nest_is_one_word():
    body = "<p>前" + "<span>" * 19 + "中" + "</span>" * 19 + "后</p>"
    assert clean_body(body).text == "前中后"


def test_paragraphs_in_order_separated_by_blank_line():
    body = (
        "<div>\n <p>第一段。</p>\n<p>第二段。</p><div>第三段。</div>"
        "<h2>小标题</h2><ul><li>要点甲</li><li>要点乙</li></ul><blockquote>引文。</blockquote></div>"
    )
    assert (
        clean_body(body).text
        == "第一段。\n\n第二段。\n\n第三段。\n\n小标题\n\n要点甲\n\n要点乙\n\n引文。"
    )


def test_no_empty_paragraphs_or_outer_whitespace():
    body = (
        "<div>  <p> </p><p>\u3000\u3000</p><p>甲</p><div><div></div></div>\n\n\n<p>乙</p>  </div>  "
    )
    text = clean_body(body).text
    assert text == "甲\n\n乙"
    assert "\n\n\n" not in text


def test_whitespace_normalised_inside_paragraphs():
    body = "<p>\u3000\u3000全角缩进后\u00a0的文字  有\t\t多个\u3000空格 </p>"
    assert clean_body(body).text == "全角缩进后 的文字 有 多个 空格"


def test_entities_decoded():
    body = "<p>A&amp;B &#123;x&#125; a&nbsp;b &lt;tag&gt; &quot;q&quot; &#x4E2D;</p>"
    assert clean_body(body).text == 'A&B {x} a b <tag> "q" 中'


def test_single_br_is_line_double_br_is_paragraph():
    body = (
        "<div>First paragraph is hard\nwrapped in the source.<br><br>Second paragraph"
        "<br>continues on a new line.<br> <br>Third.</div>"
    )
    assert clean_body(body).text == (
        "First paragraph is hard wrapped in the source.\n\n"
        "Second paragraph\ncontinues on a new line.\n\nThird."
    )


def test_table_cells_and_rows():
    body = "<table><tr><th>指标</th><th>数值</th></tr><tr><td>甲</td><td>1.5%</td></tr></table><p>表后。</p>"
    assert clean_body(body).text == "指标 数值\n甲 1.5%\n\n表后。"


def test_pre_keeps_code_lines():
    body = "<p>示例：</p><pre><code>def f():\n    return &#123;1&#125;\n</code></pre>"
    # Lines are kept; indentation is collapsed like any other whitespace.
    assert clean_body(body).text == "示例：\n\ndef f():\nreturn {1}"


# --- removed material ---------------------------------------------------------------------


def test_comments_styles_scripts_and_widgets_removed():
    body = (
        "<div><!-- 注释 --><style>.x&#123;border:0&#125;</style><script>var a = '脚本';</script>"
        "<p>正文<!-- 行内注释 -->继续</p><iframe src='//v.example/1'>框架</iframe>"
        "<noscript>无脚本</noscript><form><input value='输入'><button>按钮</button>表单</form>"
        "<svg><text>矢量</text></svg><video>视频</video><audio>音频</audio>"
        "<!--article_adlist[<p>广告</p>]article_adlist--><p>结尾</p></div>"
    )
    assert clean_body(body).text == "正文继续\n\n结尾"


def test_sina_boilerplate_removed_and_editor_extracted():
    body = """<div>
<div class="video-2017" id="videoList0"></div>
<p>　　这是我们自己写的一段正文。</p><!-- news_keyword_pub,stock, -->
<!-- 开户二维码 start --><style>.app-kaihu-qr &#123;text-align: center;&#125;</style>
<div class="app-kaihu-qr"><span>开户送福利！</span><img src="https://example.com/qr1.png"></div>
<!-- 正文下iframe -->
<!-- 文末二维码 start --><style>.appendQr_wrap&#123;border:1px solid #E6E6E6;&#125;</style>
<div class="clearfix appendQr_wrap"><div class="appendQr_normal"><img src="https://example.com/qr2.png"></div>
<div class="appendQr_normal_txt">海量资讯、精准解读，尽在新浪财经APP</div></div>
<p class="article-editor">责任编辑：张三 SF001 </p>
</div>"""
    cleaned = clean_body(body, feed="金融/新浪财经/新浪财经－国內")
    assert cleaned == Cleaned(text="这是我们自己写的一段正文。", editor="张三", image=None)


def test_editor_forms():
    assert clean_body("<p>正文</p><p>【责任编辑:李四】</p>").editor == "李四"
    assert clean_body("<p>正文</p><p>责编：王五</p>").editor == "王五"
    # A mention inside a sentence is article text, not a credit line.
    mention = clean_body("<p>该报责任编辑表示同意。</p>")
    assert mention.editor is None and mention.text == "该报责任编辑表示同意。"


def test_feed_rules_apply_only_to_their_feed():
    stcn = "<div><p>证券时报e公司讯，某公司今日公告了新的计划。</p></div>"
    assert clean_body(stcn, feed="金融/证券时报网/快讯").text == "某公司今日公告了新的计划。"
    assert clean_body(stcn, feed="其他/来源").text.startswith("证券时报e公司讯")

    gcw = "<div><p>正文一句。</p><p><strong>本文系观察者网独家稿件，未经授权，不得转载。</strong></p></div>"
    assert clean_body(gcw, feed="新媒体/观察者网/头条").text == "正文一句。"

    cnbeta = '<p>正文。</p><div class="article-relation"><p><strong>相关文章:</strong></p><p><a href="/1">旧文</a></p></div>'
    assert clean_body(cnbeta, feed="新媒体/cnBeta/最新").text == "正文。"

    ithome = '<p>正文。</p><p><a class="bl" href="https://s.example/x"></a></p><p class="tagging2">免责声明文字。</p><div class="tagging1">【广告】</div>'
    assert clean_body(ithome, feed="新媒体/IT 之家/分类资讯").text == "正文。"

    gamer = '<ul class="platform-tag"><li><a href="/p">PS5</a></li></ul><!-- 新聞內容 --><div>正文。</div>'
    assert clean_body(gamer, feed="游戏/巴哈姆特/GNN 新聞").text == "正文。"

    huxiu = (
        '<p><span class="text-remarks" label="备注">本文来自微信公众号：</span><a href="/w">某号</a>'
        '<span class="text-remarks">，作者：某人</span></p><p>正文。</p><p>头图 | 某图库</p>'
    )
    assert clean_body(huxiu, feed="新媒体/虎嗅/作者").text == "正文。"


def test_proofreader_line_removed_everywhere():
    assert clean_body("<p>正文。</p><p>校对：某人</p>").text == "正文。"


def test_legit_paragraph_mentioning_sina_is_kept():
    body = "<p>新浪财经APP的用户数在报告期内增长。</p>"
    assert clean_body(body, feed="金融/新浪财经/x").text == "新浪财经APP的用户数在报告期内增长。"


def test_user_rule_extends_the_table():
    body = '<div><p>保留这一段。</p><div class="promo">推广内容</div><p>广告：买一送一</p></div>'
    rules = DEFAULT_RULES + (
        Rule(r"^测试/", selectors=(".promo",), text_patterns=(r"^广告：.*$",)),
    )
    assert clean_body(body, feed="测试/源", rules=rules).text == "保留这一段。"
    assert "推广内容" in clean_body(body, feed="其他/源", rules=rules).text
    assert "推广内容" in clean_body(body, feed=None, rules=rules).text
    assert "推广内容" in clean_body(body, feed="测试/源").text  # default table unchanged
    with pytest.raises(AttributeError):
        rules[-1].selectors = ()  # frozen


def test_rules_none_for_all_feeds_and_empty_table():
    body = '<p>正文。</p><div class="appendQr_wrap">扫码</div>'
    assert clean_body(body, feed=None).text == "正文。"
    assert clean_body(body, rules=()).text == "正文。\n\n扫码"


# --- image --------------------------------------------------------------------------------


def test_image_skips_data_uri_and_placeholders():
    body = (
        '<p><img src="data:image/png;base64,iVBORw0KGgo="><img src="https://picsum.photos/400/300?random=1">'
        '<img src="https://www.example.com/article/undefined"><img src="">'
        '<img src="https://img.example.com/real.jpg"><img src="https://img.example.com/second.jpg"></p>'
    )
    assert clean_body(body).image == "https://img.example.com/real.jpg"


def test_image_none_protocol_relative_and_lazy():
    assert clean_body("<p>无图</p>").image is None
    assert (
        clean_body('<p><img src="//img.example.com/a.jpg"></p>').image
        == "https://img.example.com/a.jpg"
    )
    assert clean_body('<p><img class="lazy" _src="https://img.example.com/l.jpg"></p>').image == (
        "https://img.example.com/l.jpg"
    )


def test_image_in_boilerplate_not_chosen():
    body = '<p>正文</p><div class="appendQr_wrap"><img src="https://example.com/qr.png"></div>'
    assert clean_body(body).image is None
    commented = (
        '<p>正文</p><!--article_adlist[<img src="https://example.com/ad.jpg">]article_adlist-->'
    )
    assert clean_body(commented).image is None


# --- Markdown and bare text ---------------------------------------------------------------


def test_markdown_body_rendered():
    body = "# 标题\n\n这是**重要**的内容，见[链接](https://example.com)。\n\n- 甲\n- 乙\n\n1. 一\n2. 二\n"
    assert clean_body(body).text == "标题\n\n这是重要的内容，见链接。\n\n甲\n\n乙\n\n一\n\n二"


def test_markdown_with_inline_html_still_markdown():
    assert clean_body("## 小节\n\n文字<b>加粗</b>继续").text == "小节\n\n文字加粗继续"


def test_bare_text_in_div():
    body = "\n<div>   \n今天发布了一条快讯，内容完整。（某报）  \n</div>\n            "
    assert clean_body(body).text == "今天发布了一条快讯，内容完整。（某报）"


def test_bare_key_value_lines_keep_their_breaks():
    body = "<div>\n项目 一场活动\n地点 某会场\n时间 2022-01-01 10:00\n</div>"
    assert clean_body(body).text == "项目 一场活动\n地点 某会场\n时间 2022-01-01 10:00"


@pytest.mark.parametrize("body", ["", "   \n  ", "<div>   \n   \n</div>  "])
def test_empty_bodies(body):
    assert clean_body(body) == Cleaned(text="", editor=None, image=None)


@pytest.mark.parametrize(
    "body", ["https://example.com/a.html", "index.md", "<?xml version='1.0'?><a>x</a>"]
)
def test_no_bs4_warnings(body):
    # pytest runs with filterwarnings=error: any warning would fail here.
    clean_body(body)


def test_lone_surrogate_and_control_characters():
    assert clean_body("<p>甲\ud800乙\x00丙\x07丁\u200b戊</p>").text == "甲\ufffd乙\ufffd丙丁戊"


# --- robustness ---------------------------------------------------------------------------

DEPTH = 5000


@pytest.mark.parametrize("tag", ["div", "span"])
@pytest.mark.parametrize("closed", [True, False])
def test_deep_nesting_keeps_text(tag, closed):
    body = (
        "<p>开头</p>"
        + f"<{tag}>" * DEPTH
        + "最深处"
        + (f"</{tag}>" * DEPTH if closed else "")
        + "<p>结尾</p>"
    )
    text = clean_body(body).text
    assert "开头" in text and "最深处" in text and "结尾" in text
    assert text.index("开头") < text.index("最深处") < text.index("结尾")


def test_deep_nesting_survives_a_truncating_parser(monkeypatch):
    """If lxml stops early (old libxml2 gives up at depth 256), text must not be lost."""
    real = clean.BeautifulSoup

    def truncating(markup, features, **kwargs):
        if features == "lxml":  # simulate libxml2 abandoning the rest of a too-deep document
            markup = markup[: len(markup) // 10]
        return real(markup, features, **kwargs)

    monkeypatch.setattr(clean, "BeautifulSoup", truncating)
    body = "<div>" * DEPTH + "最深处" + "</div>" * DEPTH + "<p>结尾</p>"
    text = clean_body(body).text
    assert "最深处" in text and "结尾" in text


def test_big_body_finishes_quickly():
    para = '<p>　　第{}段：某公司<a class="keyword" href="https://example.com/s">股票</a>今日上涨，<span>成交</span>活跃。</p>\n'
    body = "<div>" + "".join(para.format(i) for i in range(60000)) + "</div>"
    assert len(body.encode("utf-8")) > 6_000_000
    start = time.perf_counter()
    text = clean_body(body, feed="金融/新浪财经/x").text
    elapsed = time.perf_counter() - start
    assert text.count("\n\n") == 59999
    assert "第59999段：某公司股票今日上涨，成交活跃。" in text
    assert elapsed < 30, f"6 MB body took {elapsed:.1f}s"  # ~4 s here; generous for busy CI


def test_big_markdown_like_body_finishes_quickly():
    body = "# 标题\n\n一段**文字**和[链接](https://example.com)。\n\n- 项\n\n" * 100000
    assert len(body.encode("utf-8")) > 6_000_000
    start = time.perf_counter()
    text = clean_body(body).text
    assert time.perf_counter() - start < 30
    assert "一段**文字**" in text  # too big to render: kept as bare text, paragraphs intact
    assert "\n\n\n" not in text


# --- the shared corpus --------------------------------------------------------------------

FORBIDDEN = (
    "海量资讯",
    "责任编辑",
    "appendQr",
    "文末二维码",
    "&#123;",
    "{border:",
    "<!--",
    "-->",
    "<p",
    "<div",
    "正文下iframe",
)
# Classes of boilerplate containers, so the "longest paragraph" is picked from article text.
BOILERPLATE_CLASSES = {
    "appendQr_wrap",
    "app-kaihu-qr",
    "article-editor",
    "video-2017",
    "jqlblock_cls",
    "fin_reference",
    "article-relation",
    "tagging1",
    "tagging2",
    "tougao-user",
    "platform-tag",
    "text-remarks",
}
BOILERPLATE_TEXT = re.compile(
    r"责任编辑|责编|校对|本文系观察者网独家稿件|【广告】|本文来自微信公众号"
)
OPENERS = re.compile(r"^证券时报(?:e公司|网)讯\s*[，,]\s*")
NO_SPACE = re.compile(r"[\s\u3000\u00a0\u200b]+")


def _split_body(text):
    """Naive front-matter split: the body is everything after the second `---` line."""
    lines = text.splitlines(keepends=True)
    fences = [i for i, line in enumerate(lines) if line.strip() == "---"]
    return "".join(lines[fences[1] + 1 :])


def _norm(text):
    return re.sub(r"[\s\u3000\u00a0]+", " ", text).strip()


def _in_boilerplate(el):
    for node in [el, *el.parents]:
        classes = node.get("class") or [] if hasattr(node, "get") else []
        if BOILERPLATE_CLASSES.intersection(classes):
            return True
    return False


def _longest_paragraph(soup):
    best = ""
    for p in soup.find_all("p"):
        text = _norm(p.get_text())
        if len(text) > len(best) and not _in_boilerplate(p) and not BOILERPLATE_TEXT.search(text):
            best = text
    return OPENERS.sub("", best)


def _longest_string(soup):
    best = ""
    for s in soup.find_all(string=True):
        if isinstance(s, Comment) or s.parent.name in ("style", "script", "iframe", "noscript"):
            continue
        text = _norm(s)
        if (
            len(text) > len(best)
            and not _in_boilerplate(s.parent)
            and not BOILERPLATE_TEXT.search(text)
        ):
            best = text
    return OPENERS.sub("", best)


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS_DIR.is_dir(), reason=f"shared corpus not found at {CORPUS_DIR}")
def test_corpus_posts_clean():
    posts = sorted(CORPUS_DIR.rglob("*.md"))
    assert len(posts) >= 200, f"expected the 250 shared posts, found {len(posts)}"
    problems = []
    checked_paragraphs = editors = 0
    for path in posts:
        rel = path.relative_to(CORPUS_DIR)
        body = _split_body(path.read_text(encoding="utf-8"))
        cleaned = clean_body(body, feed=rel.parent.as_posix())
        text = cleaned.text
        for bad in FORBIDDEN:
            if bad in text:
                problems.append(f"{rel}: contains {bad!r}")
        if text != text.strip() or "\n\n\n" in text:
            problems.append(f"{rel}: untidy whitespace")

        soup = BeautifulSoup(body, "lxml")
        squeezed = NO_SPACE.sub("", text)
        for label, expected in (
            ("paragraph", _longest_paragraph(soup)),
            ("text", _longest_string(soup)),
        ):
            if len(expected) < 8:
                continue
            checked_paragraphs += 1
            if NO_SPACE.sub("", expected) not in squeezed:
                problems.append(f"{rel}: longest {label} lost: {expected[:40]!r}")
        # A <p> with only inline markup must come out word for word (no spaces added at tags).
        longest = _longest_paragraph(soup)
        p = next((p for p in soup.find_all("p") if _norm(p.get_text()).endswith(longest)), None)
        inline_only = p is not None and not p.find(["br", "div", "p", "li", "table"])
        if longest and inline_only and longest not in _norm(text):
            problems.append(f"{rel}: inline markup changed spacing in {longest[:40]!r}")

        if soup.find(class_="article-editor") is not None:
            editors += 1
            if not cleaned.editor or re.search(r"\d|\s", cleaned.editor):
                problems.append(f"{rel}: editor not extracted cleanly: {cleaned.editor!r}")
        boiler_images = {img.get("src") for img in soup.find_all("img") if _in_boilerplate(img)}
        if cleaned.image in boiler_images:
            problems.append(f"{rel}: image taken from boilerplate: {cleaned.image}")
        if cleaned.image and (
            "picsum.photos" in cleaned.image or cleaned.image.startswith("data:")
        ):
            problems.append(f"{rel}: placeholder image {cleaned.image}")

    assert not problems, "\n".join(problems)
    assert checked_paragraphs > 300
    assert editors >= 90  # every Sina post carries an article-editor line
