"""One error handler for the whole app: it decides the format, the views never do.

Requests under ``/api`` and ``/healthz`` get ``{"ok": false, "error": ..., "status": n}``
with the same HTTP status; every other request gets ``error.html``. Core errors map to
statuses here and only here:

    QueryError          400  bad query or parameter (also raised by webui.params)
    PostNotFoundError   404
    IndexNotFoundError  503  no index yet: "run reindex"
    IndexVersionError   503  built with other text analysis: "run reindex --full"
    IndexLockedError    503
    other errors        500  (message logged, not shown)
"""

from flask import current_app, render_template, request
from werkzeug.exceptions import HTTPException

import indexer

# Core error class -> HTTP status; the first matching base class wins.
STATUS_FOR_ERROR = (
    (indexer.QueryError, 400),
    (indexer.PostNotFoundError, 404),
    (indexer.IndexNotFoundError, 503),
    (indexer.IndexVersionError, 503),
    (indexer.IndexLockedError, 503),
)

# Headline shown above the message on error.html, by status.
TITLES = {
    400: "请求参数有误",
    404: "找不到页面",
    405: "不支持的请求方法",
    503: "搜索服务暂不可用",
}


def init_app(app):
    """Register the handler for HTTP errors and for every core error."""
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(indexer.SearchEngineError, _handle_core_error)


def wants_json():
    """Whether the current request is answered in JSON (the API and the health check)."""
    path = request.path
    return path == "/api" or path.startswith("/api/") or path == "/healthz"


def _handle_http_error(e):
    if e.code is None or e.code < 400:  # redirects raised as exceptions pass through
        return e
    return _error_response(e.code, e.description or e.name, e)


def _handle_core_error(e):
    for cls, status in STATUS_FOR_ERROR:
        if isinstance(e, cls):
            return _error_response(status, str(e), e)
    # A core failure we have no status for: log it and keep its details off the page.
    current_app.logger.error("Search engine error on %s: %s", request.path, e, exc_info=e)
    return _error_response(500, "The search engine failed on this request. Try again later.", e)


def _error_response(status, message, e):
    headers = e.get_headers() if isinstance(e, HTTPException) else None
    if wants_json():
        body = {"ok": False, "error": message, "status": status}
        return body, status, _extra_headers(headers)
    html = render_template(
        "error.html",
        status=status,
        title=TITLES.get(status, "出错了" if status < 500 else "服务器出错"),
        message=message,
        param=getattr(e, "param", None),
    )
    return html, status, _extra_headers(headers)


def _extra_headers(headers):
    # Keep headers such as 405's Allow, but not werkzeug's text/html Content-Type.
    return [(k, v) for k, v in headers or () if k.lower() != "content-type"]
