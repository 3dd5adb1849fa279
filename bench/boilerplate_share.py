"""How much of each feed the cleaner removes: rules only, then rules plus learnt templates.

    .venv/bin/python -m bench.boilerplate_share [--made-up] [ROOT ...]

ROOT defaults to the shared corpus (``../shared/corpus/posts``) and the demo posts. With
``--made-up`` the made-up feeds of the tests (tests/made_up_feeds.py) are written to a temporary
folder and measured too. For every feed (the folder ``category/site/feed``) it prints:

- the characters of the bodies' visible text (whitespace not counted): the 100%;
- the share the rules remove (``clean_body``: rule table, credit lines);
- the share rules plus the feed's learnt templates remove (``boilerplate.learn`` on all the
  feed's posts, then ``ingest.apply_templates`` on each);
- how many posts the safety cap left alone;

then the templates learnt for each feed, with their kind and the posts holding them.
"""

import argparse
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from bs4 import BeautifulSoup, Comment

from indexer import boilerplate, frontmatter
from indexer.config import DEMO_POSTS_DIR
from indexer.ingest import apply_templates, read_post_at
from indexer.models import Post
from indexer.sources import find_posts, read_text

SHARED_POSTS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "posts"
TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"

_SPACE = re.compile(r"\s+")
_INVISIBLE = ("script", "style", "noscript", "iframe", "template", "head", "title")


def visible_chars(body):
    """Characters of a body's visible text, whitespace not counted (what nothing removes)."""
    soup = BeautifulSoup(body, "lxml")
    text = "".join(
        s
        for s in soup.find_all(string=True)
        if not isinstance(s, Comment) and not any(p.name in _INVISIBLE for p in s.parents)
    )
    return len(_SPACE.sub("", text))


def chars(text):
    return len(_SPACE.sub("", text))


def measure(root):
    """{feed: (posts, visible, after rules, after templates, skipped, FeedTemplates)} under root."""
    posts_by_feed = defaultdict(list)
    visible = defaultdict(int)
    for source in find_posts(root):
        post = read_post_at(root, source.relpath)
        if not isinstance(post, Post):
            continue
        _, body = frontmatter.split(read_text(source.abspath)[0])
        posts_by_feed[post.feed].append(post)
        visible[post.feed] += visible_chars(body)
    result = {}
    for feed, posts in sorted(posts_by_feed.items(), key=lambda item: str(item[0])):
        templates = boilerplate.learn(str(feed), [p.text.split("\n\n") if p.text else [] for p in posts])
        ruled = stripped = skipped = 0
        for post in posts:
            ruled += chars(post.text)
            after, note = apply_templates(post, templates) if feed else (post, None)
            stripped += chars(after.text)
            skipped += bool(note and note.skipped)
        result[feed] = (len(posts), visible[feed], ruled, stripped, skipped, templates)
    return result


def _share(removed, total):
    return f"{100 * removed / total:5.1f}%" if total else "    -"


def report(label, measured):
    print(f"\n## {label}\n")
    print(
        "| feed | posts | visible chars | removed: rules | removed: rules + templates | templates | posts left alone |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    totals = [0, 0, 0, 0, 0]
    for feed, (n, visible, ruled, stripped, skipped, templates) in measured.items():
        print(
            f"| {feed} | {n} | {visible} | {_share(visible - ruled, visible)} | "
            f"{_share(visible - stripped, visible)} | {len(templates.templates)} | {skipped} |"
        )
        for i, value in enumerate((n, visible, ruled, stripped, skipped)):
            totals[i] += value
    n, visible, ruled, stripped, skipped = totals
    print(
        f"| **all** | {n} | {visible} | {_share(visible - ruled, visible)} | "
        f"{_share(visible - stripped, visible)} | "
        f"{sum(len(m[5].templates) for m in measured.values())} | {skipped} |"
    )
    print(f"\nTemplates learnt ({label}):\n")
    learnt = False
    for feed, (*_, templates) in measured.items():
        if templates.threshold == 0:
            continue
        print(
            f"- {feed}: {templates.posts} posts, threshold {templates.threshold}: "
            f"{len(templates.templates)} template(s)"
        )
        for t in templates.templates:
            learnt = True
            print(f"    - {t.kind:<5} {'prefix' if t.prefix else 'whole ':<6} {t.count:>3} posts  {t.key}")
    if not learnt:
        print("- none")
    too_small = [str(f) for f, m in measured.items() if m[5].threshold == 0]
    if too_small:
        print(f"\nFeeds with fewer than {boilerplate.MIN_POSTS} posts (general rules only): {', '.join(too_small)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="*", type=Path, help="post trees to measure")
    parser.add_argument("--made-up", action="store_true", help="also measure the tests' made-up feeds")
    args = parser.parse_args(argv)
    roots = args.roots or [r for r in (SHARED_POSTS, DEMO_POSTS_DIR) if Path(r).is_dir()]
    for root in roots:
        report(str(root), measure(root))
    if args.made_up:
        sys.path.insert(0, str(TESTS_DIR))
        from made_up_feeds import write_feeds

        with tempfile.TemporaryDirectory() as tmp:
            write_feeds(tmp)
            report("made-up feeds of tests/made_up_feeds.py", measure(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
