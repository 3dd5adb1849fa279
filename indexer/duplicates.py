"""Find near-duplicate posts at index time and give each cluster one story id.

::

    post text (learnt boilerplate stripped) ─▶ token chars ─▶ 5-char shingles ─▶ MinHash (signature)
    signatures ─▶ MinHashLSH candidates ─▶ pairs whose estimated Jaccard ≥ THRESHOLD
               ─▶ connected components = stories ─▶ labels (stories.py: the read side's blob)

A signature is computed where a post is written (in the worker that analyses
it), so `reindex` shingles only the posts it writes. The signatures are kept
with the index (the ``minhash`` blob); an incremental run loads them, rebuilds
the LSH tables from them (no text is read again) and re-clusters only the
components the new, changed and vanished posts touch. Story ids are stable: a
post joining a story takes its id, a story keeps its id when a member leaves,
and when a story splits the largest part keeps it.

Why these numbers (measured on the shared corpus of 250 posts, exact Jaccard
of all pairs of cleaned bodies): copies of one story (retitled, from two
feeds, re-punctuated) score 0.79-1.0; the most similar different posts (the
day and night shows of one event, two months of one statistic) score 0.58 and
below. THRESHOLD = 0.7 lies in that gap; 128 permutations estimate Jaccard to
about ±0.04 there. A stub and its later, longer version share few shingles
(Jaccard 0.03-0.17) and stay apart.
"""

import base64
import functools
import hashlib
import json
import zlib

import numpy as np

from . import stories
from .analysis import is_token_char, normalize
from .models import post_id

# Characters per shingle: long enough that two unrelated Chinese texts share few (a 2-char
# shingle is a common word), short enough that a re-punctuated or lightly edited copy keeps most.
SHINGLE_CHARS = 5

# Permutations per signature (bytes kept per post: 4 each). The estimate's standard
# error is sqrt(J(1-J)/NUM_PERM): 0.04 at J = 0.7.
NUM_PERM = 128

# Posts whose estimated Jaccard similarity reaches this are one story (see the module docstring).
THRESHOLD = 0.7

# The LSH bands are tuned for this lower similarity, so that pairs at THRESHOLD are
# almost never missed as candidates (each candidate is then checked against THRESHOLD).
LSH_THRESHOLD = 0.6

# Posts with fewer token characters than this get no signature (a story of their own):
# short bodies ("详见附件", a caption) are alike by accident, not by being one story.
MIN_CHARS = 50

# The hashing: changing any of these makes stored signatures meaningless (they are dropped).
SIGNATURE_VERSION = f"datasketch-affine32-crc32-{NUM_PERM}-{SHINGLE_CHARS}"

# Name of the blob holding the signatures (the read side never loads it).
BLOB = "minhash"


@functools.cache
def _datasketch():
    """datasketch, imported on first use: its import loads SciPy (about a second), which a
    search, or a reindex with nothing to do, never needs."""
    import datasketch

    return datasketch


@functools.cache
def _permutations():
    return _datasketch().MinHash(num_perm=NUM_PERM, hashfunc=zlib.crc32, scheme="affine32").permutations


def signature(text):
    """The MinHash signature of a post's text (bytes), or None for a text too short to compare."""
    chars = "".join(c for c in normalize(text or "")[0] if is_token_char(c))
    if len(chars) < MIN_CHARS:
        return None
    shingles = {chars[i : i + SHINGLE_CHARS].encode("utf-8") for i in range(len(chars) - SHINGLE_CHARS + 1)}
    sketch = _sketch()
    sketch.update_batch(shingles)
    return sketch.hashvalues.astype("<u4").tobytes()


def _sketch(values=None):
    return _datasketch().MinHash(
        num_perm=NUM_PERM,
        hashfunc=zlib.crc32,
        scheme="affine32",
        permutations=_permutations(),
        hashvalues=None if values is None else np.frombuffer(values, dtype="<u4"),
    )


