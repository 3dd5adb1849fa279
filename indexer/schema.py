"""The one Whoosh schema zhsearch indexes with.

Each text is indexed twice: as jieba words (``title``, ``content``: BM25F and
proximity) and as characters (``title_c``, ``content_c``: the candidates for
verbatim matches, the recall guarantee; see tokenizer.py and matching.py).
Only ``body`` and the metadata are stored; ``path`` and ``sig`` are columns so that `reindex` reads
every post's signature without loading stored documents.
"""

from collections import Counter

from whoosh.columns import VarBytesColumn
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.formats import Frequency, Positions
from whoosh.system import pack_uint
from whoosh.util.text import utf8encode

from .tokenizer import CharRun, ChineseAnalyzer, ChineseCharAnalyzer, WordRun

# A title match counts this many times a body match.
TITLE_BOOST = 3.0

# The char fields whose char tokens the `chars` column keeps, in this order, one per line.
CHARS_COLUMN_FIELDS = ("title_c", "content_c", "meta_c", "author_c")

# Categories and author describe a post; matching them counts less than its text.
META_BOOST = 0.5


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
        boost = self.format.field_boost
        if isinstance(value, CharRun) and type(self.format) is Frequency:
            return Postings(
                (utf8encode(char)[0], freq, freq * boost, pack_uint(freq)) for char, freq in Counter(value).items()
            )
        if isinstance(value, WordRun) and type(self.format) is Positions:
            positions = {}
            for word, pos in value:
                positions.setdefault(word, []).append(pos)
            encode = self.format.encode
            return Postings(
                (utf8encode(word)[0], len(poslist), len(poslist) * boost, encode(poslist))
                for word, poslist in positions.items()
            )
        return Postings(
            (utf8encode(term)[0], freq, weight, encoded)
            for term, freq, weight, encoded in self.format.word_values(value, self.analyzer, mode="index")
        )


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
