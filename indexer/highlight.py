"""Find where a query matches a text, pick snippets, and draw them as HTML.

The core computes :class:`indexer.models.Marked` values (text plus match
spans); faces draw them: :func:`html` for the page and the JSON API, colour
for a terminal (cli.py). Matches are found on the normalised text and mapped
back to the original, so folding (Traditional, full-width) never garbles a
mark; spans never overlap. Snippet fragments are cut at Chinese sentence
punctuation and may come from anywhere in the article.
"""

import html as _html

from .analysis import normalize, original_span
from .config import SNIPPET_CHARS, SNIPPET_FRAGMENTS
from .models import Marked

# Where a snippet fragment may start or end: sentence punctuation and line breaks.
SENTENCE_END = "。！？；!?;\n"

# How far (in characters) a fragment reaches back from its first match to find a sentence start.
LEAD_CHARS = 40

# Most marks placed in one text; keeps highlighting a huge article bounded.
MAX_SPANS = 500

# Term classes cycled through by html(): `<mark class="match term0">` … `term4`.
TERM_CLASSES = 5

# What stands where a snippet leaves text out.
ELLIPSIS = "…"


def match_spans(text, terms):
    """Non-overlapping (start, end) spans of `text` where the normalised terms occur, in order."""
    if not text or not terms:
        return []
    norm, offsets = normalize(text)
    taken = []
    for term in terms:  # longest first: a longer match wins over the words inside it
        begin = norm.find(term)
        while begin >= 0 and len(taken) < MAX_SPANS:
            end = begin + len(term)
            if not any(s < end and begin < e for s, e in taken):
                taken.append((begin, end))
            begin = norm.find(term, end)
    return sorted(original_span(offsets, s, e) for s, e in taken)


def mark(text, terms):
    """The whole of `text` with the terms' matches."""
    return Marked(text, tuple(match_spans(text, terms)))


def snippet(text, terms, length=SNIPPET_CHARS, count=SNIPPET_FRAGMENTS):
    """The best 1-3 fragments of `text` around the matches, about `length` characters, joined."""
    spans = match_spans(text, terms)
    if not spans:
        plain = " ".join(text[: length + 1].split())
        return Marked(plain[:length] + (ELLIPSIS if len(text) > length else ""))
    windows = _windows(text, spans, length // count if len(spans) > 1 else length)
    pieces, out_spans, size = [], [], 0
    for start, end, inside in _best_windows(text, windows, length, count):
        lead = ELLIPSIS if start > 0 and text[start - 1] not in SENTENCE_END else ""
        tail = ELLIPSIS if end < len(text) and text[end - 1] not in SENTENCE_END else ""
        piece, piece_spans = _squash(text, start, end, inside)
        if pieces:
            pieces.append(" ")
            size += 1
        size += len(lead)
        out_spans.extend((s + size, e + size) for s, e in piece_spans)
        pieces.append(lead + piece + tail)
        size += len(piece) + len(tail)
    return Marked("".join(pieces), tuple(out_spans))


def html(marked):
    """`marked` as HTML: the text escaped, each match in ``<mark class="match termN">``.

    Matches of the same text share a class; classes cycle through TERM_CLASSES.
    """
    text, parts, at, seen = marked.text, [], 0, {}
    for start, end in marked.spans:
        parts.append(_html.escape(text[at:start], quote=False))
        word = _html.escape(text[start:end], quote=False)
        number = seen.setdefault(word, len(seen) % TERM_CLASSES)
        parts.append(f'<mark class="match term{number}">{word}</mark>')
        at = end
    parts.append(_html.escape(text[at:], quote=False))
    return "".join(parts)


def _squash(text, start, end, spans):
    """text[start:end] with whitespace runs made one space and the ends stripped; spans moved to match."""
    out, where, space = [], {}, False  # where: index in text -> index in out
    for i in range(start, end):
        char = text[i]
        where[i] = len(out) + (1 if space and out and not char.isspace() else 0)
        if char.isspace():
            space = True
            continue
        if space and out:
            out.append(" ")
        space = False
        out.append(char)
    where[end] = len(out)
    return "".join(out), [(where[s], where[e]) for s, e in spans]


def _windows(text, spans, width):
    """A window of about `width` characters around each span, merged where they overlap."""
    windows = []
    for start, end in spans:
        lo = max(0, start - LEAD_CHARS)
        boundary = max(text.rfind(c, lo, start) for c in SENTENCE_END)
        lo = boundary + 1 if boundary >= 0 else lo
        hi = max(end, lo + width)
        stop = min((i for i in (text.find(c, end, hi) for c in SENTENCE_END) if i >= 0), default=-1)
        hi = min(len(text), stop + 1 if stop >= 0 else hi)
        while lo < start and text[lo].isspace():
            lo += 1
        if windows and lo <= windows[-1][1]:
            prev_lo, _, prev_spans = windows[-1]
            windows[-1] = (prev_lo, max(hi, windows[-1][1]), prev_spans + [(start, end)])
        else:
            windows.append((lo, hi, [(start, end)]))
    return windows


def _best_windows(text, windows, length, count):
    """Pick the windows with the most distinct matched terms until the length budget is used; keep text order."""

    def score(window):
        lo, _, inside = window
        distinct = {normalize(text[s:e])[0] for s, e in inside}
        return (len(distinct), len(inside), -lo)

    chosen, used = [], 0
    for lo, hi, inside in sorted(windows, key=score, reverse=True):
        if len(chosen) == count or used >= length:
            break
        # Trim the window to what is left of the budget, keeping at least its first match.
        limit = max(lo + length - used, inside[0][1])
        inside = [span for span in inside if span[1] <= limit]
        hi = min(hi, limit)
        chosen.append((lo, hi, inside))
        used += hi - lo
    return sorted(chosen)
