"""Open the search index once per app and hand it to views.

``init_app`` opens ``INDEX_DIR`` (in the display zone ``TIMEZONE``) at startup and keeps
the :class:`indexer.SearchIndex` in ``app.extensions["search"]``. A missing or damaged index
is not fatal: the app starts, every search answers 503 with the core's "run reindex" message,
and the next request after a reindex opens the index and carries on (no restart needed).
"""

import threading

from flask import abort, current_app

import indexer

# Serialises the retry of a failed open, so concurrent requests open the index once.
_OPEN_LOCK = threading.Lock()


def init_app(app):
    """Open ``app.config["INDEX_DIR"]`` and store it in ``app.extensions["search"]``."""
    try:
        app.extensions["search"] = _open(app)
    except (indexer.IndexNotFoundError, indexer.IndexVersionError, indexer.IndexCorruptError) as e:
        app.logger.warning("%s", e)
        app.extensions["search"] = None


def get_index():
    """Return the app's search index, opening it now if it was missing at startup.

    :raises indexer.IndexNotFoundError: the index still does not exist.
    :raises indexer.IndexVersionError: the index must be rebuilt with ``reindex --full``.
    :raises indexer.IndexCorruptError: a file of the index is damaged (``reindex --full``).
    """
    app = current_app
    ix = app.extensions.get("search")
    if ix is None:
        with _OPEN_LOCK:
            ix = app.extensions.get("search")
            if ix is None:
                ix = app.extensions["search"] = _open(app)
    return ix


def _open(app):
    return indexer.open_index(app.config["INDEX_DIR"], timezone=app.config["TIMEZONE"])


def search(args):
    """Run one search for parsed request arguments; shared by the page and the API.

    :param args: a :class:`webui.params.SearchArgs`.
    :return: the core's :class:`indexer.SearchPage`.
    :raises werkzeug.exceptions.NotFound: ``page`` is past the last page of results.
    """
    result = get_index().search(args.q, **args.search_kwargs())
    if args.page > result.pages:
        abort(
            404,
            f"Page {args.page} does not exist: this search has {result.pages} "
            f"page{'s' if result.pages != 1 else ''} of results.",
        )
    return result


def display_timezone():
    """The zone post dates are shown in, date filters are read in and months are counted in."""
    return get_index().tz
