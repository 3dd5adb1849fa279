"""Build and update the index: `reindex(source_dir, index_dir)`.

An index folder holds generations, each a complete Whoosh index, and a
``CURRENT`` file naming the live one::

    index_data/
      CURRENT          "gen-000002"; replaced atomically
      gen-000002/      Whoosh files + zhsearch.json (analysis fingerprint, source, times)
      .writer.lock     held by the running reindex; holds its pid

Incremental runs (the default) update the live generation in place: Whoosh's
commit is atomic, so searchers see the old or the new state, never half. A
full run builds a new generation beside the live one and switches ``CURRENT``
only when it is complete, so searchers keep answering from the old one, and a
run that is interrupted (Ctrl-C, kill -9) leaves the old one untouched.

Big batches are split between worker processes that each read, clean,
analyse and index their share into Whoosh segments of their own (one per
SEGMENT_DOCS posts); this process deletes replaced versions and commits all
segments at once. Small batches go through one writer in this process.
"""

import errno
import fcntl
import json
import multiprocessing
import os
import shutil
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.reading import SegmentReader
from whoosh.writing import SegmentWriter

from . import tokenizer
from .errors import ConfigError, IndexLockedError, IndexNotFoundError
from .ingest import read_post
from .models import Failure, ReindexReport
from .schema import CHARS_COLUMN_FIELDS, build_schema
from .sources import check_source_dir, find_posts

CURRENT_FILE = "CURRENT"
LOCK_FILE = ".writer.lock"
META_FILE = "zhsearch.json"
USER_DICT_FILE = "userdict.txt"
GEN_PREFIX = "gen-"

# Below this many posts, one writer in this process indexes them (no worker start-up,
# no new segment); from this many on, workers (or, with one job, this process) write segments.
MIN_POSTS_FOR_WORKERS = 64

# Posts per segment written by a worker; bounds a worker's memory (its postings
# stay in memory until the segment is written) and the number of segments.
SEGMENT_DOCS = 1000

# Memory Whoosh's writer may use for its posting pool before spilling a run to
# disk, in MB; set above what SEGMENT_DOCS posts need, so it never spills.
WRITER_LIMIT_MB = 512

# Small segments (fewer than SEGMENT_DOCS posts) tolerated before they are merged.
MAX_SMALL_SEGMENTS = 8


# ── index folder ────────────────────────────────────────────────────────────


