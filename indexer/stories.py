"""One story once: results show each cluster of near-duplicate posts as its best hit.

``reindex`` gives every post a story id (duplicates.py finds the clusters): the
id of the story it is a copy of, or its own id when it has no copies. A backend
keeps the id where its engine can use it (Whoosh: the ``stories`` blob this
module reads; OpenSearch: a ``story`` field) and offers three primitives
(engine.py): ``Article.story``, the ``EngineQuery.stories`` filter and the
``EngineResult.stories`` count. With them the core collapses results::

    ranked matches ─▶ first of each story, in order ─▶ the page's stories
                   ─▶ their other matches (the stories filter) ─▶ EngineHit.similar

The best hit of a story is its highest-ranked match, so the verbatim tier
still comes first; a story is on one page only, because pages are cut from
one order of stories.
"""

import json
from dataclasses import replace

# Name of the blob of story ids: {"version", "labels": {path: story id}}; a post not
# listed is a story of its own, with its own id.
BLOB = "stories"
BLOB_VERSION = 1

# Ranked matches read for a page of stories, beyond the stories wanted: a page's worth
# for copies (doubled while too few distinct stories are found).

# Matches of the page's stories listed as their similar posts before a second, exact fetch.
MEMBERS_FETCH = 500


def labels_of(text):
    """{path: story id} from a stored ``stories`` blob (None or another version: {})."""
    data = json.loads(text) if text else None
    if not data or data.get("version") != BLOB_VERSION:
        return {}
    return data["labels"]


def labels_json(labels):
    """The ``stories`` blob for {path: story id}."""
    labels = dict(sorted(labels.items()))
    return json.dumps({"version": BLOB_VERSION, "labels": labels}, ensure_ascii=False, separators=(",", ":"))


def story_of(article):
    """The story id of an Article (its own id when the backend keeps none)."""
    return article.story or article.id


def collapsed(engine, fetch, query, first, limit):
    """One page of stories: the best hit of each, with the story's other matches as ``similar``.

    :param fetch: ``fetch(offset, limit)`` → the EngineResult of ranked matches.
    :param query: the EngineQuery the matches are of (its `stories` filter lists the members).
    :param first: index of the page's first story; `limit`: stories on the page.
    :return: an EngineResult whose hits are the page's stories (totals as `fetch` gives them).
    """
    if limit <= 0:
        return fetch(first, limit)
    need = first + limit
    window = need + limit
    while True:
        result = fetch(0, window)
        best = {}  # story -> its first (best-ranked) hit, in order
        for hit in result.hits:
            best.setdefault(story_of(hit.post), hit)
        if len(best) >= need or len(result.hits) < window or result.partial:
            break
        window *= 2
    page = list(best.values())[first:need]
    if not page:
        return replace(result, hits=())
    members = _members(engine, query, tuple(story_of(hit.post) for hit in page))
    hits = tuple(
        replace(hit, similar=tuple(a for a in members.get(story_of(hit.post), ()) if a.id != hit.post.id))
        for hit in page
    )
    return replace(result, hits=hits)


def _members(engine, query, stories):
    """{story: its matches as Articles, newest first} for the stories given."""
    members_query = replace(query, stories=stories, sort="date")
    found = engine.search(members_query, 0, MEMBERS_FETCH)
    if found.total > len(found.hits):
        found = engine.search(members_query, 0, found.total)
    members = {}
    for hit in found.hits:
        members.setdefault(story_of(hit.post), []).append(hit.post)
    return members
