"""The OpenSearch backend's write side: generations of physical indexes behind an alias.

A full batch creates a new physical index ``<name>-<generation>`` (refresh
off), fills it through parts, refreshes it, writes its meta and then moves
the alias ``<name>`` from the old index to the new one in one ``_aliases``
request: readers see the old or the new index, never half of one. A writer
killed before the switch leaves the alias on the old index; the next writer
deletes the orphan. The old index is deleted right after the switch
(searches already running on it finish: OpenSearch keeps its shards open
until they do).

An incremental batch writes into the live index: each post is replaced whole
(its ``_id`` is the post id) and vanished posts are deleted; the batch is
refreshed at commit. Unlike Whoosh's single commit, other readers may see a
refresh of part of an incremental batch, each post old or new, never mixed; a
killed incremental run leaves the posts it wrote, which the next run finds
by their signatures.

Everything a writer needs lives in the cluster, so any machine can run
``reindex``: signatures (path and size:mtime of every post) are read back
from the live index; meta (fingerprint, source folder, times, and the text of
the user dictionary) is a document per generation in ``<name>-meta``.

The lock is the document ``lock`` in ``<name>-meta``, created with
``op_type=create`` (only one writer can), holding the owner's host and pid and
an expiry LOCK_TTL seconds ahead that a thread renews every LOCK_RENEW
seconds. A lock whose expiry has passed (its writer died or hung) is taken
over with a compare-and-set on its sequence number; a lock held by a dead
process on this same host is taken over at once. A writer that loses its
lock (it stalled past the expiry and another took over) refuses to switch.

Parts (OpenSearchPart, one per worker process) buffer documents and send them
with the bulk API; documents rejected with 429 are retried with back-off
(client.bulk).
"""

import os
import secrets
import socket
import threading
import time
from pathlib import Path

from ...engine import IndexWriter, PartWriter
from ...errors import BackendUnavailableError, IndexLockedError, SearchEngineError
from . import client as osc
from .layout import BLOB_PART_CHARS, blob_id, generation_of, live_index, local_user_dict, part_id, read_blob, read_meta
from .mapping import META_MAPPINGS, STORY_MAPPING, document, index_body

# Seconds a lock stays valid without being renewed; a dead writer's lock is free after this.
LOCK_TTL = 60.0

# Seconds between renewals of a held lock.
LOCK_RENEW = 10.0

# Documents and bytes per bulk request sent by a part.
BULK_DOCS = 250
BULK_BYTES = 8 * 1024 * 1024

# Signatures read per page.
SCROLL_PAGE = 5000

# Called (with the new physical index's name) just before a full rebuild moves the
# alias; tests set it to stop a rebuild at that exact point (as store.before_switch).
before_switch = None


