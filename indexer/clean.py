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
   whitespace-normalised and stripped, a ``责任编辑：X`` line is taken out as the editor, the rules'
   text patterns are applied, and blank lines separate paragraphs. Paragraphs are joined with
   a blank line; lines inside one paragraph (from ``<br>`` or table rows) with a newline.

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
    editor: str | None  # from a "责任编辑：X" line (removed from text)
    image: str | None  # first real <img src>, else None


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
        selectors=("p:has(> span.text-remarks)",),
        text_patterns=(
            r"^本文来自微信公众号\s*[:：].*$",
            r"^(?:来源|作者|监制|头图|题图|编辑)\s*[|｜].*$",
        ),
        note="虎嗅: WeChat attribution lines (本文来自微信公众号…, 作者 | …, 头图 | …) at top and bottom.",
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

# "责任编辑：蒋晓桐", "【责任编辑:薛涛】", "责任编辑：刘万里 SF014" (Sina appends a staff code),
# "责编：X" (证券时报's short form). Only a whole line counts, never a mention inside a sentence.
_EDITOR_RE = re.compile(r"^[【\[(（]?\s*(?:责任编辑|责编)\s*[:：]\s*(?P<name>.*?)\s*[】\])）]?$")
_STAFF_CODE_RE = re.compile(r"\s+[A-Za-z]{1,4}\d{2,}$")

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


def clean_body(
    body: str, *, feed: str | None = None, rules: Sequence[Rule] | None = None
) -> Cleaned:
    """Return the article text, editor and lead image of a post body (HTML or Markdown)."""
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
    paragraphs, editor = _paragraphs(raw, patterns)
    return Cleaned(text="\n\n".join(paragraphs), editor=editor, image=image)


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


def _walk(
    soup: BeautifulSoup, dropped: set[int], *, source_lines: bool = False
) -> tuple[str, str | None]:
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


def _paragraphs(raw: str, patterns: Sequence[re.Pattern[str]]) -> tuple[list[str], str | None]:
    """Split flattened text into clean paragraphs; take out the editor line."""
    paragraphs: list[str] = []
    current: list[str] = []
    editor: str | None = None
    for line in raw.split(_LINE):
        line = _normalise(line)
        if not line:  # a blank line ends the paragraph
            if current:
                paragraphs.append(_LINE.join(current))
                current = []
            continue
        if (found := _editor(line)) is not None:
            editor = editor or found or None
            continue
        for pattern in patterns:
            line = _normalise(pattern.sub("", line)) if line else line
        if line:  # a line the patterns emptied just goes
            current.append(line)
    if current:
        paragraphs.append(_LINE.join(current))
    return paragraphs, editor


def _normalise(line: str) -> str:
    return _SPACE_RE.sub(" ", _INVISIBLE_RE.sub("", line)).strip()


def _editor(line: str) -> str | None:
    """The name on a "责任编辑：X" line ("" if it names nobody), or None for other lines."""
    match = _EDITOR_RE.match(line)
    if match is None:
        return None
    return _STAFF_CODE_RE.sub("", match["name"]).strip()
