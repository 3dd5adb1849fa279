"""zhsearch's web face: a Flask app over one :class:`indexer.SearchIndex`.

::

    create_app()  defaults -> ZHSEARCH_* env (or test_config) -> blueprints
     ├── pages   GET /                  search form + results (HTML)
     │           GET /article/<id>      one post, query terms highlighted
     │           GET /favicon.ico       the site icon (static/favicon.svg)
     ├── feeds   GET /feed.atom         the newest posts of a search, as an Atom feed
     ├── api     GET /api/search        the same search as JSON
     │           GET /api/article/<id>  one post as JSON
     │           GET /api/suggest       titles for search-as-you-type
     │           GET /api/openapi.json  OpenAPI 3.1 description of the above
     ├── health  GET /healthz           ok, index generation, post count
     └── errors  one handler: JSON envelope under /api and /healthz, error.html elsewhere

Start it with ``flask --app webui run`` (development) or :func:`serve`: waitress (one
process, ``threads`` request threads) or, with ``workers`` > 1, gunicorn (that many
processes, one request at a time each), which uses every core.
"""

from flask import Flask

from indexer import config as _core_config

__all__ = ["create_app", "make_server", "serve"]

# Headers sent with every response. The pages use no inline script or style, so the
# policy can forbid both; post images are remote, hence http:/https: for img-src only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' https: http: data:; script-src 'self'; "
        "style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def create_app(test_config=None, *, settings=None):
    """Create the zhsearch web app.

    Settings, last wins: defaults, then the ``ZHSEARCH_*`` environment variables
    (or `test_config` instead of them), then `settings`.

    :param test_config: settings that replace the ``ZHSEARCH_*`` environment variables
        (e.g. ``{"TESTING": True, "INDEX_DIR": "..."}``); ``None`` reads the environment.
    :param settings: explicit settings over both, e.g. a command line's ``--index``.
    :return: a configured :class:`flask.Flask` app.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        # Directory of the index built by `reindex`.
        INDEX_DIR=str(_core_config.INDEX_DIR),
        # A synonym file (Solr format) searched besides the built-in list (ZHSEARCH_SYNONYMS).
        SYNONYMS=None,
        # Results per page when the request does not say.
        PAGE_SIZE=_core_config.PAGE_SIZE,
        # Largest per_page a request may ask for; the core itself does not cap it.
        MAX_PER_PAGE=50,
        # Longest query accepted, in characters (the core's limit; shown in error messages).
        MAX_QUERY_CHARS=_core_config.MAX_QUERY_CHARS,
        # Entries in /feed.atom when the request does not say (limit=), and the most it may ask for.
        FEED_SIZE=20,
        MAX_FEED_SIZE=100,
        # Titles returned by /api/suggest.
        SUGGEST_LIMIT=8,
        # Related posts listed under an article.
        RELATED_LIMIT=5,
        # IANA time zone in which post dates are shown, from/to dates are read and
        # months are counted: the archives are Chinese news, so Beijing time.
        TIMEZONE=_core_config.TIMEZONE,
        # OpenSearch: the cluster's URL(s) (set: search it instead of INDEX_DIR), the index
        # (alias) name, login and TLS checks; see indexer/backends/__init__.py.
        URL=None,
        INDEX_NAME=None,
        USERNAME=None,
        PASSWORD=None,
        VERIFY_TLS=True,
        CA_CERTS=None,
        # "whoosh" or "opensearch"; None: opensearch when URL is set.
        BACKEND=None,
        # Megabytes of reused postings the embedded index keeps (ZHSEARCH_CACHE_MB).
        CACHE_MB=_core_config.CACHE_MB,
        # Build the index's tables and vocabulary at startup and after each reindex, in the
        # background, so that no request pays for them (not under TESTING).
        WARM=True,
    )
    if test_config is None:
        app.config.from_prefixed_env(_core_config.ENV_PREFIX)
    else:
        app.config.update(test_config)
    app.config.update(settings or {})
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    from . import api, errors, feeds, health, pages, search_index

    search_index.init_app(app)
    errors.init_app(app)
    pages.init_app(app)
    feeds.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def make_server(index_dir, host="127.0.0.1", port=8000, threads=4, options=None):
    """Create (but do not start) a waitress server for an index.

    The app reads every ``ZHSEARCH_*`` setting from the environment, as under
    ``flask --app webui run``; `index_dir` overrides ``ZHSEARCH_INDEX_DIR``; an
    OpenSearch URL there (or ``options`` with ``backend="opensearch"``) serves that
    cluster's index, ``options`` giving index_name, username, password, verify_tls, ca_certs.

    :return: a waitress server; call ``.run()`` to serve and ``.close()`` to stop.
        ``.effective_port`` is the bound port (useful with ``port=0``).
    """
    import waitress

    app = create_app(settings=_settings(index_dir, options))
    return waitress.create_server(app, host=host, port=port, threads=threads)


def _settings(index_dir, options):
    """App settings for an index folder, or an OpenSearch URL with its options."""
    settings = {"INDEX_DIR": str(index_dir)}
    options = {k: v for k, v in (options or {}).items() if v is not None}
    if options.get("backend") == "opensearch" or str(index_dir).startswith(("http://", "https://")):
        settings = {"URL": str(index_dir), "BACKEND": "opensearch"}
        settings.update({k.upper(): v for k, v in options.items() if k != "backend"})
    elif options.get("backend"):
        settings["BACKEND"] = options["backend"]
    return settings


# A gunicorn worker is replaced after this many requests (give or take a tenth), which
# bounds what its caches and the allocator's fragmentation can grow to.
WORKER_MAX_REQUESTS = 20_000


def serve(index_dir, host="127.0.0.1", port=8000, threads=4, workers=1, options=None):
    """Serve the web UI for an index (folder, or OpenSearch URL with `options`) until interrupted (Ctrl+C).

    One process with `threads` request threads (waitress), or `workers` processes
    (gunicorn), each answering one request at a time: Python runs one thread at a
    time per process, so only processes put several cores to work. Prints one line
    with the address; a missing or damaged index is not fatal (pages answer 503).
    """
    if workers > 1:
        return _serve_workers(index_dir, host, port, workers, options)
    server = make_server(index_dir, host=host, port=port, threads=threads, options=options)
    print(f"Serving zhsearch on http://{host}:{server.effective_port} (index: {index_dir}); Ctrl+C stops.", flush=True)
    try:
        server.run()
    finally:
        server.close()


def _serve_workers(index_dir, host, port, workers, options=None):
    """Serve with gunicorn: `workers` forked processes sharing the index folder.

    The app is created once before the fork (imports, jieba's dictionary and the
    segmenter are shared copy-on-write); each worker then opens its own files.
    """
    from gunicorn.app.base import BaseApplication

    app = create_app(settings=_settings(index_dir, options))

    def post_fork(server, worker):
        # Index files were opened in the parent: a shared descriptor shares its file offset.
        search = app.extensions.get("search")
        if search is not None:
            search.close()

    class Server(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "sync",
                "max_requests": WORKER_MAX_REQUESTS,
                "max_requests_jitter": WORKER_MAX_REQUESTS // 10,
                "post_fork": post_fork,
                "accesslog": None,
                "control_socket_disable": True,  # no management socket in the user's home
            }.items():
                if key not in self.cfg.settings:  # a setting newer than the installed gunicorn
                    continue
                self.cfg.set(key, value)

        def load(self):
            return app

    print(f"Serving zhsearch on http://{host}:{port} with {workers} workers (index: {index_dir}); Ctrl+C stops.")
    Server().run()
