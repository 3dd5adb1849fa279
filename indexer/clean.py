"""Turn the body of a Hexo news post into clean article text.

Pipeline (``clean_body``)::

    body ─▶ parse (BS4 + lxml) ─▶ Markdown? ─▶ mark boilerplate ─▶ walk tree ─▶ lines ─▶ paragraphs
                                  └ no block tags at all: render with markdown-it, parse again

1. **Parse** with BeautifulSoup's lxml builder. Entities are decoded there. If the tree holds far
   fewer elements than the body has start tags, the parse was cut short (old libxml2 stops at
   depth 256): the body is parsed again with Python's ``html.parser``, which has no depth limit.
2. **Markdown**: a body without a single block-level tag (``p``, ``div``, ``br``, ``li``…) is
   not HTML but Markdown or bare text (posts we write ourselves). It is rendered to HTML with
   markdown-it-py and that HTML goes through the same steps (up to ``_MARKDOWN_MAX_CHARS``;
   longer ones are taken as bare text). A body with neither ``<p>`` nor ``<br>`` keeps its
   own line breaks (Eventernote's key/value lines, bare text in a ``<div>``).
3. **Boilerplate** is data, not code: ``DEFAULT_RULES`` is a table of ``Rule`` records. A rule
   applies when its ``feed_pattern`` is None or matches the post's feed; its CSS ``selectors``
   mark whole subtrees to skip, its ``text_patterns`` are cut out of each text line (a line that
   is left empty goes). Extend it with ``clean_body(body, rules=DEFAULT_RULES + (Rule(...),))``.
4. **Walk** the tree iteratively (an explicit stack, never recursion: bodies nest 5000+ deep).
   Comments, scripts, styles, iframes, forms, media placeholders and marked boilerplate are
   skipped. Text nodes have their whitespace collapsed to one space; block elements emit a
   paragraph break, ``br``/``tr`` a line break, table cells a space, and inline tags
   (``a``, ``span``, ``font``…) nothing, so ``南<a>太平洋</a>无核区`` stays one word.
   The first real ``<img src>`` met on the way becomes ``Cleaned.image``.
5. **Lines and paragraphs**: the emitted text is split into lines, each line is
   whitespace-normalised and stripped, credit lines are taken out as fields (step 6), the rules'
   text patterns are applied, and blank lines separate paragraphs. Paragraphs are joined with
   a blank line; lines inside one paragraph (from ``<br>`` or table rows) with a newline.
6. **Credits** are fields, not text, and the patterns are general (no feed's name in them):
   a line made only of ``LABEL：VALUE`` credits (``责任编辑：`` ``编辑|`` ``作者：`` ``文/``
   ``来源：`` ``原文链接：`` ``本文来自微信公众号：X（ID：…），作者：Y`` ``题图来自…`` ``校对：``…),
   or a ``<site>编辑 NAME`` byline, fills ``Cleaned.editor``/``author``/``source`` and goes.
   A value must look like what it claims: names are short (CJK 2-4 characters for an editor,
   2-8 for an author, or a Latin name), UI text glued on by an inline link (``张三文章纠错``) is
   cut off, role words (``见习记者``) and outlets (``观察者网``) are set aside; a line whose
   values fail is article text and stays (a ``责任编辑`` line always goes, as before). Credits
   at the head of a kept line (``财联社7月11日讯（编辑 卞纯）…``, ``【文/观察者网 王慧】3月…``)
   fill the fields and the line stays whole.

Inline asides stay with their paragraph: ``<span class="text-remarks">（…）</span>`` notes,
other ``<span>`` notes and ``<sup>[8]</sup>`` references are inline tags, so their text is
kept in place (虎嗅 paragraphs used to be dropped whole for holding a ``text-remarks`` span).
Site boilerplate that no rule names is learnt per feed from the archive: see ``boilerplate``.

Sina's ``<!--article_adlist[…]-->`` ads, its ``ocr-text`` image attributes and its
``<!-- 正文下iframe -->`` markers need no rule: comments and attributes never become text.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning
from bs4.element import NavigableString, PreformattedString, Tag
from markdown_it import MarkdownIt

__all__ = ["DEFAULT_RULES", "Cleaned", "Rule", "clean_body"]


@dataclass(frozen=True)
class Cleaned:
    text: str  # article paragraphs in order, separated by "\n\n"; no leading/trailing whitespace
    editor: str | None  # from a "责任编辑：X", "编辑|X" or "<site>编辑 X" credit (removed from text)
    image: str | None  # first real <img src>, else None
    author: str | None = None  # from a "作者：X", "文/X" or "来源|X（ID：…）" credit; names joined by "、"
    source: str | None = None  # from a "来源：X", "原文链接：URL" or "本文来自微信公众号：X" credit

    @property
    def paragraphs(self) -> list[str]:
        """The article paragraphs in order (what ``boilerplate.learn`` and ``strip`` take)."""
        return self.text.split(_PARA) if self.text else []


@dataclass(frozen=True)
class Rule:
    """One piece of site boilerplate.

    feed_pattern:  regex searched in the post's feed path ("金融/新浪财经/…"); None = every post.
                   When the feed is unknown (feed=None) only rules with feed_pattern None apply.
    selectors:     CSS selectors (soupsieve) of elements to drop with everything inside them.
    text_patterns: regexes cut out of every text line; anchor with ^…$ to drop a whole line.
    note:          why the rule exists (documentation only).
    """

    feed_pattern: str | re.Pattern[str] | None
    selectors: tuple[str, ...] = ()
    text_patterns: tuple[str | re.Pattern[str], ...] = ()
    note: str = ""

    def applies_to(self, feed: str | None) -> bool:
        if self.feed_pattern is None:
            return True
        return feed is not None and re.search(self.feed_pattern, feed) is not None


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        None,
        selectors=(".appendQr_wrap", ".app-kaihu-qr", ".video-2017"),
        text_patterns=(r"海量资讯、精准解读，尽在新浪财经\s*APP", r"^[【\[]?\s*校对\s*[:：].*$"),
        note="Sina CMS widgets (closing QR block, account-opening QR ad, empty video player) and "
        "proof-reader credits. The class names exist only in Sina's CMS and Sina copy is "
        "syndicated into other feeds, so these apply to every post.",
    ),
    Rule(
        None,
        text_patterns=(
            # End markers: "——END——", "- end -", "（完）", "（全文完）".
            r"(?i)^[\W_]*(?:the\s*)?(?:end|完|全文完)[\W_]*$",
            # Reprint notices, as a short line of their own that opens with the notice or with
            # one clause about the text itself ("本文为X原创，转载请注明出处").
            (
                r"^(?=.{0,40}$)(?:(?:本文|本稿|此文|文章|原创|版权|作品|内容|稿件)[^。]{0,24}?[，,。]\s*)?"
                r"(?:未经.{0,12}(?:授权|许可|同意).{0,6}(?:不得|禁止|严禁|谢绝)(?:任何)?转载"
                r"|转载请(?:务必)?(?:注明|联系|保留|私信|后台)|如需转载|禁止转载|谢绝转载|严禁转载).*$"
            ),
            # Lines of nothing but hashtags: "#芯片# #人工智能#", "#新品 #发布会".
            r"^(?:[#＃][^#＃\s]*[^\d\s#＃][^#＃\s]*[#＃]?\s*)+$",
            # Calls to scan a QR code: "扫描下方二维码关注我们", "长按识别二维码下载APP".
            (
                r"^(?=.{0,40}$)\W*(?:请|欢迎)?(?:扫描|扫码|长按|识别|扫一扫|微信扫).{0,30}"
                r"(?:关注|下载|二维码|订阅|加入|添加|入群).*$"
            ),
            # Disclaimer paragraphs that say so: "【免责声明】…", "免责声明：…".
            r"^[【\[（(]?\s*免责声明\s*[】\]）)：:].*$",
            # Media and shop placeholders left by the feed: "视频地址", "商店页面：URL".
            r"^(?:视频地址|视频链接|视频播放|商店页面|商店地址|购买链接|购买地址|下载地址)\s*[:：]?\s*(?:https?://\S*)?$",
            # Template fields the feed left empty: "開演 2022-03-26 null:null" (Eventernote's unknown time).
            r"(?<![\w:])null:null(?![\w:])",
        ),
        note="Template lines every kind of site prints, in forms narrow enough to never be a "
        "sentence of an article: end markers, reprint notices, hashtag lines, QR-code calls, "
        "disclaimers, video/shop placeholders, empty template fields (null:null). What a site "
        "prints its own way is learnt per feed from the archive instead (boilerplate.py).",
    ),
    Rule(
        r"新浪",
        selectors=("p.jqlblock_cls", "blockquote.fin_reference"),
        note="Sina: promoted research-report link lists and 相关新闻 related-link boxes.",
    ),
    Rule(
        r"证券时报",
        text_patterns=(r"^证券时报(?:e公司|网)讯\s*[，,]\s*",),
        note="证券时报: the '证券时报e公司讯，' dateline opener (the sentence after it is kept).",
    ),
    Rule(
        r"观察者网",
        text_patterns=(r"^本文系观察者网独家稿件.*$",),
        note="观察者网: the closing copyright line.",
    ),
    Rule(
        r"(?i)cnbeta",
        selectors=("div.article-relation",),
        note="cnBeta: the '相关文章:' related-article list.",
    ),
    Rule(
        r"(?i)IT\s*之家",
        selectors=(".tagging1", ".tagging2", "a.bl", "div.tougao-user"),
        text_patterns=(r"^【广告】$",),
        note="IT之家: the 【广告】 footer and its disclaimer, affiliate product cards, reader-tip credits.",
    ),
    Rule(
        r"巴哈姆特",
        selectors=("ul.platform-tag", ".article_gamercard"),
        note="巴哈姆特: the platform tag list (iOS, PS5…) and the empty fan-page card.",
    ),
    Rule(
        r"虎嗅",
        text_patterns=(
            r"^本文来自微信公众号\s*[:：].*$",
            r"^(?:来源|作者|监制|头图|题图|编辑)\s*[|｜].*$",
        ),
        note="虎嗅: WeChat attribution lines (本文来自微信公众号…, 作者 | …, 头图 | …) at top and bottom "
        "that the general credit parser did not take (its values did not pass as names). No "
        'selector: a <span class="text-remarks"> is an inline aside inside real paragraphs too.',
    ),
)

# Subtrees that never hold article text: code, styling, embeds, form widgets, media players.
# fmt: off
_SKIP_TAGS = frozenset({
    "head", "title", "meta", "link", "style", "script", "noscript", "template",
    "iframe", "frame", "frameset", "object", "embed", "applet",
    "form", "input", "button", "select", "option", "textarea",
    "svg", "math", "canvas", "video", "audio", "source", "track", "map",
})
# Elements that start and end a paragraph (the HTML "block" and list/heading elements).
_BLOCK_TAGS = frozenset({
    "html", "body", "address", "article", "aside", "blockquote", "center", "dd", "details",
    "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
    "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav",
    "ol", "p", "pre", "section", "summary", "table", "caption", "ul",
})
# fmt: on
_LINE_TAGS = frozenset({"br", "tr"})  # a line break inside the current paragraph
_CELL_TAGS = frozenset({"td", "th"})  # table cells are separated by a space
# Tags whose presence shows the body is HTML; without any of them it is Markdown/bare text.
# html/body are excluded because lxml adds them to every document.
_HTML_EVIDENCE_TAGS = (_BLOCK_TAGS - {"html", "body"}) | _LINE_TAGS | _CELL_TAGS
# Markup that structures text into paragraphs/lines; a body with neither relies on newlines.
_SOURCE_BREAK_TAGS = ("p", "br")

_PARA = "\n\n"
_LINE = "\n"
_CELL = " "

# Whitespace a browser would collapse, plus the full-width indent (U+3000) and no-break space
# (U+00A0) that Sina and 巴哈 use to indent paragraphs, and the other Unicode spaces.
_SPACE_RE = re.compile(r"[ \t\r\n\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# Zero-width characters and C0 controls carry nothing for search or display; lxml turns NUL
# into U+FFFD already, the others would pass through.
_INVISIBLE_RE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\x00-\x08\x0e-\x1f\x7f]")

# ── credits ──────────────────────────────────────────────────────────────────────────────
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SEP = r"\s*[:：|｜丨]\s*"
# One credit label and its separator, at the start of a line or after a space/comma. Group names
# say which field the value fills; "other" credits (pictures, proof-readers…) fill none.
_CREDIT_LABEL_RE = re.compile(
    r"(?:^|(?<=[\s，,;；、]))(?:"
    rf"(?P<chief>责任编辑|责编){_SEP}"
    rf"|(?P<editor>编辑){_SEP}"
    rf"|(?P<author>本文作者|作者|撰文|记者){_SEP}"
    r"|(?P<byline>文)\s*[/／|｜丨:：]\s*"
    r"|(?P<wechat>本文(?:来自|转载自|转自|来源于?)(?:(?:微信)?公众号\s*[:：|｜丨]?|\s*[:：|｜丨]))\s*"
    rf"|(?P<source>来源|出处|转载自|原文链接|原文地址|原文网址){_SEP}"
    r"|(?P<picture>(?:封面图片|封面图|封面|题图|头图|配图|图片|动图|插图))"
    r"(?:(?:来源|来自)\s*[:：|｜丨]?|摄影\s*[:：|｜丨]?|\s*[:：|｜丨])\s*"
    r"|(?P<other>校对|审校|审核|监制|统筹|策划|排版|美编|设计|摄影|摄像|剪辑|实习生|出品|运营|编审|终审|初审"
    rf"|复审|参考链接|参考资料|相关链接|标签|关键词|关键字|话题){_SEP}"
    r")"
)
# "每经编辑 黄胜", "样例网编辑：王五": a staff byline naming the site first.
_BYLINE_RE = re.compile(rf"^(?P<site>[{_CJK}A-Za-z0-9]{{1,12}}?)编辑(?:{_SEP}|\s+)(?P<name>.+)$")
# Credits at the head of a line that goes on with article text: the line stays, the fields fill.
# "财联社7月11日讯（编辑 卞纯）据…", "财联社（上海，编辑 黄君芝）讯，…"
_HEAD_EDITOR_RE = re.compile(
    r"^[^（()）。，]{0,24}?[（(](?:[^（()）]{0,8}[，,]\s*)?编辑\s*[:：]?\s*(?P<name>[^（()）]{1,16})[)）]"
)
# "【文/观察者网 王慧】3月15日…"
_HEAD_AUTHOR_RE = re.compile(r"^[【\[](?:文|作者|撰文)\s*[/／|｜丨:：]\s*(?P<name>[^】\]]{1,40})[】\]]")
# A credit line is short; a longer line is prose that happens to start with a label.
_CREDIT_MAX_CHARS = 120
# Brackets a whole credit line may sit in: "【责任编辑:薛涛】", "（作者：赵子健）".
_WRAPPERS = {"【": "】", "[": "]", "（": "）", "(": ")", "〔": "〕", "［": "］"}
# Parenthesised notes inside a name or source: "余源（andyy1988@126.com）", "阑夕（ID：techread）".
_PAREN_RE = re.compile(r"\s*[（(][^（()）]*[)）]")
_WECHAT_ID_RE = re.compile(r"[（(]\s*(?:微信)?(?:ID|id|号)\s*[:：]")
# Sina appends a staff code to editors: "刘万里 SF014".
_STAFF_CODE_RE = re.compile(r"\s+[A-Za-z]{1,4}\d{2,}$")
# Page UI that an inline link glues to the name before it ("张三文章纠错"). Cut off the end of a
# name; a name that still holds one is not a name.
# fmt: off
_UI_WORDS = tuple(sorted((
    "文章纠错", "我要纠错", "纠错", "举报", "分享到", "分享", "收藏", "打印", "关闭窗口", "关闭",
    "返回顶部", "返回首页", "返回", "点赞", "评论", "转发", "复制链接", "相关阅读", "推荐阅读",
    "阅读原文", "原文链接", "相关新闻", "相关文章", "上一篇", "下一篇", "字号", "更多", "扫一扫",
    "二维码", "微信", "微博", "登录", "注册", "免责声明", "点击", "查看", "首页",
), key=len, reverse=True))
# fmt: on
_UI_RE = re.compile("|".join(_UI_WORDS))
# Words before a name that say what the person does: "见习记者,李莎", "全媒体记者 钟小韵".
_ROLE_RE = re.compile(r"(?:记者|通讯员|编辑|实习生|撰稿人?|主持人|整理|综合|报道|摄)$")
# An outlet before a name ("文/观察者网 王慧"); set aside when a person's name follows.
_OUTLET_RE = re.compile(r"(?:网|报|社|台|新闻|日报|晚报|周刊|杂志|财经|客户端|公众号|APP|App|之家|研究院|研究所)$")
_LATIN_NAME_RE = re.compile(r"[A-Za-z][A-Za-z .'\-]{0,38}[A-Za-z.]")
# Most names a credit may hold; longer lists are prose.
_MAX_NAMES = 6
# Sentence punctuation: a value holding it is prose, not a credit.
_PROSE_RE = re.compile(r"[。！？!?；;]")
_SOURCE_MAX_CHARS = 40
_URL_ONLY_RE = re.compile(r"(?i)^https?://\S+$")

# Images that are not a picture of the article: inline data, and the feed mirror's
# placeholders (random picsum.photos stock photos, ".../undefined" from a broken template).
_PLACEHOLDER_IMAGE_RE = re.compile(
    r"^(?:data:|blob:|javascript:|about:)|^https?://(?:[^/]*\.)?picsum\.photos(?:[/:?#]|$)"
    r"|/(?:undefined|null)$",
    re.IGNORECASE,
)
# Lazy-loading sites put the real URL here when src is empty (虎嗅 uses _src).
_IMAGE_ATTRS = ("src", "data-src", "data-original", "_src")

# The lxml parse is trusted unless it kept less than this share of the body's start tags, and
# only for bodies with enough tags to reach libxml2's old depth limit of 256.
_TRUNCATION_MIN_TAGS = 256
_TRUNCATION_RATIO = 0.5

# A <p> start tag written in the markup (see _has_tags); not used to parse anything.
_P_TAG_RE = re.compile(r"<p[\s/>]", re.IGNORECASE)

# markdown-it-py renders ~0.25 MB/s and BS4 then builds a node per inline element, so dense
# Markdown costs ~10 s per MB. Longer bodies without HTML blocks are kept as bare text (their
# blank lines still separate paragraphs) so that any body finishes in a few seconds.
_MARKDOWN_MAX_CHARS = 200_000

# CommonMark plus GitHub-style tables, raw HTML allowed (it is cleaned like any other body).
_MARKDOWN = MarkdownIt("commonmark", {"html": True}).enable("table")


def clean_body(body: str, *, feed: str | None = None, rules: Sequence[Rule] | None = None) -> Cleaned:
    """Return the article text, credits (editor, author, source) and lead image of a post body."""
    active = [r for r in (DEFAULT_RULES if rules is None else rules) if r.applies_to(feed)]
    body = _encodable(body)
    with warnings.catch_warnings():
        # A short body that looks like a URL or file name ("https://…", "a.md") makes BS4 warn
        # that it might be a locator; here it is always text. Same for an XML-looking body.
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        html = body
        soup = _parse(html)
        if not _has_tags(soup, html, _HTML_EVIDENCE_TAGS) and len(body) <= _MARKDOWN_MAX_CHARS:
            html = _MARKDOWN.render(body)
            soup = _parse(html)
    dropped = _boilerplate_ids(soup, active)
    # With neither <p> nor <br>, the body's own line breaks are its only structure
    # (Eventernote's "key value" lines, bare text in a <div>): keep them as line breaks.
    source_lines = not _has_tags(soup, html, _SOURCE_BREAK_TAGS)
    raw, image = _walk(soup, dropped, source_lines=source_lines)
    patterns = [re.compile(p) for r in active for p in r.text_patterns]
    paragraphs, credits = _paragraphs(raw, patterns)
    return Cleaned(
        text=_PARA.join(paragraphs),
        editor=credits.get("chief") or credits.get("editor"),
        image=image,
        author=credits.get("author"),
        source=credits.get("source"),
    )


def _encodable(body: str) -> str:
    """Replace lone surrogates (which lxml cannot encode) with U+FFFD."""
    try:
        body.encode("utf-8")
    except UnicodeEncodeError:
        return body.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return body


def _parse(html: str) -> BeautifulSoup:
    """Parse with lxml; fall back to html.parser if lxml visibly dropped part of the tree."""
    soup = BeautifulSoup(html, "lxml")
    expected = html.count("<") - html.count("</")
    if expected >= _TRUNCATION_MIN_TAGS and _count_tags(soup) < expected * _TRUNCATION_RATIO:
        fallback = BeautifulSoup(html, "html.parser")
        if _count_tags(fallback) > _count_tags(soup):
            return fallback
    return soup


def _has_tags(soup: BeautifulSoup, html: str, names: frozenset[str] | tuple[str, ...]) -> bool:
    """Whether the document has one of these elements, written in `html` (not implied)."""
    if soup.find([n for n in names if n != "p"]) is not None:
        return True
    # Older libxml2 wraps bare text in an implied <p>; only a <p> actually written counts.
    return "p" in names and soup.find("p") is not None and _P_TAG_RE.search(html) is not None


def _count_tags(soup: BeautifulSoup) -> int:
    return sum(1 for node in soup.descendants if isinstance(node, Tag))


def _boilerplate_ids(soup: BeautifulSoup, rules: Sequence[Rule]) -> set[int]:
    """ids of the elements the rules' selectors match; the walk skips them and their subtrees."""
    selectors = [sel for rule in rules for sel in rule.selectors]
    if not selectors:
        return set()
    # One selector list, one pass over the tree (soupsieve walks every element per call).
    return {id(el) for el in soup.select(", ".join(selectors))}


