"""The search query language: text → :class:`Query` (a small AST) → Elasticsearch query DSL.

Grammar (whitespace separates terms), from the loosest binding to the tightest::

    query    := item*                    items are ANDed
    item     := "-" operand              excluded
              | operand ("OR" operand)*  OR binds tighter than AND: ``a b OR c`` = a AND (b OR c)
    operand  := primary ["NEAR/" n primary]
    primary  := "(" query ")" | term
    term     := [field ":"] ["~"] (word | '"' text '"')

So ``(拜登 疫苗) OR (川普 口罩)`` is one OR of two AND groups, parentheses nest, and ``-`` excludes a term, a
NEAR or a parenthesized group (``-(a OR b)``); an excluded item can't be part of an OR, and every group needs a
term to search for. A parenthesis groups only at the edge of a word (``(a``, ``b)``); one inside a word
(``f(x)``) is an error, so quote text with parentheses to search it (full-width ``（）`` are plain text).

A text term matches an article when the folded text (width, case, Traditional/Simplified script folded, see
:mod:`indexer.normalize`) of one of its displayed fields contains the folded term: the answer ``grep`` would give,
except that whitespace next to a Han character is ignored (whitespace between two other characters is a word
boundary, see :func:`indexer.normalize.compact`). Each text term compiles to a *recall* clause (a phrase over the
character view, in filter context: it decides the result set) and a *ranking* clause (a phrase over the jieba words
view, scoring only: whole-word matches rank above matches inside a longer word). User text only ever reaches
Elasticsearch as the query of a ``match_phrase``, an ``intervals`` match, ``term`` or ``range`` built here, never
as query_string, wildcard, regexp or script.

``A NEAR/n B`` matches when one field entry (the title, a paragraph, a caption ...) holds A and B, apart from each
other, with at most n characters of the chars view between the end of one and the start of the other, in either
order (an ``intervals`` query on the chars view, where positions are characters; whitespace next to a Han
character is not counted, a word break between Latin words counts one). n is 0 to :data:`MAX_NEAR`; A and B are
words or quoted phrases, ``~`` allowed, and their field prefixes must share a field.

``~TERM`` searches every regional spelling of the term (特朗普/川普, see :mod:`indexer.variants`): the spellings
come from the `variants` function :func:`parse` is given; each spelling is searched as the term would be.

Link text (the anchor text of every link, related-reading lists included) is searched only with ``links:``; a term
without a prefix searches the displayed text fields. ``date:none`` matches the articles without a publish time.

Field syntax is a prefix of ASCII letters and a colon naming a known field (case-insensitive). Anything else with a
colon is plain text: ``12:30``, ``B-52:``, URLs (``https://…``). An unknown ``name:`` prefix of letters is an
error, since it is most likely a typo; put such text in quotes to search it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
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
MAX_DEPTH = 8
"""How deeply parentheses may nest."""
MAX_NEAR = 99
"""The largest n of ``NEAR/n``: below the position gap (100) between two entries of a field, so NEAR never pairs
terms of two paragraphs."""
MAX_SPELLINGS = 32
"""At most this many spellings are searched for one ``~`` term."""
SAFE_QUERY_TYPES = frozenset({"bool", "match_phrase", "intervals", "term", "range", "exists"})
"""The only query types :func:`to_dsl` emits."""

_FIELD_RE = re.compile(r"([A-Za-z]+):")
_DATE_RE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?")
_NEAR_RE = re.compile(r"NEAR/(\d*)")
VARIANT_MARK = "~"


class WordSplitter(Protocol):
    """What the query side needs from :class:`indexer.segment.Segmenter`: the words-field value of a text."""

    def words(self, text: str) -> list[str]: ...


Variants = Callable[[str], Sequence[str]]
"""A term → its folded spellings, the term's own first (:meth:`indexer.variants.VariantTable.spellings`)."""


@dataclass(frozen=True, slots=True)
class Text:
    """Matches when the folded text of one of ``fields`` contains the folded ``text`` (see
    :func:`indexer.normalize.compact`), or one of ``spellings`` when the term was written ``~text``."""

    text: str
    fields: tuple[str, ...] = TEXT_FIELDS
    spellings: tuple[str, ...] = ()
    """For ``~text``: every spelling searched, the term's own first; empty for a plain term."""

    @property
    def forms(self) -> tuple[str, ...]:
        """What is searched: the spellings of a ``~`` term, else the text."""
        return self.spellings or (self.text,)


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


