"""The one Whoosh schema zhsearch indexes with.

Each text is indexed twice: as jieba words (``title``, ``content``: BM25F and
proximity) and as characters (``title_c``, ``content_c``: the candidates for
verbatim matches, the recall guarantee; see indexer/analysis.py and matching.py).
Each char field has a bigram twin (``title_b``…: which pairs of consecutive
characters occur, no counts or positions): a two-character text occurs
verbatim exactly where its bigram does, and a longer one only where all of its
bigrams do, so few posts need the substring check of matching.py.
Only ``body`` and the metadata are stored; ``path`` and ``sig`` are columns so that `reindex` reads
every post's signature without loading stored documents.
"""

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Existence, Frequency, Positions

from ...analysis import CHAR_STREAMS, CharRun, WordRun
from ...engine import META_BOOST, TITLE_BOOST
from . import adapter
from .analyzers import ChineseAnalyzer, ChineseBigramAnalyzer, ChineseCharAnalyzer

# The char fields whose char tokens the `chars` column keeps, in this order, one per line.
CHARS_COLUMN_FIELDS = CHAR_STREAMS

# The bigram field of each char field.
BIGRAM_FIELDS = {"title_c": "title_b", "content_c": "content_b", "meta_c": "meta_b", "author_c": "author_b"}


class Postings(tuple):
    """A field value already turned into Whoosh postings: (term bytes, freq, weight, value bytes) tuples."""

    __slots__ = ()


class ChineseText(TEXT):
    """A TEXT field that also accepts Postings made in a worker process.

    Indexing is the costly part of adding a document; worker processes run the
    analyzer and the format encoding, and the single writer only files postings.
    """

    def index(self, value, **kwargs):
        if isinstance(value, Postings):
            return iter(value)
        return super().index(value, **kwargs)

    def postings(self, value):
        """Analyse `value` into Postings (run this in a worker)."""
        # Fast paths give the same postings as the formats' word_values(),
        # without building a Whoosh Token per word or character.
        if isinstance(value, CharRun) and type(self.format) is Frequency:
            return Postings(adapter.char_postings(value, self.format.field_boost))
        if isinstance(value, CharRun) and type(self.format) is Existence:
            return Postings(adapter.bigram_postings(value, self.format.field_boost))
        if isinstance(value, WordRun) and type(self.format) is Positions:
            return Postings(adapter.word_postings(value, self.format))
        return Postings(adapter.analysed_postings(self.format, self.analyzer, value))


class CharBigrams(ChineseText):
    """Which bigrams of a text's char tokens occur: documents only, no counts, positions or lengths."""

    def __init__(self):
        super().__init__(analyzer=ChineseBigramAnalyzer(), phrase=False)
        self.format = Existence()
        self.scorable = False


def build_schema():
    """Return a new Schema instance."""
    words = ChineseAnalyzer()
    chars = ChineseCharAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        path=ID(stored=True, unique=True, sortable=True),
        sig=ID(sortable=True),  # "size:mtime_ns" of the file when indexed
        sha256=STORED(),
        title=ChineseText(analyzer=words, stored=True, field_boost=TITLE_BOOST),
        title_c=ChineseText(analyzer=chars, phrase=True, field_boost=TITLE_BOOST),
        content=ChineseText(analyzer=words),
        # Verbatim checks search the char text itself (matching.py), so only the
        # title keeps positions (for suggestions); the others just count.
        content_c=ChineseText(analyzer=chars, phrase=False),
        meta_c=ChineseText(analyzer=chars, phrase=False, field_boost=META_BOOST),  # categories, tags, author
        author_c=ChineseText(analyzer=chars, phrase=False),
        **{field: CharBigrams() for field in BIGRAM_FIELDS.values()},
        # The char tokens of CHARS_COLUMN_FIELDS as UTF-8 lines: verbatim checks search them (matching.py).
        chars=COLUMN(VarBytesColumn()),
        category=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        month=ID(),  # "YYYY-MM" of the date, for the per-month histogram
        folder=ID(),  # the post's feed: its folder below the source (models.feed_of)
        date=DATETIME(stored=True, sortable=True),
        body=STORED(),
        tags=STORED(),
        author=STORED(),
        editor=STORED(),
        image=STORED(),
        feed=STORED(),
    )


def outdated_message(schema, index_dir):
    """Why an index of `schema` must be rebuilt for this version of zhsearch, or None if it need not."""
    missing = sorted(set(build_schema().names()) - set(schema.names()))
    if not missing:
        return None
    return (
        f"The index in '{index_dir}' was built by an older zhsearch (it lacks the fields "
        f'{", ".join(missing)}). Run "reindex --full" to rebuild it.'
    )