def current_generation(index_dir):
    """Return (generation number, its folder) of the live index, or raise IndexNotFoundError."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexNotFoundError(f"Index not found in '{index_dir}'. Run \"reindex\" first.") from None
    gen_dir = index_dir / name
    if not name.startswith(GEN_PREFIX) or not gen_dir.is_dir():
        raise IndexNotFoundError(f"Index in '{index_dir}' names a missing generation '{name}'. Run \"reindex --full\".")
    return int(name[len(GEN_PREFIX):]), gen_dir


def read_meta(gen_dir):
    """Return the zhsearch.json record of a generation folder."""
    try:
        return json.loads((Path(gen_dir) / META_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def _write_atomic(path, text):
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _write_meta(gen_dir, meta):
    _write_atomic(Path(gen_dir) / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2))


class _WriterLock:
    """An exclusive, process-wide lock on an index folder (released if the process dies)."""

    def __init__(self, index_dir):
        self.path = Path(index_dir) / LOCK_FILE
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            holder = os.read(self.fd, 32).decode("ascii", "replace").strip() or "unknown"
            os.close(self.fd)
            raise IndexLockedError(
                f"Index in '{self.path.parent}' is being updated by process {holder}. "
                "Wait for it to finish, or stop that process.",
                pid=int(holder) if holder.isdigit() else None,
            ) from None
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(os.getpid()).encode("ascii"))
        return self

    def __exit__(self, *exc):
        os.ftruncate(self.fd, 0)
        os.close(self.fd)


# ── analysis (runs in worker processes) ─────────────────────────────────────


def normalized_fields(title, body, categories, tags, author):
    """The normalised text behind each char field."""
    return {
        "title_c": tokenizer.normalize(title)[0],
        "content_c": tokenizer.normalize(body)[0],
        "meta_c": tokenizer.normalize(" ".join((*categories, *tags, author or "")))[0],
        "author_c": tokenizer.normalize(author or "")[0],
    }


def document(post, schema, signature, seg=None):
    """Return Whoosh add_document() fields for a Post, with text fields pre-analysed."""
    norms = normalized_fields(post.title, post.text, post.categories, post.tags, post.author)
    date = post.date.astimezone(timezone.utc).replace(tzinfo=None) if post.date else None
    doc = {
        "id": post.id,
        "path": post.path,
        "sig": signature,
        "sha256": post.sha256,
        "title": schema["title"].postings(tokenizer.word_run(norms["title_c"], seg)),
        "_stored_title": post.title,
        "content": schema["content"].postings(tokenizer.word_run(norms["content_c"], seg)),
        **{field: schema[field].postings(tokenizer.char_run(norm)) for field, norm in norms.items()},
        "chars": "\n".join(tokenizer.char_run(norms[field]) for field in CHARS_COLUMN_FIELDS).encode("utf-8"),
        "category": ",".join(c.replace(",", " ") for c in post.categories) or None,
        "_stored_category": list(post.categories),
        "month": date.strftime("%Y-%m") if date else None,
        "date": date,
        "body": post.text,
        "tags": list(post.tags),
        "author": post.author,
        "editor": post.editor,
        "image": post.image,
        "feed": post.feed,
    }
    return {k: v for k, v in doc.items() if v is not None}


def _analyse(source, schema, seg):
    """Ingest and analyse one post: (Post, doc) or (Failure, None)."""
    result = read_post(source)
    if isinstance(result, Failure):
        return result, None
    try:
        return result, document(result, schema, source.signature, seg)
    except RecursionError:
        return Failure(source.relpath, "text is nested too deeply to analyse"), None


class _Outcome:
    """What writing a batch of posts produced: indexed paths, failures, warnings."""

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


def _write_in_process(writer, sources, existing, user_dict, done):
    """Analyse and add posts with the one writer (small batches: no process start-up cost)."""
    outcome = _Outcome()
    schema, seg = writer.schema, tokenizer.segmenter(user_dict)
    for source in sources:
        post, doc = _analyse(source, schema, seg)
        outcome.record(post)
        if doc is not None:
            (writer.update_document if source.relpath in existing else writer.add_document)(**doc)
        done()
    return outcome


# Shared with forked workers: the progress counter (a multiprocessing.Value).
_shared = {}


class _CallbackCounter:
    """In-process stand-in for the workers' shared multiprocessing.Value counter."""

    def __init__(self, callback):
        self.callback = callback
        self._value = 0
        self._lock = threading.Lock()

    def get_lock(self):
        return self._lock

    @property
    def value(self):
        return self._value

    @value.setter
    def value(self, value):
        self._value = value
        self.callback(value)


def _init_segment_worker(counter):
    _shared["counter"] = counter


def _write_segment(task):
    """In a worker: ingest, analyse and index a share of the posts into segments of its own.

    A new segment starts every SEGMENT_DOCS posts: Whoosh keeps a segment's
    postings in memory until it is written, and spilling them to disk and
    merging them back costs more than writing several segments.
    """
    gen_dir, sources, user_dict = task
    ix = whoosh_index.open_dir(gen_dir)
    outcome = _Outcome()
    seg = tokenizer.segmenter(user_dict)
    counter = _shared["counter"]
    segments = []
    for start in range(0, len(sources), SEGMENT_DOCS):
        # _lk=False: the parent holds the index lock, as Whoosh's own MpWriter does.
        writer = SegmentWriter(ix, _lk=False, limitmb=WRITER_LIMIT_MB)
        try:
            added = 0
            for source in sources[start:start + SEGMENT_DOCS]:
                post, doc = _analyse(source, ix.schema, seg)
                outcome.record(post)
                if doc is not None:
                    writer.add_document(**doc)
                    added += 1
                with counter.get_lock():
                    counter.value += 1
            if added:
                segments.append(writer._finalize_segment())
            else:
                writer.cancel()
        except BaseException:
            writer.cancel()
            raise
    return segments, outcome


