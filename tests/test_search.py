"""Search behaviour a reader notices, on the demo posts (written for these tests)."""

import threading
import time
from datetime import date

import pytest
from bs4 import BeautifulSoup
from fixture_posts import write_post

import indexer
from indexer import QueryError
from indexer.analysis import normalize


def titles(page):
    return [h.title.text for h in page.hits]


def all_articles(ix):
    return [ix.get(hit.id) for hit in ix.search("", per_page=10_000, collapse=False).hits]


def containing(ix, phrase):
    """Ids of posts whose normalised title or text holds `phrase` verbatim (the ground truth)."""
    norm = normalize(phrase)[0]
    return {a.id for a in all_articles(ix) if norm in normalize(a.title)[0] or norm in normalize(a.text)[0]}


@pytest.mark.parametrize(
    "phrase",
    [
        "课后服务",
        "双减",
        "保交楼",
        "人工智能",
        "数字人民币",
        "新能源汽车",
        "消费券",
        "芯片",
        "教育部",
        "延时服务",
        "作业",
        "集成电路",
    ],
)
def test_exact_phrase_posts_rank_above_the_rest(demo_search, phrase):
    page = demo_search.search(phrase, per_page=100, collapse=False)
    truth = containing(demo_search, phrase)
    assert truth, phrase
    ids = [h.id for h in page.hits]
    assert set(ids[: len(truth)]) == truth, phrase
    assert all(h.exact == (h.id in truth) for h in page.hits)


def test_apart_words_are_found_but_rank_below_the_phrase(demo_search):
    page = demo_search.search("课后服务", per_page=100)
    exact = [h for h in page.hits if h.exact]
    apart = [h for h in page.hits if not h.exact]
    assert len(exact) >= 6 and apart
    assert page.hits.index(apart[0]) == len(exact)
    assert any("延时服务" in a for a in titles(page)[len(exact) :])


def test_traditional_and_full_width_meet_simplified(demo_search):
    simplified = {h.id for h in demo_search.search("课后服务", per_page=100).hits if h.exact}
    traditional = {h.id for h in demo_search.search("課後服務", per_page=100).hits if h.exact}
    assert simplified == traditional
    assert any("課後服務" in t for t in titles(demo_search.search("课后服务", per_page=100)))
    full = {h.id for h in demo_search.search("ＧＤＰ").hits}
    assert full == {h.id for h in demo_search.search("gdp").hits} == {h.id for h in demo_search.search("GDP").hits}
    assert len(full) >= 2


def test_context_dependent_segmentation_still_matches(tmp_path):
    write_post(tmp_path / "posts", "a.md", title="会议首提保交楼至今", body="<p>会议首提保交楼至今已有一年。</p>")
    indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")
    assert ix.search("保交楼").total == 1
    assert ix.search("提保").total == 1
    assert ix.search("至").total == 1


def test_single_character_and_latin_letter(demo_search):
    assert demo_search.search("课").total >= 6
    assert demo_search.search("ai").total >= 2


def test_quoted_phrase_is_verbatim_only(demo_search):
    quoted = demo_search.search('"课后服务"', per_page=100)
    assert quoted.total == len(containing(demo_search, "课后服务"))
    assert all(h.exact for h in quoted.hits)


def test_exclusion_or_and_fields(demo_search):
    both = containing(demo_search, "双减")
    minus = {h.id for h in demo_search.search("双减 -课后服务", per_page=100).hits}
    assert minus == both - containing(demo_search, "课后服务")
    either = {h.id for h in demo_search.search("保交楼 OR 芯片", per_page=100).hits}
    assert either == containing(demo_search, "保交楼") | containing(demo_search, "芯片")
    in_title = demo_search.search("title:双减", per_page=100)
    assert in_title.total >= 1 and all("双减" in t for t in titles(in_title))
    assert {next(iter(h.categories)) for h in demo_search.search("category:科技", per_page=100).hits} == {"科技"}
    assert demo_search.search("author:演示财经").total >= 5


