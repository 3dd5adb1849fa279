"""Turn one post file into a Post record, or a Failure saying why not.

    file bytes ──sources.read_text──▶ text ──frontmatter.split/parse──▶ Meta + body
                                            body ──clean.clean_body──▶ clean text, credits, image
    Post + its feed's FeedTemplates ──apply_templates──▶ Post without the learnt boilerplate

``read_post`` applies the hand-written rules only; what a feed repeats is learnt from all its
posts (``boilerplate.learn`` on ``Post.text``'s paragraphs) and taken out by ``apply_templates``
at index time, once the feed's templates are known.
"""

import dataclasses
import hashlib
import os
from pathlib import PurePosixPath

from . import boilerplate, frontmatter
from .clean import clean_body
from .errors import PostParseError
from .models import Failure, Post, feed_of, post_id
from .sources import SourceFile, read_text


@dataclasses.dataclass(frozen=True)
class TemplateNote:
    """What apply_templates did to one post."""

    feed: str
    removed: tuple[str, ...] = ()  # the paragraphs or lines taken out
    skipped: str | None = None  # why matching templates were not applied (too much of the post)

    def __str__(self):
        if self.skipped:
            return self.skipped
        chars = sum(len(r) for r in self.removed)
        return f"removed {len(self.removed)} learnt template paragraph(s) of feed {self.feed!r} ({chars} characters)"


def read_post(source):
    """Ingest one SourceFile. Never raises for a bad post: returns a Failure instead."""
    try:
        return _read_post(source)
    except PostParseError as exc:
        return Failure(source.relpath, exc.reason)
    except frontmatter.FrontMatterError as exc:
        return Failure(source.relpath, str(exc))
    except RecursionError:
        return Failure(source.relpath, "HTML is nested too deeply to read")
    except OSError as exc:
        return Failure(source.relpath, f"cannot read the file: {exc.strerror or exc}")


def read_post_at(root, relpath):
    """Ingest the post at `relpath` under `root` (a convenience for tests and tools)."""
    abspath = os.path.join(root, relpath)
    st = os.stat(abspath)
    return read_post(SourceFile(relpath, abspath, st.st_size, st.st_mtime_ns))


def _read_post(source):
    text, decode_warning = read_text(source.abspath)
    fm_text, body = frontmatter.split(text)
    stem = PurePosixPath(source.relpath).stem.strip()
    meta = frontmatter.parse(fm_text, fallback_title=stem, body=body)
    feed = feed_of(source.relpath)
    cleaned = clean_body(body, feed=feed)
    warnings = meta.warnings + ((decode_warning,) if decode_warning else ())
    if not text.strip():
        warnings += ("the file is empty; indexed under its file name",)
    # This mirror writes the site's name as the author (it is also a category): a person the
    # body credits is the better author, and the site stays findable by its category.
    author = meta.author
    if cleaned.author and (author is None or author in meta.categories):
        author = cleaned.author
    return Post(
        id=post_id(source.relpath),
        path=source.relpath,
        title=meta.title,
        text=cleaned.text,
        categories=meta.categories,
        tags=meta.tags,
        author=author,
        editor=cleaned.editor,
        source=cleaned.source,
        date=meta.date,
        image=meta.image or cleaned.image,
        feed=feed,
        size=source.size,
        mtime=source.mtime_ns / 1e9,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        warnings=warnings,
    )


def apply_templates(post, templates):
    """Return (post without its feed's learnt templates, TemplateNote or None).

    `templates` is the FeedTemplates of ``post.feed`` (None or empty: the post is returned as
    is). The note is None when no template matched; otherwise it lists what was removed, or
    says why nothing was (``note.skipped``: the templates would take too much of the post).

    :raises ValueError: if the templates were learnt for another feed.
    """
    if templates is None or not templates.templates:
        return post, None
    if templates.feed != post.feed:
        raise ValueError(f"templates of feed {templates.feed!r} given for a post of feed {post.feed!r}")
    result = boilerplate.strip(post.text.split("\n\n") if post.text else [], templates)
    if result.skipped:
        return post, TemplateNote(templates.feed, skipped=result.skipped)
    if not result.removed:
        return post, None
    cleaned = dataclasses.replace(post, text="\n\n".join(result.kept))
    return cleaned, TemplateNote(templates.feed, removed=tuple(result.removed))
