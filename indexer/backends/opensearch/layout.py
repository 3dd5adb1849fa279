"""Where an OpenSearch-backed index keeps what readers and the writer share.

::

    <name>                     alias: the live physical index (readers search it)
    <name>-000002              physical index of generation 2
    <name>-meta                gen-000002: meta of a generation (fingerprint, source, times,
                               the user dictionary's text, the names of its blobs)
                               blob-NAME-gen-000002: a named text kept with a generation (its
                               first part; blob-NAME-gen-000002-part-TOKEN-N: the others)
                               lock: the writer lock (see writer.py)

Readers (engine.py) and the writer (writer.py) both use this module; the read
side loads nothing of the write side.
"""

import os
import threading
from pathlib import Path

from ...errors import SearchEngineError
from . import client as osc

_user_dicts = {}  # text digest -> local file
_user_dicts_lock = threading.Lock()


def live_index(conn, os_client):
    """(generation, physical index name) the alias points at, or None if there is no alias."""
    try:
        found = osc.call(conn, os_client.indices.get_alias, name=conn.index_name)
    except osc.NotFoundError:
        return None
    except SearchEngineError as exc:
        if "not found" in str(exc) or "Index '" in str(exc):
            return None
        raise
    names = sorted(found)
    if not names:
        return None
    name = names[-1]
    return generation_of(conn, name), name


def generation_of(conn, physical):
    suffix = physical[len(conn.index_name) + 1 :]
    return int(suffix) if suffix.isdigit() else 0


def blob_id(name, generation):
    """Id of the meta-index document holding a generation's named text (see IndexWriter.stage_blob)."""
    return f"blob-{name}-gen-{generation:06d}"


# Characters of a named text per meta-index document. OpenSearch refuses a request
# larger than its http.max_content_length (100 MB by default), and the texts of a
# large archive are larger (learnt boilerplate, MinHash signatures: about 150 MB
# each at 200,000 posts). A part is at most 24 MB of UTF-8, 4 MB of characters
# written as JSON escapes of 6 bytes each.
BLOB_PART_CHARS = 4_000_000


def part_id(name, generation, token, number):
    """Id of part `number` (1, 2, ...: the first is the blob's own document) of a text written as `token`."""
    return f"{blob_id(name, generation)}-part-{token}-{number}"


def read_blob(conn, os_client, name, generation):
    """A generation's named text, or None.

    A text written in several parts lists them in its first document; the writer
    writes the parts before that document and deletes a replaced text's parts after
    it, so a reader that finds a part missing has raced a new text: it reads again.
    """
    for _ in range(3):
        doc = osc.call(conn, os_client.get, index=conn.meta_index, id=blob_id(name, generation), params={"ignore": 404})
        if not doc or not doc.get("found"):
            return None
        source = doc.get("_source") or {}
        parts = source.get("parts", 1)
        if parts <= 1:
            return source.get("text")
        ids = [part_id(name, generation, source["token"], n) for n in range(1, parts)]
        found = osc.call(conn, os_client.mget, index=conn.meta_index, body={"ids": ids})["docs"]
        if all(d.get("found") for d in found):
            return "".join([source.get("text", ""), *(d["_source"]["text"] for d in found)])
    raise SearchEngineError(f"The text '{name}' of index '{conn.index_name}' kept changing while it was read.")


def blob_stamp(conn, os_client, name, generation):
    """(generation, sequence number, primary term) of a generation's named text, without reading it."""
    doc = osc.call(
        conn,
        os_client.get,
        index=conn.meta_index,
        id=blob_id(name, generation),
        params={"ignore": 404, "_source": "false"},
    )
    if not doc or not doc.get("found"):
        return (generation,)
    return (generation, doc.get("_seq_no"), doc.get("_primary_term"))


def read_meta(conn, os_client, generation):
    """The meta document of a generation ({} if there is none)."""
    try:
        doc = osc.call(conn, os_client.get, index=conn.meta_index, id=f"gen-{generation:06d}")
    except (osc.NotFoundError, SearchEngineError):
        return {}
    return doc.get("_source", {})


def local_user_dict(text):
    """A local file holding the user dictionary `text` (segmenters read files), made once per process."""
    import hashlib
    import tempfile

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    with _user_dicts_lock:
        path = _user_dicts.get(digest)
        if path is None or not path.is_file():
            folder = Path(tempfile.gettempdir()) / f"zhsearch-userdict-{os.getuid()}"
            folder.mkdir(mode=0o700, exist_ok=True)
            path = folder / f"{digest}.txt"
            tmp = path.with_name(f"{digest}.{os.getpid()}.tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            _user_dicts[digest] = path
        return path
