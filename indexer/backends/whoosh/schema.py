"""The one Whoosh schema zhsearch indexes with.

Each text is indexed twice: as jieba words (``title``, ``content``: BM25F and
proximity) and as characters (``title_c``, ``content_c``: the candidates for
verbatim matches, the recall guarantee; see indexer/analysis.py and matching.py).
Only ``body`` and the metadata are stored; ``path`` and ``sig`` are columns so that `reindex` reads
every post's signature without loading stored documents.
"""

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Frequency, Positions

from ...analysis import CHAR_STREAMS, CharRun, WordRun
from ...engine import META_BOOST, TITLE_BOOST
from . import adapter
from .analyzers import ChineseAnalyzer, ChineseCharAnalyzer

# The char fields whose char tokens the `chars` column keeps, in this order, one per line.
CHARS_COLUMN_FIELDS = CHAR_STREAMS


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
        if isinstance(value, WordRun) and type(self.format) is Positions:
            return Postings(adapter.word_postings(value, self.format))
        return Postings(adapter.analysed_postings(self.format, self.analyzer, value))


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
        # The char tokens of CHARS_COLUMN_FIELDS as UTF-8 lines: verbatim checks search them (matching.py).
        chars=COLUMN(VarBytesColumn()),
        category=KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        month=ID(),  # "YYYY-MM" of the date, for the per-month histogram
        date=DATETIME(stored=True, sortable=True),
        body=STORED(),
        tags=STORED(),
        author=STORED(),
        editor=STORED(),
        image=STORED(),
        feed=STORED(),
    )