class OpenSearchWriter(IndexWriter):
    """Write the index `conn` names (created on the first run)."""

    def __init__(self, conn, shards=1, replicas=0):
        self.conn = conn
        self.shards = shards
        self.replicas = replicas
        self.client = osc.client(conn)
        self._lock = ClusterLock(conn, self.client)
        self._live = None  # (generation, physical name) or None
        self._live_meta = None
        self._blobs = {}  # name -> text, written with the commit
        self._stories = {}  # path -> story id, set with the commit
        self._generation = None
        self._physical = None
        self._full = False
        self._user_dict = None
        self._user_dict_text = None
        self._committed = False

    @property
    def location(self):
        return self.conn.describe()

    def __enter__(self):
        self._ensure_meta_index()
        self._lock.acquire()
        try:
            self._live = live_index(self.conn, self.client)
            self._live_meta = read_meta(self.conn, self.client, self._live[0]) if self._live else None
        except BaseException:
            self._lock.release()
            raise
        return self

    def __exit__(self, *exc):
        try:
            if self._full and not self._committed and self._physical:
                # An uncommitted full batch is discarded (the alias never pointed at it).
                self._delete_index(self._physical)
        finally:
            self._lock.release()
            self.client.close()

    def _ensure_meta_index(self):
        if osc.call(self.conn, self.client.indices.exists, index=self.conn.meta_index):
            return
        body = {
            "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}},
            "mappings": META_MAPPINGS,
        }
        try:
            osc.call(self.conn, self.client.indices.create, index=self.conn.meta_index, body=body)
        except SearchEngineError as exc:
            if "resource_already_exists" not in str(exc):  # another writer made it just now
                raise

    # ── what is indexed ──

    def live_meta(self):
        if not self._live:
            return None
        return {k: v for k, v in (self._live_meta or {}).items() if k not in ("user_dict_text", "kind")}

    def read_blob(self, name):
        return read_blob(self.conn, self.client, name, self._live[0]) if self._live else None

    def stage_blob(self, name, text):
        self._blobs[name] = text

    def set_stories(self, stories):
        self._stories = dict(stories)

    def live_user_dict(self):
        text = (self._live_meta or {}).get("user_dict_text")
        return local_user_dict(text) if text is not None else None

    def signatures(self):
        """Map path → signature of every live post, read in pages sorted by path (search_after)."""
        if not self._live:
            return {}
        found = {}
        after = None
        while True:
            body = {
                "size": SCROLL_PAGE,
                "query": {"match_all": {}},
                "sort": [{"path": "asc"}],
                "_source": False,
                "docvalue_fields": ["path", "sig"],
                "track_total_hits": False,
            }
            if after is not None:
                body["search_after"] = after
            hits = osc.call(self.conn, self.client.search, index=self._live[1], body=body)["hits"]["hits"]
            for hit in hits:
                fields = hit["fields"]
                found[fields["path"][0]] = fields["sig"][0]
            if len(hits) < SCROLL_PAGE:
                return found
            after = hits[-1]["sort"]

    # ── a batch ──

    def begin(self, full, user_dict=None, source_bytes=0):
        self._full = full or not self._live
        self._lock.check()
        if self._full:
            self._remove_orphans()
            self._generation = self._next_generation()
            self._physical = self.conn.physical(self._generation)
            self._user_dict_text = Path(user_dict).read_text(encoding="utf-8") if user_dict else None
            osc.call(
                self.conn,
                self.client.indices.create,
                index=self._physical,
                body=index_body(self.shards, self.replicas),
                params={"wait_for_active_shards": "1"},
            )
        else:
            self._remove_orphans()  # e.g. left by a killed --full
            self._generation, self._physical = self._live
            self._user_dict_text = (self._live_meta or {}).get("user_dict_text")
            # An index made before posts had story ids gets the field (its posts are all written again).
            osc.call(
                self.conn,
                self.client.indices.put_mapping,
                index=self._physical,
                body={"properties": {"story": STORY_MAPPING}},
            )
        self._user_dict = local_user_dict(self._user_dict_text) if self._user_dict_text is not None else None

    def _next_generation(self):
        names = osc.call(self.conn, self.client.indices.get, index=f"{self.conn.index_name}-*", params={"ignore": 404})
        gens = [generation_of(self.conn, n) for n in names if n != self.conn.meta_index] if names else []
        return max([*gens, self._live[0] if self._live else 0]) + 1

    def _remove_orphans(self):
        """Delete physical indexes the alias does not point at (left by killed full rebuilds)."""
        names = osc.call(self.conn, self.client.indices.get, index=f"{self.conn.index_name}-*", params={"ignore": 404})
        live = self._live[1] if self._live else None
        for name in names or ():
            if name != live and name != self.conn.meta_index and generation_of(self.conn, name):
                self._delete_index(name)
                self._delete_meta(generation_of(self.conn, name))

    def _delete_index(self, name):
        try:
            osc.call(self.conn, self.client.indices.delete, index=name, params={"ignore": 404})
        except SearchEngineError:
            pass  # the next writer removes orphans

    def _delete_meta(self, generation):
        names = read_meta(self.conn, self.client, generation).get("blobs", ())
        for name in names:
            self._delete_parts(name, generation, self._blob_head(name, generation))
            osc.call(
                self.conn, self.client.delete, index=self.conn.meta_index, id=blob_id(name, generation), ignore=404
            )
        osc.call(self.conn, self.client.delete, index=self.conn.meta_index, id=f"gen-{generation:06d}", ignore=404)

    def _write_blob(self, name, text):
        """Write a named text of this generation in parts of BLOB_PART_CHARS (layout.read_blob reads them).

        The other parts first, under a new token; then the first document, which
        names them; then the parts of the text it replaced.
        """
        generation = self._generation
        replaced = self._blob_head(name, generation)
        pieces = [text[i : i + BLOB_PART_CHARS] for i in range(0, len(text), BLOB_PART_CHARS)] or [""]
        token = secrets.token_hex(4)
        for number, piece in enumerate(pieces[1:], 1):
            body = {"kind": "blob-part", "name": name, "generation": generation, "text": piece}
            osc.call(
                self.conn,
                self.client.index,
                index=self.conn.meta_index,
                id=part_id(name, generation, token, number),
                body=body,
            )
        body = {"kind": "blob", "name": name, "generation": generation, "text": pieces[0], "parts": len(pieces)}
        body["token"] = token
        osc.call(self.conn, self.client.index, index=self.conn.meta_index, id=blob_id(name, generation), body=body)
        self._delete_parts(name, generation, replaced)

    def _blob_head(self, name, generation):
        """(token, parts) of a kept text, or None."""
        doc = osc.call(
            self.conn,
            self.client.get,
            index=self.conn.meta_index,
            id=blob_id(name, generation),
            params={"ignore": 404, "_source_includes": "token,parts"},
        )
        if not doc or not doc.get("found"):
            return None
        source = doc.get("_source") or {}
        return source.get("token"), source.get("parts", 1)

    def _delete_parts(self, name, generation, head):
        if head is None or head[0] is None:
            return
        token, parts = head
        for number in range(1, parts):
            osc.call(
                self.conn,
                self.client.delete,
                index=self.conn.meta_index,
                id=part_id(name, generation, token, number),
                params={"ignore": 404},
            )

    @property
    def generation(self):
        return self._generation

    @property
    def user_dict(self):
        return self._user_dict

    def part_spec(self):
        return ("opensearch", self.conn, self._physical)

    def part(self):
        return OpenSearchPart(self.conn, self._physical)

    def commit(self, tokens, replaced, deleted, meta, optimize=False):
        # `replaced` posts were overwritten in place (same _id); only vanished ones are deleted.
        from ...models import post_id

        if deleted:
            actions = [{"_op_type": "delete", "_index": self._physical, "_id": post_id(p)} for p in deleted]
            osc.bulk(self.conn, self.client, actions, BULK_DOCS * 4, BULK_BYTES)
        if self._stories:  # partial updates: the post's text is not sent again
            actions = [
                {"_op_type": "update", "_index": self._physical, "_id": post_id(p), "doc": {"story": story}}
                for p, story in sorted(self._stories.items())
            ]
            osc.bulk(self.conn, self.client, actions, BULK_DOCS * 4, BULK_BYTES)
        if self._full:
            osc.call(
                self.conn,
                self.client.indices.put_settings,
                index=self._physical,
                body={"index": {"refresh_interval": None}},
            )
        osc.call(self.conn, self.client.indices.refresh, index=self._physical)
        old = {k: v for k, v in (self._live_meta or {}).items()} if not self._full else {}
        record = {**old, **meta, "kind": "meta", "generation": self._generation}
        record["user_dict_text"] = self._user_dict_text
        record["blobs"] = sorted({*record.get("blobs", ()), *self._blobs})
        self._lock.check()
        for name, text in self._blobs.items():
            self._write_blob(name, text)
        osc.call(
            self.conn,
            self.client.index,
            index=self.conn.meta_index,
            id=f"gen-{self._generation:06d}",
            body=record,
            params={"refresh": "true"},
        )
        if self._full:
            self._switch()
        self._committed = True

    def _switch(self):
        osc.call(
            self.conn,
            self.client.cluster.health,
            index=self._physical,
            wait_for_status="yellow",  # every primary assigned (waits up to 30 s)
        )
        if before_switch is not None:
            before_switch(self._physical)
        self._lock.check()
        actions = [{"add": {"index": self._physical, "alias": self.conn.index_name}}]
        if self._live:
            actions.insert(0, {"remove": {"index": self._live[1], "alias": self.conn.index_name}})
        osc.call(self.conn, self.client.indices.update_aliases, body={"actions": actions})
        if self._live:
            self._delete_index(self._live[1])
            self._delete_meta(self._live[0])


