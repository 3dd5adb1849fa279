"""The search-engine interface: what a backend implements, and what it exchanges.

::

    faces (CLI, web, library)
        └── SearchIndex (search.py): checks parameters, parses the query,
            │   falls back to any-term, builds snippets and Hits
            └── SearchEngine      read side of one backend
    reindex (indexing.py): reads, cleans and analyses posts
        └── IndexWriter           write side of one backend

A backend indexes the token streams of :class:`indexer.analysis.AnalysedPost`
as given, and matches by these semantics, whatever its own objects:

- a clause is *verbatim* in a post when its token characters stand together,
  in order, in one of the clause's char streams (spaces and punctuation were
  never tokens); unquoted, it also *matches* where each of its jieba words is
  a token of one of its word streams (query.WORD_FIELDS / query.CHAR_FIELDS);
- a query matches where every required group has a matching clause (or, with
  ``require_all=False``, any group), and no excluded clause matches; posts
  where every group is verbatim are the *exact* tier;
- relevance order is the exact tier, then the rest, each by BM25 over the
  word streams (title boosted by TITLE_BOOST, metadata by META_BOOST) plus a
  proximity bonus; date order is newest first, undated last;
- the ``feed`` filter keeps posts whose feed path is the given folder or lies below it;
- totals, category facets, months and feeds count every match, not a page;
- every post has a story id (``Article.story``: its cluster of near-duplicates,
  see stories.py); ``EngineQuery.stories`` keeps the posts of the stories
  listed, and ``EngineResult.stories`` counts the distinct stories of the
  matches (exactly; OpenSearch: exactly below its cardinality threshold).

Backends: ``backends.whoosh`` (embedded, the default).
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo

from .models import Article
from .query import ParsedQuery

# A title match counts this many times a body match.
TITLE_BOOST = 3.0

# Categories and author describe a post; matching them counts less than its text.
META_BOOST = 0.5

# Words further apart than this (in word positions) get no proximity bonus.
PROXIMITY_SLOP = 8

# How much words found near each other count over the same words apart.
PHRASE_BOOST = 2.0


@dataclass(frozen=True)
class EngineQuery:
    """One search as a backend sees it: parsed, checked, dates as aware datetimes."""

    parsed: ParsedQuery
    category: str | None = None
    feed: str | None = None  # a feed folder path: posts whose feed is it or lies below it (models.in_feed)
    date_from: datetime | None = None  # inclusive, aware
    date_to: datetime | None = None  # inclusive, aware
    sort: str = "relevance"  # or "date"
    require_all: bool = True
    tz: tzinfo = timezone.utc  # months are counted in this zone
    deadline: float | None = None  # time.monotonic() past which the backend stops and returns what it has
    max_postings: int | None = None  # raise QueryError for a query that would read more postings
    stories: tuple[str, ...] | None = None  # only posts of these story ids (Article.story)


@dataclass(frozen=True)
class EngineHit:
    """One matching post with its score and tier."""

    post: Article
    score: float
    exact: bool
    similar: tuple[Article, ...] = ()  # the story's other matches, when results are collapsed (stories.py)


@dataclass(frozen=True)
class EngineResult:
    """A page of ranked matches with counts over all of them."""

    total: int
    hits: tuple[EngineHit, ...]
    facets: dict  # category -> matches, largest first
    months: dict  # "YYYY-MM" in the query's zone -> matches, in order
    feeds: dict = field(default_factory=dict)  # feed path (Post.feed) -> matches; posts without a feed left out
    partial: bool = False  # the deadline passed: some matches may be missing, or ranked unscored
    stories: int | None = None  # distinct story ids among the matches; None if the backend keeps none


class SearchEngine(ABC):
    """Read side of a backend. Safe to share between threads."""

    #: the Segmenter queries are cut with (the one the index was built with)
    segmenter = None

    @abstractmethod
    def search(self, query, offset, limit):
        """Return an EngineResult: the matches ranked, `limit` of them from `offset`, and counts."""

    @abstractmethod
    def ids(self, query):
        """Return the ids of every match, in result order."""

    @abstractmethod
    def get(self, post_id):
        """Return the Article with this id; raise PostNotFoundError if there is none."""

    @abstractmethod
    def more_like(self, post_id, limit):
        """Return up to `limit` EngineHits most like the post `post_id`, best first."""

    def related(self, post_id, terms, limit):
        """Return up to `limit` EngineHits ranked by weighted key terms, best first, without the post itself.

        :param terms: KeyTerm records (related.py): normalised jieba words and their
            weights; rank posts by BM25 of the words in title and text, each word's
            score multiplied by its weight.

        The default is the backend's own ``more_like``; backends should override it.
        """
        return [hit for hit in self.more_like(post_id, limit + 1) if hit.post.id != post_id][:limit]

    def doc_frequencies(self, words):
        """Return {word: number of posts with the word in title or text} for normalised jieba words.

        The default knows none ({}): related.key_terms then weighs words by their counts and
        jieba's general IDF only, and cannot leave out words the archive itself repeats.
        """
        return {}

    @abstractmethod
    def suggest(self, chars, limit):
        """Return up to `limit` titles in whose char stream `chars` (token characters) stand together."""

    @abstractmethod
    def stats(self, tz=timezone.utc):
        """Return IndexStats (post count, size, last reindex, top categories)."""

    @property
    @abstractmethod
    def generation(self):
        """Number of the live generation (changes with every full rebuild)."""

    @property
    @abstractmethod
    def doc_count(self):
        """Number of posts in the index."""

    def close(self):  # noqa: B027 (a backend with nothing to release keeps this)
        """Release files and connections."""

    def read_blob(self, name):
        """A text the writer stored with the index under `name` (see IndexWriter.stage_blob), or None."""
        return None

    def blob_stamp(self, name):
        """A value that changes whenever the text under `name` does, cheaper to get than the text.

        Callers that keep what they made of a blob re-read it only when its stamp
        changes. None: the backend cannot tell, read the text.
        """
        return None

    def vocabulary(self):
        """{jieba word: posts it occurs in} over titles and texts (for pinyin readings); {} if not kept."""
        return {}

    def state(self):
        """A value that changes whenever what searches see changes (a commit, a new generation)."""
        return self.generation

    def warm(self, tz=timezone.utc):  # noqa: B027 (a backend with nothing to prepare keeps this)
        """Build what the first search of the current index state would build (tables, caches; months in `tz`)."""


class IndexWriter(ABC):
    """Write side of a backend: one writer at a time, used as a context manager (holds the lock).

    A run: ``live_meta()`` and ``signatures()`` describe what is indexed; ``begin(full)``
    starts a batch (a new generation when full); posts are added through parts
    (``part()`` here, or ``open_part(part_spec())`` in worker processes), each
    returning a token from ``finish()``; ``commit(tokens, replaced, deleted, meta)``
    makes the batch visible at once (a full batch by switching generations).
    """

    @abstractmethod
    def __enter__(self):
        """Take the writer lock; raise IndexLockedError if another process holds it."""

    @abstractmethod
    def __exit__(self, *exc):
        """Release the lock; an uncommitted batch is discarded."""

    @abstractmethod
    def live_meta(self):
        """The live index's meta record (fingerprint, source_dir, ...), or None if there is no index."""

    @abstractmethod
    def live_user_dict(self):
        """Path of the user dictionary the live index was built with, or None."""

    @abstractmethod
    def signatures(self):
        """Map path -> signature for every indexed post."""

    @abstractmethod
    def begin(self, full, user_dict=None, source_bytes=0):
        """Start a batch; `full` writes a new generation (with `user_dict`, kept beside it).

        :param source_bytes: size of the post files a full batch will index; a
            backend that stores the index locally checks it has room for it.
        :raises DiskFullError: there is clearly not room for the batch.
        """

    @abstractmethod
    def part_spec(self):
        """A picklable description from which ``open_part`` makes a part in another process."""

    @abstractmethod
    def commit(self, tokens, replaced, deleted, meta, optimize=False):
        """Make the batch visible: the parts' posts, minus `replaced` old versions and `deleted` paths.

        :param optimize: also compact the index (drop deleted posts, merge its pieces).
        """

    @property
    @abstractmethod
    def user_dict(self):
        """The user dictionary of the batch (a stored copy), or None."""

    def read_blob(self, name):
        """The text stored under `name` with the live index, or None (e.g. learnt boilerplate)."""
        return None

    def stage_blob(self, name, text):
        """Store `text` under `name` with the batch's index; it becomes visible with the commit."""
        raise NotImplementedError(f"{type(self).__name__} keeps no named texts with the index")

    def set_stories(self, stories):  # noqa: B027 (a backend that reads the blob keeps this)
        """Give posts these story ids ({path: story id}) with the commit (see stories.py).

        A post is written with its own id as its story id; reindex passes the posts
        whose story id is not the one their document holds. The default does nothing:
        a backend whose engine reads the ``stories`` blob needs no more.
        """


class PartWriter(ABC):
    """Adds analysed posts; made in the writing process or in a worker."""

    @abstractmethod
    def add(self, analysed):
        """Add one AnalysedPost."""

    @abstractmethod
    def finish(self):
        """Close the part; return a picklable token for IndexWriter.commit."""

    @abstractmethod
    def discard(self):
        """Drop what was added (the batch goes on without it)."""
