"""Backends behind the search-engine interface (see indexer/engine.py).

``whoosh``: the embedded index in a folder (the default).
``opensearch``: an index on an OpenSearch cluster (backends/opensearch/); chosen
by ``backend="opensearch"`` or by a location that is a URL (``http://...`` or
``https://...``, several separated by commas).

Options (keyword arguments of open_index/reindex) that only OpenSearch takes:
``index_name`` (default "zhsearch"), ``username``/``password``, ``verify_tls``
(default True), ``ca_certs`` (a CA bundle file), and for writers ``shards``
(default 1) and ``replicas`` (default 0). Modules are loaded when first used,
so a reader never loads a writer and the embedded index never loads opensearch-py.
"""

from pathlib import Path

from ..errors import ConfigError

# Backend names accepted by open_engine/open_writer.
BACKENDS = ("whoosh", "opensearch")

# Options for where and how to reach an OpenSearch index, and their defaults.
CONNECTION_OPTIONS = {"index_name": None, "username": None, "password": None, "verify_tls": True, "ca_certs": None}
CREATE_OPTIONS = {"shards": 1, "replicas": 0}


def backend_name(location, backend=None):
    """The backend for `location`: `backend` if given, else opensearch for a URL and whoosh for a folder."""
    if backend is None:
        backend = "opensearch" if str(location).startswith(("http://", "https://")) else "whoosh"
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}.")
    return backend


def _options(backend, options, allowed):
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"unexpected option(s): {', '.join(unknown)}")
    given = {k: v for k, v in options.items() if v is not None and v != allowed[k]}
    if backend == "whoosh" and given:
        raise ConfigError(f"{', '.join(sorted(given))} only apply to the opensearch backend (an index on a URL).")
    return {**allowed, **{k: v for k, v in options.items() if v is not None}}


def _connection(location, options):
    from .opensearch.client import Connection

    return Connection.of(location, **{k: options[k] for k in CONNECTION_OPTIONS})


def open_engine(location, backend=None, cache_mb=None, **options):
    """Open the read side of the index at `location` (a folder for whoosh, a URL for opensearch).

    :param cache_mb: the embedded index's budget for reused postings (config.CACHE_MB by
        default); OpenSearch keeps its own caches, sized on the cluster.
    """
    backend = backend_name(location, backend)
    options = _options(backend, options, CONNECTION_OPTIONS)
    if backend == "opensearch":
        from .opensearch.engine import OpenSearchEngine

        return OpenSearchEngine(_connection(location, options))
    from .whoosh.engine import WhooshEngine

    return WhooshEngine(location, cache_mb=cache_mb)


def open_writer(location, backend=None, **options):
    """Return the write side of the index at `location`; use it as a context manager (it locks)."""
    backend = backend_name(location, backend)
    options = _options(backend, options, {**CONNECTION_OPTIONS, **CREATE_OPTIONS})
    if backend == "opensearch":
        from .opensearch.writer import OpenSearchWriter

        if options["shards"] < 1 or options["replicas"] < 0:
            raise ConfigError("shards must be 1 or more and replicas 0 or more.")
        return OpenSearchWriter(_connection(location, options), shards=options["shards"], replicas=options["replicas"])
    from .whoosh.writer import WhooshWriter

    index_dir = Path(location)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create index folder '{index_dir}': {exc.strerror}.") from None
    return WhooshWriter(index_dir)


def open_part(spec):
    """Make a part writer from an IndexWriter.part_spec() (in a worker process)."""
    backend_name(None, spec[0])
    if spec[0] == "opensearch":
        from .opensearch.writer import open_part as open_opensearch_part

        return open_opensearch_part(spec)
    from .whoosh.writer import open_part as open_whoosh_part

    return open_whoosh_part(spec)
