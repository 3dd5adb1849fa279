"""Old import path of the Whoosh schema's field classes, kept for existing indexes.

Whoosh pickles a schema's field types by module and class name; indexes built
before the Whoosh backend got its own package name ``indexer.schema``.
"""

from .backends.whoosh.schema import ChineseText, Postings  # noqa: F401 (names unpickled from existing indexes)
