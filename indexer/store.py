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
import stat
import warnings
from pathlib import Path

from .errors import DiskFullError, IndexCorruptError, IndexLockedError, IndexNotFoundError, IndexVersionError

CURRENT_FILE = "CURRENT"
LOCK_FILE = ".writer.lock"
META_FILE = "zhsearch.json"
USER_DICT_FILE = "userdict.txt"
GEN_PREFIX = "gen-"

# Errors of a write that found no room: the disk is full, or the user's quota is.
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)

# Called (with the new generation's folder) just before a full rebuild switches
# CURRENT; tests set it to stop a rebuild at that exact point.
before_switch = None


def generation_dir(index_dir, generation):
    """The folder of generation number `generation` in `index_dir`."""
    return Path(index_dir) / f"{GEN_PREFIX}{generation:06d}"


def current_generation(index_dir):
    """Return (generation number, its folder) of the live index, or raise IndexNotFoundError."""
    index_dir = Path(index_dir)
    current = index_dir / CURRENT_FILE
    try:
        name = current.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        raise IndexNotFoundError(f"Index not found in '{index_dir}'. Run \"reindex\" first.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(
            f"The index file '{current}' cannot be read ({exc}). Run \"reindex --full\" to rebuild the index.",
            path=str(current),
        ) from None
    number = name[len(GEN_PREFIX) :]
    gen_dir = index_dir / name
    if not name.startswith(GEN_PREFIX) or not number.isdigit() or not number.isascii() or not gen_dir.is_dir():
        raise IndexCorruptError(
            f"The index file '{current}' names a missing generation {name[:40]!r}. "
            'Run "reindex --full" to rebuild the index.',
            path=str(current),
        )
    return int(number), gen_dir


def corrupt_error(index_dir, path, exc):
    """The IndexCorruptError for a damaged file `path` of the index in `index_dir`."""
    return IndexCorruptError(
        f"The index in '{index_dir}' is damaged: '{path}' cannot be read ({type(exc).__name__}). "
        'Run "reindex --full" to rebuild the index.',
        path=str(path),
    )


def disk_full_error(index_dir, needed=None):
    """The DiskFullError for the file system holding `index_dir`, with its free space now."""
    free = shutil.disk_usage(index_dir).free
    want = f"; about {_mb(needed)} is needed" if needed else ""
    return DiskFullError(
        f"No space left on the disk holding the index '{index_dir}' ({_mb(free)} free{want}). "
        "Free some space or use another --index folder; the live index was left as it was.",
        needed=needed,
        free=free,
    )


def _mb(size):
    return f"{size / 1024 / 1024:.1f} MB"


def folder_size(folder):
    """Bytes in the files of `folder` (not recursive)."""
    return sum(p.stat().st_size for p in Path(folder).iterdir() if p.is_file())


def check_permissions(index_dir, gen_dir):
    """Warn if others may write the index: its files are loaded with pickle, so whoever writes them runs code."""
    for folder in (Path(index_dir), Path(gen_dir)):
        mode = folder.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            warnings.warn(
                f"The index folder '{folder}' is writable by other users (mode {stat.filemode(mode)}); whoever "
                f"can write it can run code as you. Run: chmod go-w '{folder}'",
                IndexPermissionWarning,
                stacklevel=4,
            )


class IndexPermissionWarning(UserWarning):
    """The index folder may be written by other users."""


def clear(path):
    """Remove whatever is at `path` (a folder, a file or a link), if anything."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


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
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        clear(tmp)
        raise


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


def blob_stamp(gen_dir, name):
    """(mtime_ns, size, inode) of a generation's named text, () if none: changes when the text is replaced."""
    try:
        stat_result = blob_path(gen_dir, name).stat()
    except FileNotFoundError:
        return ()
    return (stat_result.st_mtime_ns, stat_result.st_size, stat_result.st_ino)


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

        self.fd = self._open()
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
        try:
            os.ftruncate(self.fd, 0)
            os.write(self.fd, str(os.getpid()).encode("ascii"))
        except OSError as exc:  # a full disk: hold the lock all the same, so the run can clean up
            if exc.errno not in NO_SPACE:
                raise
        _held.add(self.fd)
        return self

    def _open(self):
        """Open the lock file; a folder, link or other non-file left in its place is removed first."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW
        try:
            fd = os.open(self.path, flags, 0o644)
        except OSError as exc:
            if exc.errno in NO_SPACE:
                raise disk_full_error(self.path.parent) from None
            if exc.errno not in (errno.EISDIR, errno.ELOOP, errno.ENXIO):
                raise
            fd = None
        if fd is not None and stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
        if fd is not None:
            os.close(fd)
        clear(self.path)
        return os.open(self.path, flags, 0o644)

    def __exit__(self, *exc):
        _held.discard(self.fd)
        try:
            os.ftruncate(self.fd, 0)
        except OSError:
            pass  # the lock goes with the descriptor; the pid is only a note
        os.close(self.fd)


# Descriptors of the writer locks this process holds; see close_inherited_locks.
_held = set()


def close_inherited_locks():
    """In a forked worker: close the writer locks inherited from the parent.

    A flock is held while any descriptor of it is open, so a worker that
    outlived a killed parent would otherwise keep the index locked.
    """
    for fd in list(_held):
        try:
            os.close(fd)
        except OSError:
            pass
    _held.clear()


def remove_stale_generations(index_dir, keep_previous=False):
    """Delete generation folders other than the live one (and the one before it, if asked).

    Only called under the writer lock. The previous generation is kept so that
    searchers that opened it just before the switch can finish their work.
    """
    index_dir = Path(index_dir)
    try:
        live, _ = current_generation(index_dir)
    except (IndexNotFoundError, IndexCorruptError):
        live = None
    gens = {}  # number -> folder
    for p in index_dir.iterdir():
        number = p.name[len(GEN_PREFIX) :]
        if not p.name.startswith(GEN_PREFIX):
            continue
        if p.is_dir() and not p.is_symlink() and number.isdigit() and number.isascii():
            gens[int(number)] = p
        else:
            clear(p)  # a file, a link or an odd name where a generation would go
    keep = {live}
    if keep_previous and live is not None:
        older = [g for g in gens if g < live]
        if older:
            keep.add(max(older))
    for gen, folder in gens.items():
        if gen not in keep:
            clear(folder)
    for leftover in index_dir.glob(f"{CURRENT_FILE}.tmp*"):  # of a switch that failed half way
        clear(leftover)