def test_all_terms_required_then_any_term_with_a_note(demo_search):
    both = containing(demo_search, "保交楼") & containing(demo_search, "人工智能")
    assert both
    # The matching rules themselves, without aliases (test_synonyms.py tests those).
    page = demo_search.search("保交楼 人工智能", per_page=100, expand=False)
    assert {h.id for h in page.hits} == both and page.note is None
    assert not containing(demo_search, "保交楼") & containing(demo_search, "芯片")
    fallback = demo_search.search("保交楼 芯片", per_page=100, expand=False)
    assert {h.id for h in fallback.hits} == containing(demo_search, "保交楼") | containing(demo_search, "芯片")
    assert "any of them" in fallback.note


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"unbalanced quote', lambda ix: containing(ix, "unbalanced quote")),
        ("title:", lambda ix: containing(ix, "title")),
        ("-", lambda ix: {a.id for a in all_articles(ix)}),
        ('""', lambda ix: {a.id for a in all_articles(ix)}),
        ("OR", lambda ix: {a.id for a in all_articles(ix)}),
        ("：：", lambda ix: {a.id for a in all_articles(ix)}),
        ("OR OR 双减", lambda ix: containing(ix, "双减")),
        ("-双减 -课后", lambda ix: {a.id for a in all_articles(ix)} - containing(ix, "双减") - containing(ix, "课后")),
    ],
)
def test_malformed_queries_give_results_not_tracebacks(demo_search, query, expected):
    page = demo_search.search(query, per_page=100, collapse=False)
    assert {h.id for h in page.hits} == expected(demo_search)
    assert page.total == len(page.hits)


def test_too_long_query_is_a_query_error_quickly(demo_search):
    start = time.monotonic()
    with pytest.raises(QueryError, match="too long") as info:
        demo_search.search("课" * 10_000)
    assert info.value.param == "q"
    assert time.monotonic() - start < 1
    long_but_ok = demo_search.search("课后服务 " * 50)
    assert long_but_ok.total >= 1


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"page": 0}, "page"),
        ({"page": "abc"}, "page"),
        ({"per_page": 0}, "per_page"),
        ({"sort": "bogus"}, "sort"),
        ({"date_from": "notadate"}, "date_from"),
        ({"date_from": "2023-01-01", "date_to": "2022-01-01"}, "date_from"),
    ],
)
def test_bad_parameters_name_themselves(demo_search, kwargs, param):
    with pytest.raises(QueryError) as info:
        demo_search.search("双减", **kwargs)
    assert info.value.param == param


def test_ids_lists_every_match_in_order(demo_search):
    page = demo_search.search("课后服务", per_page=100)
    assert demo_search.ids("课后服务") == [h.id for h in page.hits]
    assert demo_search.ids("课后服务", category="金融") == [
        h.id for h in demo_search.search("课后服务", category="金融", per_page=100).hits
    ]


