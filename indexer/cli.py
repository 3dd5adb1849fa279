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


synonyms_option = click.option(
    "--synonyms",
    default=None,
    envvar=f"{config.ENV_PREFIX}_SYNONYMS",
    type=click.Path(dir_okay=False),
    help="Synonym file (Solr format) searched besides the built-in list and learnt aliases (env ZHSEARCH_SYNONYMS).",
)


def _backend_options(writer=False):
    """Options that choose the backend and reach an OpenSearch cluster (added to every command)."""
    env = config.ENV_PREFIX
    options = [
        click.option(
            "--backend",
            type=click.Choice(["whoosh", "opensearch"]),
            default=None,
            envvar=f"{env}_BACKEND",
            help="whoosh (the index folder, default) or opensearch (default when --url is given).",
        ),
        click.option(
            "--url", default=None, envvar=f"{env}_URL", help="OpenSearch URL(s), comma-separated (env ZHSEARCH_URL)."
        ),
        click.option(
            "--index-name", default=None, envvar=f"{env}_INDEX_NAME", help="OpenSearch index (alias) name [zhsearch]."
        ),
        click.option(
            "--username", default=None, envvar=f"{env}_USERNAME", help="OpenSearch user (env ZHSEARCH_USERNAME)."
        ),
        click.option(
            "--password", default=None, envvar=f"{env}_PASSWORD", help="OpenSearch password (env ZHSEARCH_PASSWORD)."
        ),
        click.option(
            "--no-verify-tls", "no_verify_tls", is_flag=True, help="Do not check the cluster's TLS certificate."
        ),
        click.option(
            "--ca-certs", default=None, envvar=f"{env}_CA_CERTS", help="CA bundle for the cluster's certificate."
        ),
    ]
    if writer:
        options += [
            click.option(
                "--shards",
                type=click.IntRange(min=1),
                default=None,
                help="Primary shards of a new OpenSearch index [1].",
            ),
            click.option(
                "--replicas", type=click.IntRange(min=0), default=None, help="Replicas of a new OpenSearch index [0]."
            ),
        ]

    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _location(index_dir, backend, url, index_name, username, password, no_verify_tls, ca_certs, **create):
    """(location, keyword arguments for open_index/reindex) from the backend options."""
    if backend == "opensearch" and not url:
        raise click.UsageError("--backend opensearch needs --url (or ZHSEARCH_URL).")
    if url and backend != "whoosh":
        options = {"index_name": index_name, "username": username, "password": password, "ca_certs": ca_certs}
        if no_verify_tls:
            options["verify_tls"] = False
        return url, {"backend": "opensearch", **options, **create}
    return index_dir, {"backend": backend}


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
@_backend_options(writer=True)
def reindex_command(source, index_dir, full, jobs, user_dict, allow_empty, optimize, as_json, quiet, **backend):
    """Index the posts under SOURCE (default: the built-in demo posts, or $ZHSEARCH_SOURCE_DIR).

    Incremental: new posts are added, changed ones updated, vanished ones
    deleted. Exit status: 0 all posts indexed, 1 some posts failed (listed),
    2 usage or configuration error, or the index is busy.

    \b
    Example:
        reindex ~/blog/source/_posts --index index_data
        reindex ~/blog/source/_posts --url http://127.0.0.1:9200 --shards 3 --replicas 1
    """
    from .indexing import reindex as core_reindex  # the write side, loaded only here

    source = source or str(config.DEMO_POSTS_DIR)
    bar = _ProgressBar(enabled=not quiet and not as_json and sys.stderr.isatty())
    location, options = _location(index_dir, **backend)
    try:
        report = core_reindex(
            source,
            location,
            full=full,
            jobs=jobs,
            user_dict=user_dict,
            progress=bar.update,
            allow_empty=allow_empty,
            optimize=optimize,
            **options,
        )
    except SearchEngineError as exc:  # bad source or settings, busy, unreachable, disk full, damaged index
        raise _ExitTwo(str(exc)) from None
    finally:
        bar.close()
    for failure in report.failed:
        click.echo(f"failed: {failure.path}: {failure.reason}", err=True)
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
@click.option("--feed", default=None, help="Only posts in this feed folder or below it (e.g. 金融/新浪财经).")
@click.option("--from", "date_from", default=None, help="Only posts on or after this date (YYYY-MM-DD).")
@click.option("--to", "date_to", default=None, help="Only posts on or before this date (YYYY-MM-DD).")
@click.option(
    "--since",
    default=None,
    help="New matches: only posts on or after this date (YYYY-MM-DD), newest first unless --sort says.",
)
@click.option(
    "--sort", type=click.Choice(["relevance", "date"]), default=None, help="[default: relevance; date with --since]"
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON (the same fields as /api/search).")
@synonyms_option
@click.option("--no-expand", is_flag=True, help="Search only the words typed, not their aliases.")
@click.option(
    "--no-correct", is_flag=True, help="Never search a correction of the query instead (it is still suggested)."
)
@click.option("--no-collapse", is_flag=True, help="List every post, not each story (near-duplicates) once.")
@_backend_options()
def search(
    query,
    index_dir,
    tz,
    limit,
    page,
    category,
    feed,
    date_from,
    date_to,
    since,
    sort,
    as_json,
    synonyms,
    no_expand,
    no_correct,
    no_collapse,
    **backend,
):
    """Search the index and print ranked results with the matches highlighted.

    Matches are coloured on a terminal and plain when the output is piped.
    --since lists what is new: the matches dated on or after a day (in the
    display time zone), newest first.

    \b
    Example:
        zhsearch search 课后服务 --limit 5
        zhsearch search '"双减" -广告' --category 教育
        zhsearch search 课后服务 --since 2022-05-01
        zhsearch search 中小旗业 --no-correct
    """
    names = {
        "date_from": "--from",
        "date_to": "--to",
        "per_page": "--limit",
        "page": "--page",
        "q": "QUERY",
        "feed": "--feed",
    }
    if since is not None:
        if date_from is not None:
            raise click.UsageError("--since and --from both set the first day; give one of them.")
        date_from, names["date_from"] = since, "--since"
    sort = sort or ("date" if since is not None else "relevance")
    location, options = _location(index_dir, **backend)
    try:
        with open_index(location, timezone=tz, synonyms=synonyms, **options) as ix:
            result = ix.search(
                query,
                page=page,
                per_page=limit,
                category=category,
                feed=feed,
                date_from=date_from,
                date_to=date_to,
                sort=sort,
                names=names,
                expand=not no_expand,
                correct=not no_correct,
                collapse=not no_collapse,
            )
    except SearchEngineError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(page_json(result), ensure_ascii=False, indent=2))
        return
    color = sys.stdout.isatty()
    noun = "result" if result.total == 1 else "results"
    since_text = f" since {since.strip()}" if since is not None else ""
    stories = f", {result.stories} stories" if result.collapsed and result.stories < result.total else ""
    click.echo(f"{result.total} {noun}{stories} for {query!r}{since_text} ({result.took_ms:.0f} ms)")
    if result.note:
        click.echo(result.note)
    if result.suggestion and result.note_code != "corrected":
        click.echo(f"Did you mean: {result.suggestion}")
    if result.expansions:
        click.echo(f"also searched: {', '.join(result.expansions)}")
    for rank, hit in enumerate(result.hits, start=(page - 1) * limit + 1):
        when = hit.date.astimezone(ix.tz).date().isoformat() if hit.date else "no date"
        click.echo(f"\n{rank}. {_terminal(hit.title, color)}  [{when}] {' / '.join(hit.categories)}")
        click.echo(f"   {_terminal(hit.snippet, color)}")
        click.echo(f"   {hit.path}")
        if hit.similar:
            click.echo(f"   + {len(hit.similar)} similar:")
        for other in hit.similar:
            when = other.date.astimezone(ix.tz).date().isoformat() if other.date else "no date"
            click.echo(f"     {other.title}  [{when}] {other.feed or ''}")


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@_backend_options()
def stats(index_dir, as_json, **backend):
    """Show post count, size on disk, last reindex and top categories.

    \b
    Example:
        zhsearch stats --index index_data
    """
    location, options = _location(index_dir, **backend)
    try:
        with open_index(location, **options) as ix:
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
@click.argument("feed", required=False)
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the templates as JSON.")
def boilerplate(feed, index_dir, as_json):
    """List the boilerplate learnt from each feed's posts (all feeds, or FEED and the feeds under it).

    Text that recurs at the start or end of many posts of one feed (a byline,
    a reprint notice, a QR-code call) is learnt at reindex time and left out
    of the index. Feeds with too few posts learn nothing.

    \b
    Example:
        zhsearch boilerplate 科技/样例科技网/快讯
    """
    try:
        with open_index(index_dir) as ix:
            learnt = ix.boilerplate(feed)
    except SearchEngineError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([json.loads(t.to_json()) for t in learnt], ensure_ascii=False, indent=2))
        return
    if not learnt:
        click.echo(f"No feed {'matches ' + repr(feed) if feed else 'has been counted yet'}.")
    for templates in learnt:
        needed = f"each in at least {templates.threshold} posts" if templates.threshold else "too few posts to learn"
        click.echo(f"{templates.feed}: {len(templates.templates)} templates from {templates.posts} posts ({needed})")
        for t in templates.templates:
            click.echo(f"  {t.count:6d}  {t.kind:<5}  {'prefix ' if t.prefix else ''}{t.key}")


