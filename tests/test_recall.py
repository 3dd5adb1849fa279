"""The recall guarantee: text that occurs verbatim in a post always finds that post.

A seeded sampler draws thousands of substrings (1 to 8 characters, at least one
CJK character) from the normalised titles and texts of real posts and searches
for each; every one must return the post it came from.
"""

import random
import re

import pytest

from indexer.analysis import normalize

# Substrings per index; with the shared corpus this is several thousand queries.
SAMPLES = 3000

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Query syntax a user would type on purpose: quotes, exclusion, field prefixes, OR.
_SYNTAX = re.compile(r'"|(^|\s)-|[:：]|(^|\s)OR(\s|$)')


def sample_queries(ix, seed, count=SAMPLES):
    rng = random.Random(seed)
    posts = [ix.get(hit.id) for hit in ix.search("", per_page=100_000, collapse=False).hits]
    texts = []
    for post in posts:
        for text in (post.title, post.text):
            norm = normalize(text)[0]
            anchors = [m.start() for m in _CJK.finditer(norm)]
            if anchors:
                texts.append((post.id, norm, anchors))
    for _ in range(count):
        post_id, norm, anchors = rng.choice(texts)
        anchor = rng.choice(anchors)
        length = rng.randint(1, 8)
        start = rng.randint(max(0, anchor - length + 1), anchor)
        substring = norm[start : start + length].strip()
        if _SYNTAX.search(substring):
            if '"' in substring:
                continue  # cannot be written as a query without changing it
            substring = f'"{substring}"'  # a quoted phrase: the text, not syntax
        yield post_id, substring


def assert_recall(ix, seed):
    misses = []
    total = 0
    for post_id, query in sample_queries(ix, seed):
        total += 1
        ids = set(ix.ids(query))
        if post_id not in ids:
            misses.append(query)
    assert total > SAMPLES * 0.9
    assert not misses, f"{len(misses)} of {total} verbatim queries missed their post: {misses[:20]}"


def test_recall_on_demo_posts(demo_search):
    assert_recall(demo_search, seed=20221129)


@pytest.mark.corpus
def test_recall_on_shared_corpus(corpus_search):
    assert_recall(corpus_search, seed=7)
