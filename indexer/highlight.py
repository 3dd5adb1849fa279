"""Find where a query matches a text, pick snippets, and draw them as HTML.

The core computes :class:`indexer.models.Marked` values (text plus match
spans); faces draw them: :func:`html` for the page and the JSON API, colour
for a terminal (cli.py). Matches are found on the normalised text and mapped
back to the original, so folding (Traditional, full-width) never garbles a
mark; spans never overlap. Snippet fragments may come from anywhere in the
article and are cut, best first, at sentence ends (。！？；), at clause ends
(，、：), or at least between words (jieba's words when the caller passes the
index's segmenter as `cut`; never inside a Latin word or a number). A lead
line ``原标题：…`` repeats the title: a snippet never opens with it and prefers
matches elsewhere.
"""

import html as _html

from .analysis import normalize, original_span
from .config import SNIPPET_CHARS, SNIPPET_FRAGMENTS
from .models import Marked

# Where a snippet fragment may start or end: sentence punctuation and line breaks.
SENTENCE_END = "。！？；!?;\n"

# Where a fragment may start or end when no sentence ends near the match: clause punctuation,
# closing brackets and quotes, spaces.
CLAUSE_END = "，、：,:）)」』”】 "

# Sina's lead line restating the headline ("原标题：…"): never a snippet's opening.
ORIGINAL_TITLE = "原标题"

# Characters either side of a cut point segmented to find word boundaries there.
WORD_CONTEXT = 24

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


def snippet(text, terms, length=SNIPPET_CHARS, count=SNIPPET_FRAGMENTS, cut=None):
    """The best 1-3 fragments of `text` around the matches, about `length` characters, joined.

    :param cut: ``cut(normalised text) -> words``, e.g. the index's ``Segmenter.cut``:
        fragments that cannot end at punctuation end between its words (without it,
        between any two characters that are not both Latin letters or digits).
    """
    spans = match_spans(text, terms)
    skip = _restated_title_end(text)
    if not spans:
        return _lead(text, skip, length, cut)
    windows = _windows(text, spans, length // count if len(spans) > 1 else length, cut)
    pieces, out_spans, size = [], [], 0
    for start, end, inside in _best_windows(text, windows, length, count, skip, cut):
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


def _lead(text, skip, length, cut):
    """The opening of `text` (after a restated-title line) up to about `length` characters, cut at a boundary."""
    rest = text[skip:] if text[skip:].strip() else text
    plain = " ".join(rest[: length * 2].split())
    if len(plain) <= length:
        more = len(" ".join(rest.split())) > len(plain)
        return Marked(plain + (ELLIPSIS if more else ""))
    stop = _end_at(plain, 0, 0, length, cut)
    return Marked(plain[:stop] + (ELLIPSIS if plain[stop - 1] not in SENTENCE_END else ""))


def _restated_title_end(text):
    """End of a first paragraph that restates the headline (原标题：…), else 0."""
    head = text.lstrip()
    if not head.startswith(ORIGINAL_TITLE):
        return 0
    start = len(text) - len(head)
    end = text.find("\n", start)
    return len(text) if end < 0 else end + 1


def _windows(text, spans, width, cut):
    """A window of about `width` characters around each span, merged where they overlap."""
    windows = []
    for start, end in spans:
        lo = _start_at(text, start, cut)
        hi = _end_at(text, lo, end, max(end, lo + width), cut)
        while lo < start and text[lo].isspace():
            lo += 1
        if windows and lo <= windows[-1][1]:
            prev_lo, _, prev_spans = windows[-1]
            windows[-1] = (prev_lo, max(hi, windows[-1][1]), prev_spans + [(start, end)])
        else:
            windows.append((lo, hi, [(start, end)]))
    return windows


def _start_at(text, start, cut):
    """Where a fragment whose first match begins at `start` opens: a sentence, a clause or a word start."""
    lo = max(0, start - LEAD_CHARS)
    sentence = max(text.rfind(c, lo, start) for c in SENTENCE_END)
    if sentence >= 0:
        return sentence + 1  # the match's own sentence
    if lo == 0:
        return 0
    # The earliest clause in reach: as much of the sentence as fits.
    clause = min((i for i in (text.find(c, lo, start) for c in CLAUSE_END) if i >= 0), default=-1)
    if clause >= 0:
        return clause + 1
    return min((b for b in _word_boundaries(text, lo, start, cut) if b >= lo), default=start)


def _end_at(text, lo, end, hi, cut):
    """Where a fragment from `lo` that must hold text up to `end` closes, at most at `hi`.

    After the first sentence end from `end` on; else before the last clause mark, when
    that keeps at least half the fragment; else at the last word end; the text's end
    always serves.
    """
    hi = min(hi, len(text))
    stop = min((i for i in (text.find(c, end, hi) for c in SENTENCE_END) if i >= 0), default=-1)
    if stop >= 0:
        return stop + 1
    if hi == len(text):
        return hi
    clause = max(text.rfind(c, end, hi) for c in CLAUSE_END)
    if clause >= 0 and clause - lo >= (hi - lo) // 2:
        return clause
    return max((b for b in _word_boundaries(text, end, hi, cut) if b <= hi), default=hi)


def _word_boundaries(text, lo, hi, cut):
    """Offsets in [lo, hi] where one word ends and the next begins (never inside a number or Latin word)."""
    if lo >= hi:
        return [lo]
    left, right = max(0, lo - WORD_CONTEXT), min(len(text), hi + WORD_CONTEXT)
    piece = text[left:right]
    if cut is None:
        cuts = range(1, len(piece))
    else:
        norm, offsets = normalize(piece)
        cuts, at = [], 0
        for word in cut(norm):
            at += len(word)
            if at < len(norm):
                cuts.append(at if offsets is None else offsets[at])
    found = []
    for i in cuts:
        b = left + i
        if lo <= b <= hi and not _joined(text[b - 1], text[b]):
            found.append(b)
    return found or [hi]


def _joined(before, after):
    """Whether a cut between these two characters would split a number, a date or a Latin word (8月27日, GDP)."""
    if before.isdigit() or (before in "年月" and after.isdigit()):
        return True
    return before.isascii() and after.isascii() and before.isalnum() and after.isalnum()


def _best_windows(text, windows, length, count, skip, cut):
    """Pick the windows with the most distinct matched terms until the length budget is used; keep text order.

    Windows in a restated-title line (before `skip`) are left out when there are others:
    the title already shows its words.
    """
    if any(lo >= skip for lo, _, _ in windows):
        windows = [window for window in windows if window[0] >= skip]

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
        if hi > limit:
            hi = _end_at(text, lo, inside[-1][1], limit, cut)
        chosen.append((lo, hi, inside))
        used += hi - lo
    return sorted(chosen)
