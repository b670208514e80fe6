"""The query parser and compiler: grammar, errors that point at the problem, and only safe DSL ever."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import opencc
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from indexer.errors import QueryError
from indexer.mapping import TEXT_FIELDS, VIEW_FIELDS
from indexer.normalize import char_tokens, fold
from indexer.query import (
    DATE_FIELD,
    FIELD_NAMES,
    KEYWORD_FIELDS,
    MAX_NEAR,
    MAX_TERMS,
    SAFE_QUERY_TYPES,
    SCOPES,
    DateRange,
    Keyword,
    Near,
    Node,
    Query,
    Text,
    Undated,
    date_range,
    parse,
    recall_clause,
    to_dsl,
)
from indexer.segment import Segmenter, get_segmenter


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return get_segmenter()


def test_terms_are_anded_and_or_binds_tighter() -> None:
    query = parse("拉夫罗夫 朝鲜 OR 北韩 核武器")
    assert query.groups == ((Text("拉夫罗夫"),), (Text("朝鲜"), Text("北韩")), (Text("核武器"),))
    assert query.excluded == ()


def test_chained_or_is_one_group() -> None:
    assert parse("a OR b OR c").groups == ((Text("a"), Text("b"), Text("c")),)


def test_lowercase_or_and_quoted_or_are_text() -> None:
    assert parse('a or "OR"').groups == ((Text("a"),), (Text("or"),), (Text("OR"),))


def test_negation_quotes_and_scopes() -> None:
    query = parse('"B-52 轰炸机" -广告 title:普京 body:"金 正恩" caption:地图 -title:快讯')
    assert query.groups == (
        (Text("B-52 轰炸机"),),
        (Text("普京", SCOPES["title"]),),
        (Text("金 正恩", SCOPES["body"]),),
        (Text("地图", SCOPES["caption"]),),
    )
    assert query.excluded == (Text("广告"), Text("快讯", SCOPES["title"]))


def test_keyword_fields_are_folded_like_the_index() -> None:
    query = parse("outlet:DW person:蔡英文 place:臺北 org:世卫组织 keyword:疫苗")
    assert [term for (term,) in query.groups] == [
        Keyword("outlet", "dw"),
        Keyword("persons", fold("蔡英文")),
        Keyword("places", fold("臺北")),
        Keyword("orgs", fold("世卫组织")),
        Keyword("keywords", fold("疫苗")),
    ]


def test_field_names_are_case_insensitive() -> None:
    assert parse("Title:普京").groups == ((Text("普京", SCOPES["title"]),),)


@pytest.mark.parametrize("text", ["12:30", "https://www.dw.com/zh/a-1", "B-52:", "Wi-Fi:6", "中国:美国", ":abc"])
def test_colons_that_are_not_field_syntax_are_text(text: str) -> None:
    assert parse(text).groups == ((Text(text),),)


def test_outlets_and_dates_from_options_become_groups() -> None:
    query = parse("疫情", outlets=["dw", "BBC"], date_from="2020-07", date_to="2020-08-15")
    assert query.groups[1] == (Keyword("outlet", "dw"), Keyword("outlet", "bbc"))
    assert query.groups[2] == (DateRange(datetime(2020, 7, 1, tzinfo=UTC), datetime(2020, 8, 16, tzinfo=UTC)),)


@pytest.mark.parametrize(
    ("value", "start", "end"),
    [
        ("2023", (2023, 1, 1), (2024, 1, 1)),
        ("2023-12", (2023, 12, 1), (2024, 1, 1)),
        ("2023-02", (2023, 2, 1), (2023, 3, 1)),
        ("2024-02-29", (2024, 2, 29), (2024, 3, 1)),
        ("2023-10..2023-12", (2023, 10, 1), (2024, 1, 1)),
        ("2023-10-05..", (2023, 10, 5), None),
        ("..2020", None, (2021, 1, 1)),
    ],
)
def test_inline_dates_are_whole_periods(value: str, start: tuple[int, ...] | None, end: tuple[int, ...] | None) -> None:
    zone = ZoneInfo("Asia/Shanghai")
    (term,) = parse(f"date:{value}", timezone="Asia/Shanghai").groups[0]
    assert term == DateRange(
        datetime(*start, tzinfo=zone) if start else None, datetime(*end, tzinfo=zone) if end else None
    )


def test_date_none_matches_articles_without_a_publish_time(segmenter: Segmenter) -> None:
    assert parse("date:none").groups == ((Undated(),),)
    assert parse("DATE:None 疫情").groups == ((Undated(),), (Text("疫情"),))
    missing = {"bool": {"must_not": [{"exists": {"field": DATE_FIELD}}]}}
    assert recall_clause(Undated()) == missing
    query = parse("疫情 -date:none")
    assert query.excluded == (Undated(),)
    assert to_dsl(query, segmenter)["bool"]["must_not"] == [missing]
    assert parse("date:none OR date:2020").groups[0][0] == Undated()
    assert parse("date:none").date_bounds() == DateRange(None, None)


def test_date_bounds_intersect_anded_ranges() -> None:
    query = parse("a date:2020 date:2020-06..2021-03")
    assert query.date_bounds() == DateRange(datetime(2020, 6, 1, tzinfo=UTC), datetime(2021, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('"abc', "unbalanced quote"),
        ('a "b c', "column 3"),
        ("foo:bar", "unknown field 'foo:'"),
        ("-a -b", "only excludes"),
        ("OR a", "OR needs a term on each side"),
        ("a OR", "OR needs a term on each side"),
        ("a OR OR b", "column 6"),
        ("a OR -b", "excluded"),
        ("-a OR b", "excluded"),
        ("title:", "needs a value"),
        ("person: x", "needs a value"),
        ("(a OR b", "never closed .at column 1"),
        ("a OR b)", "closes nothing"),
        ("a ()", "column 3"),
        ("(-a) b", "only excludes"),
        ("f(x)", "edge of a word"),
        ("title:(a b)", "edge of a word"),
        ("(a OR) b", "column 4"),
        ("(" * 9 + "a" + ")" * 9, "at most 8 deep"),
        ("a NEAR/ b", "distance"),
        ("a NEAR/100 b", "from 0 to 99"),
        ("NEAR/3 b", "column 1"),
        ("a NEAR/3", "column 3"),
        ("-a NEAR/3 b", "to exclude a NEAR"),
        ("a NEAR/3 (b c)", "two text terms"),
        ("a NEAR/3 outlet:dw", "two text terms"),
        ("title:a NEAR/3 body:b", "share none"),
        ("a NEAR/3 b NEAR/3 c", "column 12"),
        ("a OR NEAR/3 b", "column 3"),
        ("普京 NEAR/3 普京", "two different terms"),
        ("~", "'~' must be followed"),
        ("outlet:~dw", "no text field"),
        ("~川普", "not available"),
        ('a"b"', "quote can only start"),
        ('"a"b', "closing quote"),
        ("-", "must be followed"),
        ("--a", "'--'"),
        ('""', "nothing to search"),
        ("\u200b", "nothing to search"),
        ("date:2020-13", "month must be in 1..12"),
        ("date:2021-02-29", "day is out of range"),
        ("date:20201", "YYYY, YYYY-MM or YYYY-MM-DD"),
        ("date:2020/10", "YYYY, YYYY-MM or YYYY-MM-DD"),
        ("date:2021..2020", "ends before it starts"),
        ("date:..", "at least one date"),
        ("date:9999", "out of range"),
        ("a " * (MAX_TERMS + 1), "at most"),
        ("x" * 501, "at most 500 characters"),
    ],
)
def test_malformed_queries_say_what_is_wrong(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(query)


def test_bad_option_dates_and_time_zones() -> None:
    with pytest.raises(QueryError, match="date_from/date_to"):
        parse("a", date_from="2020-10-32")
    with pytest.raises(QueryError, match="ends before it starts"):
        parse("a", date_from="2021", date_to="2020-12-31")
    with pytest.raises(QueryError, match="unknown time zone"):
        date_range("2020", None, "Mars/Olympus")


def test_empty_query_allowed_for_counting() -> None:
    assert parse("", allow_empty=True) == Query(())
    assert parse("-广告", allow_empty=True).excluded == (Text("广告"),)


def test_dsl_recall_in_filter_ranking_in_should(segmenter: Segmenter) -> None:
    dsl = to_dsl(parse("拉夫罗夫 -广告 outlet:dw"), segmenter)["bool"]
    recall, outlet = dsl["filter"]
    phrases = [clause["match_phrase"] for clause in recall["bool"]["should"]]
    assert [next(iter(p)) for p in phrases] == [f"chars.{field}" for field in TEXT_FIELDS]
    assert all(
        p[f]["query"] == char_tokens("拉夫罗夫") and p[f]["analyzer"] == "whitespace" for p in phrases for f in p
    )
    assert outlet == {"term": {"outlet": "dw"}}
    (ranking,) = dsl["should"]
    words = " ".join(segmenter.words("拉夫罗夫"))
    boosts = {}
    for clause in ranking["bool"]["should"]:
        ((name, body),) = clause["match_phrase"].items()
        assert body["query"] == words and body["analyzer"] == "whitespace"
        boosts[name.removeprefix("words.")] = body["boost"]
    assert boosts["title"] > boosts["headings"] > boosts["body"] == boosts["captions"] == boosts["gallery"]
    assert dsl["must_not"][0]["bool"]["should"][0] == {
        "match_phrase": {"chars.title": {"query": char_tokens("广告"), "analyzer": "whitespace"}}
    }


def test_entity_values_are_spelled_as_the_index_side_stores_them(segmenter: Segmenter) -> None:
    entities = segmenter.entities(segmenter.tokens("美國總統拜登在華盛頓會見台灣代表，世界衛生組織表示歡迎。"))
    stored = {"persons": entities.persons, "places": entities.places, "orgs": entities.orgs}
    prefixes = {target: name for name, target in KEYWORD_FIELDS.items()}
    to_traditional = opencc.OpenCC("s2t")
    assert all(stored.values())
    for field, values in stored.items():
        for value in values:
            for typed in (value, to_traditional.convert(value), f" {value.upper()} "):
                dsl = to_dsl(parse(f'{prefixes[field]}:"{typed}"'), segmenter)
                assert dsl["bool"]["filter"] == [{"term": {field: value}}]


def _query_types(node: Any) -> set[str]:
    """Every query type in a DSL tree (keys of objects that sit where a query is expected)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            found.add(key)
            if key == "bool":
                for clauses in value.values():
                    for clause in clauses if isinstance(clauses, list) else []:
                        found |= _query_types(clause)
    return found