def test_paging_and_totals(demo_search):
    first = demo_search.search("课", per_page=3)
    second = demo_search.search("课", page=2, per_page=3)
    assert first.total == second.total and first.pages == -(-first.total // 3)
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    beyond = demo_search.search("课", page=999, per_page=3)
    assert beyond.hits == () and beyond.total == first.total


def test_sort_by_date_and_date_filters(demo_search):
    page = demo_search.search("课", sort="date", per_page=100)
    dates = [h.date for h in page.hits if h.date]
    assert dates == sorted(dates, reverse=True)
    ranged = demo_search.search("", date_from=date(2022, 1, 1), date_to="2022-12-31", per_page=100)
    everything = demo_search.search("", per_page=100).hits
    in_2022 = {h.id for h in everything if h.date and h.date.astimezone(demo_search.tz).year == 2022}
    assert 0 < len(in_2022) < len(everything)  # the filter has something to leave out
    assert {h.id for h in ranged.hits} == in_2022
    assert sum(ranged.months.values()) == ranged.total
    assert all(month.startswith("2022-") for month in ranged.months)


def test_category_filter_and_facets(demo_search):
    everything = demo_search.search("", per_page=100)
    assert everything.facets["教育"] == sum(1 for h in everything.hits if "教育" in h.categories)
    counts = list(everything.facets.values())
    assert counts == sorted(counts, reverse=True)
    education = demo_search.search("课后服务", category="教育", per_page=100)
    assert education.total and all("教育" in h.categories for h in education.hits)
    assert demo_search.search("课后服务", category="不存在的分类").total == 0


def test_empty_query_lists_newest_posts_undated_last(demo_search):
    page = demo_search.search("", per_page=100)
    assert page.total == demo_search.doc_count and page.sort == "date"
    dated = [h.date for h in page.hits if h.date]
    assert dated == sorted(dated, reverse=True)
    undated = [i for i, h in enumerate(page.hits) if h.date is None]
    assert undated and undated == list(range(len(page.hits) - len(undated), len(page.hits)))


def test_snippet_marks_matches_escapes_and_stays_short(demo_search):
    page = demo_search.search("课后服务")
    for hit in page.hits:
        soup = BeautifulSoup(indexer.html(hit.snippet), "html.parser")
        marks = [m.get_text() for m in soup.find_all("mark")]
        assert marks, hit.path
        if hit.exact:
            assert any(normalize(m)[0] == "课后服务" for m in marks)
        assert len(soup.get_text()) <= 3 * 120
    script = demo_search.search("alert")
    assert script.total >= 1
    for hit in script.hits:
        assert "<script>" in hit.title.text  # the text as written ...
        assert not BeautifulSoup(indexer.html(hit.title), "html.parser").find("script")  # ... drawn escaped
        assert not BeautifulSoup(indexer.html(hit.snippet), "html.parser").find(["script", "img", "a"])


def test_snippet_cuts_at_chinese_sentence_ends(tmp_path):
    body = "<p>" + "前面的句子没有关键词。" * 30 + "这一句讲到了课后服务的安排！" + "后面的句子也没有。" * 30 + "</p>"
    write_post(tmp_path / "posts", "a.md", body=body)
    indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=1)
    hit = indexer.open_index(tmp_path / "ix").search("课后服务").hits[0]
    assert hit.snippet.text.startswith("这一句讲到了课后服务的安排！")


def test_snippet_found_deep_in_a_long_article(tmp_path):
    body = "<p>" + "这是很长的文章中的普通内容。" * 5000 + "</p><p>结尾处才提到保交楼项目。</p>"
    write_post(tmp_path / "posts", "long.md", body=body)
    indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=1)
    hit = indexer.open_index(tmp_path / "ix").search("保交楼").hits[0]
    assert "结尾处才提到" in hit.snippet.text
    assert [hit.snippet.text[s:e] for s, e in hit.snippet.spans] == ["保交楼"]


def test_overlapping_terms_are_marked_once(demo_search):
    marked = demo_search.highlight("中华人民共和国教育部发布课后服务通知", "人民共和国 共和 课后服务 服务")
    assert marked.spans == ((2, 7), (12, 16))
    soup = BeautifulSoup(indexer.html(marked), "html.parser")
    assert soup.get_text() == "中华人民共和国教育部发布课后服务通知"
    assert [m.get_text() for m in soup.find_all("mark")] == ["人民共和国", "课后服务"]


def test_get_more_like_and_suggest(demo_search):
    hit = demo_search.search("保交楼").hits[0]
    article = demo_search.get(hit.id)
    assert "保交楼" in article.text and article.paragraphs
    related = demo_search.more_like(hit.id, limit=3)
    assert related and hit.id not in {r.id for r in related}
    assert any("保交楼" in demo_search.get(r.id).text for r in related)
    assert all("数字人民币" in t for t in demo_search.suggest("数字人民币"))
    with pytest.raises(indexer.PostNotFoundError):
        demo_search.get("../../etc/passwd")
    with pytest.raises(indexer.PostNotFoundError):
        demo_search.get("0123456789abcdef")