@main.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the aliases as JSON.")
def aliases(index_dir, as_json):
    """List the aliases learnt from the archive's text: a full name and the short name it defines.

    Posts introduce short names, as in 中国证券监督管理委员会（证监会） or
    特斯拉（Tesla）; reindex learns them, and a search for one also searches the
    other (below the posts with the words typed).

    \b
    Example:
        zhsearch aliases --index index_data
    """
    try:
        with open_index(index_dir) as ix:
            pairs = ix.aliases()
    except SearchEngineError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps([{"full": f, "short": s, "posts": n} for f, s, n in pairs], ensure_ascii=False, indent=2))
        return
    click.echo(f"{len(pairs)} alias{'es' if len(pairs) != 1 else ''} learnt")
    for full, short, n in pairs:
        click.echo(f"  {n:4d}  {full} = {short}")


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
@_backend_options()
def serve(index_dir, host, port, threads, workers, **backend):
    """Serve the search page and JSON API with waitress, or gunicorn with --workers.

    Python runs one thread at a time per process, so threads share one core; to use
    every core, give one worker per core (--workers $(nproc)).

    Every ZHSEARCH_* setting applies as it does under `flask --app webui run`
    (ZHSEARCH_TIMEZONE, ZHSEARCH_PAGE_SIZE, ...); --index overrides ZHSEARCH_INDEX_DIR,
    --url and the other OpenSearch options override ZHSEARCH_URL and the rest.

    \b
    Example:
        zhsearch serve --index index_data --port 8080
        zhsearch serve --index index_data --workers 4
        zhsearch serve --url http://127.0.0.1:9200 --index-name zhsearch
    """
    from webui import serve as serve_app  # the web layer is optional for library users

    location, options = _location(index_dir, **backend)
    serve_app(location, host=host, port=port, threads=threads, workers=workers, options=options)


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
