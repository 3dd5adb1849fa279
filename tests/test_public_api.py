"""The library's surface and the seams between the core's parts."""

import ast
import subprocess
import sys
import types
from pathlib import Path

import click

import indexer
from indexer import cli

ROOT = Path(__file__).resolve().parents[1]


def test_all_is_sorted_and_complete():
    assert indexer.__all__ == sorted(indexer.__all__)
    public = {name for name in dir(indexer) if not name.startswith("_")}
    modules = {name for name in public if isinstance(getattr(indexer, name), types.ModuleType)}
    assert public - modules == set(indexer.__all__)


def test_every_command_has_help():
    commands = [cli.main, *cli.main.commands.values()]
    for command in commands:
        assert command.help, f"{command.name} has no help"
        assert isinstance(command, click.Command)


def test_library_entry_points_are_the_core():
    from indexer.indexing import reindex
    from indexer.search import open_index

    assert indexer.reindex is reindex
    assert indexer.open_index is open_index


def test_searching_loads_nothing_of_the_write_side(demo_index):
    script = (
        "import sys, indexer\n"
        f"page = indexer.open_index({str(demo_index)!r}).search('课后服务')\n"
        "assert page.total > 0, page\n"
        "print(sorted(m for m in ('bs4', 'lxml', 'markdown_it', 'yaml', 'multiprocessing', 'indexer.ingest',"
        " 'indexer.indexing', 'indexer.clean', 'indexer.backends.whoosh.writer', 'indexer.duplicates',"
        " 'datasketch') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_only_the_whoosh_backend_imports_whoosh():
    backend = ROOT / "indexer" / "backends" / "whoosh"
    files = sorted((ROOT / "indexer").rglob("*.py")) + sorted((ROOT / "webui").rglob("*.py"))
    importers = {
        f.relative_to(ROOT).as_posix()
        for f in files
        if any(m == "whoosh" or m.startswith("whoosh.") for m in _imports(f))
    }
    assert importers and all(name.startswith(backend.relative_to(ROOT).as_posix()) for name in importers), importers


def test_private_whoosh_names_stay_in_the_adapter():
    backend = ROOT / "indexer" / "backends" / "whoosh"
    private = (
        "._finalize_segment",
        "._commit_toc",
        "._merge_segments",
        "._read_ids",
        "._terms",
        "._text(",
        "._close_segment",
        "._finish",
    )
    users = {f.name for f in backend.glob("*.py") if any(p in f.read_text(encoding="utf-8") for p in private)}
    assert users == {"adapter.py"}


def test_web_faces_use_only_the_public_api():
    for path in sorted((ROOT / "webui").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and node.module
                and node.module.startswith("indexer")
            ):
                assert node.module == "indexer" and all(
                    a.name in indexer.__all__ or a.name == "config" for a in node.names
                ), (path.name, node.module)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "indexer":
                assert node.attr in indexer.__all__, (path.name, node.attr)