def test_stats(demo_search):
    stats = demo_search.stats()
    assert stats.posts == demo_search.doc_count >= 25
    assert stats.size_bytes > 0 and stats.last_reindex is not None
    assert stats.top_categories[0][1] >= stats.top_categories[-1][1]


def test_open_missing_index_says_run_reindex(tmp_path):
    with pytest.raises(indexer.IndexNotFoundError, match='Run "reindex" first'):
        indexer.open_index(tmp_path / "none")


def test_shared_between_threads(demo_search):
    errors = []

    def worker():
        try:
            for query in ("课后服务", "双减", "芯片", "保交楼"):
                assert demo_search.search(query).total
        except Exception as exc:  # noqa: BLE001 - collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_months_filters_and_dates_use_one_display_time_zone(tmp_path):
    # 20:00 UTC on 31 May is 04:00 on 1 June in Beijing.
    write_post(tmp_path / "posts", "a.md", title="月底的新闻", body="<p>时区边界。</p>", date="2022-05-31T20:00:00Z")
    indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=1)
    beijing = indexer.open_index(tmp_path / "ix")  # default zone: Asia/Shanghai
    assert beijing.search("时区边界").months == {"2022-06": 1}
    assert beijing.search("时区边界", date_from="2022-06-01", date_to="2022-06-30").total == 1
    assert beijing.search("时区边界", date_from="2022-05-01", date_to="2022-05-31").total == 0
    utc = indexer.open_index(tmp_path / "ix", timezone="UTC")
    assert utc.search("时区边界").months == {"2022-05": 1}
    assert utc.search("时区边界", date_from="2022-05-01", date_to="2022-05-31").total == 1
    with pytest.raises(indexer.ConfigError, match="Unknown time zone"):
        indexer.open_index(tmp_path / "ix", timezone="Mars/Olympus")


def test_hits_are_text_with_spans(demo_search):
    hit = demo_search.search("课后服务").hits[0]
    assert isinstance(hit.title, indexer.Marked) and isinstance(hit.snippet, indexer.Marked)
    for marked in (hit.title, hit.snippet):
        for start, end in marked.spans:
            assert normalize(marked.text[start:end])[0] in ("课后服务", "课后", "服务")
    assert list(hit.snippet.spans) == sorted(hit.snippet.spans)


@pytest.mark.parametrize("query", ["OR", '""', "(", "*", "：：", " - "])
def test_nothing_searchable_lists_newest_posts_with_a_note(demo_search, query):
    page = demo_search.search(query, per_page=100)
    newest = demo_search.search("", per_page=100)
    assert [h.id for h in page.hits] == [h.id for h in newest.hits]
    assert page.sort == "date" and page.note_code == "nothing_searchable"
    assert page.note == "Nothing searchable in the query; showing the newest posts."
    assert newest.note is None and newest.note_code is None
    assert demo_search.search("-双减").note is None  # an exclusion is something to search


@pytest.mark.parametrize("query", ["category:快讯", "分类:教育", "author:演示财经", "category:教育 -双减"])
def test_filter_only_queries_list_newest_first(demo_search, query):
    page = demo_search.search(query, per_page=100)
    assert page.total >= 1 and page.sort == "date" and page.note is None
    dates = [h.date for h in page.hits if h.date]
    assert dates == sorted(dates, reverse=True)
    assert demo_search.ids(query) == [h.id for h in page.hits]
    assert demo_search.search("category:教育 课后服务").sort == "relevance"  # words to rank by


