"""Open the search index once per app and hand it to views.

``init_app`` opens ``INDEX_DIR``, or the OpenSearch index at ``URL`` (with
``INDEX_NAME``, ``USERNAME``, ``PASSWORD``, ``VERIFY_TLS``, ``CA_CERTS``), in the
display zone ``TIMEZONE``, at startup and keeps the :class:`indexer.SearchIndex` in
``app.extensions["search"]``. A missing or damaged index, or an unreachable cluster, is not fatal:
the app starts, every search answers 503 with the core's message, and the next
request after a reindex opens the index and carries on (no restart needed).
"""

import threading

from flask import abort, current_app

import indexer

# Serialises the retry of a failed open, so concurrent requests open the index once.
_OPEN_LOCK = threading.Lock()


def init_app(app):
    """Open ``app.config["INDEX_DIR"]`` and store it in ``app.extensions["search"]``.

    The index is warmed in the background (SearchIndex.warm): the tables and the
    vocabulary a first search would build are built at startup and after each reindex.
    """
    try:
        app.extensions["search"] = _open(app)
        if app.config.get("WARM") and not app.testing:
            app.extensions["search"].warm(background=True)
    except (
        indexer.IndexNotFoundError,
        indexer.IndexVersionError,
        indexer.IndexCorruptError,
        indexer.BackendUnavailableError,
    ) as e:
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
                if app.config.get("WARM") and not app.testing:
                    ix.warm(background=True)
    return ix


def _open(app):
    """Open ``URL`` (OpenSearch, when set) or ``INDEX_DIR``, with the OpenSearch settings if any."""
    config = app.config
    if config.get("URL") and config.get("BACKEND") != "whoosh":
        options = {
            "index_name": config.get("INDEX_NAME"),
            "username": config.get("USERNAME"),
            "password": config.get("PASSWORD"),
            "ca_certs": config.get("CA_CERTS"),
        }
        if config.get("VERIFY_TLS") is False:
            options["verify_tls"] = False
        return indexer.open_index(
            config["URL"], backend="opensearch", timezone=config["TIMEZONE"], synonyms=config.get("SYNONYMS"), **options
        )
    return indexer.open_index(
        config["INDEX_DIR"],
        backend=config.get("BACKEND"),
        timezone=config["TIMEZONE"],
        synonyms=config.get("SYNONYMS"),
        cache_mb=config.get("CACHE_MB"),
    )


def search(args):
    """Run one search for parsed request arguments; shared by the page and the API.

    :param args: a :class:`webui.params.SearchArgs`.
    :return: the core's :class:`indexer.SearchPage`.
    :raises werkzeug.exceptions.NotFound: ``page`` is past the last page of results (a search
        stopped early by its time budget counts only part of them: its page is shown, with the note).
    """
    result = get_index().search(args.q, **args.search_kwargs())
    if args.page > result.pages and result.note_code != "partial":
        abort(
            404,
            f"Page {args.page} does not exist: this search has {result.pages} "
            f"page{'s' if result.pages != 1 else ''} of results.",
        )
    return result


def display_timezone():
    """The zone post dates are shown in, date filters are read in and months are counted in."""
    return get_index().tz
