"""Related posts: which words say what a post is about, and which hits to keep.

::

    Article ─▶ key_terms()  jieba words of title and text, informative ones only,
    │                       weighted by TF-IDF (title words count TITLE_WEIGHT times)
    ├─▶ SearchEngine.related(post_id, terms, n)   a backend ranks posts by the weighted terms
    ├─▶ by_topic()          re-ranks those candidates by shared words and shared topics
    └─▶ pick()              drops duplicates of the post, boosts its own feed and categories

The choice of terms is the core's, so every backend finds the same kind of
related posts; a backend only runs a weighted-term query (engine.py).

Why not a backend's own "more like this" (Whoosh's Bo1, Lucene's MLT): on news
text it picks the words every article shares (发展, 工作, 表示, 记者), so generic
reports outrank the post on the same subject (measured on the labelled set in
tests/data/related with ``python -m bench.related``).

Why topics as well as words: two posts on one subject may share few words (a
notice on after-school services and a list of 高考 essay prompts share 教育 once),
while a post sharing one word with a big weight (免费, 职场) is about something
else. The candidates' topic mixtures (topics.py) tell those apart; the words
still choose the candidates, so a post must share informative words to be listed.
"""

import dataclasses
import functools
import hashlib
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cachetools
import jieba

from . import topics
from .analysis import is_token_char, normalize, word_tokens

# Key terms a post is matched by.
KEY_TERMS = 20

# A title word counts this many times a word of the text.
TITLE_WEIGHT = 3

# Words in more than this share of the posts say nothing about one post (once there are
# enough posts for a share to mean something: MIN_POSTS_FOR_SHARE).
MAX_DF_SHARE = 0.2
MIN_POSTS_FOR_SHARE = 20

# Related posts from the post's own feed, or sharing a category, score this much more:
# mild, so a post on the subject elsewhere still wins over one that only shares the feed.
SAME_FEED_BOOST = 0.1
SHARED_CATEGORY_BOOST = 0.05

# Posts sharing this share of their character bigrams (Jaccard) are copies of one story.
NEAR_DUPLICATE = 0.7

# Candidates asked of the backend per related post wanted, so duplicates can be dropped
# and topics and boosts can reorder.
CANDIDATES_PER_POST = 6

# A candidate's score is (1 - TOPIC_SHARE) x its word score (as a share of the best
# candidate's) + TOPIC_SHARE x the similarity of its topics to the post's (by_topic).
# Chosen on the labelled set (tests/data/related): 0.5 to 0.7 rank alike.
TOPIC_SHARE = 0.6

# A post's topics are read from its title and the first TOPIC_TEXT characters of its text
# (the lead says what it is about): from its TOPIC_TERMS best words there (about()).
TOPIC_TERMS = 40
TOPIC_TEXT = 1000

# Topic mixtures kept per process (about 1 KB each).
MIXTURES_KEPT = 10_000

# Words of news text that say nothing about the subject, common in any archive, however
# small: function words, reporting verbs and the vocabulary of official reports. The
# document-frequency cut removes the rest once an archive is large enough.
STOP_WORDS = frozenset(
    """
    一个 一些 一直 一起 万元 上午 下午 不过 不断 不是 与此同时 为了 主要 也是 了解 予以 今天 今年
    介绍 以上 以及 以来 以后 任务 会议 但是 作为 例如 其中 具有 关于 其他 再次 准备 分析 分别
    到了 包括 即可 去年 发布 发展 发现 取得 受到 可以 可能 同时 同比 后续 告诉 因此 因为 在于
    地区 坚持 增长 多个 多家 大家 如何 如果 安排 完善 实现 对于 将会 就是 已经 市民 常见 强调
    情况 意见 我们 持续 指出 推动 推进 提出 提升 提供 提高 支持 数据 方面 日前 显示 有关 有效
    期间 本次 根据 此外 此前 没有 特别 独家 现在 目前 相关 看到 相比 知道 称为 积极 稳定 等等
    结果 继续 维护 表示 要求 认为 记者 记者从 获悉 记者获悉 负责人 进一步 进行 还有 这个 这些
    这是 这样 通过 部分 部门 重要 问题 需要 非常 领域 加强 加快 工作 企业 项目 服务 建设 全市
    全国 各地 不少 之后 方式 方案 措施 落实 开展 明显 有所 此次 近日 近期 下一步 同期 其实 人士
    业内人士 专家 相应 有望 预计 自己 他们 她们 它们 所有 国家 市场 政策 经济 社会 水平 能力
    """.split()
)


# jieba's table of inverse document frequencies over a general Chinese corpus (the one
# jieba.analyse's TF-IDF uses), read without importing jieba.analyse (which loads it all).
GENERAL_IDF_FILE = Path(jieba.__file__).parent / "analyse" / "idf.txt"

# Words whose general IDF is below this are common in any text; their weight is scaled by
# (idf / GENERAL_IDF_CAP)**2. Only those words are kept in memory (about 9,000 of 270,000).
GENERAL_IDF_CAP = 8.0


@dataclass(frozen=True)
class KeyTerm:
    """One word a post is matched by, with its weight."""

    word: str  # normalised, as indexed
    weight: float


def candidate_words(article, seg):
    """{word: weighted count} of the informative words of a post's title and text.

    Words are the index's word tokens (jieba's words with the index's dictionary and
    the dictionary words inside longer ones: 芯片 in 存储芯片), normalised as indexed;
    single characters, numbers and STOP_WORDS are left out.
    """
    counts = {}
    for text, weight in ((article.title, TITLE_WEIGHT), (article.text, 1)):
        for word, _, _, _ in word_tokens(normalize(text or "")[0], seg):
            if _informative(word):
                counts[word] = counts.get(word, 0) + weight
    return counts


