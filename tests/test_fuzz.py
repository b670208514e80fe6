"""Hostile input: the article parser never crashes on any bytes, and user query text only ever becomes the safe
query shapes this tool builds (or a clear QueryError).

The mutated articles are made here from corpus files (bit flips, truncations, spliced halves, tag soup), with a
seed that a failure reports; nothing generated is committed.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from indexer.article import Article
from indexer.errors import QueryError
from indexer.mapping import TEXT_FIELDS, VIEW_FIELDS
from indexer.parser import ParseError, parse_bytes
from indexer.query import DATE_FIELD, KEYWORD_FIELDS, MAX_NEAR, MAX_TERM_CHARS, MAX_TERMS, parse, to_dsl
from indexer.segment import Segmenter, get_segmenter

from .conftest import Figure

# --- the article parser -----------------------------------------------------------------------------------------

PARSE_SECONDS = 5.0
"""No input may take longer than this to parse (pathological backtracking would)."""


def _parses_or_rejects(data: bytes) -> Article | ParseError:
    """The parser's answer to `data`: an Article or a ParseError with a reason; anything else fails the test."""
    started = time.monotonic()
    try:
        article = parse_bytes(data, "fuzz.md")
    except ParseError as error:
        assert error.reason and str(error)
        return error
    finally:
        assert time.monotonic() - started < PARSE_SECONDS
    assert isinstance(article.title, str) and isinstance(article.paragraphs, tuple)
    return article


TAGS = ["p", "div", "img", "a", "table", "tr", "td", "figure", "figcaption", "h2", "script", "style", "br", "iframe"]
HEADER = st.builds(
    lambda ms, title, url: f"<!--{ms}-->\n[{title}]({url})\n------\n\n".encode(),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.text(max_size=30),
    st.sampled_from(["https://www.dw.com/zh/a-1", "https://www.bbc.com/zhongwen/simp/x-1", "", "javascript:x", "//"]),
)
TAG_SOUP = st.lists(
    st.one_of(
        st.sampled_from(TAGS).map(lambda tag: f"<{tag}>"),
        st.sampled_from(TAGS).map(lambda tag: f"</{tag}>"),
        st.builds(
            lambda tag, value: f"<{tag} src=\"{value}\" alt='{value}'>", st.sampled_from(TAGS), st.text(max_size=10)
        ),
        st.text(max_size=20),
        st.sampled_from(["&amp;", "&#0;", "&#x110000;", "&nbsp;", "<!--", "-->", "<![CDATA[", "]]>", "\r", "\x00"]),
    ),
    max_size=40,
).map(lambda parts: "".join(parts).encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.builds(bytes.__add__, HEADER, TAG_SOUP)))
@example(b"")
@example(b"<!--253402300800000-->\n[](http://w)")  # after the year 9999: was an OverflowError
@example(b"<!--1600000000000-->\n[t](https://www.dw.com/zh/a-1)\n------\n\n" + b"<p>" * 5000)
def test_the_parser_answers_any_bytes_with_an_article_or_a_parse_error(data: bytes) -> None:
    _parses_or_rejects(data)


def _bit_flips(data: bytes, rng: random.Random, _: bytes) -> bytes:
    mutated = bytearray(data)
    for _ in range(rng.randint(1, 24)):
        position = rng.randrange(len(mutated))
        mutated[position] ^= 1 << rng.randrange(8)
    return bytes(mutated)


def _truncation(data: bytes, rng: random.Random, _: bytes) -> bytes:
    return data[: rng.randrange(len(data))]


def _spliced_halves(data: bytes, rng: random.Random, other: bytes) -> bytes:
    return data[: rng.randrange(len(data))] + other[rng.randrange(len(other)) :]


def _tag_soup(data: bytes, rng: random.Random, _: bytes) -> bytes:
    soup = "".join(
        rng.choice([f"<{t}>", f"</{t}>", f'<{t} href="', f"<{t} src='>", "&#", "&#x", "<!--", "]]>"])
        for t in rng.choices(TAGS, k=60)
    )
    position = rng.randrange(len(data))
    return data[:position] + soup.encode() + data[position:]


MUTATIONS: dict[str, Callable[[bytes, random.Random, bytes], bytes]] = {
    "bit flips": _bit_flips,
    "truncation": _truncation,
    "spliced halves": _spliced_halves,
    "tag soup": _tag_soup,
}


@pytest.mark.slow
def test_mutated_real_articles_never_crash_the_parser(corpus: Path, figure: Figure) -> None:
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    files = sorted(corpus.rglob("*.md"))
    originals = [path.read_bytes() for path in rng.sample(files, 60)]
    outcomes: Counter[str] = Counter()
    slowest = 0.0
    for data in originals:
        for name, mutate in MUTATIONS.items():
            for _ in range(3):
                mutated = mutate(data, rng, rng.choice(originals))
                started = time.monotonic()
                result = _parses_or_rejects(mutated)
                slowest = max(slowest, time.monotonic() - started)
                outcome = "article" if isinstance(result, Article) else f"rejected: {result.reason}"
                outcomes[f"{name} → {outcome}"] += 1
    assert sum(outcomes.values()) == len(originals) * len(MUTATIONS) * 3
    figure("parser-fuzz", seed=seed, inputs=sum(outcomes.values()), slowest_seconds=round(slowest, 3), **outcomes)


