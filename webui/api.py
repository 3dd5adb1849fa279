"""JSON API under ``/api``: the same searches as the pages, as plain data.

Success bodies start with ``"ok": true``; failures are the error handler's
``{"ok": false, "error": ..., "status": n}`` envelope. Dates are ISO 8601 strings
(Flask would otherwise write HTTP dates). ``openapi.json`` next to this module
describes every route and is served at ``/api/openapi.json``.
"""

import json
from pathlib import Path

from flask import Blueprint, abort, current_app, request, url_for

from .pages import POST_ID, http_url
from .params import request_search_args
from .search_index import get_index, search

bp = Blueprint("api", __name__, url_prefix="/api")

# The OpenAPI 3.1 description of this blueprint, loaded once.
OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@bp.get("/search")
def search_json():
    """Search: the parameters and result set of ``GET /``, as JSON."""
    args = request_search_args()
    result = search(args)
    return {
        "ok": True,
        "query": result.query,
        "total": result.total,
        "page": result.page,
        "per_page": result.per_page,
        "pages": result.pages,
        "took_ms": result.took_ms,
        "sort": result.sort,
        "note": result.note,
        "hits": [hit_json(hit, args.q) for hit in result.hits],
        "facets": result.facets,
        "months": result.months,
    }


@bp.get("/article/<post_id>")
def article(post_id):
    """One whole post with its paragraphs."""
    if not POST_ID.fullmatch(post_id):
        abort(404, "No post has this id.")
    post = get_index().get(post_id)
    return {
        "ok": True,
        "id": post.id,
        "url": url_for("pages.article", post_id=post.id),
        "path": post.path,
        "title": post.title,
        "date": _iso(post.date),
        "categories": list(post.categories),
        "tags": list(post.tags),
        "author": post.author,
        "editor": post.editor,
        "feed": post.feed,
        "image": http_url(post.image),
        "text": post.text,
        "paragraphs": post.paragraphs,
    }


@bp.get("/suggest")
def suggest():
    """Titles that start with or contain ``q``, for search-as-you-type."""
    q = request.args.get("q", "").strip()
    limit = int(current_app.config["MAX_QUERY_CHARS"])
    if len(q) > limit:
        abort(400, f"The query is too long ({len(q)} characters); use at most {limit}.")
    titles = get_index().suggest(q, limit=int(current_app.config["SUGGEST_LIMIT"])) if q else []
    return {"ok": True, "query": q, "suggestions": list(titles)}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document for this API."""
    return current_app.response_class(OPENAPI_PATH.read_bytes(), mimetype="application/json")


def hit_json(hit, q=""):
    """A :class:`indexer.Hit` as JSON data; ``title``/``snippet`` stay HTML with ``<mark>``."""
    return {
        "id": hit.id,
        "title": hit.title,
        "url": url_for("pages.article", post_id=hit.id, q=q or None),
        "date": _iso(hit.date),
        "categories": list(hit.categories),
        "author": hit.author,
        "feed": hit.feed,
        "image": http_url(hit.image),
        "snippet": hit.snippet,
        "score": hit.score,
        "exact": hit.exact,
    }


def _iso(value):
    return value.isoformat() if value is not None else None


def load_openapi():
    """Return the OpenAPI document as a dict (for tests and tools)."""
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
