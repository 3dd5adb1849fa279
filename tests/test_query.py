"""The query language itself: fields, full-width forms, quotes, limits, and any string at all."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import QueryError
from indexer.config import MAX_QUERY_CHARS, MAX_QUERY_TERMS
from indexer.query import Clause, parse


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("title:双减", "title"),
        ("标题:双减", "title"),
        ("标题：双减", "title"),
        ("分类:教育", "category"),
        ("category:教育", "category"),
        ("作者:新浪", "author"),
        ("author:新浪", "author"),
        ("TITLE:双减", "title"),
    ],
)
def test_field_prefixes_in_both_languages_and_both_colons(query, field):
    (group,) = parse(query).groups
    assert group == (Clause(query.replace("：", ":").split(":", 1)[1], field),)


def test_full_width_minus_and_curly_quotes():
    parsed = parse("双减 －广告 “延时 服务”")
    assert parsed.excluded == (Clause("广告", negate=True),)
    assert parsed.groups == ((Clause("双减"),), (Clause("延时 服务", quoted=True),))
    assert parse("「课后服务」").groups == ((Clause("课后服务", quoted=True),),)


def test_unknown_prefix_is_text():
    (group,) = parse("比例:5%").groups
    assert group == (Clause("比例:5%"),)
    assert group[0].chars == ["比", "例", "5"]


def test_or_joins_alternatives_and_repeats_count_once():
    parsed = parse("保交楼 OR 芯片 双减 双减")
    assert parsed.groups == ((Clause("保交楼"), Clause("芯片")), (Clause("双减"),))


def test_term_limit_counts_required_and_excluded_terms():
    ok = " ".join(f"词{i}" for i in range(MAX_QUERY_TERMS))
    assert len(parse(ok).groups) == MAX_QUERY_TERMS
    with pytest.raises(QueryError, match=f"the limit is {MAX_QUERY_TERMS}") as info:
        parse(ok + " -另一个")
    assert info.value.param == "q"


def test_length_limit_and_lone_surrogates():
    with pytest.raises(QueryError, match="too long"):
        parse("课" * (MAX_QUERY_CHARS + 1))
    with pytest.raises(QueryError, match="surrogate"):
        parse("课后\ud800服务")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=MAX_QUERY_CHARS + 20))
def test_any_string_parses_or_is_a_query_error_quickly(text):
    start = time.perf_counter()
    try:
        parsed = parse(text)
    except QueryError as exc:
        assert exc.param == "q" and str(exc)
    else:
        for clause in parsed.positive_clauses + list(parsed.excluded):
            assert clause.chars  # no clause without something to search
    assert time.perf_counter() - start < 0.05
