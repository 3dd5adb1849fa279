"""Build and update an index: `reindex(source_dir, index_dir)`.

::

    sources.find_posts ─▶ compare signatures with the index ─▶ new/changed posts
        ─▶ [worker processes] ingest.read_post ─▶ analysis.analyse_post ─▶ PartWriter.add
        ─▶ IndexWriter.commit (with the replaced and vanished posts deleted)

Incremental runs (the default) touch only new, changed (size or mtime) and
vanished posts; a full run writes everything into a new generation that
replaces the live one atomically (see the backend's writer). Big batches are
split between worker processes that each read, clean, analyse and write their
share; small ones run in this process.

Learnt boilerplate (boilerplate.py): before the posts are written, the new and
changed ones are read once for their edge keys, which update their feeds'
counts (kept with the index, with each post's keys, so that changed and
vanished posts are subtracted exactly); the templates the counts support are
stripped from each post as it is written. When a feed's templates change, all
of its posts are written again.
"""

import json
import multiprocessing
import os
import pickle
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

from . import aliases, analysis, boilerplate, duplicates, store, stories
from .backends import open_part, open_writer
from .errors import ConfigError
from .ingest import apply_templates, feed_of, read_post
from .models import Failure, ReindexReport
from .sources import check_source_dir, find_posts

# Below this many posts, this process analyses and writes them (no worker start-up cost).
MIN_POSTS_FOR_WORKERS = 64


def reindex(
    source_dir,
    index_dir,
    *,
    full=False,
    jobs=None,
    user_dict=None,
    progress=None,
    backend=None,
    allow_empty=False,
    optimize=False,
    **options,
):
    """Bring the index in `index_dir` up to date with the posts under `source_dir`.

    Incremental unless `full` (or there is no index yet): new posts are added,
    changed ones (size or mtime) re-read and updated, vanished ones deleted,
    unchanged ones left alone. A post that fails is listed in the report; if
    it was indexed before, its previous version stays searchable.

    :param jobs: worker processes for reading and analysis (default: all cores).
    :param user_dict: a jieba user dictionary file. A full rebuild without one
        keeps the dictionary the index was built with; changing it needs `full=True`.
    :param progress: called as ``progress(done, total)`` while posts are processed.
    :param backend: "whoosh" (a folder) or "opensearch" (`index_dir` is then a cluster's
        URL); by default, opensearch for a URL. Options for OpenSearch (``index_name``,
        ``username``, ``password``, ``verify_tls``, ``ca_certs``, ``shards``, ``replicas``):
        see indexer/backends/__init__.py.
    :param allow_empty: let a source without posts (or whose posts all fail)
        empty an index that has posts; refused otherwise.
    :param optimize: compact the index afterwards (one segment, no deleted posts).
    :raises ConfigError: bad source folder, or the index needs a full rebuild.
    :raises IndexLockedError: another process is updating this index.
    :raises BackendUnavailableError: the OpenSearch cluster cannot be reached or used.
    """
    started = time.monotonic()
    root = check_source_dir(source_dir)
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise ConfigError(f"jobs must be 1 or more, not {jobs}.")
    if user_dict is not None and not Path(user_dict).is_file():
        raise ConfigError(f"User dictionary '{user_dict}' does not exist.")
    with open_writer(index_dir, backend, **options) as writer:
        meta = writer.live_meta()
        full = full or meta is None
        kept_dict = None
        if user_dict is None:
            kept_dict = writer.live_user_dict()
        if full:
            indexed, sources = {}, find_posts(root)
            if not sources and not allow_empty:
                _refuse_to_empty(writer, root)
        else:
            _check_incremental(writer.location, root, meta, user_dict or kept_dict)
            indexed, sources = writer.signatures(), find_posts(root)
            if not sources and indexed and not allow_empty:
                _refuse_to_empty(writer, root, len(indexed))
        writer.begin(full, (user_dict or kept_dict) if full else None, sum(s.size for s in sources) if full else 0)
        seen = {s.relpath for s in sources}
        todo = [s for s in sources if indexed.get(s.relpath) != s.signature]
        vanished = [path for path in indexed if path not in seen]
        templates, shares, caches = {}, [todo], [None]
        with tempfile.TemporaryDirectory(prefix="zhsearch-reindex-") as cache_dir:
            if todo or vanished:  # a run that changes nothing learns nothing new
                learnt = Learnt.load(None if full else writer.read_blob(Learnt.BLOB))
                before = learnt.signatures()
                learnt.update(_keys_of(todo, jobs, cache_dir), vanished)
                templates = learnt.templates()
                retemplated = {
                    feed
                    for feed in before.keys() | templates.keys()
                    if before.get(feed) != (templates[feed].signature if feed in templates else None)
                }
                shares = _shares(todo, jobs)
                caches = [str(Path(cache_dir) / f"share-{i}.pickle") for i in range(len(shares))]
                # An index from before stories were kept has no signatures: every post is written again.
                signed = None if full else writer.read_blob(duplicates.BLOB)  # the kept MinHash signatures
                unsigned = not full and bool(indexed) and signed is None
                if (retemplated or unsigned) and not full:  # their posts must be stripped (or signed) anew
                    queued = {s.relpath for s in todo}
                    extra = [
                        s
                        for s in sources
                        if s.relpath not in queued and (unsigned or feed_of(s.relpath) in retemplated)
                    ]
                    count = max(len(shares), len(_shares(todo + extra, jobs)))
                    shares = [(shares[i] if i < len(shares) else []) + extra[i::count] for i in range(count)]
                    caches += [None] * (count - len(caches))
                    todo = todo + extra
                writer.stage_blob(Learnt.BLOB, learnt.to_json())
            outcome, tokens = _write(writer, shares, caches, progress, templates)
        if full and todo and not outcome.indexed and not allow_empty:
            _refuse_to_empty(writer, root, failed=outcome.failed)
        learnt_aliases = aliases.AliasBlob.load(None if full else writer.read_blob(aliases.BLOB))
        learnt_aliases.update(outcome.aliases, vanished)
        writer.stage_blob(aliases.BLOB, learnt_aliases.to_json())
        writer.stage_blob(aliases.COUNTS_BLOB, learnt_aliases.counts_json())
        if todo or vanished:
            _update_stories(writer, signed, outcome.signatures, vanished)
        replaced = [path for path in outcome.indexed if path in indexed]
        now = datetime.now(timezone.utc).isoformat()
        new_meta = {"last_reindex": now, "source_dir": str(root)}
        if full:
            new_meta.update(created=now, fingerprint=analysis.segmenter(writer.user_dict).fingerprint)
        writer.commit(tokens, replaced, vanished, new_meta, optimize=optimize)
        return ReindexReport(
            added=len(outcome.indexed) - len(replaced),
            updated=len(replaced),
            deleted=len(vanished),
            unchanged=len(sources) - len(todo),
            failed=tuple(outcome.failed),
            templates=sum(len(t.templates) for t in templates.values()),
            seconds=time.monotonic() - started,
            full=full,
            index_dir=writer.location,
            source_dir=str(root),
            generation=writer.generation,
            warnings=tuple(outcome.warnings),
            user_dict=str(writer.user_dict) if writer.user_dict else None,
            user_dict_kept=full and user_dict is None and kept_dict is not None,
        )


