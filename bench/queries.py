"""The fixed, seeded mixed query set both systems answer."""

import random
import re

import jieba

from bench.corpus import load_paragraphs

CJK_WORD = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
FILTER_CATEGORY = "金融"
DATE_FROM, DATE_TO = "2022-01-01", "2022-12-31"
SAMPLE_PARAGRAPHS = 300
DRAWN_WORDS = 4


def _query(name, q, category=None, date_from=None, date_to=None):
    """One query spec, JSON-serialisable."""
    return {"name": name, "q": q, "category": category, "date_from": date_from, "date_to": date_to}


def _candidate_words(paragraphs):
    """2-4 character Chinese words jieba finds in the given paragraphs, per paragraph."""
    return [sorted({w for w in jieba.lcut(p) if CJK_WORD.match(w)}) for p in paragraphs]


def drawn_queries(seed, paragraphs=None):
    """Words and a co-occurring word pair drawn (seeded) from the real paragraphs."""
    rng = random.Random(seed)
    paragraphs = paragraphs or load_paragraphs()
    per_para = [w for w in _candidate_words(rng.sample(paragraphs, SAMPLE_PARAGRAPHS)) if len(w) >= 2]
    words = sorted({w for ws in per_para for w in ws})
    queries = [_query(f"drawn {w}", w) for w in rng.sample(words, DRAWN_WORDS)]
    pair = rng.sample(rng.choice(per_para), 2)
    queries.append(_query("drawn pair", " ".join(pair)))
    return queries


def query_set(seed, paragraphs=None):
    """The mixed query set: fixed probes, drawn words, a category filter, a date filter."""
    fixed = [
        _query("one word", "经济"),
        _query("two words", "人民币 汇率"),
        _query("phrase", '"同比增长"'),
    ]
    filtered = [
        _query("category filter", "经济", category=FILTER_CATEGORY),
        _query("date filter", "经济", date_from=DATE_FROM, date_to=DATE_TO),
    ]
    return fixed + drawn_queries(seed, paragraphs) + filtered
