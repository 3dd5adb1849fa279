"""Titles as a reader should see them: quotes that a mirror turned into underscores put back.

Some mirrors file a post under a name with its quotation marks replaced by
underscores, and the title in its front matter came from that name:
``两部门合力助_双减_：…`` for ``两部门合力助“双减”：…``. The stored title stays as
it was (it names the post); :func:`display_title` is what pages, the API and the
CLI show. A pair of underscores becomes quotes only where the article itself
quotes the words between them, so ``18_15～19_45`` and ``_General_`` tags stay.
"""

import re

# `_X_` where X may have been quoted: no underscore or line break inside, at least 2 characters.
_UNDERSCORED = re.compile(r"_([^_\n]{2,40}?)_")

# Quotation marks whose presence around X in the text confirms that `_X_` was a quotation.
_QUOTES = (("“", "”"), ('"', '"'), ("‘", "’"), ("'", "'"), ("「", "」"), ("『", "』"))

# How a restored quotation is written in a title: Chinese double quotes.
OPEN_QUOTE, CLOSE_QUOTE = "“", "”"


def display_title(title, text):
    """`title` with each ``_X_`` written ``“X”`` where `text` quotes X (“X”, "X", ‘X’, 「X」…)."""
    if not title or "_" not in title or not text:
        return title

    def restore(match):
        words = match.group(1)
        if any(f"{left}{words}{right}" in text for left, right in _QUOTES):
            return f"{OPEN_QUOTE}{words}{CLOSE_QUOTE}"
        return match.group(0)

    return _UNDERSCORED.sub(restore, title)
