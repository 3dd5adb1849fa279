"""Old import path of the Whoosh analyzer classes, kept for existing indexes.

Whoosh pickles a schema's analyzers by module and class name; indexes built
before the Whoosh backend got its own package name ``indexer.tokenizer``.
Text analysis itself lives in :mod:`indexer.analysis`.
"""

from .backends.whoosh.analyzers import (  # noqa: F401 (names unpickled from existing indexes)
    CharTokenizer,
    ChineseAnalyzer,
    ChineseCharAnalyzer,
    JiebaTokenizer,
)
