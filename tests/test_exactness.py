"""Totals, facets, month counts and filters are exact: equal to a brute-force count over the stored text.

Matching reads postings (characters, bigrams, words) and caches them; this
checks the answer against the definition instead: a quoted query matches the
posts whose normalised title, text or categories/tags/author contain it
verbatim. Needles are drawn (seeded) from the posts themselves, 1 to 6
characters, so common characters, bigrams and longer phrases are all tried,
each alone and under a category, a feed and a date filter.
"""

import random
import re
from collections import Counter
from datetime import date

import pytest
from fixture_posts import write_post
from pyroaring import BitMap

import indexer
from indexer.analysis import char_run, normalize
from indexer.backends.whoosh import tables
from indexer.backends.whoosh.tables import Tables, id_keys, read_segment_tables
from indexer.models import feed_of, post_id

NEEDLES = 60

_CJK = re.compile(r"[\u4e00-\u9fff]")


def _runs(post):
    meta = " ".join((*post.categories, *post.tags, post.author or ""))
    return [char_run(normalize(text)[0]) for text in (post.title, post.text, meta)]


def _archive(ix):
    posts = [ix.get(hit.id) for hit in ix.search("", per_page=100_000, collapse=False).hits]
    assert len(posts) == ix.doc_count
    return [(post, _runs(post)) for post in posts]


def _needles(archive, seed):
    rng = random.Random(seed)
    needles = set()
    while len(needles) < NEEDLES:
        _, runs = rng.choice(archive)
        text = rng.choice(runs[:2])
        anchors = [m.start() for m in _CJK.finditer(text)]
        if not anchors:
            continue
        start = rng.choice(anchors)
        needles.add(text[start : start + rng.randint(1, 6)])
    return sorted(needles)


def _month(post, tz):
    return post.date.astimezone(tz).strftime("%Y-%m") if post.date else None


def assert_exact(ix, seed):
    archive = _archive(ix)
    feeds = sorted({feed_of(post.path) for post, _ in archive if feed_of(post.path)})
    rng = random.Random(seed)
    dated = sorted(post.date.astimezone(ix.tz).date() for post, _ in archive if post.date)
    checked = 0
    for needle in _needles(archive, seed):
        having = [post for post, runs in archive if any(needle in run for run in runs)]
        page = ix.search(f'"{needle}"', per_page=5, expand=False, pinyin=False, collapse=False)
        assert page.total == len(having), needle
        facets = Counter(c for post in having for c in post.categories)
        assert dict(page.facets) == dict(facets), needle
        months = Counter(m for post in having if (m := _month(post, ix.tz)))
        assert dict(page.months) == dict(months), needle
        # Under filters: a category, a feed, a date range.
        category = rng.choice(sorted(facets)) if facets else None
        if category:
            total = ix.search(f'"{needle}"', category=category, expand=False, pinyin=False, collapse=False).total
            assert total == sum(category in post.categories for post in having), (needle, category)
        feed = rng.choice(feeds)
        total = ix.search(f'"{needle}"', feed=feed, expand=False, pinyin=False, collapse=False).total
        assert total == sum(feed_of(post.path) == feed or feed_of(post.path).startswith(feed + "/") for post in having)
        low, high = sorted(rng.sample(dated, 2)) if len(dated) > 1 else (date.min, date.max)
        total = ix.search(f'"{needle}"', date_from=low, date_to=high, expand=False, pinyin=False, collapse=False).total
        in_range = [p for p in having if p.date and low <= p.date.astimezone(ix.tz).date() <= high]
        assert total == len(in_range), (needle, low, high)
        # Newest first under sort=date, undated last.
        newest = ix.search(f'"{needle}"', sort="date", per_page=3, expand=False, pinyin=False, collapse=False)
        expected = sorted(having, key=lambda p: (p.date is None, -(p.date.timestamp() if p.date else 0)))
        assert [h.date for h in newest.hits] == [p.date for p in expected[:3]], needle
        checked += bool(having)
    assert checked == NEEDLES  # every needle came from a post, so each has at least one


