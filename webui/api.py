"""JSON API under ``/api``: the same searches as the pages, as plain data.

Success bodies start with ``"ok": true``; failures are the error handler's
``{"ok": false, "error": ..., "status": n}`` envelope. Dates are ISO 8601 strings
(Flask would otherwise write HTTP dates). ``openapi.json`` next to this module
describes every route and is served at ``/api/openapi.json``.
"""

import json
from pathlib import Path

from flask import Blueprint, abort, current_app, request, url_for

import indexer

from .pages import POST_ID
from .params import request_search_args
from .search_index import get_index, search

bp = Blueprint("api", __name__, url_prefix="/api")

# The OpenAPI 3.1 description of this blueprint, loaded once.
OPENAPI_PATH = Path(__file__).with_name("openapi.json")


@bp.get("/search")
def search_json():
    """Search: the parameters and result set of ``GET /``, as JSON (the same data as ``zhsearch search --json``)."""
    return indexer.page_json(search(request_search_args()), url=article_url)


@bp.get("/article/<post_id>")
def article(post_id):
    """One whole post with its paragraphs."""
    if not POST_ID.fullmatch(post_id):
        abort(404, "No post has this id.")
    post = get_index().get(post_id)
    return indexer.article_json(post, url_for("pages.article", post_id=post.id))


@bp.get("/suggest")
def suggest():
    """Titles that start with or contain ``q``, for search-as-you-type."""
    q = indexer.check_params(request.args.get("q", "").strip()).q  # the core's query rules
    titles = get_index().suggest(q, limit=int(current_app.config["SUGGEST_LIMIT"])) if q else []
    return {"ok": True, "query": q, "suggestions": list(titles)}


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 document for this API."""
    return current_app.response_class(OPENAPI_PATH.read_bytes(), mimetype="application/json")


def article_url(post_id, q=""):
    """The URL of a post's page, keeping the query to highlight."""
    return url_for("pages.article", post_id=post_id, q=q or None)


def load_openapi():
    """Return the OpenAPI document as a dict (for tests and tools)."""
    return json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
