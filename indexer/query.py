"""The search query language: text → :class:`Query` (a small AST) → Elasticsearch query DSL.

Grammar (whitespace separates terms)::

    query  := group+                 groups are ANDed
    group  := term ("OR" term)*      OR binds tighter than AND: ``a b OR c`` = a AND (b OR c)
    term   := ["-"] [field ":"] (word | '"' text '"')

A text term matches an article when the folded text (width, case, Traditional/Simplified script folded, see
:mod:`indexer.normalize`) of one of its displayed fields contains the folded term: the answer ``grep`` would give,
except that whitespace next to a Han character is ignored (whitespace between two other characters is a word
boundary, see :func:`indexer.normalize.compact`). Each text term compiles to a *recall* clause (a phrase over the
character view, in filter context: it decides the result set) and a *ranking* clause (a phrase over the jieba words
view, scoring only: whole-word matches rank above matches inside a longer word). User text only ever reaches
Elasticsearch as the query of a ``match_phrase``, ``term`` or ``range`` built here, never as query_string,
wildcard, regexp or script.

Link text (the anchor text of every link, related-reading lists included) is searched only with ``links:``; a term
without a prefix searches the displayed text fields. ``date:none`` matches the articles without a publish time.

Field syntax is a prefix of ASCII letters and a colon naming a known field (case-insensitive). Anything else with a
colon is plain text: ``12:30``, ``B-52:``, URLs (``https://…``). An unknown ``name:`` prefix of letters is an
error, since it is most likely a typo; put such text in quotes to search it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from indexer.errors import ECHO_CHARS, QueryError
from indexer.mapping import LINK_FIELD, TEXT_FIELDS
from indexer.normalize import char_tokens, fold

SCOPES: dict[str, tuple[str, ...]] = {
    "title": ("title",),
    "body": ("body", "headings"),
    "caption": ("captions", "gallery"),
    "links": (LINK_FIELD,),
}
"""Text field prefixes and the fields (``chars.*``/``words.*`` views) they search. A term without a prefix
searches :data:`~indexer.mapping.TEXT_FIELDS`: link text only with ``links:``."""
KEYWORD_FIELDS: dict[str, str] = {
    "outlet": "outlet",
    "region": "region",
    "kind": "kind",
    "person": "persons",
    "place": "places",
    "org": "orgs",
    "keyword": "keywords",
}
"""Exact-value prefixes and the keyword fields they filter."""
DATE_FIELD = "published_at"
UNDATED = "none"
"""``date:none``: articles without a publish time."""
FIELD_NAMES = (*SCOPES, *KEYWORD_FIELDS, "date")
RANKING_BOOSTS: dict[str, float] = {
    "title": 3.0,
    "headings": 2.0,
    "body": 1.0,
    "captions": 1.0,
    "gallery": 1.0,
    LINK_FIELD: 1.0,
}
"""Boost of a whole-word match per field: title > headings > body, captions, gallery."""
MAX_TERMS = 64
MAX_TERM_CHARS = 500
SAFE_QUERY_TYPES = frozenset({"bool", "match_phrase", "term", "range", "exists"})
"""The only query types :func:`to_dsl` emits."""

_FIELD_RE = re.compile(r"([A-Za-z]+):")
_DATE_RE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")


class WordSplitter(Protocol):
    """What the query side needs from :class:`indexer.segment.Segmenter`: the words-field value of a text."""

    def words(self, text: str) -> list[str]: ...


@dataclass(frozen=True, slots=True)
class Text:
    """Matches when the folded text of one of ``fields`` contains the folded ``text`` (see
    :func:`indexer.normalize.compact`)."""

    text: str
    fields: tuple[str, ...] = TEXT_FIELDS


@dataclass(frozen=True, slots=True)
class Keyword:
    """Matches when the keyword ``field`` holds exactly ``value``."""

    field: str
    value: str


@dataclass(frozen=True, slots=True)
class DateRange:
    """Matches when ``published_at`` is in [start, end); either end may be open."""

    start: datetime | None
    end: datetime | None


@dataclass(frozen=True, slots=True)
class Undated:
    """Matches when the article has no ``published_at`` (``date:none``)."""


Term = Text | Keyword | DateRange | Undated


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query: every group must match (a group matches when any of its terms does), no excluded term may."""

    groups: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...] = ()

    def text_terms(self) -> list[Text]:
        """The positive text terms, in query order (what highlighting marks)."""
        return [term for group in self.groups for term in group if isinstance(term, Text)]

    def date_bounds(self) -> DateRange:
        """The published_at interval every match lies in (intersection of the ANDed date ranges)."""
        ranges = [group[0] for group in self.groups if len(group) == 1 and isinstance(group[0], DateRange)]
        starts = [r.start for r in ranges if r.start]
        ends = [r.end for r in ranges if r.end]
        return DateRange(max(starts) if starts else None, min(ends) if ends else None)


