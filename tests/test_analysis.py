import pytest

from indexer import analysis
from indexer.analysis import char_run, normalize, word_tokens
from indexer.backends.whoosh.analyzers import ChineseAnalyzer, ChineseCharAnalyzer


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("ＧＤＰ增长５．２％", "gdp增长5.2%"),
        ("課後服務", "课后服务"),
        ("Python OpenAI", "python openai"),
        ("\u3000\u3000正文", "  正文"),
    ],
)
def test_normalize(raw, norm):
    assert normalize(raw)[0] == norm


def test_normalize_maps_expanding_characters_back():
    text = "㈱課後"
    tokens = [(t.text, t.startchar, t.endchar) for t in ChineseAnalyzer()(text, positions=True, chars=True)]
    for word, start, end in tokens:
        assert normalize(text[start:end])[0].strip("()") == word


def test_sub_words_share_their_word_position():
    tokens = list(word_tokens(normalize("中华人民共和国成立")[0]))
    by_word = {word: pos for word, pos, _, _ in tokens}
    assert by_word["中华人民共和国"] == by_word["人民"] == by_word["共和国"] == 0
    assert by_word["成立"] == 1


def test_positions_are_ordinal_so_phrases_work():
    tokens = [(t.text, t.pos) for t in ChineseAnalyzer()("学校开展课后服务。", positions=True)]
    positions = [pos for _, pos in tokens]
    assert positions == sorted(positions)
    assert max(positions) < len(tokens)  # ordinal, not character offsets
    assert ("课后", 2) in tokens and ("服务", 3) in tokens


def test_char_tokens_skip_punctuation_and_space():
    assert char_run(normalize("１－４月，GDP 增长")[0]) == "14月gdp增长"
    chars = [(t.text, t.pos, t.startchar) for t in ChineseCharAnalyzer()("课后，服务", positions=True, chars=True)]
    assert chars == [("课", 0, 0), ("后", 1, 1), ("服", 2, 3), ("务", 3, 4)]


def test_pre_analysed_values_give_the_same_tokens():
    from indexer.analysis import word_run

    text = "首提保交楼至今，ＧＤＰ增长５．２％"
    norm = normalize(text)[0]
    direct = [(t.text, t.pos) for t in ChineseAnalyzer()(text, positions=True)]
    pre = [(t.text, t.pos) for t in ChineseAnalyzer()(word_run(norm), positions=True)]
    assert direct == pre
    direct_chars = [(t.text, t.pos) for t in ChineseCharAnalyzer()(text, positions=True)]
    pre_chars = [(t.text, t.pos) for t in ChineseCharAnalyzer()(char_run(norm), positions=True)]
    assert direct_chars == pre_chars


def _texts(*roots):
    from indexer.ingest import read_post
    from indexer.sources import find_posts

    for root in roots:
        for source in find_posts(root):
            post = read_post(source)
            yield normalize(post.title)[0]
            yield normalize(post.text)[0]


# Domain words, some of which change how the posts are cut (提保交楼 captures 保交楼's context).
USER_DICT = "课后服务 100 n\n保交楼 50 n\n双减\n数字人民币 20\n提保交楼 1000 v\n同比增长 10\nMU5735 5 nz\n"


@pytest.mark.parametrize("with_user_dict", [False, True])
def test_rjieba_cuts_exactly_like_jieba(tmp_path, demo_dir, with_user_dict):
    """rjieba is used only because this holds: same words as jieba on every demo and shared post."""
    pytest.importorskip("rjieba")
    from conftest import CORPUS_DIR

    from indexer.analysis import Segmenter

    user_dict = None
    if with_user_dict:
        user_dict = tmp_path / "dict.txt"
        user_dict.write_text(USER_DICT, encoding="utf-8")
    reference, fast = Segmenter(user_dict, engine="jieba"), Segmenter(user_dict, engine="rjieba")
    roots = [demo_dir] + ([CORPUS_DIR] if CORPUS_DIR.is_dir() else [])
    texts = list(_texts(*roots))
    assert len(texts) >= 50
    for text in texts:
        assert fast.cut(text) == reference.cut(text)
    if with_user_dict:
        assert "提保交楼" in fast.cut("首提保交楼至今")


def test_fingerprint_is_the_segmenters_without_loading_it(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("保交楼 10 n\n", encoding="utf-8")
    assert analysis.fingerprint() == analysis.segmenter().fingerprint
    assert analysis.fingerprint(words) == analysis.segmenter(words).fingerprint != analysis.fingerprint()