def _update_stories(writer, signed, signatures, vanished):
    """Cluster the written posts into stories with the kept ones; stage both blobs and the changed story ids.

    :param signed: the kept ``minhash`` blob (None for a full run: start afresh).
    """
    kept = duplicates.Stories.load(signed, writer.read_blob(stories.BLOB) if signed is not None else None)
    changed = kept.update(signatures, vanished)
    writer.stage_blob(duplicates.BLOB, kept.signatures_json())
    writer.stage_blob(stories.BLOB, kept.labels_json())
    writer.set_stories(changed)


def _refuse_to_empty(writer, root, live=None, failed=()):
    """Raise ConfigError if the live index has posts: a run would leave it with none."""
    live = len(writer.signatures()) if live is None else live
    if not live:
        return
    if failed:
        why = f"none of the {len(failed)} posts could be read (the first: {failed[0].path}: {failed[0].reason})"
    else:
        why = "it holds no posts"
    raise ConfigError(
        f"Source folder '{root}': {why}, but the index has {live}. Refusing to replace them with an "
        'empty index; run "reindex --allow-empty" if that is what you want.'
    )


def _check_incremental(location, root, meta, user_dict):
    fingerprint = analysis.fingerprint(user_dict)
    if meta.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"The index in '{location}' was built with different text analysis "
            f'({meta.get("fingerprint")}, now {fingerprint}). Run "reindex --full" to rebuild it.'
        )
    if meta.get("source_dir") and meta["source_dir"] != str(root):
        raise ConfigError(
            f"The index in '{location}' holds posts from '{meta['source_dir']}', not '{root}'. "
            'Run "reindex --full" to index the new folder instead.'
        )


# ── writing posts (in worker processes or here) ─────────────────────────────


