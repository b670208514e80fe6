"""Search against a real Elasticsearch, on a small index built from examples/ and a slice of the corpus.

Expected results are never written down: they are computed from the stored articles by a plain scan of
their folded text (the definition of a match), or by direct Elasticsearch requests for counts.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from elasticsearch import Elasticsearch
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import lifecycle
from indexer.client import explain
from indexer.config import Settings
from indexer.document import article_from_source, field_texts
from indexer.errors import IndexerError, IndexMissing, QueryError
from indexer.ingest import IngestOptions, ingest
from indexer.mapping import TEXT_FIELDS
from indexer.normalize import char_tokens
from indexer.query import Query, Text, parse
from indexer.search import SOURCE_FIELDS, Searcher


def _compact(text: str) -> str:
    return char_tokens(text).replace(" ", "")


@pytest.fixture(scope="module")
def sources(es: Elasticsearch, small_alias: str) -> dict[str, dict[str, Any]]:
    """Document id → stored _source (listing fields and displayed texts)."""
    answer = es.search(index=small_alias, size=10_000, source_includes=list(SOURCE_FIELDS))
    return {hit["_id"]: hit["_source"] for hit in answer["hits"]["hits"]}


@pytest.fixture(scope="module")
def stored(sources: dict[str, dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Document id → displayed texts per field, as stored."""
    return {doc_id: field_texts(article_from_source(source)) for doc_id, source in sources.items()}


def scan(stored: dict[str, dict[str, list[str]]], term: str, fields: tuple[str, ...] = TEXT_FIELDS) -> set[str]:
    """The definition of a match: a field entry's compacted folded text contains the compacted folded term."""
    target = _compact(term)
    return {
        doc_id
        for doc_id, texts in stored.items()
        if any(target in _compact(text) for field in fields for text in texts[field])
    }


def ids(searcher: Searcher, query: Query | str) -> set[str]:
    parsed = searcher.parse(query) if isinstance(query, str) else query
    found = [hit.id for hit in searcher.stream(parsed, highlight=False)]
    assert len(found) == len(set(found))
    return set(found)


@pytest.fixture(scope="module")
def terms(stored: dict[str, dict[str, list[str]]]) -> list[str]:
    """Terms drawn from the stored texts: substrings of 1-6 characters, Latin/digit mixes, any script."""
    rng = random.Random(7)
    texts = [text for fields in stored.values() for entries in fields.values() for text in entries if len(text) > 8]
    drawn = set()
    while len(drawn) < 60:
        text = rng.choice(texts)
        length = rng.randint(1, 6)
        start = rng.randrange(len(text) - length)
        span = text[start : start + length].strip()
        if _compact(span) and '"' not in span:
            drawn.add(span)
    mixes = sorted({m for text in texts for m in re.findall(r"[A-Za-z]+-?\d+", text)})
    return sorted(drawn) + rng.sample(mixes, min(10, len(mixes)))


def test_results_are_exactly_the_articles_whose_folded_text_contains_the_term(
    searcher: Searcher, stored: dict[str, dict[str, list[str]]], terms: list[str]
) -> None:
    for term in terms:
        assert ids(searcher, Query(((Text(term),),))) == scan(stored, term), term


