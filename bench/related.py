"""Related posts: precision@5 on a labelled set of posts we wrote.

    .venv/bin/python -m bench.related [--posts tests/data/related] [--method ours|words|bo1|all] [-v]

``tests/data/related/posts`` holds 5 topics of 6 posts each (课后服务/双减, 新能源汽车,
楼市/保交楼, 防汛, 芯片) and 10 distractors that share the common words of news text
(发展, 工作, 表示, 记者, 会议…) with all of them; ``topics.json`` labels each post (null
for a distractor). Feeds are dealt round-robin, so they say nothing about the topic.

For every labelled post, precision@5 is the share of its 5 related posts that have its
topic (each topic has 5 other posts, so 1.0 is reachable). Methods:

- ``ours``: ``SearchIndex.more_like`` as it is now;
- ``words``: the same with shared words only (``related.TOPIC_SHARE`` = 0: no topics);
- ``bo1``: what it was before: the Whoosh engine's own ``more_like`` (Whoosh's Bo1 key
  terms over ``content``, 12 terms) on the same index.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

import indexer
from indexer import related

# The labelled set, beside the tests that assert on it.
DEFAULT_POSTS = Path(__file__).resolve().parents[1] / "tests" / "data" / "related"

# Related posts judged per post.
K = 5


def load_labels(folder):
    """{post path relative to posts/: topic or None} of the labelled set in `folder`."""
    return json.loads((Path(folder) / "topics.json").read_text(encoding="utf-8"))


def precision_at_k(ix, labels, related, k=K, verbose=False):
    """Mean precision@k over the labelled posts; `related(ix, post_id, k)` gives related post ids."""
    by_path = {hit.path: hit.id for hit in ix.search("", per_page=1000).hits}
    topic_of = {by_path[path]: topic for path, topic in labels.items()}
    scores = []
    for path, topic in labels.items():
        if topic is None:
            continue
        found = related(ix, by_path[path], k)
        score = sum(topic_of.get(post_id) == topic for post_id in found) / k
        scores.append(score)
        if verbose:
            print(f"{score:.1f}  {path}", file=sys.stderr)
            for post_id in found:
                print(f"       {topic_of.get(post_id) or '-':10} {ix.get(post_id).title}", file=sys.stderr)
    return sum(scores) / len(scores)


def ours(ix, post_id, k):
    return [hit.id for hit in ix.more_like(post_id, limit=k)]


def words(ix, post_id, k):
    """Related posts by shared key terms only, as before topics were weighed in."""
    share, related.TOPIC_SHARE = related.TOPIC_SHARE, 0.0
    try:
        return ours(ix, post_id, k)
    finally:
        related.TOPIC_SHARE = share


def bo1(ix, post_id, k):
    """Related posts as zhsearch found them before: the Whoosh engine's own more_like (Bo1, 12 terms)."""
    return [hit.post.id for hit in ix.engine.more_like(post_id, k)]


METHODS = {"ours": ours, "words": words, "bo1": bo1}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", default=str(DEFAULT_POSTS), help="folder with posts/ and topics.json")
    parser.add_argument("--method", choices=[*METHODS, "all"], default="all")
    parser.add_argument("-v", "--verbose", action="store_true", help="list each post's related posts (stderr)")
    args = parser.parse_args(argv)
    labels = load_labels(args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        indexer.reindex(Path(args.posts) / "posts", Path(tmp) / "ix", jobs=1)
        with indexer.open_index(Path(tmp) / "ix") as ix:
            for name in METHODS if args.method == "all" else [args.method]:
                score = precision_at_k(ix, labels, METHODS[name], verbose=args.verbose)
                print(f"{name:5} precision@{K} = {score:.3f}")


if __name__ == "__main__":
    main()