class _Outcome:
    """What writing a share of the posts produced: indexed paths, failures, warnings."""

    def __init__(self):
        self.indexed = []
        self.failed = []
        self.warnings = []
        self.aliases = {}  # path -> (full name, short name) pairs its text defines (aliases.py)
        self.signatures = {}  # path -> MinHash signature of its text, or None (duplicates.py)

    def record(self, post):
        if isinstance(post, Failure):
            self.failed.append(post)
        else:
            self.indexed.append(post.path)
            self.warnings.extend((post.path, w) for w in post.warnings)
            self.aliases[post.path] = aliases.learn(f"{post.title}\n{post.text}")
            self.signatures[post.path] = duplicates.signature(post.text)

    def extend(self, other):
        self.indexed += other.indexed
        self.failed += other.failed
        self.warnings += other.warnings
        self.aliases.update(other.aliases)
        self.signatures.update(other.signatures)


def _analyse(source, seg, templates, result):
    """Strip the feed's learnt templates from a read post and analyse it: (Post, AnalysedPost) or (Failure, None)."""
    if isinstance(result, Failure):
        return result, None
    result, note = apply_templates(result, templates.get(result.feed))
    if note is not None and note.skipped:
        result = replace(result, warnings=(*result.warnings, str(note)))
    try:
        return result, analysis.analyse_post(result, source.signature, seg)
    except RecursionError:
        return Failure(source.relpath, "text is nested too deeply to analyse"), None


def _write_share(part, sources, user_dict, templates, tick, cached=None):
    """Ingest, analyse and add `sources` through `part`; return (part's token, outcome).

    :param cached: the file the keys pass wrote for this share (posts already read), or None.
    """
    outcome = _Outcome()
    seg = analysis.segmenter(user_dict) if sources else None  # nothing to cut: no dictionary to load
    try:
        for source, read in zip(sources, _ReadPosts(cached, sources)):
            post, analysed = _analyse(source, seg, templates, read)
            outcome.record(post)
            if analysed is not None:
                part.add(analysed)
            tick()
        return part.finish(), outcome
    except BaseException:
        part.discard()
        raise


# Shared with forked workers: the progress counter (a multiprocessing.Value).
_shared = {}


def _init_worker(counter, parent):
    _shared["counter"] = counter
    # The writer lock is a flock inherited with the parent's descriptors: only the parent may hold it.
    store.close_inherited_locks()
    _die_with(parent)


def _die_with(parent):
    """End this worker as soon as process `parent` (the one running reindex) is gone."""
    try:  # Linux: the kernel sends SIGKILL when the forking parent dies
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

    first_parent = os.getppid()  # the parent itself, or the forkserver, which ends with it

    def watch():  # where prctl is missing, and under forkserver, whose workers are not the parent's children
        while True:
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
            if os.getppid() != first_parent:
                os._exit(1)
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


def _tick():
    counter = _shared["counter"]
    with counter.get_lock():
        counter.value += 1


def _worker(task):
    """In a worker process: write one share of the posts through a part of its own."""
    spec, sources, user_dict, templates, cached = task
    return _write_share(open_part(spec), sources, user_dict, templates, _tick, cached)


def _keys_worker(task):
    """In a worker process: the boilerplate keys of a share of the posts."""
    sources, cache = task
    return _read_keys(sources, _tick, cache)


def _read_keys(sources, tick, cache):
    """{path: PostKeys} of the posts that read well (a failed post keeps its old keys).

    Each post read (or its Failure) is also written to the file `cache`, in order,
    so that writing the posts does not read and clean them again (_ReadPosts).
    """
    keys = {}
    with open(cache, "wb") as out:
        for source in sources:
            post = read_post(source)
            pickle.dump((source.relpath, post), out, protocol=pickle.HIGHEST_PROTOCOL)
            if not isinstance(post, Failure):
                keys[source.relpath] = boilerplate.post_keys(post.text.split("\n\n") if post.text else [])
            tick()
    return keys


class _ReadPosts:
    """The read posts of a share, in order: from the keys pass's file while it has them, else read now.

    A share of the writing pass starts with the posts of the same share of the keys pass,
    in the same order (then come posts of feeds whose templates changed, read now).
    """

    def __init__(self, cached, sources):
        self.cached = cached
        self.sources = sources

    def __iter__(self):
        stream = open(self.cached, "rb") if self.cached else None  # noqa: SIM115 (closed below)
        try:
            pending = self._next(stream)
            for source in self.sources:
                if pending is not None and pending[0] == source.relpath:
                    yield pending[1]
                    pending = self._next(stream)
                else:
                    yield read_post(source)
        finally:
            if stream is not None:
                stream.close()

    @staticmethod
    def _next(stream):
        if stream is None:
            return None
        try:
            return pickle.load(stream)
        except EOFError:
            return None


