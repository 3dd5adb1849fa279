"""Connection settings and the HTTP client adapter: the only module that imports opensearchpy.

:class:`Connection` is a frozen, picklable description (URLs, index name,
credentials, TLS settings) that worker processes turn into a client of their
own. :func:`call` runs one request and turns the client's exceptions into
zhsearch errors with a message that names the cluster:

- unreachable, timed out, 502-504, all shards failed → BackendUnavailableError
- 401/403 → BackendUnavailableError (the credentials were refused)
- an index that does not exist → IndexNotFoundError ("run reindex first")

Bulk indexing goes through opensearch-py's ``helpers.streaming_bulk``, which
retries documents rejected with 429 (a full write queue) with exponential
back-off. tests/test_opensearch.py pins these contracts against a real node.
"""

import re
import warnings
from dataclasses import dataclass

import opensearchpy
from opensearchpy import helpers

from ...errors import BackendUnavailableError, ConfigError, IndexNotFoundError, SearchEngineError

# Seconds a request may take before the client gives up (and tries another node).
REQUEST_TIMEOUT = 30

# Times the client retries a request on another node after a connection error or timeout.
MAX_RETRIES = 3

# Times streaming_bulk re-sends documents the cluster rejected with 429, and its first wait (s).
BULK_RETRIES = 8
BULK_INITIAL_BACKOFF = 1

# What OpenSearch accepts as an index name (lower case, no separators that mean something else).
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+-]{0,200}$")


@dataclass(frozen=True)
class Connection:
    """Where an index lives on a cluster, and how to log in: picklable for worker processes.

    :param urls: one or more node URLs (``http://host:9200``); requests go to any of them.
    """

    urls: tuple
    index_name: str = "zhsearch"
    username: str | None = None
    password: str | None = None
    verify_tls: bool = True
    ca_certs: str | None = None

    @classmethod
    def of(cls, location, index_name=None, username=None, password=None, verify_tls=True, ca_certs=None):
        """A Connection for `location`: a URL, or several separated by commas."""
        urls = tuple(u.strip().rstrip("/") for u in str(location).split(",") if u.strip())
        if not urls or not all(u.startswith(("http://", "https://")) for u in urls):
            raise ConfigError(f"OpenSearch URL {str(location)[:200]!r} must start with http:// or https://.")
        name = index_name or "zhsearch"
        if not _INDEX_NAME.match(name) or name.endswith("-meta"):
            raise ConfigError(
                f"Index name {name[:60]!r} cannot be used: use lower-case letters, digits, '-', '_' or '.', "
                "not ending in '-meta'."
            )
        return cls(urls, name, username, password, verify_tls, ca_certs)

    @property
    def url(self):
        return ",".join(self.urls)

    @property
    def meta_index(self):
        return f"{self.index_name}-meta"

    def physical(self, generation):
        """The physical index of a generation."""
        return f"{self.index_name}-{generation:06d}"

    def describe(self):
        """How messages and stats name the index: ``zhsearch on http://127.0.0.1:9200``."""
        return f"{self.index_name} on {self.url}"

    def __repr__(self):  # never print the password
        return f"Connection({self.url!r}, index_name={self.index_name!r}, username={self.username!r})"


def client(conn):
    """A new opensearch-py client for `conn` (one per process: it is not fork-safe)."""
    kwargs = {
        "hosts": list(conn.urls),
        "timeout": REQUEST_TIMEOUT,
        "max_retries": MAX_RETRIES,
        "retry_on_timeout": True,
        "verify_certs": conn.verify_tls,
        "ssl_show_warn": conn.verify_tls,
    }
    if conn.username is not None:
        kwargs["http_auth"] = (conn.username, conn.password or "")
    if conn.ca_certs:
        kwargs["ca_certs"] = conn.ca_certs
    return opensearchpy.OpenSearch(**kwargs)