def test_feed_tree_counts_every_match_by_folder(demo_search):
    page = demo_search.search("课后服务", per_page=1)
    counts = [node.count for node in page.tree]
    assert counts == sorted(counts, reverse=True)
    assert sum(node.count for node in page.tree) == page.total
    everything = demo_search.ids("课后服务")
    for top in page.tree:
        assert top.path == top.name and top.count == sum(child.count for child in top.children)
        for site in top.children:
            assert site.path == f"{top.name}/{site.name}"
            for feed in site.children:
                assert feed.path == f"{site.path}/{feed.name}" and not feed.children
                filtered = demo_search.search("课后服务", feed=feed.path, per_page=100)
                assert filtered.total == feed.count and filtered.feed == feed.path
                assert all(h.feed == feed.path for h in filtered.hits)
                assert set(demo_search.ids("课后服务", feed=feed.path)) <= set(everything)


def test_feed_filter_is_a_folder_prefix(demo_search):
    education = demo_search.search("", feed="教育", per_page=100)
    assert education.total == sum(1 for h in demo_search.search("", per_page=100).hits if h.feed.startswith("教育/"))
    assert [node.path for node in education.tree] == ["教育"]
    assert demo_search.search("", feed=" /教育/示例日报/ ", per_page=100).feed == "教育/示例日报"
    assert demo_search.search("", feed="教").total == 0  # a folder, not a string prefix
    assert demo_search.search("", feed="不存在的来源").total == 0
    with pytest.raises(QueryError) as info:
        demo_search.search("", feed="长" * 301)
    assert info.value.param == "feed"


def test_feed_tree_of_no_feeds_is_empty():
    from indexer.search import feed_tree

    assert feed_tree({}) == ()
    tree = feed_tree({"金融/新浪财经/头条": 5, "金融/新浪财经/国内": 40, "金融": 2, "游戏/巴哈姆特/GNN 新聞": 15})
    assert [(n.path, n.count) for n in tree] == [("金融", 47), ("游戏", 15)]
    assert [(n.name, n.count) for n in tree[0].children[0].children] == [("国内", 40), ("头条", 5)]


def _fragments(marked):
    """The snippet's fragments without their ellipses."""
    return [piece.strip("…") for piece in marked.text.split(" ") if piece.strip("…")]


def _word_ends(ix, text):
    """Offsets in `text` where jieba (the index's dictionary) ends a word."""
    ends, at = {0}, 0
    for word in ix.engine.segmenter.cut(normalize(text)[0]):
        at += len(word)
        ends.add(at)
    return ends


def _snippet_index(tmp_path, body, title="测试文章"):
    write_post(tmp_path / "posts", "a.md", title=title, body=body)
    indexer.reindex(tmp_path / "posts", tmp_path / "ix", jobs=1)
    return indexer.open_index(tmp_path / "ix")


def test_snippet_without_punctuation_cuts_between_words(tmp_path):
    # No punctuation for 120 characters either side: only word boundaries are left.
    words = "地方政府积极探索建立健全精神文明建设长效机制并且持续推动城乡社区治理体系和治理能力现代化"
    body = f"<p>{words * 2}学校课后服务{words * 2}</p>"
    ix = _snippet_index(tmp_path, body)
    text = ix.get(ix.search("课后服务").hits[0].id).text
    hit = ix.search("课后服务").hits[0]
    ends = _word_ends(ix, text)
    (fragment,) = _fragments(hit.snippet)
    start = text.index(fragment)
    assert start in ends and start + len(fragment) in ends, fragment
    assert hit.snippet.text.startswith("…") and hit.snippet.text.endswith("…")
    assert "课后服务" in fragment


def test_snippet_prefers_clause_ends_to_words(tmp_path):
    clause = "各地教育部门按照统一部署推进相关工作"
    body = f"<p>{clause}，{clause}，{clause}，学校课后服务全面开展，{f'{clause}，' * 8}{clause}。</p>"
    ix = _snippet_index(tmp_path, body)
    hit = ix.search("课后服务").hits[0]
    (fragment,) = _fragments(hit.snippet)
    text = ix.get(hit.id).text
    start = text.index(fragment)
    assert text[start - 1] == "，" and text[start + len(fragment)] == "，"


