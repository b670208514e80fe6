"""The concordance on the real node: its lines are the occurrences in the stored text, counted against the
grep-style oracle over the files (``bench/oracle.py``); sorting, context, citation fields, CSV for Excel."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter

import pytest

from indexer.config import Settings
from indexer.kwic import concordance
from indexer.normalize import fold
from indexer.search import Searcher
from tests.nodes import run_cli
from tests.oracle import Oracle


@pytest.fixture(scope="module")
def searcher(es_settings: Settings, mention_alias: str) -> Searcher:
    return Searcher(es_settings, index=mention_alias)


def per_article(searcher: Searcher, query: str) -> Counter[str]:
    return Counter(line.id for line in concordance(searcher, searcher.parse(query), limit=None))


@pytest.mark.parametrize("term", ["普京", "金正恩", "習近平", "俄罗斯", "美国", "朝鲜半岛", "哈哈"])
def test_lines_per_article_are_the_occurrences_in_the_files(
    searcher: Searcher,
    mention_oracle: Oracle,
    term: str,
) -> None:
    assert per_article(searcher, term) == mention_oracle.occurrences(term)


def test_tilde_lines_are_the_occurrences_of_every_spelling(searcher: Searcher, mention_oracle: Oracle) -> None:
    expected = Counter[str]()
    for form in searcher.variant_table().spellings("普京"):
        expected += mention_oracle.occurrences(form)
    assert per_article(searcher, "~普京") == expected
    assert {line.term for line in concordance(searcher, searcher.parse("~普京"), limit=None)} == {"~普京"}


def test_lines_show_the_original_text_and_cite_it(searcher: Searcher) -> None:
    lines = list(concordance(searcher, searcher.parse("普京"), width=7, limit=None))
    stored = {}
    for line in lines[:200]:
        if line.id not in stored:
            stored[line.id] = searcher.show(line.id).source
        source = stored[line.id]
        entries = {"title": [source["title"]], "body": source.get("body", [])}.get(line.field)
        if entries is None:
            continue
        text = entries[line.entry]
        assert text[line.start : line.end] == line.match
        assert line.left == text[max(0, line.start - 7) : line.start].replace("\n", " ")
        assert line.right == text[line.end : line.end + 7].replace("\n", " ")
        assert line.path.endswith(".md") and line.url and line.outlet == source["outlet"]
    assert "習近平" in {line.match for line in concordance(searcher, searcher.parse("习近平"), limit=None)}


def test_sorting_limit_and_near_lines(searcher: Searcher) -> None:
    query = searcher.parse("普京")
    by_left_lines = list(concordance(searcher, query, sort="left", limit=None))
    by_left = [fold(line.left)[::-1] for line in by_left_lines]
    assert len(by_left) > 50 and by_left == sorted(by_left)
    by_right = [(fold(line.match), fold(line.right)) for line in concordance(searcher, query, sort="right", limit=None)]
    assert by_right == sorted(by_right)
    outlets = [line.outlet for line in concordance(searcher, query, sort="outlet", limit=None)]
    assert outlets == sorted(outlets) and len(set(outlets)) > 3
    dates = [line.published_at or "~" for line in concordance(searcher, query, limit=None)]
    assert dates == sorted(dates)
    everything = list(concordance(searcher, query, limit=None))
    for limit in (1, 5, 60):
        assert list(concordance(searcher, query, limit=limit)) == everything[:limit]
        assert list(concordance(searcher, query, sort="left", limit=limit)) == by_left_lines[:limit]
    near = list(concordance(searcher, searcher.parse("金正恩 NEAR/10 普京"), limit=None))
    articles = {hit.id for hit in searcher.stream(searcher.parse("金正恩 NEAR/10 普京"), highlight=False)}
    assert near and {line.id for line in near} == articles and {line.term for line in near} == {"金正恩", "普京"}
    assert len(near) < len(list(concordance(searcher, searcher.parse("金正恩 普京"), limit=None)))


def test_cli_csv_opens_with_a_bom_and_jsonl_matches(searcher: Searcher) -> None:
    result = run_cli("kwic", "--index", searcher.index, "普京", "--all", "--csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("\ufeffid,outlet,")
    rows = list(csv.DictReader(io.StringIO(result.stdout.removeprefix("\ufeff"))))
    assert len(rows) == len(list(concordance(searcher, searcher.parse("普京"), limit=None)))
    assert not run_cli("kwic", "--index", searcher.index, "普京", "--csv", "--no-bom").stdout.startswith("\ufeff")
    lines = run_cli("kwic", "--index", searcher.index, "普京", "--jsonl", "--limit", "3").stdout.splitlines()
    assert [json.loads(line)["match"] for line in lines] == [row["match"] for row in rows[:3]]
    table = run_cli("kwic", "--index", searcher.index, "普京", "--limit", "3", "--width", "5")
    assert table.returncode == 0 and "3 lines" in table.stdout and "普京" in table.stdout
    assert "filters alone" in run_cli("kwic", "--index", searcher.index, "outlet:dw").stderr
