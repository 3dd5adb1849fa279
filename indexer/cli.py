"""Command line: `reindex` and `zhsearch` (search, stats, serve, reindex).

Each command parses its options, calls one core function and prints the result.
"""

import json
import sys
from dataclasses import asdict

import click

from . import config
from .errors import SearchEngineError
from .search import open_index
from .serialize import page_json

index_option = click.option(
    "--index",
    "index_dir",
    default=str(config.INDEX_DIR),
    show_default=True,
    envvar=f"{config.ENV_PREFIX}_INDEX_DIR",
    type=click.Path(file_okay=False),
    help="Index folder (env ZHSEARCH_INDEX_DIR).",
)


timezone_option = click.option(
    "--timezone",
    "tz",
    default=config.TIMEZONE,
    show_default=True,
    envvar=f"{config.ENV_PREFIX}_TIMEZONE",
    help="Display time zone: dates are shown, filtered and counted per month in it (env ZHSEARCH_TIMEZONE).",
)


class _ExitTwo(click.ClickException):
    exit_code = 2


@click.command(name="reindex")
@click.argument("source", required=False, envvar=f"{config.ENV_PREFIX}_SOURCE_DIR", type=click.Path(file_okay=False))
@index_option
@click.option("--full", is_flag=True, help="Rebuild from scratch beside the old index, then switch atomically.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: all cores).")
@click.option(
    "--user-dict",
    type=click.Path(dir_okay=False),
    envvar=f"{config.ENV_PREFIX}_USER_DICT",
    help="jieba user dictionary for domain words (changing it needs --full).",
)
@click.option("--allow-empty", is_flag=True, help="Let a source with no readable posts empty an index that has posts.")
@click.option("--optimize", is_flag=True, help="Also compact the index: one segment, deleted posts dropped.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary; failures still go to stderr.")
def reindex_command(source, index_dir, full, jobs, user_dict, allow_empty, optimize, as_json, quiet):
    """Index the posts under SOURCE (default: the built-in demo posts, or $ZHSEARCH_SOURCE_DIR).

    Incremental: new posts are added, changed ones updated, vanished ones
    deleted. Exit status: 0 all posts indexed, 1 some posts failed (listed),
    2 usage or configuration error, or the index is busy.

    \b
    Example:
        reindex ~/blog/source/_posts --index index_data
    """
    from .indexing import reindex as core_reindex  # the write side, loaded only here

    source = source or str(config.DEMO_POSTS_DIR)
    bar = _ProgressBar(enabled=not quiet and not as_json and sys.stderr.isatty())
    try:
        report = core_reindex(
            source,
            index_dir,
            full=full,
            jobs=jobs,
            user_dict=user_dict,
            progress=bar.update,
            allow_empty=allow_empty,
            optimize=optimize,
        )
    except SearchEngineError as exc:  # bad source or settings, busy, disk full, damaged index
        raise _ExitTwo(str(exc)) from None
    finally:
        bar.close()
    for failure in report.failed:
        click.echo(f"failed: {failure.path}: {failure.reason}", err=True)
    if not quiet and not as_json:  # the JSON report lists them
        for path, message in report.warnings:
            click.echo(f"warning: {path}: {message}", err=True)
    if as_json:
        click.echo(json.dumps(_report_dict(report), ensure_ascii=False, indent=2))
    elif not quiet:
        click.echo(report.summary())
    sys.exit(1 if report.failed else 0)


@click.group()
@click.version_option(package_name="zhsearch")
def main():
    """zhsearch: Chinese full-text search for Hexo news archives."""


main.add_command(reindex_command)


