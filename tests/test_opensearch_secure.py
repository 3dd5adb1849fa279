"""The OpenSearch backend against a secured node: HTTPS, a login, and one clear error when either is wrong.

Starts its own node with `scripts/opensearch up --secure` (the opensearch-security plugin, in a
temporary folder, on port 9600 and transport 9700) so CI's plain node stays as it is. Needs Java 17,
Maven and openssl, as scripts/opensearch does.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import indexer
from indexer import BackendUnavailableError, config
from indexer.cli import main, reindex_command

pytestmark = pytest.mark.opensearch

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "opensearch"
PORT = int(os.environ.get("ZHSEARCH_TEST_SECURE_PORT", "9600"))
PASSWORD = "zhsearch-Test-1"
LOGIN = {"username": "admin", "password": PASSWORD}

# A whole sentence's words from the demo posts, and the posts that hold them.
QUERY = "人工智能"
EXPECTED = {
    "教育/示例日报/教育新闻/南屿大学新增人工智能与集成电路两个本科专业.md",
    "教育/示例日报/港台教育/本港中學推動人工智能課程 學界籲加強師資培訓.md",
    "科技/样例科技网/前沿科技/人工智能批改作业走进课堂 教师：工具不能替代育人.md",
}


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    """(URL, CA certificate file) of a secured one-node cluster, stopped and wiped at the end."""
    folder = tmp_path_factory.mktemp("secured")
    up = subprocess.run(
        [str(SCRIPT), "up", "--secure", "--password", PASSWORD, "--dir", str(folder), "--port", str(PORT)]
        + ["--heap", "512m", "--wipe"],
        capture_output=True,
        text=True,
    )
    if up.returncode != 0:
        pytest.skip(f"cannot start a secured node: {up.stderr[-600:]}")
    try:
        yield up.stdout.split()[-1], str(folder / "certs" / "ca.pem")
    finally:
        subprocess.run([str(SCRIPT), "down", "--dir", str(folder), "--wipe"], capture_output=True)


@pytest.fixture(scope="module")
def secured_demo(secured):
    url, ca = secured
    report = indexer.reindex(config.DEMO_POSTS_DIR, url, index_name="demo", jobs=1, ca_certs=ca, **LOGIN)
    assert report.added > 0 and not report.failed
    return indexer.open_index(url, index_name="demo", ca_certs=ca, **LOGIN)


def test_the_node_answers_on_https_only_with_a_login(secured):
    url, ca = secured
    assert url == f"https://127.0.0.1:{PORT}"
    with pytest.raises(BackendUnavailableError, match="refused the credentials; check --username and --password"):
        indexer.open_index(url, index_name="demo", ca_certs=ca).search(QUERY)


def test_search_finds_the_demo_posts(secured_demo, demo_search):
    page = secured_demo.search(QUERY)
    assert EXPECTED <= {hit.path for hit in page.hits}
    assert sorted(secured_demo.ids(QUERY)) == sorted(demo_search.ids(QUERY))
    assert secured_demo.stats().posts == demo_search.stats().posts


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"password": "wrong"}, "refused the credentials; check --username and --password"),
        ({"ca_certs": None}, "CERTIFICATE_VERIFY_FAILED.*pass --ca-certs, or --no-verify-tls"),
    ],
)
def test_a_wrong_password_or_an_untrusted_certificate_is_a_clear_error(secured, secured_demo, options, message):
    url, ca = secured
    settings = {"ca_certs": ca, **LOGIN, **options}
    with pytest.raises(BackendUnavailableError, match=message):
        indexer.open_index(url, index_name="demo", **settings).search(QUERY)


def test_not_verifying_the_certificate_still_logs_in(secured, secured_demo):
    url, _ = secured
    ix = indexer.open_index(url, index_name="demo", verify_tls=False, **LOGIN)
    assert ix.search(QUERY).total == secured_demo.search(QUERY).total


def test_cli_reindex_and_search_with_login_and_ca(secured):
    url, ca = secured
    runner = CliRunner()
    login = ["--url", url, "--index-name", "cli", "--username", "admin", "--password", PASSWORD]
    result = runner.invoke(reindex_command, [str(config.DEMO_POSTS_DIR), *login, "--ca-certs", ca])
    assert result.exit_code == 0, result.output
    assert f"into cli on {url}" in result.output
    result = runner.invoke(main, ["search", QUERY, *login, "--ca-certs", ca, "--json"])
    assert result.exit_code == 0, result.output
    assert EXPECTED <= {hit["path"] for hit in json.loads(result.output)["hits"]}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--password", "wrong", "--ca-certs", "CA"], "Error: OpenSearch at {url} refused the credentials"),
        (["--password", PASSWORD], "Error: TLS to OpenSearch at {url} failed"),
    ],
)
def test_cli_names_a_wrong_password_or_a_missing_ca(secured, extra, message):
    url, ca = secured
    args = ["search", QUERY, "--url", url, "--index-name", "cli", "--username", "admin"]
    result = CliRunner().invoke(main, args + [ca if a == "CA" else a for a in extra])
    assert result.exit_code == 1
    assert message.format(url=url) in result.output
    assert "Traceback" not in result.output
    assert result.output.count("certificate verify failed") <= 1  # the reason once, not repeated
