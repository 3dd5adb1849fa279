"""The on-disk layout of an embedded index, shared by the writer and the readers.

::

    index_data/
      CURRENT          "gen-000002": the live generation; replaced atomically
      gen-000002/      one complete index (the backend's files) plus
        zhsearch.json    analysis fingerprint, source folder, times
        userdict.txt     the jieba user dictionary it was built with, if any
        blob-NAME.json   texts the writer keeps with the index (e.g. blob-boilerplate.json)
      .writer.lock     held (flock) by the running reindex; holds its pid

Readers only read CURRENT and a generation folder; nothing here imports the
ingest stack. The writer takes the lock, writes a generation and switches
CURRENT (see indexing.py).
"""

import errno
import json
import os
import shutil
from pathlib import Path

from .errors import IndexLockedError, IndexNotFoundError, IndexVersionError

CURRENT_FILE = "CURRENT"
LOCK_FILE = ".writer.lock"
META_FILE = "zhsearch.json"
USER_DICT_FILE = "userdict.txt"
GEN_PREFIX = "gen-"

# Called (with the new generation's folder) just before a full rebuild switches
# CURRENT; tests set it to stop a rebuild at that exact point.
before_switch = None


def generation_dir(index_dir, generation):
    """The folder of generation number `generation` in `index_dir`."""
    return Path(index_dir) / f"{GEN_PREFIX}{generation:06d}"


def current_generation(index_dir):
    """Return (generation number, its folder) of the live index, or raise IndexNotFoundError."""
    index_dir = Path(index_dir)
    try:
        name = (index_dir / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        raise IndexNotFoundError(f"Index not found in '{index_dir}'. Run \"reindex\" first.") from None
    number = name[len(GEN_PREFIX) :]
    gen_dir = index_dir / name
    if not name.startswith(GEN_PREFIX) or not number.isdigit() or not gen_dir.is_dir():
        raise IndexNotFoundError(
            f"Index in '{index_dir}' names a missing generation '{name[:40]}'. Run \"reindex --full\"."
        )
    return int(number), gen_dir


def read_meta(gen_dir):
    """Return the zhsearch.json record of a generation folder ({} if it has none)."""
    try:
        return json.loads((Path(gen_dir) / META_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


def write_meta(gen_dir, meta):
    """Replace a generation's zhsearch.json atomically."""
    write_atomic(Path(gen_dir) / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2))


def write_atomic(path, text):
    """Write `text` to `path` so that readers see the old or the new content, never a mix."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def switch(index_dir, gen_dir):
    """Make `gen_dir` the live generation: readers opening the index from now on see it."""
    if before_switch is not None:
        before_switch(gen_dir)
    write_atomic(Path(index_dir) / CURRENT_FILE, Path(gen_dir).name)


def blob_path(gen_dir, name):
    """Where a generation keeps the named text `name`."""
    return Path(gen_dir) / f"blob-{name}.json"


def read_blob(gen_dir, name):
    """The named text of a generation, or None."""
    try:
        return blob_path(gen_dir, name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def stored_user_dict(gen_dir):
    """The user dictionary a generation was built with, or None."""
    stored = Path(gen_dir) / USER_DICT_FILE
    return stored if stored.is_file() else None


def check_fingerprint(index_dir, gen_dir, fingerprint):
    """Raise IndexVersionError unless the generation was built with analysis `fingerprint`."""
    built = read_meta(gen_dir).get("fingerprint")
    if built != fingerprint:
        raise IndexVersionError(
            f"The index in '{index_dir}' was built with different text analysis "
            f'({built}, now {fingerprint}). Run "reindex --full" to rebuild it.'
        )


class WriterLock:
    """An exclusive, process-wide lock on an index folder (released if the process dies)."""

    def __init__(self, index_dir):
        self.path = Path(index_dir) / LOCK_FILE
        self.fd = None

    def __enter__(self):
        import fcntl  # writers only

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


def remove_stale_generations(index_dir, keep_previous=False):
    """Delete generation folders other than the live one (and the one before it, if asked).

    Only called under the writer lock. The previous generation is kept so that
    searchers that opened it just before the switch can finish their work.
    """
    index_dir = Path(index_dir)
    try:
        live, _ = current_generation(index_dir)
    except IndexNotFoundError:
        live = None
    gens = sorted(
        int(p.name[len(GEN_PREFIX) :])
        for p in index_dir.iterdir()
        if p.is_dir() and p.name.startswith(GEN_PREFIX) and p.name[len(GEN_PREFIX) :].isdigit()
    )
    keep = {live}
    if keep_previous and live is not None:
        older = [g for g in gens if g < live]
        if older:
            keep.add(older[-1])
    for gen in gens:
        if gen not in keep:
            shutil.rmtree(generation_dir(index_dir, gen), ignore_errors=True)
