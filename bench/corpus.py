"""Synthetic Hexo corpus generator.

Builds a ``source/_posts``-style tree of any size from the *real* paragraphs of
the shared posts (``../shared/corpus/posts`` next to the repo). Nothing from the
shared posts is stored in the repo: the tree is generated at run time into a
directory the caller chooses (``bench/out/`` is git-ignored).

The output is repeatable: the same ``n`` and ``seed`` give byte-identical files.
"""

import email.utils
import html
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml
from bs4 import BeautifulSoup

SHARED_POSTS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "posts"

DATE_START = datetime(2020, 1, 1, tzinfo=timezone.utc)
DATE_END = datetime(2025, 1, 1, tzinfo=timezone.utc)

MIN_PARAGRAPH_CHARS = 20
MIN_PARAGRAPHS, MAX_PARAGRAPHS = 3, 12
MIN_POST_CHARS, MAX_POST_CHARS = 700, 1500
MAX_TITLE_CHARS = 40

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
_SPACES = re.compile(r"\s+")


def shared_post_files(root=SHARED_POSTS):
    """Return the shared post files, sorted so every run sees the same order."""
    files = sorted(Path(root).rglob("*.md"))
    if not files:
        raise FileNotFoundError(f"no shared posts under {root}")
    return files


def feed_folders(root=SHARED_POSTS):
    """Return the real ``(category, source, feed)`` folder triples, sorted."""
    return sorted({f.relative_to(root).parts[:3] for f in shared_post_files(root)})


def _paragraph_texts(markup):
    """Yield the whitespace-normalised text of every ``<p>`` in an HTML body."""
    for p in BeautifulSoup(markup, "lxml").find_all("p"):
        text = _SPACES.sub(" ", p.get_text()).strip()
        if len(text) >= MIN_PARAGRAPH_CHARS:
            yield text


def load_paragraphs(root=SHARED_POSTS):
    """Return the distinct real paragraphs of all shared posts, in a stable order."""
    seen = {}
    for path in shared_post_files(root):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        for text in _paragraph_texts(body):
            seen.setdefault(text, None)
    return list(seen)


def _pick_paragraphs(rng, paragraphs):
    """Draw 3-12 paragraphs, stopping once a random 700-1500 char target is reached."""
    target = rng.randint(MIN_POST_CHARS, MAX_POST_CHARS)
    picked, size = [], 0
    while len(picked) < MAX_PARAGRAPHS and (len(picked) < MIN_PARAGRAPHS or size < target):
        text = rng.choice(paragraphs)
        picked.append(text)
        size += len(text)
    return picked


def _title_from(rng, paragraph):
    """Make a title from one sentence of a paragraph."""
    sentences = [s.strip() for s in _SENTENCE_END.split(paragraph) if len(s.strip()) >= 6]
    sentence = rng.choice(sentences) if sentences else paragraph
    return sentence.rstrip("。！？!?；;，,")[:MAX_TITLE_CHARS]


def _random_date(rng):
    """A uniformly random instant in 2020-2024, as an RFC 2822 GMT string."""
    span = int((DATE_END - DATE_START).total_seconds())
    return email.utils.format_datetime(DATE_START + timedelta(seconds=rng.randrange(span)), usegmt=True)


def render_post(title, categories, author, date, paragraphs):
    """Render one post in the Hexo layout the mirror uses (leading blank line, YAML, HTML body)."""
    front = yaml.safe_dump(
        {"title": title, "categories": list(categories), "author": author, "date": date},
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=10**6,
    )
    body = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    return f"\n---\n{front}---\n\n<div>{body}</div>"


def make_post(rng, paragraphs, feeds):
    """Return ``(relative_path_parts, text)`` for one random post (the file name is added later)."""
    picked = _pick_paragraphs(rng, paragraphs)
    folder = rng.choice(feeds)
    title = _title_from(rng, rng.choice(picked))
    return folder, render_post(title, folder, folder[1], _random_date(rng), picked)


def generate(out_dir, n, seed=0, root=SHARED_POSTS):
    """Write ``n`` posts under ``out_dir`` as ``<category>/<source>/<feed>/NNNNN.md``.

    Returns the list of written paths. Deterministic for a given ``(n, seed)``.
    """
    rng = random.Random(seed)
    paragraphs, feeds = load_paragraphs(root), feed_folders(root)
    width = max(5, len(str(n - 1)))
    out_dir = Path(out_dir)
    written = []
    for i in range(n):
        folder, text = make_post(rng, paragraphs, feeds)
        path = out_dir.joinpath(*folder, f"{i:0{width}d}.md")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def extra_paragraph(rng, paragraphs):
    """A paragraph to append when simulating an edited post."""
    return f"<p>{html.escape(rng.choice(paragraphs), quote=False)}</p>"


def corpus_bytes(root):
    """Total size in bytes of the ``.md`` files under ``root``."""
    return sum(p.stat().st_size for p in Path(root).rglob("*.md"))
