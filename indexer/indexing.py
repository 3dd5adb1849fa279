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
"""

import multiprocessing
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from . import analysis, store
from .backends import open_part, open_writer
from .errors import ConfigError
from .ingest import read_post
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
    :param allow_empty: let a source without posts (or whose posts all fail)
        empty an index that has posts; refused otherwise.
    :param optimize: compact the index afterwards (one segment, no deleted posts).
    :raises ConfigError: bad source folder, or the index needs a full rebuild.
    :raises IndexLockedError: another process is updating this index.
    """
    started = time.monotonic()
    root = check_source_dir(source_dir)
    index_dir = Path(index_dir)
    jobs = jobs or os.cpu_count() or 1
    if jobs < 1:
        raise ConfigError(f"jobs must be 1 or more, not {jobs}.")
    if user_dict is not None and not Path(user_dict).is_file():
        raise ConfigError(f"User dictionary '{user_dict}' does not exist.")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create index folder '{index_dir}': {exc.strerror}.") from None
    with open_writer(index_dir, backend) as writer:
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
            _check_incremental(index_dir, root, meta, user_dict or kept_dict)
            indexed, sources = writer.signatures(), find_posts(root)
            if not sources and indexed and not allow_empty:
                _refuse_to_empty(writer, root, len(indexed))
        writer.begin(full, (user_dict or kept_dict) if full else None, sum(s.size for s in sources) if full else 0)
        seen = {s.relpath for s in sources}
        todo = [s for s in sources if indexed.get(s.relpath) != s.signature]
        vanished = [path for path in indexed if path not in seen]
        outcome, tokens = _write(writer, todo, jobs, progress)
        if full and todo and not outcome.indexed and not allow_empty:
            _refuse_to_empty(writer, root, failed=outcome.failed)
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
            seconds=time.monotonic() - started,
            full=full,
            index_dir=str(index_dir),
            source_dir=str(root),
            generation=writer.generation,
            warnings=tuple(outcome.warnings),
            user_dict=str(writer.user_dict) if writer.user_dict else None,
            user_dict_kept=full and user_dict is None and kept_dict is not None,
        )


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


def _check_incremental(index_dir, root, meta, user_dict):
    fingerprint = analysis.segmenter(user_dict).fingerprint
    if meta.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"The index in '{index_dir}' was built with different text analysis "
            f'({meta.get("fingerprint")}, now {fingerprint}). Run "reindex --full" to rebuild it.'
        )
    if meta.get("source_dir") and meta["source_dir"] != str(root):
        raise ConfigError(
            f"The index in '{index_dir}' holds posts from '{meta['source_dir']}', not '{root}'. "
            'Run "reindex --full" to index the new folder instead.'
        )


# ── writing posts (in worker processes or here) ─────────────────────────────


class _Outcome:
    """What writing a share of the posts produced: indexed paths, failures, warnings."""

    def __init__(self):
        self.indexed = []
        self.failed = []
        self.warnings = []

    def record(self, post):
        if isinstance(post, Failure):
            self.failed.append(post)
        else:
            self.indexed.append(post.path)
            self.warnings.extend((post.path, w) for w in post.warnings)

    def extend(self, other):
        self.indexed += other.indexed
        self.failed += other.failed
        self.warnings += other.warnings


def _analyse(source, seg):
    """Ingest and analyse one post: (Post, AnalysedPost) or (Failure, None)."""
    result = read_post(source)
    if isinstance(result, Failure):
        return result, None
    try:
        return result, analysis.analyse_post(result, source.signature, seg)
    except RecursionError:
        return Failure(source.relpath, "text is nested too deeply to analyse"), None


def _write_share(part, sources, user_dict, tick):
    """Ingest, analyse and add `sources` through `part`; return (part's token, outcome)."""
    outcome = _Outcome()
    seg = analysis.segmenter(user_dict)
    try:
        for source in sources:
            post, analysed = _analyse(source, seg)
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


def _worker(task):
    """In a worker process: write one share of the posts through a part of its own."""
    spec, sources, user_dict = task
    counter = _shared["counter"]

    def tick():
        with counter.get_lock():
            counter.value += 1

    return _write_share(open_part(spec), sources, user_dict, tick)


def _write(writer, sources, jobs, progress):
    """Write `sources` through parts; return (outcome, the parts' tokens)."""
    total = len(sources)
    if progress:
        progress(0, total)
    user_dict = writer.user_dict and str(writer.user_dict)
    if total < MIN_POSTS_FOR_WORKERS or jobs == 1:
        done = [0]

        def tick():
            done[0] += 1
            if progress:
                progress(done[0], total)

        token, outcome = _write_share(writer.part(), sources, user_dict, tick)
        return outcome, [token]
    # fork is cheapest; a process that already runs threads (a web server) uses forkserver.
    context = multiprocessing.get_context("forkserver" if threading.active_count() > 1 else "fork")
    counter = context.Value("l", 0)
    spec = writer.part_spec()
    shares = [(spec, sources[i::jobs], user_dict) for i in range(jobs)]
    with context.Pool(jobs, initializer=_init_worker, initargs=(counter, os.getpid())) as pool:
        pending = pool.map_async(_worker, shares, chunksize=1)
        while not pending.ready():
            pending.wait(0.25)
            if progress:
                progress(counter.value, total)
        results = pending.get()
    outcome = _Outcome()
    for _, part in results:
        outcome.extend(part)
    if progress:
        progress(total, total)
    return outcome, [token for token, _ in results]
