"""Result quality, zhsearch against the usual recipe, on the same posts and queries.

    .venv/bin/python -m bench.compare [--queries 课后服务,双减,...]

Indexes the shared corpus plus zhsearch's demo posts (copied to a temporary
folder at run time) with both systems, then prints, per query: how many posts
contain the query verbatim (the truth, on zhsearch's normalised clean text),
how many of those each system returns, and the rank of the last of them
(equal to the number found when every verbatim post outranks every other).
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import indexer
from indexer.analysis import normalize
from indexer.config import DEMO_POSTS_DIR

from . import baseline
from .corpus import SHARED_POSTS

QUERIES = (
    "课后服务",
    "双减",
    "保交楼",
    "人工智能",
    "数字人民币",
    "新能源汽车",
    "消费券",
    "芯片",
    "課後服務",
    "ＧＤＰ",
    "课",
    "同比增长",
    "上海",
    "国务院",
    "ai",
)


def _truth(ix, query):
    """Paths of posts whose normalised title or clean text holds the query verbatim."""
    norm = normalize(query)[0]
    found = set()
    for hit in ix.search("", per_page=1_000_000).hits:
        article = ix.get(hit.id)
        if norm in normalize(article.title)[0] or norm in normalize(article.text)[0]:
            found.add(article.path)
    return found


def _last_rank(paths, truth):
    """Rank of the lowest-placed verbatim post: equals the number found when all of them come first."""
    ranks = [rank for rank, path in enumerate(paths, 1) if path in truth]
    return max(ranks) if ranks else None


def compare(source, work, queries):
    """Rows of (query, truth, ours found, ours last rank, baseline found, baseline last rank)."""
    ours_dir, base_dir = work / "ours", work / "baseline"
    indexer.reindex(source, ours_dir)
    baseline.build(source, base_dir)
    ours = indexer.open_index(ours_dir)
    base = baseline.open_index(base_dir)
    rows = []
    for query in queries:
        truth = _truth(ours, query)
        our_paths = [ours.get(i).path for i in ours.ids(query)]
        base_hits = baseline.search(base, query, limit=1_000_000)["hits"]
        base_paths = [str(Path(h["path"]).relative_to(source)) for h in base_hits]
        rows.append(
            (
                query,
                len(truth),
                len(truth & set(our_paths)),
                _last_rank(our_paths, truth),
                len(truth & set(base_paths)),
                _last_rank(base_paths, truth),
            )
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--queries", default=",".join(QUERIES), help="comma-separated queries")
    args = parser.parse_args(argv)
    if not SHARED_POSTS.is_dir():
        sys.exit(f"shared corpus not found at {SHARED_POSTS}")
    with tempfile.TemporaryDirectory(prefix="zhsearch-compare-") as tmp:
        work = Path(tmp)
        source = work / "posts"
        shutil.copytree(SHARED_POSTS, source / "shared")
        shutil.copytree(DEMO_POSTS_DIR, source / "demo")
        rows = compare(source, work, [q for q in args.queries.split(",") if q])
    print(
        "| query | posts containing it | zhsearch finds | zhsearch: rank of the last | "
        "baseline finds | baseline: rank of the last |"
    )
    print("|---|---|---|---|---|---|")
    for query, truth, ours, our_rank, base, base_rank in rows:
        print(f"| {query} | {truth} | {ours} | {our_rank or '–'} | {base} | {base_rank or '–'} |")


if __name__ == "__main__":
    main()
