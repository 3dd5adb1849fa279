"""Find Hexo posts under a source folder and read their bytes as text.

A post's identity is its path relative to the source root, in posix form, so
the same tree indexes the same way on any machine. The walk follows symlinked
folders but never enters the same folder twice, which survives symlink loops.
"""

import codecs
import os
from dataclasses import dataclass
from pathlib import Path

from .config import MAX_POST_BYTES, POST_SUFFIXES
from .errors import ConfigError, PostParseError


@dataclass(frozen=True)
class SourceFile:
    """A post file found by the walk, with what the incremental check needs."""

    relpath: str
    abspath: str
    size: int
    mtime_ns: int

    @property
    def signature(self):
        return f"{self.size}:{self.mtime_ns}"


def check_source_dir(source_dir):
    """Return `source_dir` as a resolved Path, or raise ConfigError naming it."""
    path = Path(source_dir).expanduser()
    if not path.exists():
        raise ConfigError(f"Source folder '{source_dir}' does not exist.")
    if not path.is_dir():
        raise ConfigError(f"Source '{source_dir}' is not a folder; give the folder that holds your posts.")
    return path.resolve()


def find_posts(source_dir):
    """Return a SourceFile for every `.md`/`.markdown` file under `source_dir`, sorted by path.

    Other files are ignored quietly; unreadable folders and broken symlinks are skipped.
    One stat per post and per folder (os.walk and pathlib took twice the calls).
    """
    root = check_source_dir(source_dir)
    seen_dirs = set()
    found = []
    folders = [(str(root), "")]  # (absolute path, relative path with a trailing slash or "")
    while folders:
        folder, rel = folders.pop()
        try:
            st = os.stat(folder)
        except OSError:
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            continue  # a symlink loop or a second link to a folder already walked
        seen_dirs.add(key)
        try:
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError:
            continue  # unreadable folder
        for entry in entries:
            name = entry.name
            try:
                if entry.is_dir():  # follows symlinks, like the files below
                    folders.append((entry.path, f"{rel}{name}/"))
                elif name.lower().endswith(POST_SUFFIXES) and entry.is_file():
                    fst = entry.stat()
                    found.append(SourceFile(rel + name, entry.path, fst.st_size, fst.st_mtime_ns))
            except OSError:
                continue  # broken symlink, or gone since the folder was listed
    found.sort(key=lambda f: f.relpath)
    return found


def read_text(path):
    """Read a post file as text: UTF-8 (with or without BOM), else GB18030.

    :return: (text, warning or None); line endings are normalised to LF.
    :raises PostParseError: for empty-of-sense input: too big, binary, undecodable.
    """
    size = os.path.getsize(path)
    if size > MAX_POST_BYTES:
        raise PostParseError(path, f"file is {size} bytes, more than the {MAX_POST_BYTES} bytes a post may have")
    with open(path, "rb") as f:
        data = f.read()
    if b"\x00" in data:
        raise PostParseError(path, "file contains NUL bytes; it looks binary, not a text post")
    warning = None
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise PostParseError(path, f"not valid UTF-8 ({exc.reason} at byte {exc.start}) nor GB18030") from None
        warning = "file is not UTF-8; read it as GB18030"
    if _looks_binary(text):
        raise PostParseError(path, "file holds control characters; it looks binary, not a text post")
    return text.replace("\r\n", "\n").replace("\r", "\n"), warning


def _looks_binary(text):
    # Text posts have almost no C0 control characters besides tab/newline/CR;
    # a GB18030 decode of random bytes "succeeds" but is full of them.
    sample = text[:8192]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f")
    return controls > max(8, len(sample) // 100)
