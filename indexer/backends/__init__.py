"""Backends behind the search-engine interface (see indexer/engine.py).

``whoosh``: the embedded index in a folder (the default). Modules are loaded
when first used, so a reader never loads a writer.
"""

from ..errors import ConfigError

# Backend names accepted by open_engine/open_writer.
BACKENDS = ("whoosh",)


def _check(backend):
    backend = backend or "whoosh"
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}.")
    return backend


def open_engine(location, backend=None):
    """Open the read side of the index at `location` (a folder for whoosh)."""
    _check(backend)
    from .whoosh.engine import WhooshEngine

    return WhooshEngine(location)


def open_writer(location, backend=None):
    """Return the write side of the index at `location`; use it as a context manager (it locks)."""
    _check(backend)
    from .whoosh.writer import WhooshWriter

    return WhooshWriter(location)


def open_part(spec):
    """Make a part writer from an IndexWriter.part_spec() (in a worker process)."""
    _check(spec[0])
    from .whoosh.writer import open_part as open_whoosh_part

    return open_whoosh_part(spec)
