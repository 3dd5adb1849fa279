import json
import re
from datetime import datetime, timezone
from email.utils import format_datetime

import pytest
from click.testing import CliRunner
from fixture_posts import write_post

from indexer import cli
from indexer.store import WriterLock as _WriterLock


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def posts(tmp_path):
    root = tmp_path / "posts"
    write_post(root, "教育/a.md", title="课后服务覆盖全市", body="<p>全市学校开展课后服务。</p>")
    write_post(root, "教育/b.md", title="双减一周年", body="<p>双减政策实施一年。</p>")
    return root


def test_reindex_prints_one_summary_line_and_exits_0(runner, posts, tmp_path):
    result = runner.invoke(cli.reindex_command, [str(posts), "--index", str(tmp_path / "ix"), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert "2 added, 0 updated, 0 deleted, 0 unchanged, 0 failed" in lines[0]


def test_reindex_json_and_quiet(runner, posts, tmp_path):
    index = str(tmp_path / "ix")
    result = runner.invoke(cli.reindex_command, [str(posts), "--index", index, "--json"])
    report = json.loads(result.output)
    assert report["added"] == 2 and report["failed"] == []
    quiet = runner.invoke(cli.reindex_command, [str(posts), "--index", index, "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""


def test_reindex_exit_1_lists_failures_and_indexes_the_rest(runner, posts, tmp_path):
    (posts / "bad.md").write_bytes(b"\x00\x01binary")
    result = runner.invoke(cli.reindex_command, [str(posts), "--index", str(tmp_path / "ix")])
    assert result.exit_code == 1
    assert "failed: bad.md: file contains NUL bytes" in result.output
    assert "2 added" in result.output


def test_reindex_exit_2_on_bad_source_or_busy_index(runner, posts, tmp_path):
    missing = runner.invoke(cli.reindex_command, [str(tmp_path / "nope"), "--index", str(tmp_path / "ix")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    runner.invoke(cli.reindex_command, [str(posts), "--index", str(tmp_path / "ix")])
    with _WriterLock(tmp_path / "ix"):
        busy = runner.invoke(cli.reindex_command, [str(posts), "--index", str(tmp_path / "ix")])
    assert busy.exit_code == 2 and "is being updated by process" in busy.output


def test_reindex_without_source_uses_env_then_demo_posts(runner, posts, tmp_path, monkeypatch):
    monkeypatch.setenv("ZHSEARCH_SOURCE_DIR", str(posts))
    result = runner.invoke(cli.reindex_command, ["--index", str(tmp_path / "ix"), "--json"])
    assert json.loads(result.output)["added"] == 2
    monkeypatch.delenv("ZHSEARCH_SOURCE_DIR")
    demo = runner.invoke(cli.reindex_command, ["--index", str(tmp_path / "demo"), "--json"])
    assert json.loads(demo.output)["added"] >= 25


def test_search_prints_ranked_results(runner, demo_index):
    result = runner.invoke(cli.main, ["search", "课后服务", "--index", str(demo_index), "--limit", "3"])
    assert result.exit_code == 0
    assert "results for '课后服务'" in result.output
    assert "\n1. " in result.output and "\n3. " in result.output and "\n4. " not in result.output
    assert "<mark" not in result.output and "课后服务" in result.output


def test_search_json(runner, demo_index):
    result = runner.invoke(cli.main, ["search", "双减", "--index", str(demo_index), "--json"])
    data = json.loads(result.output)
    assert data["total"] >= 4 and data["hits"][0]["title"]


def test_search_errors_are_one_line(runner, demo_index, tmp_path):
    missing = runner.invoke(cli.main, ["search", "双减", "--index", str(tmp_path / "none")])
    assert missing.exit_code == 1 and 'Run "reindex" first' in missing.output
    long = runner.invoke(cli.main, ["search", "课" * 10_000, "--index", str(demo_index)])
    assert long.exit_code == 1 and "too long" in long.output


def test_stats(runner, demo_index):
    result = runner.invoke(cli.main, ["stats", "--index", str(demo_index)])
    assert result.exit_code == 0
    assert "Posts:" in result.output and "Top categories:" in result.output
    data = json.loads(runner.invoke(cli.main, ["stats", "--index", str(demo_index), "--json"]).output)
    assert data["posts"] >= 25


def test_search_json_has_the_fields_of_the_api(runner, demo_index):
    import webui

    result = runner.invoke(cli.main, ["search", "课后服务", "--index", str(demo_index), "--json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    client = webui.create_app({"TESTING": True, "INDEX_DIR": str(demo_index)}).test_client()
    served = client.get("/api/search", query_string={"q": "课后服务", "per_page": 5}).get_json()
    assert printed.keys() == served.keys()
    assert [h.keys() for h in printed["hits"]] == [h.keys() for h in served["hits"]]
    skip = {"took_ms"}
    assert {k: v for k, v in printed.items() if k not in skip} == {k: v for k, v in served.items() if k not in skip}


def test_search_colours_matches_only_on_a_terminal(demo_index):
    from indexer.cli import _terminal
    from indexer.models import Marked

    marked = Marked("课后服务全面覆盖", ((0, 4),))
    assert _terminal(marked, color=False) == "课后服务全面覆盖"
    assert _terminal(marked, color=True) == "\x1b[33m\x1b[1m课后服务\x1b[0m全面覆盖"


def test_one_result_is_singular_and_dates_are_in_the_display_zone(runner, tmp_path):
    write_post(tmp_path / "posts", "a.md", title="唯一的文章", date="2022-05-31T20:00:00Z")
    assert runner.invoke(cli.main, ["reindex", str(tmp_path / "posts"), "--index", str(tmp_path / "ix")]).exit_code == 0
    result = runner.invoke(cli.main, ["search", "唯一", "--index", str(tmp_path / "ix")])
    assert result.output.splitlines()[0].startswith("1 result for '唯一'")
    assert "[2022-06-01]" in result.output  # 04:00 in Beijing
    utc = runner.invoke(cli.main, ["search", "唯一", "--index", str(tmp_path / "ix"), "--timezone", "UTC"])
    assert "[2022-05-31]" in utc.output


# ── search --since: new matches since a day ───────────────────────────────────


def _gmt(*parts):
    return format_datetime(datetime(*parts, tzinfo=timezone.utc), usegmt=True)


@pytest.fixture
def dated_index(tmp_path, runner):
    """Posts about 潮汐电站 around 1 May 2022 (Beijing time), the most relevant one the oldest."""
    root = tmp_path / "dated"
    tide = "潮汐电站"
    # 23:30 on 30 April in Beijing: before the day.
    write_post(
        root, "能源/a.md", title=f"{tide}开工", body=f"<p>{tide}工程今天开工。</p>", date=_gmt(2022, 4, 30, 15, 30)
    )
    # 00:10 on 1 May in Beijing (still 30 April in UTC); the query in the title and thrice in the text.
    write_post(
        root,
        "能源/b.md",
        title=f"{tide}首台机组并网",
        body=f"<p>{tide}首台机组并网发电。{tide}装机容量不大，{tide}运行平稳。</p>",
        date=_gmt(2022, 4, 30, 16, 10),
    )
    write_post(
        root, "能源/c.md", title="海岛用电有了新来源", body=f"<p>附近的{tide}开始供电。</p>", date=_gmt(2022, 6, 10, 2)
    )
    write_post(root, "能源/d.md", title="海上风电项目投产", body="<p>风电项目全部投产。</p>", date=_gmt(2022, 5, 20, 2))
    index = str(tmp_path / "dated_ix")
    result = runner.invoke(cli.reindex_command, [str(root), "--index", index, "--quiet"])
    assert result.exit_code == 0, result.output
    return index


def _titles(output):
    """The titles of the ranked results in `zhsearch search` text output, in order."""
    return re.findall(r"^\d+\. (.+?)  \[", output, flags=re.M)


def test_search_since_lists_new_matches_newest_first(runner, dated_index):
    result = runner.invoke(cli.main, ["search", "潮汐电站", "--index", dated_index, "--since", "2022-05-01"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2 results for '潮汐电站' since 2022-05-01")
    # Newest first, though the older post is the more relevant; 23:30 on 30 April is left out.
    assert _titles(result.output) == ["海岛用电有了新来源", "潮汐电站首台机组并网"]
    assert "[2022-06-10]" in result.output and "[2022-05-01]" in result.output

    relevance = runner.invoke(
        cli.main, ["search", "潮汐电站", "--index", dated_index, "--since", "2022-05-01", "--sort", "relevance"]
    )
    assert _titles(relevance.output) == ["潮汐电站首台机组并网", "海岛用电有了新来源"]


def test_search_since_json_and_the_display_time_zone(runner, dated_index):
    args = ["search", "潮汐电站", "--index", dated_index, "--since", "2022-05-01", "--json"]
    data = json.loads(runner.invoke(cli.main, args).output)
    assert data["sort"] == "date" and data["total"] == 2
    assert [hit["title_text"] for hit in data["hits"]] == ["海岛用电有了新来源", "潮汐电站首台机组并网"]
    # In UTC the post at 00:10 Beijing time is still 30 April.
    utc = json.loads(runner.invoke(cli.main, [*args, "--timezone", "UTC"]).output)
    assert [hit["title_text"] for hit in utc["hits"]] == ["海岛用电有了新来源"]
    everything = json.loads(runner.invoke(cli.main, [*args[:4], "--json"]).output)
    assert everything["total"] == 3


@pytest.mark.parametrize(
    ("extra", "exit_code", "message"),
    [
        (["--since", "2022-5-1"], 1, "Error: --since must be a date written YYYY-MM-DD, not '2022-5-1'."),
        (["--since", "2022-02-30"], 1, "Error: --since must be a date written YYYY-MM-DD, not '2022-02-30'."),
        (["--since", "2022-06-01", "--to", "2022-05-01"], 1, "--since (2022-06-01) is after --to (2022-05-01)"),
        (["--since", "2022-05-01", "--from", "2022-01-01"], 2, "--since and --from both set the first day"),
    ],
)
def test_search_since_bad_date_names_the_option(runner, dated_index, extra, exit_code, message):
    result = runner.invoke(cli.main, ["search", "潮汐电站", "--index", dated_index, *extra])
    assert result.exit_code == exit_code
    assert message in result.output