def _walk(soup: BeautifulSoup, dropped: set[int], *, source_lines: bool = False) -> tuple[str, str | None]:
    """Flatten the tree to text with paragraph/line markers; also find the first real image.

    Iterative depth-first walk: each tag is pushed once to be entered and, if it emits a
    break or is <pre>, once more to be left. Text keeps its newlines inside <pre>, or
    everywhere when `source_lines`; elsewhere all whitespace is one space, as in a browser.
    """
    parts: list[str] = []
    image: str | None = None
    in_pre = 0
    stack: list[tuple[object, bool]] = [(soup, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            in_pre -= node.name == "pre"
            parts.append(_break_for(node.name))
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, CDATA, doctype…
                keep_lines = in_pre or source_lines
                parts.append(_pre_text(node) if keep_lines else _SPACE_RE.sub(" ", node))
            continue
        name = node.name
        if name in _SKIP_TAGS or id(node) in dropped:
            continue
        if name == "img":
            image = image or _image_src(node)
            continue
        mark = _break_for(name)
        parts.append(mark)
        if mark == _PARA or name == "pre":  # blocks break on both sides, br/tr/td before only
            in_pre += name == "pre"
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))
    return "".join(parts), image


def _break_for(name: str) -> str:
    if name in _BLOCK_TAGS:
        return _PARA
    if name in _LINE_TAGS:
        return _LINE
    if name in _CELL_TAGS:
        return _CELL
    return ""