# --- the query language -----------------------------------------------------------------------------------------

TEXT_VIEWS = {f"{view}.{name}" for view in ("chars", "words") for name in VIEW_FIELDS}
HOSTILE_WORDS = r"""* ? a*b te?t title:* person:* outlet:* /.*/ /(a+)+$/ a~2 b^10 _exists_:title _id:1 query_string
    regexp wildcard script \ \* OR AND NOT - -- " "" "*" ( ) date:0000 date:9999-12-31.. date:2020-13 date:.. date:1..2
    date:none date:NONE.. title: http://x 12:30 B-52: 中国 臺灣 Ｂ 🙂 NEAR/5 NEAR/0 NEAR/ NEAR/999 near/2 (( )) -( (a b)
    (中国 title:~川普 ~"a b" ~ -~台湾 outlet:~dw"""
HOSTILE_PHRASES = (
    "[a TO z]",
    "{1 TO 9}",
    '{"script": {"source": "System.exit(0)"}}',
    '{"query_string": {"query": "*"}}',
)
HOSTILE = st.sampled_from([*HOSTILE_WORDS.split(), *HOSTILE_PHRASES, "\u200b", "\x00", "\u3000", "a" * 600])
QUERIES = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(HOSTILE, st.text(max_size=8)), max_size=80).map(" ".join),
    st.lists(HOSTILE, max_size=12).map("".join),
)


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return get_segmenter()


def _check_query(dsl: Any, counts: Counter[str]) -> None:
    """Fail unless `dsl` is built only of the shapes to_dsl makes, with user text only where text may be."""
    assert isinstance(dsl, dict) and len(dsl) == 1
    ((kind, body),) = dsl.items()
    counts[kind] += 1
    if kind == "bool":
        assert set(body) <= {"filter", "should", "must_not", "minimum_should_match"}
        assert body.get("minimum_should_match", 1) == 1
        for clause in (c for key in ("filter", "should", "must_not") for c in body.get(key, [])):
            _check_query(clause, counts)
    elif kind == "match_phrase":
        ((field, phrase),) = body.items()
        assert field in TEXT_VIEWS
        assert set(phrase) <= {"query", "analyzer", "boost"} and phrase["analyzer"] == "whitespace"
        assert isinstance(phrase["query"], str) and len(phrase["query"].split()) <= MAX_TERM_CHARS
    elif kind == "intervals":
        ((field, rule),) = body.items()
        assert field in TEXT_VIEWS and field.startswith("chars.")
        _check_interval_rule(rule)
    elif kind == "term":
        ((field, value),) = body.items()
        assert field in KEYWORD_FIELDS.values() and isinstance(value, str)
    elif kind == "range":
        assert list(body) == [DATE_FIELD] and set(body[DATE_FIELD]) <= {"gte", "lt"}
        assert all(isinstance(value, str) and value[:4].isdigit() for value in body[DATE_FIELD].values())
    elif kind == "exists":
        assert body == {"field": DATE_FIELD}
    else:
        pytest.fail(f"query type {kind!r} in {dsl}")


def _check_interval_rule(rule: Any) -> None:
    """An intervals rule of the shapes NEAR makes: any_of/all_of of character phrases, user text only as the
    whitespace-analyzed query of a match."""
    assert isinstance(rule, dict) and len(rule) == 1
    ((kind, body),) = rule.items()
    if kind == "match":
        assert set(body) == {"query", "analyzer", "ordered", "max_gaps"} and body["analyzer"] == "whitespace"
        assert body["ordered"] is True and body["max_gaps"] == 0
        assert isinstance(body["query"], str) and len(body["query"].split()) <= MAX_TERM_CHARS
    elif kind == "any_of":
        assert set(body) == {"intervals"}
        for inner in body["intervals"]:
            _check_interval_rule(inner)
    elif kind == "all_of":
        assert set(body) == {"ordered", "max_gaps", "intervals"} and body["ordered"] is True
        assert isinstance(body["max_gaps"], int) and 0 <= body["max_gaps"] <= MAX_NEAR
        assert len(body["intervals"]) == 2
        for inner in body["intervals"]:
            _check_interval_rule(inner)
    else:
        pytest.fail(f"interval rule {kind!r} in {rule}")


@settings(max_examples=500, deadline=None)
@given(QUERIES)
@example('title:"a b" OR c* -d? {"script": 1} /x.*/ _exists_:t')
@example(" ".join(["中国 OR"] * 40) + " 美国")
def test_any_query_text_becomes_only_our_safe_shapes_or_a_query_error(segmenter: Segmenter, text: str) -> None:
    try:
        query = parse(text, allow_empty=True, variants=lambda term: [term, "川普"])
    except QueryError as error:
        assert str(error).strip()
        return
    counts: Counter[str] = Counter()
    _check_query(to_dsl(query, segmenter), counts)
    assert counts["match_phrase"] <= 2 * 2 * len(TEXT_FIELDS) * MAX_TERMS  # recall and ranking, per field and form
