"""Plain-data (JSON) forms of the core's results: one serialiser per shape.

``zhsearch search --json`` and ``GET /api/search`` both print :func:`page_json`,
so they agree field for field. Marked text appears twice: ready HTML
(``title``, ``snippet``) and the plain text with its match spans
(``title_text``/``title_spans``, ``snippet_text``/``snippet_spans``; spans are
``[start, end)`` code point offsets).
"""

from urllib.parse import urlencode, urlsplit

from .highlight import html

# URL of a post's page on the web UI, relative to the site root.
ARTICLE_PATH = "/article/{id}"


def article_url(post_id, q=""):
    """The web UI's URL of a post, with the query to highlight."""
    url = ARTICLE_PATH.format(id=post_id)
    return f"{url}?{urlencode({'q': q})}" if q else url


def page_json(page, url=article_url):
    """A SearchPage as JSON data.

    :param url: ``url(post_id, q)`` → the URL of a hit's page (the web app passes its own router).
    """
    return {
        "ok": True,
        "query": page.query,
        "total": page.total,
        "total_stories": page.stories,
        "collapsed": page.collapsed,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
        "took_ms": page.took_ms,
        "sort": page.sort,
        "note": page.note,
        "expansions": list(page.expansions),
        "note_code": page.note_code,
        "suggestion": page.suggestion,
        "hits": [hit_json(hit, url(hit.id, page.searched), lambda i: url(i, page.searched)) for hit in page.hits],
        "facets": page.facets,
        "months": page.months,
        "feed": page.feed,
        "tree": [node_json(node) for node in page.tree],
    }


def node_json(node):
    """A FeedNode (and the folders below it) as JSON data."""
    return {
        "name": node.name,
        "path": node.path,
        "count": node.count,
        "children": [node_json(child) for child in node.children],
    }


def hit_json(hit, url, similar_url=article_url):
    """A Hit as JSON data; ``similar`` lists the other posts of its story (collapsed results).

    :param similar_url: ``similar_url(post_id)`` → the URL of a similar post's page.
    """
    return {
        "id": hit.id,
        "path": hit.path,
        "url": url,
        "title": html(hit.title),
        "title_text": hit.title.text,
        "title_spans": [list(span) for span in hit.title.spans],
        "date": iso(hit.date),
        "categories": list(hit.categories),
        "author": hit.author,
        "feed": hit.feed,
        "image": http_url(hit.image),
        "snippet": html(hit.snippet),
        "snippet_text": hit.snippet.text,
        "snippet_spans": [list(span) for span in hit.snippet.spans],
        "score": hit.score,
        "exact": hit.exact,
        "similar": [
            {
                "id": other.id,
                "path": other.path,
                "url": similar_url(other.id),
                "title": other.title,
                "feed": other.feed,
                "date": iso(other.date),
            }
            for other in hit.similar
        ],
    }


def article_json(post, url):
    """An Article as JSON data."""
    return {
        "ok": True,
        "id": post.id,
        "url": url,
        "path": post.path,
        "title": post.display_title,
        "date": iso(post.date),
        "categories": list(post.categories),
        "tags": list(post.tags),
        "author": post.author,
        "editor": post.editor,
        "feed": post.feed,
        "image": http_url(post.image),
        "text": post.text,
        "paragraphs": post.paragraphs,
    }


def iso(value):
    """ISO 8601 text for a date or datetime (None stays None)."""
    return value.isoformat() if value is not None else None


def http_url(url):
    """`url` if it is a well-formed absolute http(s) URL, else None (post images are untrusted)."""
    if not url or not isinstance(url, str) or any(c.isspace() or ord(c) < 32 or c in '"<>\\`' for c in url):
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a malformed port)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None