def _pre_text(text: str) -> str:
    """Text inside <pre>: keep its line breaks, collapse the rest (code layout is not kept)."""
    return _LINE.join(_SPACE_RE.sub(" ", line) for line in text.splitlines())


def _image_src(img: Tag) -> str | None:
    for attr in _IMAGE_ATTRS:
        src = img.get(attr)
        if isinstance(src, str) and (src := src.strip()) and not _PLACEHOLDER_IMAGE_RE.search(src):
            return "https:" + src if src.startswith("//") else src
    return None


def _paragraphs(raw: str, patterns: Sequence[re.Pattern[str]]) -> tuple[list[str], dict[str, str]]:
    """Split flattened text into clean paragraphs; take the credit lines out as fields."""
    paragraphs: list[str] = []
    current: list[str] = []
    fields: dict[str, str] = {}
    for line in raw.split(_LINE):
        line = _normalise(line)
        if not line:  # a blank line ends the paragraph
            if current:
                paragraphs.append(_LINE.join(current))
                current = []
            continue
        if (credit := _credit_line(line)) is not None:
            for key, value in credit.items():  # the first credit of a kind wins
                fields.setdefault(key, value)
            continue
        for key, value in _head_credits(line).items():
            fields.setdefault(key, value)
        for pattern in patterns:
            line = _normalise(pattern.sub("", line)) if line else line
        if line:  # a line the patterns emptied just goes
            current.append(line)
    if current:
        paragraphs.append(_LINE.join(current))
    return paragraphs, fields


