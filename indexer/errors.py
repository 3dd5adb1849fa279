"""Errors raised by zhsearch's core.

::

    SearchEngineError
     ├── IndexNotFoundError      no index at the given directory
     ├── IndexVersionError       the index was built with other text analysis: rebuild it
     ├── IndexCorruptError       a file of the index is damaged: rebuild it
     ├── DiskFullError           no room on the disk to write the index
     ├── IndexLockedError        another process is updating the index
     ├── BackendUnavailableError the search cluster does not answer, refuses us, or is red
     ├── ConfigError             a setting or argument is unusable (bad source dir, stale analysis)
     ├── QueryError              a query or search parameter cannot be answered
     ├── PostNotFoundError       no post with the given id
     └── PostParseError          one post could not be read (carries ``path``)
"""


class SearchEngineError(Exception):
    """Base class for every error zhsearch raises on purpose."""


class IndexNotFoundError(SearchEngineError):
    """No zhsearch index exists in the given directory."""


class IndexVersionError(SearchEngineError):
    """The index was built with different text analysis and must be rebuilt with `reindex --full`."""


class IndexCorruptError(SearchEngineError):
    """A file of the index cannot be read as written; `reindex --full` rebuilds it."""

    def __init__(self, message, path=None):
        super().__init__(message)
        self.path = path


class DiskFullError(SearchEngineError):
    """The disk holding the index has no room for what `reindex` must write."""

    def __init__(self, message, needed=None, free=None):
        super().__init__(message)
        self.needed = needed
        self.free = free


class IndexLockedError(SearchEngineError):
    """Another process holds the index's writer lock."""

    def __init__(self, message, pid=None):
        super().__init__(message)
        self.pid = pid


class BackendUnavailableError(SearchEngineError):
    """The search cluster (OpenSearch) cannot be reached, refused the credentials, or cannot answer."""


class ConfigError(SearchEngineError):
    """A setting or argument cannot be used as given."""


class QueryError(SearchEngineError):
    """A search query or one of its parameters is invalid."""

    def __init__(self, message, param="q"):
        super().__init__(message)
        self.param = param


class PostNotFoundError(SearchEngineError):
    """No indexed post has the requested id."""


class PostParseError(SearchEngineError):
    """A post file could not be read, decoded or parsed."""

    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