def _write_in_workers(gen_dir, sources, jobs, user_dict, progress):
    """Split the posts between `jobs` processes writing segments; return (segments, outcome).

    The whole pipeline (read, clean, analyse, index) runs in the workers, so
    the work spreads over all cores and nothing but the finished segments'
    descriptions comes back. With one job the same runs in this process.
    """
    task = (str(gen_dir), sources, user_dict and str(user_dict))
    if jobs == 1:
        _init_segment_worker(_CallbackCounter(progress))
        segments, outcome = _write_segment(task)
        return segments, outcome
    context = multiprocessing.get_context("forkserver" if threading.active_count() > 1 else "fork")
    counter = context.Value("l", 0)
    shares = [(task[0], sources[i::jobs], task[2]) for i in range(jobs)]
    with context.Pool(jobs, initializer=_init_segment_worker, initargs=(counter,)) as pool:
        pending = pool.map_async(_write_segment, shares, chunksize=1)
        while not pending.ready():
            pending.wait(0.25)
            progress(counter.value)
        results = pending.get()
    outcome = _Outcome()
    for _, part in results:
        outcome.extend(part)
    return [segment for segments, _ in results for segment in segments], outcome


def _merge_small_segments(writer, segments):
    """Whoosh merge policy: fold the small segments incremental runs leave into the new one.

    Whoosh's default (MERGE_SMALL) would, with a few dozen segments of
    SEGMENT_DOCS posts, merge nearly all of them in one incremental run.
    Here segments of SEGMENT_DOCS or more stay as they are, and the small
    ones are merged once there are MAX_SMALL_SEGMENTS of them, so an
    incremental run costs about what it indexes.
    """
    small = [s for s in segments if s.doc_count_all() < SEGMENT_DOCS]
    if len(small) < MAX_SMALL_SEGMENTS:
        return segments
    for segment in small:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [s for s in segments if s not in small]


def _commit_with_segments(writer, segments):
    """Commit `writer` with extra segments written by workers (Whoosh's MpWriter multisegment commit)."""
    finalsegments = writer._merge_segments(_merge_small_segments, False, False)
    finalsegments += segments
    if writer._added:
        finalsegments.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(finalsegments)
    writer._finish()


def _write(ix, gen_dir, sources, existing, vanished, jobs, user_dict, progress):
    """Index `sources` (replacing the versions in `existing`), delete `vanished`; commit once."""
    counter = _Progress(progress, len(sources))
    writer = ix.writer(limitmb=WRITER_LIMIT_MB)
    try:
        if len(sources) >= MIN_POSTS_FOR_WORKERS:
            segments, outcome = _write_in_workers(gen_dir, sources, jobs, user_dict, counter.set)
            for path in outcome.indexed:
                if path in existing:
                    writer.delete_by_term("path", path)
        else:
            segments = None
            outcome = _write_in_process(writer, sources, existing, user_dict, counter.step)
        for path in vanished:
            writer.delete_by_term("path", path)
        if segments is None:
            writer.commit(mergetype=_merge_small_segments)
        else:
            _commit_with_segments(writer, segments)
    except BaseException:
        writer.cancel()
        raise
    counter.set(len(sources))
    return outcome


# ── reindex ─────────────────────────────────────────────────────────────────


