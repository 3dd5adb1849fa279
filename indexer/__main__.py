"""`python -m indexer` behaves like the `reindex` command."""

from .cli import reindex_main

if __name__ == "__main__":
    reindex_main()