@dataclass(frozen=True, slots=True)
class Near:
    """Matches when one entry of one of ``fields`` holds ``left`` and ``right`` apart, at most ``gap`` characters
    (of the chars view) between the end of one and the start of the other, in either order."""

    left: Text
    right: Text
    gap: int
    fields: tuple[str, ...]


Term = Text | Keyword | DateRange | Undated


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed query, or a parenthesized group in one: every group must match (a group matches when any of its
    items does), no excluded item may."""

    groups: tuple[tuple[Node, ...], ...]
    excluded: tuple[Node, ...] = ()

    def text_terms(self) -> list[Text]:
        """The positive text terms, in query order, nested groups and both sides of a NEAR included (what
        highlighting marks)."""
        return [term for group in self.groups for item in group for term in _positive_texts(item)]

    def date_bounds(self) -> DateRange:
        """The published_at interval every match lies in (intersection of the ANDed date ranges)."""
        ranges = [group[0] for group in self.groups if len(group) == 1 and isinstance(group[0], DateRange)]
        starts = [r.start for r in ranges if r.start]
        ends = [r.end for r in ranges if r.end]
        return DateRange(max(starts) if starts else None, min(ends) if ends else None)

    def expansions(self) -> list[Text]:
        """The ``~`` terms, each once, with the spellings searched (to say so with the results)."""
        seen: dict[tuple[str, tuple[str, ...]], Text] = {}
        for term in self.text_terms():
            if term.spellings:
                seen.setdefault((term.text, term.spellings), term)
        return list(seen.values())


Node = Term | Near | Query
"""What a group holds: a term, a NEAR, or a parenthesized query."""


def _positive_texts(node: Node) -> list[Text]:
    if isinstance(node, Text):
        return [node]
    if isinstance(node, Near):
        return [node.left, node.right]
    if isinstance(node, Query):
        return node.text_terms()
    return []


# --- parsing --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    position: int
    raw: str
    kind: str = "term"
    """``term``, ``or``, ``near``, ``open`` or ``close``."""
    negated: bool = False
    field: str = ""
    value: str = ""
    variant: bool = False
    gap: int = 0


def _error(query: str, position: int, message: str) -> QueryError:
    """A QueryError quoting the query around ⟨here⟩ at `position` (a 1-based column in the message)."""
    before, after = query[:position], query[position:]
    before = "…" + before[-ECHO_CHARS // 2 :] if len(before) > ECHO_CHARS // 2 else before
    after = after[: ECHO_CHARS // 2] + "…" if len(after) > ECHO_CHARS // 2 else after
    return QueryError(f"{message} (at column {position + 1}: {before}⟨here⟩{after})")


_PAREN_HINT = "a parenthesis groups only at the edge of a word, e.g. (a b) OR c; to search a parenthesis, quote it"


def _operator(query: str, start: int, word: str) -> _Token | None:
    """OR or NEAR/n written as its own word (upper case, unquoted); None for any other word."""
    if word == "OR":
        return _Token(start, word, "or")
    match = _NEAR_RE.fullmatch(word)
    if not match:
        return None
    if not match.group(1) or int(match.group(1)) > MAX_NEAR:
        raise _error(query, start, f"NEAR needs a distance in characters from 0 to {MAX_NEAR}, e.g. NEAR/10")
    return _Token(start, word, "near", gap=int(match.group(1)))


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
            if position >= length or query[position].isspace() or query[position] == ")":
                raise _error(query, start, "'-' must be followed by the term to exclude, e.g. -广告")
            if query[position] == "-":
                raise _error(query, start, "'--' starts no term (a misspelt option?); quote text with a leading '-'")
        if query[position] == "(":
            yield _Token(start, query[start : position + 1], "open", negated)
            position += 1
            continue
        if query[position] == ")":
            yield _Token(position, ")", "close")
            position += 1
            continue
        end = position
        while end < length and not query[end].isspace():
            end += 1
        word = query[start:end].rstrip(")")
        operator = None if negated else _operator(query, start, word)
        if operator:
            yield operator
            position = start + len(word)
            while position < end:
                yield _Token(position, ")", "close")
                position += 1
            continue
        token, position = _term_token(query, start, position, negated)
        yield token
        while position < length and query[position] == ")":
            yield _Token(position, ")", "close")
            position += 1
        if position < length and not query[position].isspace():
            raise _error(query, position, _PAREN_HINT)


def _term_token(query: str, start: int, position: int, negated: bool) -> tuple[_Token, int]:
    """The term starting at `position` (after any '-'), and where it ends (closing parentheses not included)."""
    length = len(query)
    variant = query[position] == VARIANT_MARK
    position += variant
    field = ""
    match = _FIELD_RE.match(query, position)
    if match:
        name = match.group(1).lower()
        if name in FIELD_NAMES:
            field = name
            position = match.end()
            if position >= length or query[position].isspace():
                raise _error(query, start, f"'{name}:' needs a value right after the colon, e.g. {name}:值")
            if query[position] == VARIANT_MARK and not variant:
                variant, position = True, position + 1
        elif not query.startswith("//", match.end()):
            raise _error(
                query,
                start,
                f"unknown field '{match.group(1)}:'; known fields: {', '.join(n + ':' for n in FIELD_NAMES)}; "
                "to search this text, put it in double quotes",
            )
    if position >= length or query[position].isspace():
        raise _error(query, start, "'~' must be followed by the term whose regional spellings to search, e.g. ~川普")
    if query[position] == '"':
        close = query.find('"', position + 1)
        if close < 0:
            raise _error(query, position, 'unbalanced quote: this " is never closed')
        value, position = query[position + 1 : close], close + 1
        if position < length and not query[position].isspace() and query[position] != ")":
            raise _error(query, position, "a closing quote must be followed by a space or the end of the query")
    else:
        end = position
        while end < length and not query[end].isspace() and query[end] != '"':
            end += 1
        if end < length and query[end] == '"':
            raise _error(query, end, "a quote can only start a term: put a space before it")
        word = query[position:end].rstrip(")")
        if "(" in word or ")" in word:
            raise _error(query, start, _PAREN_HINT)
        if not word:
            raise _error(query, start, f"'{query[start:position]}' needs a term after it")
        value, position = word, position + len(word)
    raw = query[start:position]
    return _Token(start, raw, "term", negated, field, value, variant), position


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


def _term(token: _Token, query: str, timezone: str, variants: Variants | None) -> Term:
    value = token.value
    if token.variant and token.field not in SCOPES and token.field:
        raise _error(query, token.position, f"'~' finds regional spellings of text; '{token.field}:' is no text field")
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
    fields = SCOPES.get(token.field, TEXT_FIELDS)
    if not token.variant:
        return Text(value, fields)
    if variants is None:
        raise _error(query, token.position, "regional spellings (~) are not available to this search")
    spellings = tuple(dict.fromkeys(form for form in variants(value) if char_tokens(form)))[:MAX_SPELLINGS]
    return Text(value, fields, spellings or (fold(value),))


class _Parser:
    """Recursive descent over the tokens, following the grammar in the module docstring."""

    def __init__(self, query: str, tokens: list[_Token], timezone: str, variants: Variants | None) -> None:
        self.query, self.tokens, self.timezone, self.variants = query, tokens, timezone, variants
        self.next = 0

    def _peek(self) -> _Token | None:
        return self.tokens[self.next] if self.next < len(self.tokens) else None

    def _take(self) -> _Token:
        token = self.tokens[self.next]
        self.next += 1
        return token

    def sequence(self, opening: _Token | None, depth: int, allow_empty: bool) -> Query:
        """The items up to the matching ')' (or the end, at the top), ANDed."""
        groups: list[tuple[Node, ...]] = []
        excluded: list[Node] = []
        while True:
            token = self._peek()
            if token is None:
                if opening:
                    raise _error(self.query, opening.position, "unbalanced parenthesis: this ( is never closed")
                break
            if token.kind == "close":
                if not opening:
                    raise _error(self.query, token.position, "unbalanced parenthesis: this ) closes nothing")
                self._take()
                break
            if token.kind == "or":
                raise _error(self.query, token.position, "OR needs a term on each side, e.g. 朝鲜 OR 北韩")
            if token.kind == "near":
                raise _error(self.query, token.position, "NEAR/n needs a term on each side, e.g. 金正恩 NEAR/10 普京")
            if token.negated:
                excluded.append(self.operand(depth))
                following = self._peek()
                if following and following.kind == "or":
                    raise _error(self.query, token.position, "an excluded (-) term can't be part of an OR")
                continue
            alternatives = [self.operand(depth)]
            while (following := self._peek()) and following.kind == "or":
                self._take()
                after = self._peek()
                if after is None or after.kind in ("or", "close", "near"):
                    where = after.position if after and after.kind == "or" else following.position
                    raise _error(self.query, where, "OR needs a term on each side, e.g. 朝鲜 OR 北韩")
                if after.negated:
                    raise _error(self.query, after.position, "an excluded (-) term can't be part of an OR")
                alternatives.append(self.operand(depth))
            groups.append(tuple(alternatives))
        if opening and not groups:
            what = "only excludes (-term)" if excluded else "is empty"
            raise _error(self.query, opening.position, f"this parenthesized group {what}: give it a term to search for")
        if not groups and excluded and not allow_empty:
            raise QueryError("the query only excludes (-term): add at least one term to search for")
        return Query(tuple(groups), tuple(excluded))

    def operand(self, depth: int) -> Node:
        """A primary, or two joined by NEAR/n."""
        first = self._peek()
        left = self.primary(depth)
        joint = self._peek()
        if joint is None or joint.kind != "near":
            return left
        self._take()
        assert first is not None
        if first.negated:
            raise _error(self.query, first.position, "to exclude a NEAR, put it in parentheses: -(a NEAR/5 b)")
        after = self._peek()
        if after is None or after.kind in ("or", "close", "near") or after.negated:
            raise _error(self.query, joint.position, "NEAR/n needs a term on each side, e.g. 金正恩 NEAR/10 普京")
        right = self.primary(depth)
        if not isinstance(left, Text) or not isinstance(right, Text):
            raise _error(
                self.query, joint.position, "NEAR joins two text terms or quoted phrases, not groups or fields"
            )
        if {char_tokens(form) for form in left.forms} == {char_tokens(form) for form in right.forms}:
            raise _error(
                self.query, joint.position, "NEAR joins two different terms (a term near itself isn't supported)"
            )
        fields = tuple(name for name in left.fields if name in right.fields)
        if not fields:
            raise _error(self.query, joint.position, "the two sides of NEAR search different fields: they share none")
        following = self._peek()
        if following and following.kind == "near":
            raise _error(
                self.query, following.position, "NEAR joins exactly two terms: write (a NEAR/n b) (b NEAR/n c)"
            )
        return Near(left, right, joint.gap, fields)

    def primary(self, depth: int) -> Node:
        token = self._take()
        if token.kind == "open":
            if depth >= MAX_DEPTH:
                raise _error(self.query, token.position, f"parentheses may nest at most {MAX_DEPTH} deep")
            inner = self.sequence(token, depth + 1, False)
            if len(inner.groups) == 1 and len(inner.groups[0]) == 1 and not inner.excluded:
                return inner.groups[0][0]
            return inner
        return _term(token, self.query, self.timezone, self.variants)


def parse(
    query: str,
    timezone: str = "UTC",
    outlets: Sequence[str] = (),
    date_from: str | None = None,
    date_to: str | None = None,
    allow_empty: bool = False,
    variants: Variants | None = None,
) -> Query:
    """Parse `query`, adding the `outlets` and `date_from`/`date_to` filters; raises QueryError pointing at the problem.

    With `allow_empty` (for counting), a query without positive terms matches every article not excluded.
    `variants` gives the spellings of a ``~`` term; without it, ``~`` is an error.
    """
    tokens = list(_tokens(query))
    if not tokens and not allow_empty:
        raise QueryError("the query is empty: give at least one term, e.g. 拉夫罗夫 or outlet:dw")
    terms = sum(token.kind == "term" for token in tokens)
    if terms > MAX_TERMS:
        raise QueryError(f"the query has {terms} terms; at most {MAX_TERMS} are allowed")
    parsed = _Parser(query, tokens, timezone, variants).sequence(None, 0, allow_empty)
    groups = list(parsed.groups)
    if outlets:
        if not all(map(_keyword_value, outlets)):
            raise QueryError("outlet needs an outlet name, e.g. dw", param="outlet")
        groups.append(tuple(Keyword("outlet", _keyword_value(name)) for name in outlets))
    if date_from or date_to:
        groups.append((date_range(date_from, date_to, timezone),))
    if not groups and not allow_empty:
        raise QueryError("the query only excludes (-term): add at least one term to search for")
    return Query(tuple(groups), parsed.excluded)


# --- compiling ------------------------------------------------------------------------------------------------


def _phrase(field: str, text: str, boost: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"query": text, "analyzer": "whitespace"}
    if boost is not None:
        body["boost"] = boost
    return {"match_phrase": {field: body}}


def _any(clauses: list[dict[str, Any]]) -> dict[str, Any]:
    return clauses[0] if len(clauses) == 1 else {"bool": {"should": clauses, "minimum_should_match": 1}}


def _interval_rule(term: Text) -> dict[str, Any]:
    """An intervals rule matching any form of `term` as a phrase of characters."""
    rules = [
        {"match": {"query": char_tokens(form), "analyzer": "whitespace", "ordered": True, "max_gaps": 0}}
        for form in term.forms
    ]
    return rules[0] if len(rules) == 1 else {"any_of": {"intervals": rules}}


def _near(near: Near) -> dict[str, Any]:
    """NEAR as intervals: left then right, or right then left, each pair apart with at most `gap` positions
    between (ordered intervals don't overlap)."""
    left, right = _interval_rule(near.left), _interval_rule(near.right)
    orders = [
        {"all_of": {"ordered": True, "max_gaps": near.gap, "intervals": pair}}
        for pair in ([left, right], [right, left])
    ]
    rule = {"any_of": {"intervals": orders}}
    return _any([{"intervals": {f"chars.{field}": rule}} for field in near.fields])


def recall_clause(term: Node) -> dict[str, Any]:
    """The clause deciding whether `term` matches (for filter or must_not context: it is never scored)."""
    if isinstance(term, Text):
        return _any([_phrase(f"chars.{field}", char_tokens(form)) for field in term.fields for form in term.forms])
    if isinstance(term, Near):
        return _near(term)
    if isinstance(term, Query):
        body: dict[str, Any] = {"filter": [_any([recall_clause(item) for item in group]) for group in term.groups]}
        if term.excluded:
            body["must_not"] = [recall_clause(item) for item in term.excluded]
        return {"bool": body}
    if isinstance(term, Keyword):
        return {"term": {term.field: term.value}}
    if isinstance(term, Undated):
        return {"bool": {"must_not": [{"exists": {"field": DATE_FIELD}}]}}
    bounds = {"gte": term.start.isoformat() if term.start else None, "lt": term.end.isoformat() if term.end else None}
    return {"range": {DATE_FIELD: {key: value for key, value in bounds.items() if value}}}


def ranking_clause(term: Text, segmenter: WordSplitter) -> dict[str, Any] | None:
    """Scores `term` as a phrase of whole jieba words (any of its forms), boosted by field; None when it has no
    words."""
    clauses = [
        _phrase(f"words.{field}", words, RANKING_BOOSTS[field])
        for form in term.forms
        if (words := " ".join(segmenter.words(form)))
        for field in term.fields
    ]
    return {"bool": {"should": clauses}} if clauses else None


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


Spellings = Mapping[str, Sequence[str]]
"""For each ``~term`` of a query, the spellings searched (what :func:`searched_spellings` gives)."""


def searched_spellings(query: Query) -> dict[str, list[str]]:
    """``{"~川普": ["川普", "特朗普"], …}`` for the ``~`` terms of `query`: expansion is never silent."""
    return {f"~{term.text}": list(term.spellings) for term in query.expansions()}


def spellings_note(spellings: Spellings) -> str | None:
    """One line saying which spellings each ``~`` term searched; None without ``~`` terms."""
    if not spellings:
        return None
    return "; ".join(f"{term} searched {', '.join(forms)}" for term, forms in spellings.items())