def _in_workers(func, shares, progress, total):
    """Run ``func(share)`` for each share in its own worker process; return the results in order."""
    # fork is cheapest; a process that already runs threads (a web server) uses forkserver.
    context = multiprocessing.get_context("forkserver" if threading.active_count() > 1 else "fork")
    counter = context.Value("l", 0)
    with context.Pool(len(shares), initializer=_init_worker, initargs=(counter, os.getpid())) as pool:
        pending = pool.map_async(func, shares, chunksize=1)
        while not pending.ready():
            pending.wait(0.25)
            if progress:
                progress(counter.value, total)
        return pending.get()


def _shares(sources, jobs):
    """How `sources` are split between `jobs` processes (one share when they are few)."""
    if len(sources) < MIN_POSTS_FOR_WORKERS or jobs == 1:
        return [sources]
    return [sources[i::jobs] for i in range(jobs)]


def _keys_of(sources, jobs, cache_dir):
    """{path: PostKeys} for `sources`, read in worker processes when there are many.

    The posts read are kept in `cache_dir`, a file per share (see _read_keys).
    """
    shares = _shares(sources, jobs)
    caches = [str(Path(cache_dir) / f"share-{i}.pickle") for i in range(len(shares))]
    if len(shares) == 1:
        return _read_keys(shares[0], lambda: None, caches[0])
    keys = {}
    for part in _in_workers(_keys_worker, list(zip(shares, caches)), None, len(sources)):
        keys.update(part)
    return keys


def _write(writer, shares, caches, progress, templates):
    """Write the posts of `shares` through parts, stripping `templates` ({feed: FeedTemplates}).

    One share is written in this process; several in worker processes, one each.
    `caches[i]` is the file of posts the keys pass read for share i (or None).
    :return: (outcome, the parts' tokens).
    """
    total = sum(len(share) for share in shares)
    if progress:
        progress(0, total)
    user_dict = writer.user_dict and str(writer.user_dict)
    if len(shares) == 1:
        done = [0]

        def tick():
            done[0] += 1
            if progress:
                progress(done[0], total)

        token, outcome = _write_share(writer.part(), shares[0], user_dict, templates, tick, caches[0])
        return outcome, [token]
    spec = writer.part_spec()
    tasks = [(spec, share, user_dict, templates, cache) for share, cache in zip(shares, caches)]
    results = _in_workers(_worker, tasks, progress, total)
    outcome = _Outcome()
    for _, part in results:
        outcome.extend(part)
    if progress:
        progress(total, total)
    return outcome, [token for token, _ in results]


# ── learnt boilerplate ──────────────────────────────────────────────────────


class Learnt:
    """Each feed's boilerplate counts and each indexed post's keys, as kept with the index.

    Stored as the index's ``boilerplate`` blob: ``{"version", "feeds": {feed: counts},
    "keys": {path: post keys}}`` (boilerplate.FeedCounts / PostKeys JSON). The keys let a
    changed or vanished post be subtracted from its feed's counts exactly.
    """

    BLOB = "boilerplate"

    def __init__(self, counts=None, keys=None):
        self.counts = counts or {}  # feed -> FeedCounts
        self.keys = keys or {}  # path -> PostKeys

    @classmethod
    def load(cls, text):
        """Read a stored blob (None, or one of another version: start afresh)."""
        data = boilerplate.blob_data(text)
        if data is None:
            return cls()
        keys = {path: boilerplate.PostKeys.from_data(k) for path, k in data["keys"].items()}
        return cls(boilerplate.counts_of(data), keys)

    def to_json(self):
        return json.dumps(
            {
                "version": boilerplate.BLOB_VERSION,
                "feeds": {feed: c.to_data() for feed, c in sorted(self.counts.items())},
                "keys": {path: k.to_data() for path, k in sorted(self.keys.items())},
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def update(self, added, vanished):
        """Count the posts in `added` ({path: PostKeys}, replacing their old keys); forget `vanished` paths."""
        removed, new = {}, {}
        for path in (*vanished, *added):
            if path in self.keys:
                removed.setdefault(feed_of(path), []).append(self.keys.pop(path))
        for path, keys in added.items():
            if feed_of(path) is not None:  # posts at the top of the source belong to no feed
                self.keys[path] = keys
                new.setdefault(feed_of(path), []).append(keys)
        for feed in removed.keys() | new.keys():
            counts = self.counts.get(feed) or boilerplate.FeedCounts(feed)
            counts = boilerplate.merge(counts, added=new.get(feed, ()), removed=removed.get(feed, ()))
            if counts.distinct:
                self.counts[feed] = counts
            else:
                self.counts.pop(feed, None)

    def templates(self):
        """{feed: FeedTemplates} of the feeds that learnt any template."""
        learnt = {feed: boilerplate.templates_of(counts) for feed, counts in self.counts.items()}
        return {feed: t for feed, t in learnt.items() if t.templates}

    def signatures(self):
        return {feed: t.signature for feed, t in self.templates().items()}