QUERY_CHARS = st.sampled_from(list('ab中國台湾 "-:()OR　Ｂ\u200b.*?~^\\/[]{}titlepersondate0123.'))
OPERATORS = st.sampled_from(["(", ")", "-(", "OR", "NEAR/3", "NEAR/0", "~a", "title:~台湾", '"a b"', "中國", "-x"])
FIELDISH = st.builds(lambda f, v: f"{f}:{v}", st.sampled_from([*FIELD_NAMES, "foo", "http"]), st.text(max_size=8))


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.text(QUERY_CHARS, max_size=30),
        st.lists(FIELDISH).map(" ".join),
        st.lists(st.one_of(OPERATORS, FIELDISH), max_size=12).map(" ".join),
        st.lists(OPERATORS, max_size=12).map("".join),
    )
)
@example('title:"a b" OR c -d')
@example('a*b? c~2 d^3 /re.*/ {"script": 1}')
def test_any_input_is_a_safe_query_or_a_query_error(segmenter: Segmenter, text: str) -> None:
    try:
        query = parse(text, variants=lambda term: [term, "川普", "特朗普"])
    except QueryError as error:
        assert str(error)
        return
    dsl = to_dsl(query, segmenter)
    assert _query_types(dsl) <= SAFE_QUERY_TYPES
    assert query.groups
    _check_terms(query)


def _check_terms(node: Node) -> None:
    """Every text term has something to search, in fields with views; keyword terms name keyword fields."""
    if isinstance(node, Query):
        assert node.groups
        for item in [*(item for group in node.groups for item in group), *node.excluded]:
            _check_terms(item)
    elif isinstance(node, Near):
        assert 0 <= node.gap <= MAX_NEAR and set(node.fields) <= set(node.left.fields) & set(node.right.fields)
        _check_terms(node.left)
        _check_terms(node.right)
    elif isinstance(node, Text):
        assert all(char_tokens(form) for form in node.forms)
        assert set(node.fields) <= set(VIEW_FIELDS)
    elif isinstance(node, Keyword):
        assert node.field in KEYWORD_FIELDS.values()


def test_outlet_option_is_folded_and_must_not_be_empty() -> None:
    assert parse("a", outlets=["ＤＷ "]).groups[1] == (Keyword("outlet", "dw"),)
    with pytest.raises(QueryError, match="outlet needs"):
        parse("a", outlets=[" "])
