"""Files of our own kept beside each Whoosh segment (tables.py, frequent.py).

A segment never changes, so what readers would otherwise work out from its
postings can be written once, next to it: one file per live segment, named by
a pattern with the segment's id in the braces (``"tables-{}.bin"``), written
whole or not at all, and deleted with its segment. The files only save
readers time: one that cannot be written (a full disk) is logged and left
out, and readers read that segment's postings instead.
"""

import logging
import os
from pathlib import Path

from . import adapter

log = logging.getLogger(__name__)


def write_whole(path, chunks):
    """Write the byte strings `chunks` to `path` atomically: a reader sees the whole file or none."""
    temporary = path.with_name(path.name + ".tmp")  # a leftover of a killed run: adapter.unreferenced_files
    try:
        with open(temporary, "wb") as out:
            out.writelines(chunks)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def keep(folder, reader, pattern, current, write, what):
    """Write the `pattern` file of each segment of `reader` without a current one; delete those of segments gone.

    :param current: ``current(folder, leaf)`` → whether the segment's file is there and its own.
    :param write: ``write(folder, leaf)`` writes it.
    :param what: what the files hold, for the log.
    """
    kept = set()
    for leaf, _ in reader.leaf_readers():
        segment = adapter.segment_id(leaf)
        if segment is None:
            continue
        kept.add(pattern.format(segment))
        if not current(folder, leaf):
            try:
                write(folder, leaf)
            except OSError as error:
                log.warning(
                    "Could not keep the %s of segment %s (%s); readers read its postings.",
                    what,
                    segment,
                    error,
                )
    prefix = pattern.split("{}")[0]
    for path in Path(folder).iterdir():
        if path.name.startswith(prefix) and path.name not in kept:
            path.unlink(missing_ok=True)