def test_whitespace_is_a_word_boundary_between_latin_letters_digits_and_punctuation_only(
    es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    body = "<p>美军 B - 52 轰炸机 于 Jul 23 飞越南海</p>"
    (tmp_path / "a.md").write_text(f"<!--1600000000000-->\n[报道](https://example.org/news/7)\n------\n\n{body}\n")
    assert ingest(es_settings, [tmp_path], IngestOptions(workers=1), alias=alias).indexed == 1
    searcher = Searcher(es_settings, index=alias)
    found = {
        query: len(ids(searcher, query)) for query in ["l2", "b-52", '"jul 23"', '"b - 52"', "轰炸机于jul", "52轰炸机"]
    }
    assert found == {"l2": 0, "b-52": 0, '"jul 23"': 1, '"b - 52"': 1, "轰炸机于jul": 1, "52轰炸机": 1}


def test_field_scopes(searcher: Searcher, stored: dict[str, dict[str, list[str]]]) -> None:
    for query, term, fields in [
        ("title:中国", "中国", ("title",)),
        ("body:中国", "中国", ("body", "headings")),
        ("caption:图", "图", ("captions", "gallery")),
    ]:
        assert ids(searcher, query) == scan(stored, term, fields)


def test_and_or_not(searcher: Searcher, stored: dict[str, dict[str, list[str]]]) -> None:
    a, b, c = scan(stored, "美国"), scan(stored, "中国"), scan(stored, "台湾")
    assert ids(searcher, "美国 中国") == a & b
    assert ids(searcher, "美国 中国 OR 台湾") == a & (b | c)
    assert ids(searcher, "美国 -中国") == a - b
    assert ids(searcher, '"美 国"') == a


def test_traditional_and_simplified_find_each_other(searcher: Searcher) -> None:
    for simplified, traditional in [("台湾", "臺灣"), ("国际", "國際"), ("发展", "發展")]:
        found = ids(searcher, simplified)
        assert found == ids(searcher, traditional)
        assert {doc_id.split(":")[0] for doc_id in found} & {"cna", "rti"}


def _whole_word(searcher: Searcher, texts: dict[str, list[str]], term: str) -> bool:
    words = searcher.segmenter.words(term)
    for entries in texts.values():
        for text in entries:
            tokens = searcher.segmenter.words(text)
            if any(tokens[i : i + len(words)] == words for i in range(len(tokens))):
                return True
    return False


def test_whole_word_matches_rank_above_sub_word_matches(
    searcher: Searcher, stored: dict[str, dict[str, list[str]]]
) -> None:
    checked = 0
    for term in ["中国", "国际", "发展", "美国", "政府", "经济"]:
        hits = searcher.search(searcher.parse(term), limit=200, highlight=False).hits
        whole = [_whole_word(searcher, stored[hit.id], term) for hit in hits]
        assert whole == sorted(whole, reverse=True), term
        checked += 0 < sum(whole) < len(whole)
    assert checked, "no term had both whole-word and sub-word matches"


def test_sort_orders_and_pages(searcher: Searcher) -> None:
    query = searcher.parse("中国")
    newest = [hit.published_at for hit in searcher.search(query, "newest", limit=50).hits]
    oldest = [hit.published_at for hit in searcher.search(query, "oldest", limit=50).hits]
    assert newest == sorted(newest, reverse=True) and oldest == sorted(oldest)
    whole = [hit.id for hit in searcher.search(query, "newest", limit=30).hits]
    pages = [hit.id for offset in (0, 10, 20) for hit in searcher.search(query, "newest", 10, offset).hits]
    assert pages == whole


def test_stream_returns_every_hit_once_across_pages(searcher: Searcher) -> None:
    query = searcher.parse("的")
    total = searcher.count(query)
    for sort in ("relevance", "newest", "oldest"):
        stream = searcher.stream(query, sort, page_size=7)
        got = [hit.id for hit in stream]
        assert stream.total == total == len(got) == len(set(got))


def test_outlet_and_date_filters(
    searcher: Searcher, stored: dict[str, dict[str, list[str]]], sources: dict[str, dict[str, Any]]
) -> None:
    query = searcher.parse("中国", outlets=["dw", "cna"], date_from="2020-08", date_to="2020-09-15")
    start, end = query.date_bounds().start, query.date_bounds().end
    assert start and end and end - start == timedelta(days=31 + 15)
    expected = {
        doc_id
        for doc_id in scan(stored, "中国")
        if sources[doc_id]["outlet"] in {"dw", "cna"}
        and sources[doc_id].get("published_at")
        and start <= datetime.fromisoformat(sources[doc_id]["published_at"]) < end
    }
    assert expected
    assert ids(searcher, query) == expected


def test_highlights_mark_the_term_in_the_original_text(searcher: Searcher) -> None:
    for term in ["臺灣", "台湾", "covid"]:
        page = searcher.search(searcher.parse(term), limit=20)
        assert page.hits
        for hit in page.hits:
            assert hit.fragments, hit.id
            for fragment in hit.fragments:
                assert fragment.spans
                for start, end in fragment.spans:
                    assert _compact(term) in _compact(fragment.text[start:end])


def test_histogram_matches_direct_counts(searcher: Searcher, es: Elasticsearch, small_alias: str) -> None:
    query = searcher.parse("中国")
    for interval in ("day", "week", "month", "year"):
        histogram = searcher.histogram(query, interval)
        assert histogram.total == searcher.count(query)
        buckets = histogram.buckets
        ends = [following.start.isoformat() for following in buckets[1:]] + [None]
        for bucket, end in zip(buckets, ends, strict=True):
            period = {"gte": bucket.start.isoformat()} | ({"lt": end} if end else {})
            direct = es.count(
                index=small_alias,
                query={"bool": {"filter": [searcher.dsl(query), {"range": {"published_at": period}}]}},
            )["count"]
            assert bucket.count == direct, (interval, bucket.label)
        assert sum(b.count for b in buckets) + histogram.undated == histogram.total
    months = searcher.histogram(searcher.parse("中国 date:2020-01..2020-12"), "month")
    assert [bucket.label for bucket in months.buckets] == [f"2020-{month:02d}" for month in range(1, 13)]


def test_terms_match_direct_counts(searcher: Searcher, es: Elasticsearch, small_alias: str) -> None:
    query = searcher.parse("中国")
    for name, field in [("person", "persons"), ("place", "places"), ("outlet", "outlet"), ("keyword", "keywords")]:
        counts = searcher.terms(query, name, 5)
        assert counts.values
        for value, count in counts.values:
            direct = es.count(
                index=small_alias, query={"bool": {"filter": [searcher.dsl(query), {"term": {field: value}}]}}
            )["count"]
            assert count == direct, (name, value)
        keyword_query = searcher.parse(f"中国 {name}:{counts.values[0][0]}")
        assert searcher.count(keyword_query) == counts.values[0][1]


def test_show_by_id_article_id_and_url(searcher: Searcher) -> None:
    article = searcher.show("dw:a-67150547")
    assert article.source["title"] == "为普京打前站 俄外长拉夫罗夫拜会金正恩"
    assert "chars" not in article.source and "words" not in article.source
    assert searcher.show("a-67150547").id == article.id
    assert searcher.show(article.source["url"]).id == article.id
    assert searcher.show(unquote(article.source["url"]).replace("https://", "http://")).id == article.id
    with pytest.raises(IndexerError, match="no article"):
        searcher.show("dw:a-0")


def test_window_limit_and_missing_index(es_settings: Settings, searcher: Searcher) -> None:
    with pytest.raises(QueryError, match="stream"):
        searcher.search(searcher.parse("中国"), limit=100, offset=9950)
    missing = Searcher(es_settings, index=f"missing-{uuid.uuid4().hex[:6]}")
    for call in (
        lambda: missing.search(parse("中国")),
        lambda: missing.count(parse("中国")),
        lambda: missing.stream(parse("中国")),
        lambda: missing.histogram(parse("中国")),
        lambda: missing.show("dw:a-1"),
    ):
        with pytest.raises(Exception) as caught:
            call()
        assert isinstance(explain(caught.value, es_settings), IndexMissing)


def test_examples_file_is_searchable(searcher: Searcher) -> None:
    (hit,) = searcher.search(searcher.parse("拉夫罗夫 金正恩 B-52")).hits
    assert hit.id == "dw:a-67150547"
    assert hit.fragments[0].field == "title"


def test_version_warning_when_the_index_was_built_with_other_dictionaries(
    es: Elasticsearch, es_settings: Settings, searcher: Searcher, alias: str
) -> None:
    assert searcher.version_warning() is None
    old = lifecycle.index_name(alias, "0ld-dictionary", 1)
    lifecycle.create_index(es, old, "0ld-dictionary")
    es.indices.put_alias(index=old, name=alias)
    warning = Searcher(es_settings, index=alias).version_warning()
    assert warning and "0ld-dictionary" in warning and f"indexer reindex --index {alias}" in warning
    assert Searcher(es_settings, index=f"missing-{uuid.uuid4().hex[:6]}").version_warning() is None


@settings(max_examples=60, deadline=None)
@given(st.text(st.sampled_from(list('中國台湾ab1-: "ＡＢ\u200b.*?~()/\\[]{}OR')), max_size=24))
def test_every_parsed_query_is_valid_for_elasticsearch(searcher: Searcher, text: str) -> None:
    try:
        query = searcher.parse(text)
    except QueryError:
        return
    answer = searcher.es.indices.validate_query(index=searcher.index, query=searcher.dsl(query), explain=True)
    assert answer["valid"], answer