def test_snippet_never_opens_inside_a_date(tmp_path):
    lead = "本报讯经过长时间的筹备与多方协调的这一项重要活动终于正式举行"
    body = f"<p>{lead}新华社北京2022年8月27日电教育部今天发布关于进一步做好课后服务工作的通知要求各地统筹推进</p>"
    ix = _snippet_index(tmp_path, body)
    (fragment,) = _fragments(ix.search("课后服务").hits[0].snippet)
    assert not fragment[0].isdigit() and fragment[0] not in "年月日"
    assert not fragment.startswith(("电", "月", "日电"))


def test_snippet_skips_the_restated_title(tmp_path):
    body = (
        "<p>原标题：两部门合力助“双减”：鼓励科技馆向中小学生开放</p>"
        "<p>教育部办公厅、中国科协办公厅近日印发通知，利用科普资源助推“双减”工作。</p>"
    )
    ix = _snippet_index(tmp_path, body, title="两部门合力助“双减”")
    plain = ix.search("科普资源").hits[0].snippet.text
    assert plain.startswith("教育部办公厅")
    both = ix.search("双减").hits[0].snippet.text
    assert not both.startswith("原标题") and "助推“双减”工作" in both
    newest = ix.search("", per_page=1).hits[0].snippet.text  # no match: the lead paragraph
    assert newest.startswith("教育部办公厅") and "原标题" not in newest


def test_lead_snippet_ends_at_a_boundary(tmp_path):
    sentence = "城市更新行动稳步推进老旧小区改造惠及居民生活品质不断提升" * 8
    ix = _snippet_index(tmp_path, f"<p>{sentence}</p>")
    hit = ix.search("", per_page=1).hits[0]
    text = ix.get(hit.id).text
    assert hit.snippet.text.endswith("…")
    body = hit.snippet.text[:-1]
    assert text.startswith(body) and len(body) in _word_ends(ix, text) and len(body) <= 120


def test_background_warming_follows_reindex(tmp_path, monkeypatch):
    monkeypatch.setattr("indexer.search.WARM_INTERVAL", 0.2)
    root = tmp_path / "posts"
    write_post(root, "a/1.md", title="课后服务试点", body="<p>学校开展课后服务。</p>")
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")

    def warmed():
        # The pinyin table (what a Latin query reads) was built for the vocabulary of the state searches see now.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if ix._pinyin._cached[0] is ix.engine.vocabulary():
                return True
            time.sleep(0.1)
        return False

    ix.warm(background=True)
    assert warmed()
    write_post(root, "a/2.md", title="延时托管", body="<p>托管服务延时到六点。</p>")
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    assert "托管" in ix.engine.vocabulary() and warmed()
    assert ix.search("tuoguan").reading == "托管"
    ix.close()


def test_a_verbatim_check_cut_by_the_deadline_goes_on_at_the_next_search(tmp_path, monkeypatch):
    from indexer.backends.whoosh import matching

    root = tmp_path / "posts"
    for i in range(600):
        # Both kinds have the bigrams of 同比增长; only the first has the text itself.
        body = "<p>本月产量同比增长明显。</p>" if i % 2 else "<p>产量同比增加，其比增长率放缓。</p>"
        write_post(root, f"a/{i:03d}.md", title=f"第{i}篇", body=body)
    indexer.reindex(root, tmp_path / "ix", jobs=1)
    ix = indexer.open_index(tmp_path / "ix")

    def late(self):  # the third check of a search is past the deadline: the 256th candidate
        self.checks = getattr(self, "checks", 0) + 1
        return self.checks == 3

    monkeypatch.setattr(matching.DocSets, "late", late)
    pages = [ix.search('"同比增长"', expand=False, collapse=False) for _ in range(4)]
    assert pages[0].note_code == "partial" and pages[0].total < 300
    assert [p.total for p in pages[-2:]] == [300, 300] and pages[-1].note_code is None
    assert pages[1].total > pages[0].total or pages[1].total == 300