def call(conn, method, *args, **kwargs):
    """Run ``method(*args, **kwargs)`` (a client method); raise zhsearch errors for cluster failures."""
    try:
        with warnings.catch_warnings():
            if not conn.verify_tls:  # the user asked for it; do not turn it into an error
                warnings.simplefilter("ignore")
            return method(*args, **kwargs)
    except opensearchpy.ConnectionTimeout as exc:
        raise BackendUnavailableError(
            f"OpenSearch at {conn.url} did not answer within {REQUEST_TIMEOUT}s ({_reason(exc)})."
        ) from None
    except opensearchpy.SSLError as exc:
        raise BackendUnavailableError(
            f"TLS to OpenSearch at {conn.url} failed ({_reason(exc)}); pass --ca-certs, or --no-verify-tls."
        ) from None
    except opensearchpy.ConnectionError as exc:
        raise BackendUnavailableError(
            f"Cannot reach OpenSearch at {conn.url} ({_reason(exc)}). Is the cluster running?"
        ) from None
    except opensearchpy.AuthenticationException:
        raise BackendUnavailableError(
            f"OpenSearch at {conn.url} refused the credentials; check --username and --password."
        ) from None
    except opensearchpy.AuthorizationException as exc:
        raise BackendUnavailableError(f"OpenSearch at {conn.url} does not allow this ({_reason(exc)}).") from None
    except opensearchpy.NotFoundError as exc:
        if error_type(exc) == "index_not_found_exception":
            raise IndexNotFoundError(
                f"Index '{conn.index_name}' not found on OpenSearch at {conn.url}. "
                f'Run "reindex --url {conn.url} --index-name {conn.index_name}" first.'
            ) from None
        raise
    except opensearchpy.ConflictError:
        raise  # the writer's compare-and-set decides what a conflict means
    except opensearchpy.TransportError as exc:
        if exc.status_code in (502, 503, 504) or error_type(exc) == "search_phase_execution_exception":
            raise BackendUnavailableError(
                f"OpenSearch at {conn.url} cannot answer for index '{conn.index_name}' "
                f"({_reason(exc)}); check the cluster's health (is it red?)."
            ) from None
        raise SearchEngineError(f"OpenSearch at {conn.url} failed: {_reason(exc)}.") from None


def error_type(exc):
    """The ``error.type`` of an OpenSearch error response ('' if none)."""
    info = getattr(exc, "info", None)
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        return info["error"].get("type", "")
    return ""


def is_status(exc, status):
    return isinstance(exc, opensearchpy.TransportError) and exc.status_code == status


# Re-exported so the writer can catch conflicts without importing opensearchpy.
ConflictError = opensearchpy.ConflictError
NotFoundError = opensearchpy.NotFoundError


def bulk(conn, os_client, actions, chunk_docs, chunk_bytes):
    """Send index/delete `actions` in chunks; 429s are retried with back-off; return documents written.

    :raises SearchEngineError: when a document is refused for another reason.
    """
    done = 0
    errors = []

    def run():
        nonlocal done
        for ok, item in helpers.streaming_bulk(
            os_client,
            actions,
            chunk_size=chunk_docs,
            max_chunk_bytes=chunk_bytes,
            max_retries=BULK_RETRIES,
            initial_backoff=BULK_INITIAL_BACKOFF,
            raise_on_error=False,
            ignore_status=(404,),  # deleting a post that is already gone is fine
        ):
            if ok:
                done += 1
            else:
                errors.append(item)

    call(conn, run)
    if errors:
        op, detail = next(iter(errors[0].items()))
        raise SearchEngineError(
            f"OpenSearch at {conn.url} refused {len(errors)} document(s); first: {op} {detail.get('_id')}: "
            f"{str(detail.get('error'))[:300]}"
        )
    return done


def _reason(exc):
    info = getattr(exc, "info", None)
    if isinstance(info, dict) and isinstance(info.get("error"), dict):
        err = info["error"]
        return f"{err.get('type')}: {str(err.get('reason'))[:200]}"
    if isinstance(exc, opensearchpy.TransportError) and isinstance(exc.error, str):
        # A connection or TLS error carries the urllib3 exception as info, whose text is the error's again.
        detail = str(exc.info) if exc.info and not isinstance(exc.info, dict) else ""
        reason = exc.error + (f": {detail[:200]}" if detail and detail != exc.error else "")
        if not reason and isinstance(exc.status_code, int):  # e.g. 413: a request larger than the cluster takes
            return f"HTTP {exc.status_code}"
        return reason
    return str(exc)[:200]