def _normalise(line: str) -> str:
    return _SPACE_RE.sub(" ", _INVISIBLE_RE.sub("", line)).strip()


def _credit_line(line: str) -> dict[str, str] | None:
    """The fields of a line made only of credits ({} if they name nobody), or None for text."""
    inner = _unwrap(line)
    if len(inner) > _CREDIT_MAX_CHARS:
        return None
    labels = list(_CREDIT_LABEL_RE.finditer(inner))
    if not labels or labels[0].start() != 0:
        return _byline(inner)
    # A 责任编辑 line always goes, as it always has; any other line must hold good values.
    chief = labels[0].lastgroup == "chief"
    fields: dict[str, str] = {}
    fallback_author = None
    for label, following in zip(labels, [*labels[1:], None]):
        end = following.start() if following else len(inner)
        value = inner[label.end() : end].strip(" ，,;；、。")
        kind = label.lastgroup
        if kind in ("chief", "editor"):
            name = _names(value, longest=4)
            if name is None:
                return {} if chief else None
            # The site's own 责任编辑 outranks an 编辑 credit copied in with the article.
            fields.setdefault("chief" if kind == "chief" else "editor", name)
        elif kind in ("author", "byline"):
            name, outlet = _names(value, longest=8, outlets=True) or (None, None)
            if name is None:
                return {} if chief else None
            fields.setdefault("author", name)
            if outlet:
                fields.setdefault("source", outlet)
        elif kind in ("wechat", "source"):
            source = _source(value)
            if source is None:
                return {} if chief else None
            fields.setdefault("source", source)
            # "本文来自微信公众号：X（ID：…）", "来源|X(ID:…)": the account X wrote it.
            if kind == "wechat" or _WECHAT_ID_RE.search(value):
                fallback_author = fallback_author or _names(source, longest=8)
        elif not _URL_ONLY_RE.match(value) and (not value or len(value) > _SOURCE_MAX_CHARS or _PROSE_RE.search(value)):
            return {} if chief else None  # picture, proof-reader, link… credits fill no field
    if fallback_author and "author" not in fields:
        fields["author"] = fallback_author
    return fields


