"""A byte budget for what searches reuse: the posts of terms and of clauses, per index state.

Like Elasticsearch's filter cache: decoding a common term's postings is the
costly step of matching, and the same terms come back query after query. The
sets are compressed bitmaps (pyroaring), a few kB even for a term in every
post; the least recently used ones go when the budget is full. One cache per
engine, shared by its threads; entries of an older index state are dropped
when a newer one is seen.
"""

import threading

from cachetools import LRUCache

# Bytes a cached BitMap costs beyond its containers (object, header).
BITMAP_OVERHEAD = 96
# Bytes a cached int costs (a term's document frequency).
INT_BYTES = 32


def bitmap_bytes(bitmap):
    """Memory a BitMap takes, from its container statistics."""
    stats = bitmap.get_statistics()
    return (
        BITMAP_OVERHEAD
        + stats["n_bytes_array_containers"]
        + stats["n_bytes_run_containers"]
        + stats["n_bytes_bitset_containers"]
    )


def _size(value):
    parts = value if isinstance(value, tuple) else (value,)
    return sum(
        INT_BYTES if isinstance(part, int) else part.nbytes if hasattr(part, "nbytes") else bitmap_bytes(part)
        for part in parts
    )


class SetCache:
    """Bitmaps, NumPy arrays or ints (or tuples of them) by key, within `budget` bytes, for one index state."""

    def __init__(self, budget):
        self.budget = budget
        self._lock = threading.Lock()
        self._state = None
        self._entries = LRUCache(maxsize=max(budget, 1), getsizeof=_size)

    def get(self, state, key, build):
        """The value cached for `key` under index state `state`, or `build()`'s (cached if it fits; None is not)."""
        with self._lock:
            if state == self._state:
                value = self._entries.get(key)
                if value is not None:
                    return value
        value = build()
        if value is not None:
            self.put(state, key, value)
        return value

    def put(self, state, key, value):
        """Keep `value` for `key` under index state `state` (if it fits the budget)."""
        with self._lock:
            if self._state is None or state > self._state:
                self._state = state
                self._entries.clear()
            if state == self._state and _size(value) <= self.budget:
                self._entries[key] = value

    def discard(self, state, key):
        """Forget `key` (e.g. a value that turned out incomplete)."""
        with self._lock:
            if state == self._state:
                self._entries.pop(key, None)

    @property
    def used(self):
        """Bytes held now."""
        with self._lock:
            return self._entries.currsize

    def clear(self):
        with self._lock:
            self._entries.clear()
            self._state = None