class OpenSearchPart(PartWriter):
    """Buffers added posts and sends them to a physical index with the bulk API."""

    def __init__(self, conn, physical):
        self.conn = conn
        self.physical = physical
        self.client = osc.client(conn)
        self.buffer = []
        self.buffered_bytes = 0
        self.sent = 0

    def add(self, analysed):
        doc = document(analysed)
        self.buffer.append({"_op_type": "index", "_index": self.physical, "_id": analysed.post.id, "_source": doc})
        self.buffered_bytes += (
            sum(len(v) for v in doc.values() if isinstance(v, str)) * 3 + len(doc["post"]["body"]) * 3
        )
        if len(self.buffer) >= BULK_DOCS or self.buffered_bytes >= BULK_BYTES:
            self._flush()

    def _flush(self):
        if self.buffer:
            self.sent += osc.bulk(self.conn, self.client, self.buffer, BULK_DOCS, BULK_BYTES * 2)
        self.buffer = []
        self.buffered_bytes = 0

    def finish(self):
        self._flush()
        self.client.close()
        return self.sent

    def discard(self):
        self.buffer = []
        self.client.close()


def open_part(spec):
    """Make the part described by OpenSearchWriter.part_spec() (in a worker process)."""
    return OpenSearchPart(spec[1], spec[2])