def test_exact_counts_on_demo_posts(demo_search):
    assert_exact(demo_search, seed=9)


@pytest.mark.corpus
def test_exact_counts_on_shared_corpus(corpus_search):
    assert_exact(corpus_search, seed=11)


def test_tables_kept_per_segment_equal_those_read_from_postings(tmp_path):
    """The writer keeps each segment's category, feed and month bitmaps; a state built from them is the same."""
    root = tmp_path / "posts"
    for i in range(30):
        date = f"2022-{i % 12 + 1:02d}-0{i % 9 + 1} 08:00:00" if i % 7 else None
        write_post(root / f"频道{i % 3}", f"{i:02d}.md", title=f"第{i}篇", body="<p>课后服务</p>", date=date)
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    (root / "频道1" / "04.md").unlink()  # a deletion, and a second segment
    write_post(root / "频道2", "05.md", title="改过的第5篇", body="<p>双减</p>", date="2023-01-02 08:00:00")
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")
    gen_dir = ix.engine._live()[1]
    kept = sorted(gen_dir.glob("tables-*.bin"))
    with ix.engine._searcher() as (searcher, _, _):
        reader = searcher.reader()
        assert len(kept) == len(reader.leaf_readers()) == 2
        from_files, from_postings = Tables(reader, gen_dir), Tables(reader)
        for leaf, _ in reader.leaf_readers():
            assert read_segment_tables(gen_dir, leaf) is not None
        by_id = {reader.stored_fields(d)["id"]: d for d in from_files.live}
    # Posts are found by id: the live ones only (04 is deleted, 05's old version replaced), nothing for a non-id.
    asked = [*by_id, post_id("频道1/04.md"), "not-a-post-id", "ffffffffffffffff"]
    for made in (from_files, from_postings):
        assert made.with_ids(id_keys(asked)) == BitMap(by_id.values())
        assert made.with_ids(id_keys([post_id("频道2/05.md")])) == BitMap([by_id[post_id("频道2/05.md")]])
        assert not made.with_ids(id_keys([post_id("频道1/04.md")]))
    assert from_files.categories == from_postings.categories and from_files.categories
    assert from_files.feeds == from_postings.feeds and len(from_files.feeds) == 3
    assert from_files.live == from_postings.live and len(from_files.live) == 29
    assert ix.stats().posts == ix.doc_count == 29  # the state's live posts, a deleted one left out
    assert from_files.order.tolist() == from_postings.order.tolist()
    assert from_files.ascending.tolist() == from_postings.ascending.tolist()
    assert from_files.months(ix.tz) == from_postings.months(ix.tz) and len(from_files.months(ix.tz)) == 13
    # A file that is not the segment's (another document count) is ignored: the postings are read.
    kept[0].write_bytes(kept[0].read_bytes().replace(b'"docs": ', b'"docs": 1', 1))
    with ix.engine._searcher() as (searcher, _, _):
        reader = searcher.reader()
        assert [read_segment_tables(gen_dir, leaf) is None for leaf, _ in reader.leaf_readers()].count(True) == 1
        assert Tables(reader, gen_dir).categories == from_postings.categories


def test_tables_that_cannot_be_kept_leave_the_index_whole(tmp_path, monkeypatch):
    def full_disk(folder, leaf):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tables, "write_segment_tables", full_disk)
    root = tmp_path / "posts"
    for i in range(5):
        write_post(root / "频道", f"{i}.md", title=f"第{i}篇", body="<p>课后服务</p>")
    report = indexer.reindex(root, tmp_path / "ix", jobs=1)
    assert report.added == 5 and not list((tmp_path / "ix").glob("gen-*/tables-*"))
    page = indexer.open_index(tmp_path / "ix").search("课后服务")
    assert page.total == 5 and dict(page.facets) == {"测试": 5, "样例源": 5}
