import click

import indexer
from indexer import cli


def test_all_is_sorted_and_complete():
    assert indexer.__all__ == sorted(indexer.__all__)
    public = {name for name in dir(indexer) if not name.startswith("_")}
    modules = {"boilerplate", "cli", "clean", "config", "errors", "frontmatter", "indexing", "ingest", "matching", "models", "query",
               "schema", "search", "sources", "tokenizer"}
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
