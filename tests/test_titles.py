"""Titles whose quotes a mirror turned into underscores are shown with the quotes back."""

import pytest
from click.testing import CliRunner
from fixture_posts import write_post

import indexer
import webui
from indexer import cli
from indexer.titles import display_title

MIRRORED = "两部门合力助_双减_：鼓励科技馆向中小学生开放"
BODY = "<p>教育部办公厅印发通知，利用科普资源助推“双减”工作，科技馆向中小学生优惠开放。</p>"


@pytest.mark.parametrize(
    ("title", "text", "shown"),
    [
        (MIRRORED, "助推“双减”工作", "两部门合力助“双减”：鼓励科技馆向中小学生开放"),
        (MIRRORED, '助推"双减"工作', "两部门合力助“双减”：鼓励科技馆向中小学生开放"),
        ("上阵_父子兵_", "上阵‘父子兵’，守护", "上阵“父子兵”"),
        ("产业迎来_无废城市_和_黄金期_", "“无废城市”建设进入“黄金期”", "产业迎来“无废城市”和“黄金期”"),
        ("推进情况_展示台__曝光台_", "设立“展示台”和“曝光台”", "推进情况“展示台”“曝光台”"),
        # The text does not quote the words: the underscores stay.
        (MIRRORED, "助推双减工作", MIRRORED),
        ("_General_ CAPCOM 公布年度財報", "CAPCOM 公布 General 財報", "_General_ CAPCOM 公布年度財報"),
        ("演出 18_15～19_45回", "18:15 开演", "演出 18_15～19_45回"),
        ("_R_ WORLD Live", "他说“R”代表", "_R_ WORLD Live"),  # one character is no evidence
        ("没有下划线", "“没有”", "没有下划线"),
        ("", "text", ""),
    ],
)
def test_display_title(title, text, shown):
    assert display_title(title, text) == shown


@pytest.fixture(scope="module")
def mirrored_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("mirrored")
    write_post(root / "posts" / "教育", "a.md", title=MIRRORED, body=BODY)
    indexer.reindex(root / "posts", root / "ix", jobs=1)
    return root / "ix"


def test_hits_and_articles_show_the_quotes_stored_title_unchanged(mirrored_index):
    with indexer.open_index(mirrored_index) as ix:
        hit = ix.search("双减").hits[0]
        assert hit.title.text == "两部门合力助“双减”：鼓励科技馆向中小学生开放"
        assert [hit.title.text[s:e] for s, e in hit.title.spans] == ["双减"]
        article = ix.get(hit.id)
        assert article.title == MIRRORED  # the stored title stays as it was
        assert article.display_title == hit.title.text
        assert ix.search("两部门合力助").total == 1


def test_page_api_and_cli_show_the_quotes(mirrored_index):
    shown = "两部门合力助“双减”：鼓励科技馆向中小学生开放"
    client = webui.create_app({"TESTING": True, "INDEX_DIR": str(mirrored_index)}).test_client()
    page = client.get("/?q=双减").get_data(as_text=True)
    assert "两部门合力助“<mark" in page and "_双减_" not in page
    found = client.get("/api/search?q=双减").get_json()["hits"][0]
    assert found["title_text"] == shown
    article = client.get(f"/api/article/{found['id']}").get_json()
    assert article["title"] == shown
    html = client.get(f"/article/{found['id']}").get_data(as_text=True)
    assert f"<title>{shown} · " in html and "_双减_" not in html
    result = CliRunner().invoke(cli.main, ["search", "双减", "--index", str(mirrored_index)])
    assert result.exit_code == 0 and shown in result.output