@main.command()
@click.argument("query")
@index_option
@timezone_option
@click.option(
    "--limit", type=click.IntRange(min=1), default=config.PAGE_SIZE, show_default=True, help="Results to show."
)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page of results.")
@click.option("--category", default=None, help="Only posts in this category.")
@click.option("--from", "date_from", default=None, help="Only posts on or after this date (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Only posts on or before this date (YYYY-MM-DD).")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (the same fields as /api/search).")
def search(query, index_dir, tz, limit, page, category, date_from, date_to, sort, as_json):
    """Search the index and print ranked results with the matches highlighted.

    Matches are coloured on a terminal and plain when the output is piped.

    \b
    Example:
        zhsearch search 课后服务 --limit 5
        zhsearch search '"双减" -广告' --category 教育
    """
    names = {"date_from": "--from", "date_to": "--to", "per_page": "--limit", "page": "--page", "q": "QUERY"}
    try:
        with open_index(index_dir, timezone=tz) as ix:
            result = ix.search(
                query,
                page=page,
                per_page=limit,
                category=category,
                date_from=date_from,
                date_to=date_to,
                sort=sort,
                names=names,
            )
    except SearchEngineError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(page_json(result), ensure_ascii=False, indent=2))
        return
    color = sys.stdout.isatty()
    noun = "result" if result.total == 1 else "results"
    click.echo(f"{result.total} {noun} for {query!r} ({result.took_ms:.0f} ms)")
    if result.note:
        click.echo(result.note)
    for rank, hit in enumerate(result.hits, start=(page - 1) * limit + 1):
        when = hit.date.astimezone(ix.tz).date().isoformat() if hit.date else "no date"
        click.echo(f"\n{rank}. {_terminal(hit.title, color)}  [{when}] {' / '.join(hit.categories)}")
        click.echo(f"   {_terminal(hit.snippet, color)}")
        click.echo(f"   {hit.path}")


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
def stats(index_dir, as_json):
    """Show post count, size on disk, last reindex and top categories.

    \b
    Example:
        zhsearch stats --index index_data
    """
    try:
        with open_index(index_dir) as ix:
            info = ix.stats()
    except SearchEngineError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(_to_json(asdict(info)), ensure_ascii=False, indent=2))
        return
    click.echo(f"Index:        {info.index_dir} (generation {info.generation})")
    click.echo(f"Posts:        {info.posts}")
    click.echo(f"Size on disk: {info.size_bytes / 1024 / 1024:.1f} MB")
    click.echo(f"Source:       {info.source_dir or 'unknown'}")
    click.echo(f"Last reindex: {info.last_reindex.isoformat(timespec='seconds') if info.last_reindex else 'never'}")
    click.echo("Top categories:")
    for name, count in info.top_categories:
        click.echo(f"  {count:6d}  {name}")


@main.command()
@index_option
@click.option("--host", default="127.0.0.1", show_default=True, envvar=f"{config.ENV_PREFIX}_HOST")
@click.option(
    "--port", default=5000, show_default=True, type=click.IntRange(1, 65535), envvar=f"{config.ENV_PREFIX}_PORT"
)
@click.option("--threads", default=4, show_default=True, type=click.IntRange(min=1), help="Request threads.")
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    envvar=f"{config.ENV_PREFIX}_WORKERS",
    help="Worker processes; above 1, gunicorn serves with one process per core (env ZHSEARCH_WORKERS).",
)
def serve(index_dir, host, port, threads, workers):
    """Serve the search page and JSON API with waitress, or gunicorn with --workers.

    Python runs one thread at a time per process, so threads share one core; to use
    every core, give one worker per core (--workers $(nproc)).

    Every ZHSEARCH_* setting applies as it does under `flask --app webui run`
    (ZHSEARCH_TIMEZONE, ZHSEARCH_PAGE_SIZE, ...); --index overrides ZHSEARCH_INDEX_DIR.

    \b
    Example:
        zhsearch serve --index index_data --port 8080
        zhsearch serve --index index_data --workers 4
    """
    from webui import serve as serve_app  # the web layer is optional for library users

    serve_app(index_dir, host=host, port=port, threads=threads, workers=workers)


def reindex_main():
    """Entry point of the `reindex` console script."""
    reindex_command()


class _ProgressBar:
    def __init__(self, enabled):
        self.enabled = enabled
        self.bar = None
        self.done = 0

    def update(self, done, total):
        if not self.enabled:
            return
        if self.bar is None:
            self.bar = click.progressbar(length=total, label="Indexing", file=sys.stderr, show_pos=True)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


def _terminal(marked, color):
    """Marked text for a terminal: matches bold yellow when `color`, else plain."""
    if not color:
        return marked.text
    text, parts, at = marked.text, [], 0
    for start, end in marked.spans:
        parts += [text[at:start], click.style(text[start:end], fg="yellow", bold=True)]
        at = end
    return "".join(parts + [text[at:]])


def _report_dict(report):
    data = asdict(report)
    data["failed"] = [{"path": f.path, "reason": f.reason} for f in report.failed]
    data["warnings"] = [{"path": p, "message": m} for p, m in report.warnings]
    return data


def _to_json(value):
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