def reindex(source_dir, index_dir, *, full=False, jobs=None, user_dict=None, progress=None):
    """Bring the index in `index_dir` up to date with the posts under `source_dir`.

    Incremental unless `full` (or there is no index yet): new posts are added,
    changed ones (size or mtime) re-read and updated, vanished ones deleted,
    unchanged ones left alone. A post that fails is listed in the report; if
    it was indexed before, its previous version stays searchable.

    :param jobs: worker processes for reading and analysis (default: all cores).
    :param user_dict: a jieba user dictionary file; changing it needs `full=True`.
    :param progress: called as ``progress(done, total)`` while posts are processed.
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
    with _WriterLock(index_dir):
        try:
            generation, gen_dir = current_generation(index_dir)
        except IndexNotFoundError:
            generation, gen_dir = 0, None
        if gen_dir is None or full:
            return _full(root, index_dir, generation + 1, jobs, user_dict, progress, started)
        return _incremental(root, index_dir, generation, gen_dir, jobs, user_dict, progress, started)


def stored_user_dict(gen_dir):
    """The user dictionary a generation was built with, or None."""
    stored = Path(gen_dir) / USER_DICT_FILE
    return stored if stored.is_file() else None


def _full(root, index_dir, generation, jobs, user_dict, progress, started):
    _remove_stale_generations(index_dir)
    gen_dir = index_dir / f"{GEN_PREFIX}{generation:06d}"
    shutil.rmtree(gen_dir, ignore_errors=True)
    gen_dir.mkdir()
    if user_dict is not None:
        shutil.copyfile(user_dict, gen_dir / USER_DICT_FILE)
        user_dict = gen_dir / USER_DICT_FILE
    ix = whoosh_index.create_in(gen_dir, build_schema())
    sources = find_posts(root)
    outcome = _write(ix, gen_dir, sources, {}, (), jobs, user_dict, progress)
    now = datetime.now(timezone.utc).isoformat()
    _write_meta(gen_dir, {
        "generation": generation,
        "fingerprint": tokenizer.segmenter(user_dict).fingerprint,
        "source_dir": str(root),
        "created": now,
        "last_reindex": now,
    })
    # The switch: searchers opening the index from now on see the new generation.
    _write_atomic(index_dir / CURRENT_FILE, gen_dir.name)
    _remove_stale_generations(index_dir, keep_previous=True)
    return ReindexReport(
        added=len(outcome.indexed), failed=tuple(outcome.failed), seconds=time.monotonic() - started, full=True,
        index_dir=str(index_dir), source_dir=str(root), generation=generation, warnings=tuple(outcome.warnings),
    )


def _incremental(root, index_dir, generation, gen_dir, jobs, user_dict, progress, started):
    _remove_stale_generations(index_dir, keep_previous=True)  # e.g. left by a killed --full
    meta = read_meta(gen_dir)
    user_dict = user_dict or stored_user_dict(gen_dir)
    fingerprint = tokenizer.segmenter(user_dict).fingerprint
    if meta.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"The index in '{index_dir}' was built with different text analysis "
            f"({meta.get('fingerprint')}, now {fingerprint}). Run \"reindex --full\" to rebuild it."
        )
    if meta.get("source_dir") and meta["source_dir"] != str(root):
        raise ConfigError(
            f"The index in '{index_dir}' holds posts from '{meta['source_dir']}', not '{root}'. "
            "Run \"reindex --full\" to index the new folder instead."
        )
    ix = whoosh_index.open_dir(gen_dir)
    indexed = _indexed_signatures(ix)
    sources = find_posts(root)
    if not sources and indexed:
        raise ConfigError(
            f"Source folder '{root}' holds no posts, but the index has {len(indexed)}. "
            "Refusing to delete them all; run \"reindex --full\" if that is what you want."
        )
    seen = {s.relpath for s in sources}
    todo = [s for s in sources if indexed.get(s.relpath) != s.signature]
    vanished = [path for path in indexed if path not in seen]
    outcome = _write(ix, gen_dir, todo, indexed, vanished, jobs, user_dict, progress)
    updated = sum(1 for path in outcome.indexed if path in indexed)
    meta["last_reindex"] = datetime.now(timezone.utc).isoformat()
    _write_meta(gen_dir, meta)
    return ReindexReport(
        added=len(outcome.indexed) - updated, updated=updated, deleted=len(vanished),
        unchanged=len(sources) - len(todo), failed=tuple(outcome.failed),
        seconds=time.monotonic() - started, full=False, index_dir=str(index_dir),
        source_dir=str(root), generation=generation, warnings=tuple(outcome.warnings),
    )


def _indexed_signatures(ix):
    """Map path → signature for every live document, read from columns (no stored fields)."""
    with ix.reader() as reader:
        paths = reader.column_reader("path")
        sigs = reader.column_reader("sig")
        return {paths[docnum]: sigs[docnum] for docnum in reader.all_doc_ids()}


def _remove_stale_generations(index_dir, keep_previous=False):
    """Delete generation folders other than the live one (and the one before it, if asked).

    Only called under the writer lock. The previous generation is kept so that
    searchers that opened it just before the switch can finish their work.
    """
    try:
        live, _ = current_generation(index_dir)
    except IndexNotFoundError:
        live = None
    gens = sorted(
        int(p.name[len(GEN_PREFIX):]) for p in index_dir.iterdir()
        if p.is_dir() and p.name.startswith(GEN_PREFIX) and p.name[len(GEN_PREFIX):].isdigit()
    )
    keep = {live}
    if keep_previous and live is not None:
        older = [g for g in gens if g < live]
        if older:
            keep.add(older[-1])
    for gen in gens:
        if gen not in keep:
            shutil.rmtree(index_dir / f"{GEN_PREFIX}{gen:06d}", ignore_errors=True)


class _Progress:
    def __init__(self, callback, total):
        self.callback = callback
        self.total = total
        self.done = 0
        if callback:
            callback(0, total)

    def step(self):
        self.set(self.done + 1)

    def set(self, done):
        if done != self.done:
            self.done = done
            if self.callback:
                self.callback(self.done, self.total)
