"""Index settings and mappings, and the document an AnalysedPost becomes.

Token streams are analysed by zhsearch (analysis.py), never by OpenSearch: a
document carries each stream as one string, and the index's ``zh_tokens``
analyzer only takes it apart again, keeping every token and position as given::

    word stream  [(首,0) (提保交楼,1) (保交,1) (交楼,1) (至今,2)]
    sent as      "首 ␟ 提保交楼 ␞ 保交 ␞ 交楼 ␟ 至今"          (␟ = U+001F, ␞ = U+001E)
    tokenizer    pattern on ␟         → 首@0  提保交楼␞保交␞交楼@1  至今@2
    filter       pattern_capture ([^␞]+), preserve_original false
                                      → 首@0  提保交楼@1 保交@1 交楼@1  至今@2

``pattern_capture`` emits every capture of a token at the token's own position
(position increment 0), which is exactly how search-mode sub-words share the
position of the word they are part of; a plain tokenizer cannot express that.
Char streams are sent the same way, one char per ␟-separated token, so a
verbatim match is a ``match_phrase`` (slop 0: consecutive positions) over a
char field, the same test as the Whoosh backend's substring search over the
char column. tests/test_opensearch.py proves both against a real node with
``_analyze`` and with queries.

The text fields keep no analysis of their own, so searching them needs the
same treatment: query words and chars are joined by ␟ and go through the same
analyzer (``term`` queries take them as they are).

A post's own fields (title, text, dates, ...) live under ``post``, stored but
not indexed; ``category`` (keyword), ``date`` (histograms) and ``date_us``
(microseconds since the epoch: exact range filters and order, as Whoosh's
datetime) are indexed apart.
"""

from datetime import datetime, timezone

from ...engine import META_BOOST, TITLE_BOOST

# Separates token positions in a stream; separates tokens that share a position.
POSITION_SEP = "\x1f"
SAME_POSITION_SEP = "\x1e"

# Longest word token sent, in characters. Lucene refuses terms over 32766 bytes;
# a query is at most config.MAX_QUERY_CHARS long, so a longer word can never be
# searched for, and cutting it keeps the post indexable with positions intact.
MAX_WORD_CHARS = 1000

# Deepest result reachable by paging (OpenSearch's index.max_result_window);
# pages further than this many matches come back empty.
MAX_RESULT_WINDOW = 100_000

# Boosts of the char fields, used to rank clauses jieba finds no words in (as the Whoosh schema's field boosts).
CHAR_BOOSTS = {"title_c": TITLE_BOOST, "content_c": 1.0, "meta_c": META_BOOST, "author_c": 1.0}
WORD_BOOSTS = {"title": TITLE_BOOST, "content": 1.0}

# The post's fields returned with hits (everything but the token streams).
POST_SOURCE = ["post", "path", "story"]

ANALYSIS = {
    "tokenizer": {"zh_positions": {"type": "pattern", "pattern": POSITION_SEP}},
    "filter": {
        "zh_same_position": {
            "type": "pattern_capture",
            "preserve_original": False,
            "patterns": [f"([^{SAME_POSITION_SEP}]+)"],
        }
    },
    "analyzer": {"zh_tokens": {"type": "custom", "tokenizer": "zh_positions", "filter": ["zh_same_position"]}},
}

_TOKENS = {"type": "text", "analyzer": "zh_tokens"}

# The post's story id (stories.py): written as its own id, set by the writer when it has copies.
STORY_MAPPING = {"type": "keyword"}

MAPPINGS = {
    "dynamic": "strict",
    "properties": {
        "path": {"type": "keyword"},
        "sig": {"type": "keyword", "index": False},  # "size:mtime_ns" of the file when indexed
        "title": _TOKENS,
        "content": _TOKENS,
        "title_c": _TOKENS,
        "content_c": _TOKENS,
        "meta_c": _TOKENS,  # categories, tags and author, as one text (as in Whoosh)
        "author_c": _TOKENS,
        "category": {"type": "keyword"},
        "feed": {"type": "keyword"},  # the post's folder, category/site/feed (filter and tree)
        "story": STORY_MAPPING,
        "date": {"type": "date"},
        "date_us": {"type": "long"},
        "post": {"type": "object", "enabled": False},
    },
}

# The meta index: the writer lock and one meta document per generation (see writer.py).
META_MAPPINGS = {"dynamic": False, "properties": {"kind": {"type": "keyword"}}}


def index_body(shards, replicas):
    """Settings and mappings of a new physical index (refresh off while it is built)."""
    return {
        "settings": {
            "index": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "refresh_interval": "-1",
                "max_result_window": MAX_RESULT_WINDOW,
            },
            "analysis": ANALYSIS,
        },
        "mappings": MAPPINGS,
    }


def words_text(pairs):
    """A word stream [(word, position)] as the zh_tokens analyzer reads it."""
    slots = []
    last = None
    for word, pos in pairs:
        word = _clean(word)[:MAX_WORD_CHARS]
        if not word:
            continue
        if pos == last:
            slots[-1].append(word)
        else:
            slots.append([word])
            last = pos
    return POSITION_SEP.join(SAME_POSITION_SEP.join(slot) for slot in slots)


def chars_text(chars):
    """Char tokens (a string of token characters) as the zh_tokens analyzer reads them."""
    return POSITION_SEP.join(chars)


def _clean(word):
    # The separators are control characters, never token characters; a user-dictionary
    # word could hold one in theory, and would otherwise split.
    return word.replace(POSITION_SEP, "").replace(SAME_POSITION_SEP, "")


def category_terms(categories):
    """Category keyword values, as the Whoosh schema's comma-separated KEYWORD field indexes them."""
    return [c.replace(",", " ").strip() for c in categories]


def document(analysed):
    """The OpenSearch document for an AnalysedPost (its _id is the post's id)."""
    post = analysed.post
    date = post.date.astimezone(timezone.utc) if post.date else None
    doc = {
        "path": post.path,
        "sig": analysed.signature,
        "title": words_text(analysed.title_words),
        "content": words_text(analysed.content_words),
        **{field: chars_text(chars) for field, chars in analysed.chars.items()},
        "category": category_terms(post.categories),
        "feed": post.feed,
        "story": post.id,
        "post": {
            "title": post.title,
            "body": post.text,
            "categories": list(post.categories),
            "tags": list(post.tags),
            "author": post.author,
            "editor": post.editor,
            "date": date.isoformat() if date else None,
            "image": post.image,
            "feed": post.feed,
            "sha256": post.sha256,
        },
    }
    if date is not None:
        doc["date_us"] = to_micros(date)
        doc["date"] = doc["date_us"] // 1000  # epoch milliseconds
    return doc


def to_micros(value):
    """Microseconds since the epoch of an aware datetime (exact, unlike a float timestamp)."""
    delta = value.astimezone(timezone.utc) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
