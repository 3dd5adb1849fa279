"""Query sets for search that understands what readers mean, and the known-item check.

Run from the repo root (builds an index of the shared corpus in a temporary folder)::

    .venv/bin/python -m bench.meaning                 # all sections
    .venv/bin/python -m bench.meaning --index DIR     # an index already built from the shared corpus

For each query the target posts are the posts that hold the meant text verbatim
(``ix.ids('"…"')``). The figure is the share of the target posts in the top 10
(of min(10, targets)), with the feature and without it. The typo set is made at
run time from the index's own frequent words: one character of each is replaced
by a common homophone (pypinyin), as an input method's slip would (nothing of
the corpus is stored here). The known-item check samples substrings of real
posts (as tests/test_recall.py does) and searches them through
``SearchIndex.search`` with every feature on: each must find its post (verbatim
recall), and the posts holding the text verbatim must fill the top of the
ranking (exact phrase first); it also counts the corrections offered for them,
none of which is wanted.
"""

import argparse
import random
import re
import sys
import tempfile
from pathlib import Path

from pypinyin import lazy_pinyin

import indexer
from indexer.analysis import normalize, segmenter

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

# Pinyin typed with the input method off, and the words meant (the last ones: initials).
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
    ("zxqy", "中小企业"),
    ("rgzn", "人工智能"),
    ("fgw", "发改委"),
    ("zjh", "证监会"),
]

# Typo queries made from the index's words: how many, from words of 2 to 4 characters in this many posts.
TYPOS = 40
TYPO_MIN_POSTS = 3

# Substrings drawn for the known-item check.
SAMPLES = 400

_CJK = re.compile(r"[\u3400-\u9fff]")
_SYNTAX = re.compile(r'"|(^|\s)-|[:：]|(^|\s)OR(\s|$)')


def shown(page):
    """Ids of the posts a page shows: each hit and the similar posts listed under it (one story once)."""
    return {post for hit in page.hits for post in (hit.id, *(s.id for s in hit.similar))}


def top_share(ix, query, targets, **kwargs):
    """Share of `targets` (post ids) in the top 10 of `query` (with their copies), of min(10, len(targets))."""
    return len(shown(ix.search(query, per_page=10, **kwargs)) & targets) / min(10, len(targets))


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


def typo_queries(ix, seed=11, count=TYPOS):
    """(query, meant) pairs: frequent index words with one character replaced by a common homophone.

    The homophone of a character is the character of the index's words with the
    same toneless pinyin that occurs in most words (an input method offers common
    characters first). A slip that some post holds verbatim is skipped.
    """
    rng = random.Random(seed)
    vocabulary = ix.engine.vocabulary()
    known = segmenter().freq
    chars = {}  # character -> words it occurs in
    for word in vocabulary:
        for char in set(word):
            if "\u4e00" <= char <= "\u9fff":
                chars[char] = chars.get(char, 0) + 1
    by_sound = {}
    for char in sorted(chars, key=lambda c: -chars[c]):
        by_sound.setdefault(lazy_pinyin(char)[0], []).append(char)
    han = re.compile(r"[\u4e00-\u9fff]{2,4}")
    words = sorted(w for w, n in vocabulary.items() if n >= TYPO_MIN_POSTS and han.fullmatch(w) and known.get(w))
    rng.shuffle(words)
    rows = []
    for word in words:
        i = rng.randrange(len(word))
        sound = lazy_pinyin(word)[i]
        slip = next((c for c in by_sound.get(sound, ()) if c != word[i]), None)
        if slip is None:
            continue
        query = word[:i] + slip + word[i + 1 :]
        if known.get(query) or query in vocabulary or ix.ids(f'"{query}"'):
            continue  # a real word, or in print: not a slip to correct
        rows.append((query, word))
        if len(rows) == count:
            break
    return rows


def typo_set(ix, rows):
    """Print the typo table: top-10 share with correction and without, and whether "did you mean" was the word."""
    print("\n## Typos (top-10 share of posts with the word meant; did-you-mean = the word)\n")
    print("| query | meant | targets | suggested | with | without |\n|---|---|---:|---|---:|---:|")
    with_, without, right = [], [], 0
    for query, meant in rows:
        targets = set(ix.ids(f'"{meant}"'))
        page = ix.search(query, per_page=10)
        a = len(shown(page) & targets) / min(10, len(targets))
        b = top_share(ix, query, targets, correct=False)
        with_.append(a)
        without.append(b)
        right += page.suggestion == meant
        print(f"| {query} | {meant} | {len(targets)} | {page.suggestion or '–'} | {a:.0%} | {b:.0%} |")
    n = len(rows)
    print(
        f"| **mean** ({n} queries) | | | **{right / n:.0%}** right | "
        f"**{sum(with_) / n:.0%}** | **{sum(without) / n:.0%}** |"
    )
    return sum(with_) / n, sum(without) / n, right / n


def known_item(ix, seed=7, count=SAMPLES):
    """(recall, phrase-first share, samples, suggestions offered) over substrings of real posts.

    Every feature on but collapsing: the guarantees are about posts; collapsed, each story
    shows its best-ranked post, so stories keep the same order.
    """
    rng = random.Random(seed)
    posts = [ix.get(hit.id) for hit in ix.search("", per_page=100_000, collapse=False).hits]
    texts = []
    for post in posts:
        for text in (post.title, post.text):
            norm = normalize(text)[0]
            anchors = [m.start() for m in _CJK.finditer(norm)]
            if anchors:
                texts.append((post.id, norm, anchors))
    found = first = total = suggested = 0
    for _ in range(count):
        post_id, norm, anchors = rng.choice(texts)
        anchor = rng.choice(anchors)
        length = rng.randint(2, 8)
        start = rng.randint(max(0, anchor - length + 1), anchor)
        query = norm[start : start + length].strip()
        if _SYNTAX.search(query) or re.search(r"\s", query):
            continue  # syntax, or several terms (each verbatim on its own is the exact tier then)
        total += 1
        page = ix.search(query, per_page=1000, collapse=False)
        ids = [h.id for h in page.hits]
        found += post_id in ids
        suggested += page.suggestion is not None
        truth = set(ix.ids(f'"{query}"'))
        first += set(ids[: len(truth)]) == truth
    return found / total, first / total, total, suggested


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
        typo_set(ix, typo_queries(ix))
        recall, first, total, suggested = known_item(ix)
        print(f"\n## Known items ({total} substrings of real posts, every feature on)\n")
        print(f"verbatim recall: {recall:.1%}; exact phrase first: {first:.1%}; corrections offered: {suggested}")


if __name__ == "__main__":
    main()
