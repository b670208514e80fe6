"""Recall on the whole corpus: every article a grep-style scan of the files finds, the search returns.

The oracle (``tests/oracle.py``) reads the files, takes the displayed text as the parser gives it, and matches
NFKC + lower-cased substrings, with cross-script variants from OpenCC's s2t/t2s, not from the index's fold
table. The queries are derived from the corpus with a fixed seed: persons, places, 2-6 character substrings,
single characters, Latin/digit mixes like B-52, Traditional spellings and their Simplified forms and back.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.config import Settings
from indexer.query import Query, Text
from indexer.search import Searcher
from tests.oracle import derive_queries, load, stored_hashes


@pytest.mark.slow
def test_search_returns_every_article_the_scan_finds(
    es: Elasticsearch, es_settings: Settings, corpus: Path, corpus_alias: str
) -> None:
    stored = stored_hashes(es, corpus_alias)
    oracle = load(corpus, stored)
    only_files, only_index = set(oracle.ids) - set(stored), set(stored) - set(oracle.ids)
    assert (len(only_files), len(only_index)) == (0, 0), (
        f"the oracle and the index hold different articles: only in the files {sorted(only_files)[:5]}, "
        f"only in the index {sorted(only_index)[:5]}"
    )
    queries = derive_queries(oracle)
    kinds = Counter(query.kind for query in queries)
    assert len(queries) >= 300 and all(kinds[kind] >= 20 for kind in kinds), kinds
    searcher = Searcher(es_settings, index=corpus_alias)
    misses: dict[str, list[str]] = {}
    found_total = 0
    for query in queries:
        expected = oracle.find(query.text)
        found = {hit.id for hit in searcher.stream(Query(((Text(query.text),),)), highlight=False)}
        found_total += len(expected)
        if expected - found:
            misses[f"{query.kind}: {query.text}"] = sorted(expected - found)[:5]
    assert len(misses) == 0, f"{len(misses)} queries miss articles, e.g. {dict(list(misses.items())[:10])}"
    assert found_total > 10 * len(queries), "the derived queries should find articles"