def _unwrap(line: str) -> str:
    """The line without one pair of brackets around all of it."""
    close = _WRAPPERS.get(line[:1])
    if close and line.endswith(close) and line.count(line[0]) == 1:
        return line[1:-1].strip()
    return line


def _byline(line: str) -> dict[str, str] | None:
    """{"editor": NAME} for a "<site>编辑 NAME" byline, else None."""
    match = _BYLINE_RE.match(line)
    if match is None or (name := _names(match["name"], longest=4)) is None:
        return None
    return {"editor": name}


def _head_credits(line: str) -> dict[str, str]:
    """Credits at the head of a line that goes on with article text (the line is kept)."""
    fields: dict[str, str] = {}
    if (match := _HEAD_EDITOR_RE.match(line)) and (name := _names(match["name"], longest=4)):
        fields["editor"] = name
    if (match := _HEAD_AUTHOR_RE.match(line)) and (found := _names(match["name"], longest=8, outlets=True)):
        fields["author"] = found[0]
        if found[1]:
            fields["source"] = found[1]
    return fields


def _source(value: str) -> str | None:
    """A credited source: a URL, or a short name without its "(ID:…)"; None if it is prose."""
    value = value.strip()
    if re.match(r"(?i)https?://", value):
        return value.split()[0]
    value = _PAREN_RE.sub("", value).strip()
    if not value or len(value) > _SOURCE_MAX_CHARS or re.search(r"[。！？!?；;，,]", value):
        return None
    return value


