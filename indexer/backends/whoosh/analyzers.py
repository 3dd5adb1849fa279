"""Whoosh analyzers over zhsearch's analysis (indexer.analysis).

Whoosh pickles the analyzers into each index's schema, so these classes must
stay importable under the names an index was written with: indexes made
before this module existed name them ``indexer.tokenizer.*``, which the
``indexer/tokenizer.py`` shim keeps importable. Rename nothing here without a
shim.
"""

from whoosh.analysis import Token, Tokenizer

from ...analysis import CharRun, WordRun, is_token_char, normalize, original_span, word_tokens


class _NormalizingTokenizer(Tokenizer):
    """Fill Whoosh tokens from (text, position, start, end) tuples of normalised text.

    Raw text is normalised and cut by `_tokens`; a pre-analysed value (of type
    `prepared`, made in a worker process) is replayed by `_replay`.
    """

    prepared = ()

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if isinstance(value, self.prepared):
            items, offsets, chars = self._replay(value), None, False  # no offsets kept
        else:
            norm, offsets = normalize(value)
            items = self._tokens(norm)
        for text, pos, start, end in items:
            token.text = text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = text
            if positions:
                token.pos = start_pos + pos
            if chars:
                s, e = original_span(offsets, start, end)
                token.startchar = start_char + s
                token.endchar = start_char + e
            yield token


class JiebaTokenizer(_NormalizingTokenizer):
    """Normalise and cut text into jieba words with ordinal positions (see module docstring)."""

    prepared = WordRun

    def _replay(self, value):
        return ((word, pos, None, None) for word, pos in value)

    def _tokens(self, norm):
        return word_tokens(norm)


class CharTokenizer(_NormalizingTokenizer):
    """Normalise text and emit each letter, digit or ideograph as a token with its ordinal position."""

    prepared = CharRun

    def _replay(self, value):
        return ((char, pos, None, None) for pos, char in enumerate(value))

    def _tokens(self, norm):
        pos = 0
        for index, char in enumerate(norm):
            if is_token_char(char):
                yield char, pos, index, index + 1
                pos += 1


class BigramTokenizer(_NormalizingTokenizer):
    """Normalise text and emit each pair of consecutive char tokens (see CharTokenizer) as one token."""

    prepared = CharRun

    def _replay(self, value):
        return ((value[i : i + 2], i, None, None) for i in range(len(value) - 1))

    def _tokens(self, norm):
        kept = [index for index, char in enumerate(norm) if is_token_char(char)]
        for pos in range(len(kept) - 1):
            start, end = kept[pos], kept[pos + 1]
            yield norm[start] + norm[end], pos, start, end + 1


def ChineseAnalyzer():
    """Word analyzer: normalisation + jieba words with ordinal positions."""
    return JiebaTokenizer()


def ChineseCharAnalyzer():
    """Character analyzer: normalisation + one token per letter, digit or ideograph."""
    return CharTokenizer()


def ChineseBigramAnalyzer():
    """Bigram analyzer: normalisation + one token per two consecutive char tokens."""
    return BigramTokenizer()
