"""Client-side highlighting on the original text, with the same folding as the index.

A term matches where the chars view matched: :func:`indexer.normalize.compact` of the folded text contains the
compacted folded term (whitespace dropped, except a word break between two non-Han characters). Each match is
mapped back through :func:`indexer.normalize.fold_with_offsets` to the exact characters of the original text, so
a Simplified query marks Traditional text and nothing drifts.
"""

from __future__ import annotations

import bisect
import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from indexer.normalize import compact, compact_with_positions, fold, fold_with_offsets

FRAGMENT_CHARS = 100
"""Target length of a fragment, in characters of the original text."""
MAX_ANCHORS = 12
"""Fragments are tried around at most this many matches of each paragraph (the first ones)."""
ENTRIES_PER_FRAGMENT = 2
"""Paragraphs tried per wanted fragment: those with the most distinct terms, then the most matches."""


@dataclass(frozen=True, slots=True)
class Needle:
    """One term to mark: its folded form without whitespace, and the fields it may be marked in."""

    folded: str
    fields: frozenset[str]


def needle(text: str, fields: Iterable[str]) -> Needle:
    return Needle(compact(fold(text)), frozenset(fields))


@dataclass(frozen=True, slots=True)
class Fragment:
    """A piece of one field's original text with the matched spans (offsets into ``text``)."""

    field: str
    text: str
    spans: tuple[tuple[int, int], ...]
    cut_before: bool = False
    cut_after: bool = False

    def marked(self, start: str = "<em>", end: str = "</em>", escape: bool = True) -> str:
        """The text with each span wrapped in `start`/`end`; `&`, `<`, `>` escaped by default, '…' where cut."""
        quote: Callable[[str], str] = (lambda text: html.escape(text, quote=False)) if escape else str
        parts, position = [], 0
        for left, right in self.spans:
            parts += [quote(self.text[position:left]), start, quote(self.text[left:right]), end]
            position = right
        parts.append(quote(self.text[position:]))
        return ("…" if self.cut_before else "") + "".join(parts) + ("…" if self.cut_after else "")


@dataclass(frozen=True, slots=True)
class _Match:
    start: int
    end: int
    term: int


def find_matches(text: str, needles: Sequence[Needle], field: str) -> list[_Match]:
    """Every occurrence of every needle (allowed in `field`) in `text`, as spans of the original text."""
    quick = compact(fold(text))
    wanted = [(n, item.folded) for n, item in enumerate(needles) if field in item.fields and item.folded in quick]
    if not wanted:
        return []
    folded, offsets = fold_with_offsets(text)
    view, positions = compact_with_positions(folded)
    matches = []
    for number, target in wanted:
        found = view.find(target)
        while found >= 0:
            last = found + len(target) - 1
            matches.append(_Match(offsets[positions[found]], offsets[positions[last]] + 1, number))
            found = view.find(target, found + 1)
    return sorted(matches, key=lambda match: (match.start, -match.end))


def _window(length: int, anchor: int, size: int) -> tuple[int, int]:
    """A `size`-character window of a `length`-character text that starts a little before `anchor`."""
    if length <= size:
        return 0, length
    end = min(length, max(0, anchor - size // 4) + size)
    return end - size, end


@dataclass(slots=True)
class _Candidate:
    field: str
    entry: int
    text: str
    start: int
    end: int
    matches: tuple[_Match, ...]
    terms: frozenset[int]


def _merge(spans: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for left, right in sorted(spans):
        if merged and left <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], right))
        else:
            merged.append((left, right))
    return tuple(merged)


@dataclass(frozen=True, slots=True)
class _Entry:
    """One paragraph (or caption, ...) that holds some of the terms, and how well it does."""

    field: str
    entry: int
    text: str
    terms: frozenset[int]
    occurrences: int


def _promising_entries(texts: Mapping[str, Sequence[str]], needles: Sequence[Needle], wanted: int) -> list[_Entry]:
    """The `wanted` entries with the most distinct terms, then the most occurrences, plus the first entry of
    each term those lack; found cheaply on the folded text, before any offsets are computed."""
    ranked: list[_Entry] = []
    for field, entries in texts.items():
        for entry, text in enumerate(entries):
            view = compact(fold(text))
            found = frozenset(
                n for n, item in enumerate(needles) if field in item.fields and item.folded and item.folded in view
            )
            if found:
                occurrences = sum(view.count(needles[n].folded) for n in found)
                ranked.append(_Entry(field, entry, text, found, occurrences))
    ranked.sort(key=lambda item: (len(item.terms), item.occurrences), reverse=True)
    chosen = ranked[:wanted]
    covered = frozenset().union(*(item.terms for item in chosen))
    for item in ranked[wanted:]:
        if item.terms - covered:
            chosen.append(item)
            covered |= item.terms
    return chosen


def fragments(
    texts: Mapping[str, Sequence[str]],
    needles: Sequence[Needle],
    count: int = 3,
    size: int = FRAGMENT_CHARS,
) -> list[Fragment]:
    """The best `count` fragments of about `size` characters: most distinct terms first, then most matches.

    `texts` maps a field to its entries (paragraphs, captions), as :func:`indexer.document.field_texts` gives.
    Fragments never span two entries; later fragments prefer terms the earlier ones did not show.
    """
    candidates: list[_Candidate] = []
    for promising in _promising_entries(texts, needles, count * ENTRIES_PER_FRAGMENT):
        field, entry, text = promising.field, promising.entry, promising.text
        matches = find_matches(text, needles, field)
        starts = [match.start for match in matches]
        covered = -1
        for anchor in matches[:MAX_ANCHORS]:
            if anchor.start < covered:
                continue
            start, end = _window(len(text), anchor.start, size)
            covered = end
            first, last = bisect.bisect_left(starts, start), bisect.bisect_left(starts, end)
            start = min([start, *(m.start for m in matches[max(0, first - 8) : first] if m.end > start)])
            end = max([end, *(m.end for m in matches[first:last] if m.end > end)])
            inside = tuple(matches[bisect.bisect_left(starts, start) : last])
            candidates.append(_Candidate(field, entry, text, start, end, inside, frozenset(m.term for m in inside)))
    chosen: list[Fragment] = []
    shown: set[int] = set()
    while candidates and len(chosen) < count:
        best = max(candidates, key=lambda c: (len(c.terms - shown), len(c.terms), len(c.matches), -c.start))
        shown |= best.terms
        spans = _merge((m.start - best.start, m.end - best.start) for m in best.matches)
        text = best.text
        chosen.append(Fragment(best.field, text[best.start : best.end], spans, best.start > 0, best.end < len(text)))
        candidates = [
            c
            for c in candidates
            if (c.field, c.entry) != (best.field, best.entry) or c.end <= best.start or c.start >= best.end
        ]
    return chosen
