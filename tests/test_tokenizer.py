import pytest

from indexer.tokenizer import ChineseAnalyzer, ChineseCharAnalyzer, char_run, normalize, word_tokens


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
    from indexer.tokenizer import word_run

    text = "首提保交楼至今，ＧＤＰ增长５．２％"
    norm = normalize(text)[0]
    direct = [(t.text, t.pos) for t in ChineseAnalyzer()(text, positions=True)]
    pre = [(t.text, t.pos) for t in ChineseAnalyzer()(word_run(norm), positions=True)]
    assert direct == pre
    direct_chars = [(t.text, t.pos) for t in ChineseCharAnalyzer()(text, positions=True)]
    pre_chars = [(t.text, t.pos) for t in ChineseCharAnalyzer()(char_run(norm), positions=True)]
    assert direct_chars == pre_chars
