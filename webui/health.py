"""``GET /healthz``: a cheap liveness check for load balancers and ``zhsearch serve``."""

from flask import Blueprint

from .search_index import get_index

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Report that the index is open, with its generation and post count (503 if missing)."""
    stats = get_index().stats()
    return {"ok": True, "generation": stats.generation, "posts": stats.posts}