# --- parsing --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    position: int
    raw: str
    negated: bool = False
    field: str = ""
    value: str = ""
    quoted: bool = False

    @property
    def is_or(self) -> bool:
        return self.raw == "OR" and not self.quoted


def _error(query: str, position: int, message: str) -> QueryError:
    """A QueryError quoting the query around ⟨here⟩ at `position` (a 1-based column in the message)."""
    before, after = query[:position], query[position:]
    before = "…" + before[-ECHO_CHARS // 2 :] if len(before) > ECHO_CHARS // 2 else before
    after = after[: ECHO_CHARS // 2] + "…" if len(after) > ECHO_CHARS // 2 else after
    return QueryError(f"{message} (at column {position + 1}: {before}⟨here⟩{after})")


def _tokens(query: str) -> Iterator[_Token]:
    position, length = 0, len(query)
    while position < length:
        if query[position].isspace():
            position += 1
            continue
        start = position
        negated = query[position] == "-"
        if negated:
            position += 1
            if position >= length or query[position].isspace():
                raise _error(query, start, "'-' must be followed by the term to exclude, e.g. -广告")
            if query[position] == "-":
                raise _error(query, start, "'--' starts no term (a misspelt option?); quote text with a leading '-'")
        field = ""
        match = _FIELD_RE.match(query, position)
        if match:
            name = match.group(1).lower()
            if name in FIELD_NAMES:
                field = name
                position = match.end()
                if position >= length or query[position].isspace():
                    raise _error(query, start, f"'{name}:' needs a value right after the colon, e.g. {name}:值")
            elif not query.startswith("//", match.end()):
                raise _error(
                    query,
                    start,
                    f"unknown field '{match.group(1)}:'; known fields: {', '.join(n + ':' for n in FIELD_NAMES)}; "
                    "to search this text, put it in double quotes",
                )
        if query[position] == '"':
            close = query.find('"', position + 1)
            if close < 0:
                raise _error(query, position, 'unbalanced quote: this " is never closed')
            value, quoted, position = query[position + 1 : close], True, close + 1
            if position < length and not query[position].isspace():
                raise _error(query, position, "a closing quote must be followed by a space or the end of the query")
        else:
            end = position
            while end < length and not query[end].isspace() and query[end] != '"':
                end += 1
            value, quoted, position = query[position:end], False, end
            if position < length and query[position] == '"':
                raise _error(query, position, "a quote can only start a term: put a space before it")
            if "(" in value or ")" in value:
                raise _error(
                    query,
                    start,
                    "parentheses don't group terms here (OR binds tighter than AND: a b OR c means a AND (b OR c)); "
                    "to search a parenthesis, quote it",
                )
        yield _Token(start, query[start:position], negated, field, value, quoted)


def _date_bound(text: str, end: bool, zone: ZoneInfo, what: str) -> datetime:
    """First instant of the day/month/year `text` names (of the following one when `end`), in `zone`."""
    match = _DATE_RE.fullmatch(text)
    if not match:
        raise QueryError(f"bad date {text!r} in {what}: write YYYY, YYYY-MM or YYYY-MM-DD, e.g. 2023-10-01", param=what)
    year, month, day = (int(part) if part else 0 for part in match.groups())
    try:
        first = date(year, month or 1, day or 1)
        if end:
            first = (
                first + timedelta(days=1)
                if day
                else date(year + (month == 12), month % 12 + 1, 1)
                if month
                else date(year + 1, 1, 1)
            )
    except (ValueError, OverflowError) as exc:
        raise QueryError(f"bad date {text!r} in {what}: {exc}", param=what) from None
    return datetime(first.year, first.month, first.day, tzinfo=zone)


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise QueryError(f"unknown time zone {timezone!r}: use an IANA name such as UTC or Asia/Shanghai") from None


def date_range(start: str | None, end: str | None, timezone: str = "UTC", what: str = "date_from/date_to") -> DateRange:
    """The range from the start of period `start` to the end of period `end` (partial dates are whole periods)."""
    zone = _zone(timezone)
    first = _date_bound(start, False, zone, what) if start else None
    after = _date_bound(end, True, zone, what) if end else None
    if first and after and first >= after:
        raise QueryError(f"the date range in {what} ends before it starts ({start} > {end})", param=what)
    return DateRange(first, after)


def _inline_date(value: str, timezone: str) -> DateRange | Undated:
    if value.lower() == UNDATED:
        return Undated()
    what = f"date:{value}"
    start, dots, end = value.partition("..")
    if not dots:
        start = end = value
    if not (start or end):
        raise QueryError(f"{what} needs at least one date, e.g. date:2023-10..2023-12, date:2023 or date:none")
    return date_range(start or None, end or None, timezone, what)


def _keyword_value(value: str) -> str:
    """A keyword value folded as the index side stores entities, outlets and keywords."""
    return " ".join(fold(value).split())


def _term(token: _Token, query: str, timezone: str) -> Term:
    value = token.value
    if token.field == "date":
        return _inline_date(value, timezone)
    if token.field in KEYWORD_FIELDS:
        folded = _keyword_value(value)
        if not folded:
            raise _error(query, token.position, f"'{token.field}:' needs a value")
        return Keyword(KEYWORD_FIELDS[token.field], folded)
    if not char_tokens(value):
        raise _error(query, token.position, f"{token.raw!r} has nothing to search for (empty after normalizing)")
    if len(value) > MAX_TERM_CHARS:
        raise _error(query, token.position, f"a term may have at most {MAX_TERM_CHARS} characters")
    return Text(value, SCOPES.get(token.field, TEXT_FIELDS))


def parse(
    query: str,
    timezone: str = "UTC",
    outlets: Sequence[str] = (),
    date_from: str | None = None,
    date_to: str | None = None,
    allow_empty: bool = False,
) -> Query:
    """Parse `query`, adding the `outlets` and `date_from`/`date_to` filters; raises QueryError pointing at the problem.

    With `allow_empty` (for counting), a query without positive terms matches every article not excluded.
    """
    groups: list[list[Term]] = []
    excluded: list[Term] = []
    tokens = list(_tokens(query))
    if not tokens and not allow_empty:
        raise QueryError("the query is empty: give at least one term, e.g. 拉夫罗夫 or outlet:dw")
    if len(tokens) > MAX_TERMS:
        raise QueryError(f"the query has {len(tokens)} terms; at most {MAX_TERMS} are allowed")
    joining = False
    for index, token in enumerate(tokens):
        if token.is_or:
            if index == 0 or index == len(tokens) - 1 or joining:
                raise _error(query, token.position, "OR needs a term on each side, e.g. 朝鲜 OR 北韩")
            if tokens[index - 1].negated:
                raise _error(query, tokens[index - 1].position, "an excluded (-) term can't be part of an OR")
            joining = True
            continue
        term = _term(token, query, timezone)
        if token.negated:
            if joining:
                raise _error(query, token.position, "an excluded (-) term can't be part of an OR")
            excluded.append(term)
        elif joining:
            groups[-1].append(term)
        else:
            groups.append([term])
        joining = False
    if outlets:
        if not all(map(_keyword_value, outlets)):
            raise QueryError("outlet needs an outlet name, e.g. dw", param="outlet")
        groups.append([Keyword("outlet", _keyword_value(name)) for name in outlets])
    if date_from or date_to:
        groups.append([date_range(date_from, date_to, timezone)])
    if not groups and not allow_empty:
        raise QueryError("the query only excludes (-term): add at least one term to search for")
    return Query(tuple(tuple(group) for group in groups), tuple(excluded))


# --- compiling ------------------------------------------------------------------------------------------------


def _phrase(field: str, text: str, boost: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"query": text, "analyzer": "whitespace"}
    if boost is not None:
        body["boost"] = boost
    return {"match_phrase": {field: body}}


def _any(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def recall_clause(term: Term) -> dict[str, Any]:
    """The clause deciding whether `term` matches (for filter or must_not context: it is never scored)."""
    if isinstance(term, Text):
        tokens = char_tokens(term.text)
        return _any([_phrase(f"chars.{field}", tokens) for field in term.fields])
    if isinstance(term, Keyword):
        return {"term": {term.field: term.value}}
    if isinstance(term, Undated):
        return {"bool": {"must_not": [{"exists": {"field": DATE_FIELD}}]}}
    bounds = {"gte": term.start.isoformat() if term.start else None, "lt": term.end.isoformat() if term.end else None}
    return {"range": {DATE_FIELD: {key: value for key, value in bounds.items() if value}}}


def ranking_clause(term: Text, segmenter: WordSplitter) -> dict[str, Any] | None:
    """Scores `term` as a phrase of whole jieba words, boosted by field; None when it has no words."""
    words = " ".join(segmenter.words(term.text))
    if not words:
        return None
    clauses = [_phrase(f"words.{field}", words, RANKING_BOOSTS[field]) for field in term.fields]
    return {"bool": {"should": clauses}}


def to_dsl(query: Query, segmenter: WordSplitter) -> dict[str, Any]:
    """The Elasticsearch query: recall clauses as filters, word-level ranking clauses as optional scorers."""
    filters = [_any([recall_clause(term) for term in group]) for group in query.groups]
    should = [clause for term in query.text_terms() if (clause := ranking_clause(term, segmenter))]
    body: dict[str, Any] = {"filter": filters}
    if should:
        body["should"] = should
    if query.excluded:
        body["must_not"] = [recall_clause(term) for term in query.excluded]
    return {"bool": body}