class Stories:
    """The signatures of the indexed posts and the story id of each, as kept with the index.

    Two blobs: ``minhash`` (this module: {path: signature}) for the writer, and
    ``stories`` (stories.py: {path: story id} of posts in a story of several, or whose
    id is not their own) for the readers.
    """

    def __init__(self, signatures=None, labels=None):
        self.signatures = signatures or {}  # path -> bytes
        self.labels = labels or {}  # path -> story id, where it is not the post's own id

    @classmethod
    def load(cls, signatures_text, labels_text):
        """Read the stored blobs (None, or signatures of other hashing: start afresh)."""
        data = json.loads(signatures_text) if signatures_text else None
        if not data or data.get("version") != SIGNATURE_VERSION:
            return cls()
        sigs = {path: base64.b64decode(value) for path, value in data["signatures"].items()}
        return cls(sigs, stories.labels_of(labels_text))

    @property
    def empty(self):
        return not self.signatures and not self.labels

    def signatures_json(self):
        sigs = {path: base64.b64encode(sig).decode("ascii") for path, sig in sorted(self.signatures.items())}
        return json.dumps({"version": SIGNATURE_VERSION, "signatures": sigs}, separators=(",", ":"))

    def labels_json(self):
        return stories.labels_json(self.labels)

    def label(self, path):
        return self.labels.get(path) or post_id(path)

    def update(self, written, vanished):
        """Take in the posts written ({path: signature or None}) and forget `vanished` paths.

        :return: {path: story id} of the posts (not vanished) whose story id is not the one
            they were written with: a post written now was written with its own id; any
            other keeps the id it had before.
        """
        before = dict(self.labels)
        members = {}  # story id -> its paths, before this run (posts alone in their story are not listed)
        for path, label in before.items():
            members.setdefault(label, []).append(path)
        touched = set(written)  # posts whose component is found anew: the written ones and their old stories
        for path in (*written, *vanished):
            touched.update(members.get(before.get(path), ()))
            self.signatures.pop(path, None)
            self.labels.pop(path, None)
        self.signatures.update((path, sig) for path, sig in written.items() if sig is not None)
        vanished = set(vanished)
        held = {path: post_id(path) if path in written else before.get(path) or post_id(path) for path in touched}
        self._recluster(touched - vanished, held)
        updates = {}
        for path in before.keys() | self.labels.keys():
            if path not in vanished and self.label(path) != held.get(path, before.get(path) or post_id(path)):
                updates[path] = self.label(path)
        return updates

    def _recluster(self, touched, held):
        """Find the components of the `touched` posts anew and give each a story id.

        :param held: {path: the story id its document holds now}, for the touched posts.
        """
        sketches = {path: _sketch(sig) for path, sig in self.signatures.items()}
        lsh = _datasketch().MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        with lsh.insertion_session() as session:
            for path, sketch in sketches.items():
                session.insert(path, sketch, check_duplication=False)
        seen, components = set(), []
        for start in sorted(touched):
            if start in seen:
                continue
            seen.add(start)
            component, queue = [start], [start]
            while queue:
                sketch = sketches.get(queue.pop())
                if sketch is None:
                    continue
                for other in lsh.query(sketch):
                    if other not in seen and sketch.jaccard(sketches[other]) >= THRESHOLD:
                        seen.add(other)
                        component.append(other)
                        queue.append(other)
            components.append(sorted(component))
        for path in seen:
            held.setdefault(path, self.label(path))
            self.labels.pop(path, None)
        in_use = set(self.labels.values()) | {post_id(p) for p in self.signatures if p not in seen}
        # Largest components first: when a story splits, its largest part keeps the id.
        for component in sorted(components, key=lambda c: (-len(c), c)):
            label = _pick_label(component, held, in_use)
            in_use.add(label)
            if len(component) > 1 or label != post_id(component[0]):
                self.labels.update((path, label) for path in component)


def _pick_label(component, held, in_use):
    """The story id of a component: the one most of its members hold (fewest to change), else a member's id."""
    counts = {}
    for path in component:
        counts[held[path]] = counts.get(held[path], 0) + 1
    ranked = sorted(counts, key=lambda label: (-counts[label], label))
    for label in [*ranked, *(post_id(p) for p in component)]:
        if label not in in_use:
            return label
    return hashlib.sha1("\n".join(component).encode("utf-8")).hexdigest()[:16]
