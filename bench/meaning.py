"""Query sets for search that understands what readers mean, and the known-item check.

Run from the repo root (builds an index of the shared corpus in a temporary folder)::

    .venv/bin/python -m bench.meaning                 # all sections
    .venv/bin/python -m bench.meaning --index DIR     # an index already built from the shared corpus

For each query the target posts are the posts that hold the meant text verbatim
(``ix.ids('"…"')``). The figure is the share of the target posts in the top 10
(of min(10, targets)), with the feature and without it. The known-item check
samples substrings of real posts (as tests/test_recall.py does) and searches
them through ``SearchIndex.search`` with every feature on: each must find its
post (verbatim recall), and the posts holding the text verbatim must fill the
top of the ranking (exact phrase first).
"""

import argparse
import random
import re
import sys
import tempfile
from pathlib import Path

import indexer
from indexer.analysis import normalize

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "posts"

# (what the reader types, what the posts say): another name for the same thing.
ALIAS_QUERIES = [
    ("中国人民银行", "央行"),
    ("Tesla", "特斯拉"),
    ("脸书", "Facebook"),
    ("国家发展和改革委员会", "发改委"),
    ("新能源车", "新能源汽车"),
    ("中国证券监督管理委员会", "证监会"),
    ("国内生产总值", "GDP"),
    ("居民消费价格指数", "CPI"),
    ("美联储", "美国联邦储备委员会"),
    ("石油输出国组织", "OPEC"),
    ("人工智能", "AI"),
    ("首次公开募股", "IPO"),
]

# Pinyin typed with the input method off, and the words meant (khfw: initials, not built yet).
PINYIN_QUERIES = [
    ("baojiaolou", "保交楼"),
    ("kehoufuwu", "课后服务"),
    ("ke hou fu wu", "课后服务"),
    ("yanghang", "央行"),
    ("zhongxiaoqiye", "中小企业"),
    ("xinnengyuanqiche", "新能源汽车"),
    ("fagaiwei", "发改委"),
    ("zhengjianhui", "证监会"),
    ("tesila", "特斯拉"),
    ("wanhuisunshi", "挽回损失"),
    ("rengongzhineng", "人工智能"),
    ("khfw", "课后服务"),
]

# Substrings drawn for the known-item check.
SAMPLES = 400

_CJK = re.compile(r"[\u3400-\u9fff]")
_SYNTAX = re.compile(r'"|(^|\s)-|[:：]|(^|\s)OR(\s|$)')


def top_share(ix, query, targets, **kwargs):
    """Share of `targets` (post ids) in the top 10 of `query`, of min(10, len(targets))."""
    top = [h.id for h in ix.search(query, per_page=10, **kwargs).hits]
    return len(set(top) & targets) / min(10, len(targets))


def query_set(ix, title, rows, off):
    """Print one table: each query's top-10 share with the feature and without; return the means."""
    print(f"\n## {title}\n\n| query | meant | targets | with | without |\n|---|---|---:|---:|---:|")
    with_, without = [], []
    for query, meant in rows:
        targets = set(ix.ids(f'"{meant}"'))
        if not targets:
            print(f"| {query} | {meant} | 0 | – | – |")
            continue
        a, b = top_share(ix, query, targets), top_share(ix, query, targets, **off)
        with_.append(a)
        without.append(b)
        print(f"| {query} | {meant} | {len(targets)} | {a:.0%} | {b:.0%} |")
    mean = (sum(with_) / len(with_), sum(without) / len(without))
    print(f"| **mean** ({len(with_)} queries) | | | **{mean[0]:.0%}** | **{mean[1]:.0%}** |")
    return mean


def known_item(ix, seed=7, count=SAMPLES):
    """(recall, phrase-first share, samples) over substrings of real posts, searched with every feature on."""
    rng = random.Random(seed)
    posts = [ix.get(hit.id) for hit in ix.search("", per_page=100_000).hits]
    texts = []
    for post in posts:
        for text in (post.title, post.text):
            norm = normalize(text)[0]
            anchors = [m.start() for m in _CJK.finditer(norm)]
            if anchors:
                texts.append((post.id, norm, anchors))
    found = first = total = 0
    for _ in range(count):
        post_id, norm, anchors = rng.choice(texts)
        anchor = rng.choice(anchors)
        length = rng.randint(2, 8)
        start = rng.randint(max(0, anchor - length + 1), anchor)
        query = norm[start : start + length].strip()
        if _SYNTAX.search(query) or re.search(r"\s", query):
            continue  # syntax, or several terms (each verbatim on its own is the exact tier then)
        total += 1
        page = ix.search(query, per_page=1000)
        ids = [h.id for h in page.hits]
        found += post_id in ids
        truth = set(ix.ids(f'"{query}"'))
        first += set(ids[: len(truth)]) == truth
    return found / total, first / total, total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", help="an index of the shared corpus (default: build one)")
    args = parser.parse_args(argv)
    index_dir = args.index
    if index_dir is None:
        index_dir = tempfile.mkdtemp(prefix="zhsearch-meaning-")
        print(f"building an index of {CORPUS} in {index_dir}", file=sys.stderr)
        indexer.reindex(CORPUS, index_dir)
    with indexer.open_index(index_dir) as ix:
        print(f"# What readers mean: {ix.doc_count} posts of the shared corpus")
        query_set(ix, "Aliases (top-10 share of posts that say the other name)", ALIAS_QUERIES, {"expand": False})
        query_set(ix, "Pinyin (top-10 share of posts with the words meant)", PINYIN_QUERIES, {"pinyin": False})
        recall, first, total = known_item(ix)
        print(f"\n## Known items ({total} substrings of real posts, every feature on)\n")
        print(f"verbatim recall: {recall:.1%}; exact phrase first: {first:.1%}")


if __name__ == "__main__":
    main()
