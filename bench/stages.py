"""Where a build's time goes, per post, stage by stage, on one core.

    .venv/bin/python -m bench.stages [--n 1500] [--seed 0]

Generates N posts with bench.corpus, then times each stage of zhsearch's
pipeline over all of them in this process: read and clean, normalise, cut,
words with sub-words, postings encoding, add_document, and writing the
segment. Prints milliseconds per post for each.
"""

import argparse
import tempfile
import time
from pathlib import Path

from whoosh.index import create_in

from indexer import analysis
from indexer.backends.whoosh.schema import build_schema
from indexer.backends.whoosh.writer import WRITER_LIMIT_MB, document
from indexer.ingest import read_post
from indexer.sources import find_posts

from .corpus import generate


def _timed(label, per, func):
    start = time.perf_counter()
    result = func()
    print(f"{label:<28} {(time.perf_counter() - start) * 1000 / per:8.3f} ms/post")
    return result


def profile(source, work):
    sources = find_posts(source)
    n = len(sources)
    posts = _timed("read + front matter + clean", n, lambda: [read_post(s) for s in sources])
    seg = analysis.segmenter()
    seg.cut("预热")  # dictionary loading is a one-off, not a per-post cost
    schema = build_schema()
    norms = _timed("normalise body", n, lambda: [analysis.normalize(p.text)[0] for p in posts])
    _timed("cut body (jieba/rjieba)", n, lambda: [seg.cut(x) for x in norms])
    words = _timed("body words + sub-words", n, lambda: [analysis.word_run(x, seg) for x in norms])
    chars = [analysis.char_run(x) for x in norms]
    _timed("body word postings", n, lambda: [schema["content"].postings(w) for w in words])
    _timed("body char postings", n, lambda: [schema["content_c"].postings(c) for c in chars])
    analysed = _timed("analyse_post (all streams)", n, lambda: [analysis.analyse_post(p, "0:0", seg) for p in posts])
    docs = _timed("document() postings", n, lambda: [document(a, schema) for a in analysed])
    postings = sum(len(d[f]) for d in docs for f in ("title", "title_c", "content", "content_c", "meta_c", "author_c"))
    print(f"{'postings per post':<28} {postings / n:8.0f}")
    ix = create_in(str(work), schema)
    writer = ix.writer(limitmb=WRITER_LIMIT_MB)
    _timed("add_document", n, lambda: [writer.add_document(**d) for d in docs])
    _timed("write the segment (commit)", n, writer.commit)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.stages", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1500, help="posts to generate and profile")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="zhsearch-stages-") as tmp:
        source, work = Path(tmp) / "posts", Path(tmp) / "index"
        work.mkdir()
        generate(source, args.n, seed=args.seed)
        profile(source, work)


if __name__ == "__main__":
    main()
