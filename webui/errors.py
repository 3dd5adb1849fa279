"""One error handler for the whole app: it decides the format, the views never do.

Requests under ``/api`` and ``/healthz`` get ``{"ok": false, "error": ..., "status": n}``
with the same HTTP status; every other request gets ``error.html``, which explains a bad
parameter in Chinese (``PARAM_MESSAGES``) and keeps the reader's query in the search box.
Core errors map to statuses here and only here:

    QueryError          400  bad query or parameter (also raised by webui.params)
    PostNotFoundError   404
    IndexNotFoundError  503  no index yet: "run reindex"
    IndexVersionError   503  built with other text analysis: "run reindex --full"
    IndexCorruptError   503  a damaged index file: "run reindex --full"
    IndexLockedError    503
    BackendUnavailableError 503  the OpenSearch cluster does not answer
    other errors        500  (message logged, not shown)
"""

import re
from datetime import date
from urllib.parse import urlencode

from flask import current_app, render_template, request
from werkzeug.exceptions import HTTPException

import indexer
from indexer import config as core_config

# Core error class -> HTTP status; the first matching base class wins.
STATUS_FOR_ERROR = (
    (indexer.QueryError, 400),
    (indexer.PostNotFoundError, 404),
    (indexer.IndexNotFoundError, 503),
    (indexer.IndexVersionError, 503),
    (indexer.IndexCorruptError, 503),
    (indexer.IndexLockedError, 503),
    (indexer.BackendUnavailableError, 503),
)

# Headline shown above the message on error.html, by status.
TITLES = {
    400: "请求参数有误",
    404: "找不到页面",
    405: "不支持的请求方法",
    503: "搜索服务暂不可用",
}

# What the HTML page says about a bad parameter (QueryError.param), in the reader's
# language; the JSON API keeps the core's English message. Placeholders are filled
# from the app's limits. The core names the dates date_from/date_to, the URL from/to.
PARAM_MESSAGES = {
    "q": "搜索词太长或包含的词太多：最多 {max_query_chars} 个字，请精简后再搜。",
    "page": "页码必须是正整数，例如 1、2、3。",
    "per_page": "每页条数必须是 1 到 {max_per_page} 之间的整数。",
    "category": "分类名称太长：最多 {max_category_chars} 个字。",
    "feed": "来源路径太长：最多 {max_feed_chars} 个字。",
    "from": "起始日期必须是“年-月-日”格式的真实日期，例如 2022-05-31。",
    "to": "结束日期必须是“年-月-日”格式的真实日期，例如 2022-12-31。",
    "sort": "排序方式只能是 relevance（相关度）或 date（最新）。",
    "limit": "订阅的条数 limit 必须是正整数，例如 20。",
    "correct": "correct 只能是 1（自动纠错）或 0（按原词搜索）。",
}
PARAM_ALIASES = {"date_from": "from", "date_to": "to"}

# A well-formed from/to pair can still be wrong: from after to (also param "from").
DATE_RANGE_BACKWARDS = "起始日期 {date_from} 晚于结束日期 {date_to}，请调整日期范围。"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# The search page's one 404: a page number past the last page of results.
PAGE_PAST_THE_END = "第 {page} 页不存在：这次搜索的结果没有这么多页。"


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
    param = getattr(e, "param", None) if isinstance(e, indexer.QueryError) else None
    param = PARAM_ALIASES.get(param, param)
    if param is None and status == 404 and request.endpoint == "pages.index":
        param = "page"
        message = PAGE_PAST_THE_END.format(page=request.args.get("page", ""))
    elif param is not None:
        message = _param_message(param)
    html = render_template(
        "error.html",
        status=status,
        title=TITLES.get(status, "出错了" if status < 500 else "服务器出错"),
        message=message,
        param=param,
        box_query=request.args.get("q", "").strip(),
        retry_url=_url_without(param) if param and param != "q" else None,
    )
    return html, status, _extra_headers(headers)


def _param_message(param):
    cfg = current_app.config
    if param == "from":
        date_from, date_to = _date_arg("from"), _date_arg("to")
        if date_from and date_to and date_from > date_to:
            return DATE_RANGE_BACKWARDS.format(date_from=date_from, date_to=date_to)
    template = PARAM_MESSAGES.get(param, "参数 {param} 的值无效，请检查后再试。")
    return template.format(
        param=param,
        max_query_chars=cfg["MAX_QUERY_CHARS"],
        max_per_page=cfg["MAX_PER_PAGE"],
        max_category_chars=core_config.MAX_CATEGORY_CHARS,
        max_feed_chars=core_config.MAX_FEED_CHARS,
    )


def _date_arg(name):
    raw = request.args.get(name, "").strip()
    try:
        return date.fromisoformat(raw) if _ISO_DATE.fullmatch(raw) else None
    except ValueError:
        return None


def _url_without(param):
    """This request's URL without ``param``: the same search, minus what was wrong."""
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != param]
    return request.path + ("?" + urlencode(kept) if kept else "")


def _extra_headers(headers):
    # Keep headers such as 405's Allow, but not werkzeug's text/html Content-Type.
    return [(k, v) for k, v in headers or () if k.lower() != "content-type"]