def _names(value: str, *, longest: int, outlets: bool = False):
    """The person names in a credit value joined by "、", or None if it is not names.

    With `outlets`, return (names, outlet or None): an outlet before a name ("观察者网 王慧")
    is set aside and returned. Role words ("见习记者") are dropped, single characters that
    spacing split ("陶 陶") are joined, UI text glued to the end ("张三文章纠错") is cut off.
    """
    value = _STAFF_CODE_RE.sub("", _PAREN_RE.sub("", value).strip())
    if not value or _PROSE_RE.search(value):
        return None
    cjk_name = re.compile(rf"[{_CJK}]{{2,{longest}}}(?:[·•・][{_CJK}]{{1,8}})*")
    names: list[str] = []
    outlet = None
    for piece in re.split(r"[、，,/／&＆]", value):
        piece = piece.strip()
        if not piece:
            continue
        if _LATIN_NAME_RE.fullmatch(piece):
            names.append(piece)
            continue
        tokens = _join_single_chars(piece.split())
        for i, token in enumerate(tokens):
            token = _strip_ui(token)
            if not token or _ROLE_RE.search(token):  # "张三 文章纠错", "见习记者"
                continue
            if outlets and _OUTLET_RE.search(token) and i < len(tokens) - 1:
                outlet = outlet or token
                continue
            if not cjk_name.fullmatch(token) or _UI_RE.search(token):
                return None
            names.append(token)
    if not names or len(names) > _MAX_NAMES:
        return None
    joined = "、".join(dict.fromkeys(names))
    return (joined, outlet) if outlets else joined


def _join_single_chars(tokens: list[str]) -> list[str]:
    """["陶", "陶", "马舒叶"] -> ["陶陶", "马舒叶"]: a name spaced out character by character."""
    joined: list[str] = []
    run = ""
    for token in tokens:
        if len(token) == 1:
            run += token
            continue
        if run:
            joined.append(run)
            run = ""
        joined.append(token)
    if run:
        joined.append(run)
    return joined


def _strip_ui(token: str) -> str:
    """The token without UI words glued to its end ("" if it is only UI words)."""
    while token:
        word = next((w for w in _UI_WORDS if token.endswith(w)), None)
        if word is None:
            break
        token = token[: -len(word)]
    return token
