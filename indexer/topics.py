"""What a text is about, as a mixture of news topics: for related posts (related.py).

Two posts on one subject often share few words: a notice on after-school services and a
list of this year's 高考 essay prompts share 教育 once, yet a reader puts them together.
A topic model knows that 高考, 考生, 作文, 课后 and 学生 are words of education. We use the
LDA model JioNLP ships (100 topics over about 96,000 words, trained on Chinese news):
its table of p(topic | word) for every word.

::

    {word: weight} ─▶ mixture()  Σ weight · p(topic | word), unit length
    two mixtures   ─▶ similarity()  cosine, 0 (nothing in common) … 1 (same topics)

Only the model's data files are read (from the installed ``jionlp`` package, without
importing it: its import loads much else); without them there is no model and related
posts rank by shared words alone.
"""

import array
import functools
import importlib.util
import json
import logging
import re
import zipfile
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# The data files inside the jionlp package, and the JSON member of each zip.
PACKAGE = "jionlp"
TOPICS_OF_WORD = ("dictionary/topic_word_weight.zip", "topic_word_weight.json")


# One word's row in the model's JSON ({"word": {"topic": weight, ...}, ...}), and one pair of a row.
ROW = re.compile(r'"((?:[^"\\]|\\.)*)"\s*:\s*\{([^{}]*)\}')
PAIR = re.compile(r'"(\d+)"\s*:\s*([-+0-9.eE]+)')


class TopicModel:
    """p(topic | word) for a vocabulary, kept compact: one row of (topic, weight) pairs per word."""

    def __init__(self, rows):
        """:param rows: (word, {topic number (str or int): p(topic | word)}) pairs."""
        self.index = {}
        starts, topics, weights = [0], array.array("h"), array.array("f")
        for word, row in rows:
            self.index[word] = len(starts) - 1
            for topic, weight in row.items():
                topics.append(int(topic))
                weights.append(float(weight))
            starts.append(len(topics))
        self.starts = np.asarray(starts, dtype=np.int64)
        self.topics = np.frombuffer(topics, dtype=np.int16)
        self.weights = np.frombuffer(weights, dtype=np.float32)
        self.size = int(self.topics.max()) + 1 if len(self.topics) else 0

    def __contains__(self, word):
        return word in self.index

    def mixture(self, weighted_words):
        """The unit-length topic vector of {word: weight} (all zeros when no word is known)."""
        vector = np.zeros(self.size, dtype=np.float64)
        for word, weight in weighted_words.items():
            row = self.index.get(word)
            if row is not None:
                start, end = self.starts[row], self.starts[row + 1]
                vector[self.topics[start:end]] += weight * self.weights[start:end]  # a row names a topic once
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm else vector


def similarity(a, b):
    """Cosine of two mixtures: 0 when either is empty."""
    return float(np.dot(a, b)) if a is not None and b is not None and len(a) == len(b) else 0.0


@functools.cache
def model():
    """The shipped topic model, read once; None when its data files cannot be found or read."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        log.warning("No topic model: package %s is not installed; related posts use shared words only.", PACKAGE)
        return None
    path, member = TOPICS_OF_WORD
    archive = Path(next(iter(spec.submodule_search_locations))) / path
    try:
        with zipfile.ZipFile(archive) as zipped:
            text = zipped.read(member).decode("utf-8")
        model = TopicModel(_rows(text))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        log.warning("No topic model: cannot read %s (%s); related posts use shared words only.", archive, error)
        return None
    if not model.index:
        log.warning("No topic model: no word in %s; related posts use shared words only.", archive)
        return None
    return model


def _rows(text):
    """(word, {topic: weight}) for each row of the model's JSON, one row at a time.

    json.loads of the whole table left the process 120 MB larger (measured); read row by
    row, 25 MB: the words and the arrays.
    """
    for match in ROW.finditer(text):
        word = json.loads(f'"{match.group(1)}"')
        yield word, {topic: float(weight) for topic, weight in PAIR.findall(match.group(2))}
