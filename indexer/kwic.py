"""Concordance (KWIC): one line per occurrence of a query's text terms in the matching articles, in the original
text, with context and citation fields.

Occurrences are found as search finds them: the articles are the query's hits, and in each field entry (title,
paragraph, caption …) every place where the chars view holds a term, or one of the spellings of a ``~`` term, is a
line (:func:`indexer.highlight.find_matches`: the same folding of width, case and script, mapped back to the exact
characters of the original). Occurrences may overlap (哈哈 twice in 哈哈哈), as phrase matching counts them. A
term of ``A NEAR/n B`` gives a line only where its partner is within n characters in the same entry. Excluded
terms and exact-value filters (``outlet:``, ``date:`` …) give no lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, get_args

from indexer.choices import KWIC_WIDTH, KwicSort
from indexer.document import article_from_source, field_texts
from indexer.errors import QueryError
from indexer.highlight import Needle, find_matches, needle
from indexer.normalize import compact, fold
from indexer.query import DATE_FIELD, Near, Query, Text
from indexer.search import SOURCE_FIELDS, Searcher

KWIC_SORTS: tuple[str, ...] = get_args(KwicSort)
PATH_FIELD = "source.path"
UNDATED_LAST = "~"
"""Sorts after every ISO date: undated lines come last, as the index's date sort puts them."""


@dataclass(frozen=True, slots=True)
class Line:
    """One occurrence: its context in the original text of one field entry, and where to cite it from.

    ``start``/``end`` are offsets into that entry's original text (entry ``entry`` of ``field``, 0-based: the
    paragraph number for ``body``).
    """

    id: str
    url: str
    title: str
    outlet: str
    published_at: str | None
    path: str
    field: str
    entry: int
    start: int
    end: int
    left: str
    match: str
    right: str
    term: str
    """The query term this is an occurrence of (``~川普`` for any of its spellings)."""

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class _Target:
    """What to find: the needles of one query term, and for a NEAR side its partner's needles and the gap."""

    label: str
    needles: tuple[Needle, ...]
    partner: tuple[Needle, ...] = ()
    gap: int = -1


def _label(term: Text) -> str:
    return f"~{term.text}" if term.spellings else term.text


def _needles(term: Text) -> tuple[Needle, ...]:
    return tuple(needle(form, term.fields) for form in term.forms)


def _targets(node: Any) -> list[_Target]:
    """The positive text terms of a query (nested groups included), each once."""
    if isinstance(node, Text):
        return [_Target(_label(node), _needles(node))]
    if isinstance(node, Near):
        left = Text(node.left.text, node.fields, node.left.spellings)
        right = Text(node.right.text, node.fields, node.right.spellings)
        return [
            _Target(_label(left), _needles(left), _needles(right), node.gap),
            _Target(_label(right), _needles(right), _needles(left), node.gap),
        ]
    if isinstance(node, Query):
        found = [target for group in node.groups for item in group for target in _targets(item)]
        return list(dict.fromkeys(found))
    return []


def _between(text: str, first: tuple[int, int], second: tuple[int, int]) -> int | None:
    """Characters of the chars view between two spans of `text` that don't overlap; None when they do."""
    earlier, later = sorted((first, second))
    if later[0] < earlier[1]:
        return None
    return len(compact(fold(text[earlier[1] : later[0]])))


def entry_lines(text: str, field: str, target: _Target) -> list[tuple[int, int]]:
    """The spans of `text` (an entry of `field`) that are occurrences of `target`, in text order."""
    spans = sorted({(m.start, m.end) for m in find_matches(text, target.needles, field)})
    if target.gap < 0 or not spans:
        return spans
    partners = sorted({(m.start, m.end) for m in find_matches(text, target.partner, field)})
    return [
        span
        for span in spans
        if any((gap := _between(text, span, other)) is not None and gap <= target.gap for other in partners)
    ]


def _context(text: str, start: int, end: int, width: int) -> dict[str, str]:
    """The match and `width` characters each side (line breaks and tabs as spaces, so a line stays one line)."""

    def flat(part: str) -> str:
        return part.replace("\r", " ").replace("\n", " ").replace("\t", " ")

    return {
        "left": flat(text[max(0, start - width) : start]),
        "match": text[start:end],
        "right": flat(text[end : end + width]),
    }


def article_lines(source: dict[str, Any], doc_id: str, targets: Sequence[_Target], width: int) -> list[Line]:
    """The lines of one stored article (``_source`` with the displayed texts), in text order: field by field
    (title, body, …), entry by entry, by offset."""
    cite = {
        "id": doc_id,
        "url": source.get("url", ""),
        "title": source.get("title", ""),
        "outlet": source.get("outlet", ""),
        "published_at": source.get(DATE_FIELD),
        "path": source.get("source", {}).get("path", ""),
    }
    lines = []
    for field, entries in field_texts(article_from_source(source)).items():
        for number, text in enumerate(entries):
            spans = sorted(
                (start, end, target.label)
                for target in targets
                if any(field in item.fields for item in target.needles)
                for start, end in entry_lines(text, field, target)
            )
            lines += [
                Line(
                    **cite,
                    field=field,
                    entry=number,
                    start=start,
                    end=end,
                    term=label,
                    **_context(text, start, end, width),
                )
                for start, end, label in spans
            ]
    return lines


def _sort_key(sort: str) -> Any:
    if sort == "left":
        return lambda line: (fold(line.left)[::-1], fold(line.match), fold(line.right))
    if sort == "right":
        return lambda line: (fold(line.match), fold(line.right), fold(line.left)[::-1])
    if sort == "outlet":
        return lambda line: (line.outlet, line.published_at or UNDATED_LAST, line.id)
    return lambda line: (line.published_at or UNDATED_LAST, line.id)


def concordance(
    searcher: Searcher, query: Query, width: int = KWIC_WIDTH, sort: KwicSort = "date", limit: int | None = 100
) -> Iterator[Line]:
    """The concordance lines of `query`, sorted (``date``: oldest first, undated last, an article's lines in text
    order; ``left``/``right``: by the folded characters nearest the match, as concordancers do; ``outlet``: by
    outlet, then date); at most `limit` lines (None: all). By date, reading stops after `limit` lines; the other
    sorts read every matching article."""
    if sort not in KWIC_SORTS:
        raise QueryError(f"unknown sort {sort!r}: use one of {', '.join(KWIC_SORTS)}")
    if width < 0 or (limit is not None and limit < 0):
        raise QueryError("width and limit must not be negative", param="width and limit")
    targets = _targets(query)
    if not targets:
        raise QueryError("a concordance needs a text term to show, e.g. 疫苗 (filters alone give no lines)")
    lines = _lines(searcher, query, targets, width, limit if sort == "date" else None)
    ordered = sorted(lines, key=_sort_key(sort))
    return iter(ordered if limit is None else ordered[:limit])


def _lines(
    searcher: Searcher, query: Query, targets: Sequence[_Target], width: int, enough: int | None
) -> Iterable[Line]:
    """The lines of the matching articles, oldest first, each article's in text order (title, body, …). With
    `enough`, reading stops once that many lines are in and the publish time moves on (so no article that sorts
    before the last one kept is left out)."""
    count, last = 0, None
    with searcher.stream_sources(query, [*SOURCE_FIELDS, PATH_FIELD], sort="oldest") as pages:
        for raw in pages.hits():
            source = raw.get("_source", {})
            published = source.get(DATE_FIELD)
            if enough is not None and count >= enough and published != last:
                return
            found = article_lines(source, raw["_id"], targets, width)
            count += len(found)
            last = published
            yield from found