def key_terms(counts, doc_freq, doc_count, limit=KEY_TERMS):
    """The `limit` words that best say what a post is about, by TF-IDF, best first.

    :param counts: {word: weighted count} from candidate_words.
    :param doc_freq: {word: posts containing it} from the backend ({} if it cannot tell:
        then only the counts and STOP_WORDS decide).
    :param doc_count: posts in the index.
    :return: a list of KeyTerm.
    """
    too_common = doc_count * MAX_DF_SHARE if doc_count >= MIN_POSTS_FOR_SHARE else math.inf
    scored = []
    for word, count in counts.items():
        df = doc_freq.get(word)
        if df is not None and (df <= 1 or df > too_common):
            continue  # in this post only (finds nothing), or in too many to tell posts apart
        idf = math.log((doc_count + 1) / ((df or 1) + 0.5)) + 1
        weight = _weight(word, count)
        scored.append((weight * idf, word, weight))
    scored.sort(key=lambda item: (-item[0], item[1]))
    # Chosen by TF-IDF; weighted without the IDF, which the backend's BM25 applies itself.
    return [KeyTerm(word, round(weight, 4)) for _, word, weight in scored[:limit]]


def _weight(word, count):
    """A word's weight in one post: its count, damped, and less for words common in any text."""
    general = min(_general_idf().get(word, GENERAL_IDF_CAP), GENERAL_IDF_CAP) / GENERAL_IDF_CAP
    return (1 + math.log(count)) * general**2


def by_topic(article, hits, seg):
    """EngineHits re-scored by shared words and shared topics, best first.

    :param article: the post the hits are related to.
    :param hits: the backend's EngineHits for the post's key terms (their scores are the words' share).
    :param seg: the index's segmenter.
    :return: new EngineHits; as given when there is no topic model.
    """
    if not hits or topics.model() is None:
        return list(hits)
    own = about(article, seg)
    best = max(hit.score for hit in hits) or 1.0
    rescored = []
    for hit in hits:
        score = (1 - TOPIC_SHARE) * hit.score / best + TOPIC_SHARE * topics.similarity(own, about(hit.post, seg))
        rescored.append(dataclasses.replace(hit, score=round(score, 4)))
    rescored.sort(key=lambda hit: -hit.score)
    return rescored


def about(post, seg):
    """The topic mixture of a post (topics.py); None without a topic model.

    Read from the title and the first TOPIC_TEXT characters (the lead says what a post is
    about): its TOPIC_TERMS best words by count and general IDF (not the archive's document
    frequencies, so a post's topics do not change as the archive grows).
    """
    model = topics.model()
    if model is None:
        return None
    lead = dataclasses.replace(post, text=(post.text or "")[:TOPIC_TEXT])
    key = (post.id, hashlib.blake2b(f"{lead.title}\n{lead.text}".encode(), digest_size=16).digest(), id(seg))
    with _mixtures_lock:
        mixture = _mixtures.get(key)
    if mixture is None:
        counts = candidate_words(lead, seg)
        scored = sorted((_weight(word, count), word) for word, count in counts.items() if word in model)
        mixture = model.mixture({word: weight for weight, word in scored[-TOPIC_TERMS:]})
        with _mixtures_lock:
            _mixtures[key] = mixture
    return mixture


# The topic mixtures of the posts seen last (an article and its candidates), by post id, a hash of
# the text they were read from and the segmenter: a post is a candidate of many others, and
# segmenting its lead is most of the cost of related posts.
_mixtures = cachetools.LRUCache(maxsize=MIXTURES_KEPT)
_mixtures_lock = threading.Lock()


def pick(article, hits, limit):
    """The `limit` best EngineHits related to `article`: no copies of it, its feed and categories boosted.

    A copy is a post whose title and text are nearly those of the article or of a
    post already picked (NEAR_DUPLICATE): the same story filed in two feeds.
    """
    categories = set(article.categories)
    ranked = []
    for hit in hits:
        post = hit.post
        if post.id == article.id:
            continue
        boost = 1.0
        if article.feed and post.feed == article.feed:
            boost += SAME_FEED_BOOST
        if categories & set(post.categories):
            boost += SHARED_CATEGORY_BOOST
        ranked.append((hit.score * boost, hit))
    ranked.sort(key=lambda item: -item[0])
    seen, chosen = [_shingles(article)], []
    for _, hit in ranked:
        shingles = _shingles(hit.post)
        if any(_jaccard(shingles, other) >= NEAR_DUPLICATE for other in seen):
            continue
        seen.append(shingles)
        chosen.append(hit)
        if len(chosen) == limit:
            break
    return chosen


def _shingles(post):
    """Character bigrams of a post's title and text (normalised, token characters only)."""
    chars = "".join(c for c in normalize(f"{post.title}\n{post.text}")[0] if is_token_char(c))
    return {chars[i : i + 2] for i in range(len(chars) - 1)} or {chars}


def _jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 1.0


@functools.cache
def _general_idf():
    """{word: general IDF} for the words common in any text (general IDF below GENERAL_IDF_CAP)."""
    common = {}  # two threads may both read it the first time; both get the same table
    try:
        with open(GENERAL_IDF_FILE, encoding="utf-8") as lines:
            for line in lines:
                word, _, value = line.rstrip("\n").partition(" ")
                if value and float(value) < GENERAL_IDF_CAP:
                    common[word] = float(value)
    except OSError:  # a jieba without the table: the index's own frequencies still decide
        pass
    return common


def _informative(word):
    return (
        len(word) >= 2
        and all(is_token_char(c) for c in word)
        and not word.isdigit()
        and not (word.isascii() and len(word) < 3)
        and word not in STOP_WORDS
    )