# ── the lock ────────────────────────────────────────────────────────────────


class ClusterLock:
    """The writer lock: a document in the meta index, renewed while held (see the module docstring)."""

    def __init__(self, conn, os_client):
        self.conn = conn
        self.client = os_client
        self.owner = {"host": socket.gethostname(), "pid": os.getpid()}
        self._version = None  # (seq_no, primary_term) of our lock document
        self._stop = threading.Event()
        self._thread = None
        self._mutex = threading.Lock()
        self.lost = False

    def _doc(self):
        return {"kind": "lock", **self.owner, "expires": time.time() + LOCK_TTL, "taken": time.time()}

    def acquire(self):
        try:
            answer = osc.call(
                self.conn,
                self.client.index,
                index=self.conn.meta_index,
                id="lock",
                body=self._doc(),
                params={"op_type": "create", "refresh": "true"},
            )
        except osc.ConflictError:
            answer = self._take_over()
        self._version = (answer["_seq_no"], answer["_primary_term"])
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name="zhsearch-lock", daemon=True)
        self._thread.start()

    def _take_over(self):
        held = osc.call(self.conn, self.client.get, index=self.conn.meta_index, id="lock")
        holder = held["_source"]
        if not self._stale(holder):
            left = max(0, int(holder.get("expires", 0) - time.time()))
            raise IndexLockedError(
                f"Index {self.conn.describe()} is being updated by process {holder.get('pid')} on "
                f"{holder.get('host')}. Wait for it to finish, or stop that process "
                f"(its lock expires in {left}s unless renewed).",
                pid=holder.get("pid"),
            )
        try:
            return osc.call(
                self.conn,
                self.client.index,
                index=self.conn.meta_index,
                id="lock",
                body=self._doc(),
                params={"if_seq_no": held["_seq_no"], "if_primary_term": held["_primary_term"], "refresh": "true"},
            )
        except osc.ConflictError:
            raise IndexLockedError(
                f"Index {self.conn.describe()} is being updated by another process that took its lock just now.",
            ) from None

    def _stale(self, holder):
        if holder.get("expires", 0) < time.time():
            return True
        if holder.get("host") == self.owner["host"] and isinstance(holder.get("pid"), int):
            return not _pid_alive(holder["pid"])
        return False

    def _renew_loop(self):
        while not self._stop.wait(LOCK_RENEW):
            try:
                self._renew()
            except (SearchEngineError, BackendUnavailableError):
                pass  # try again at the next beat; check() refuses to commit once the expiry has passed

    def _renew(self):
        with self._mutex:
            if self._version is None or self.lost:
                return
            seq_no, term = self._version
            try:
                answer = osc.call(
                    self.conn,
                    self.client.index,
                    index=self.conn.meta_index,
                    id="lock",
                    body=self._doc(),
                    params={"if_seq_no": seq_no, "if_primary_term": term},
                )
            except (osc.ConflictError, osc.NotFoundError):
                self.lost = True
                return
            self._version = (answer["_seq_no"], answer["_primary_term"])

    def check(self):
        """Raise IndexLockedError if another writer has taken the lock over."""
        self._renew()
        if self.lost:
            raise IndexLockedError(
                f"Lost the writer lock of {self.conn.describe()} (this run stalled past its expiry and "
                "another writer took over); nothing was switched."
            )

    def release(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=LOCK_RENEW + 5)
        with self._mutex:
            if self._version is None or self.lost:
                return
            seq_no, term = self._version
            self._version = None
            try:
                osc.call(
                    self.conn,
                    self.client.delete,
                    index=self.conn.meta_index,
                    id="lock",
                    params={"if_seq_no": seq_no, "if_primary_term": term, "refresh": "true"},
                )
            except (osc.ConflictError, osc.NotFoundError, SearchEngineError):
                pass  # taken over, or the cluster is gone: it expires by itself


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# ── the user dictionary, kept in the cluster ───────────────────────────────
