"""Grouping and NEAR on the real node, against the grep-style oracle over the files (``bench/oracle.py``).

The index holds every corpus file that mentions Kim Jong-un, Putin (in either region's spelling) or Xi Jinping,
so that the pairs below have many near and far co-occurrences.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from bench.oracle import Oracle, article_files, load_paths
from bench.search import stored_hashes
from indexer.config import Settings
from indexer.ingest import IngestOptions, ingest
from indexer.search import Searcher
from tests.conftest import require_corpus

MENTIONS = ("金正恩", "普京", "蒲亭", "習近平", "习近平")
"""A file is indexed when it holds one of these (as bytes: a cheap filter, the oracle decides matches)."""


def mention_files(corpus: Path) -> list[Path]:
    needles = [mention.encode() for mention in MENTIONS]
    return [path for path in article_files(corpus) if any(needle in path.read_bytes() for needle in needles)]


@pytest.fixture(scope="session")
def mention_alias(es: Elasticsearch, es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    alias = f"test-near-{uuid.uuid4().hex[:6]}"
    report = tmp_path_factory.mktemp("near") / "report.jsonl"
    summary = ingest(es_settings, mention_files(require_corpus()), IngestOptions(workers=1), alias=alias, report=report)
    assert summary.indexed > 300 and summary.complete
    yield alias
    es.indices.delete(index=",".join(es.indices.get(index=f"{alias}-*")))


@pytest.fixture(scope="session")
def mention_oracle(es: Elasticsearch, mention_alias: str) -> Oracle:
    stored = stored_hashes(es, mention_alias)
    oracle = load_paths(mention_files(require_corpus()), stored)
    assert set(oracle.ids) == set(stored)
    return oracle


@pytest.fixture(scope="module")
def searcher(es_settings: Settings, mention_alias: str) -> Searcher:
    return Searcher(es_settings, index=mention_alias)


def ids(searcher: Searcher, query: str) -> set[str]:
    found = [hit.id for hit in searcher.stream(searcher.parse(query), highlight=False)]
    assert len(found) == len(set(found))
    return set(found)


@pytest.mark.parametrize(
    ("left", "right", "gap"),
    [
        ("金正恩", "普京", 0),
        ("金正恩", "普京", 5),
        ("金正恩", "普京", 10),
        ("金正恩", "普京", 40),
        ("金正恩", "普京", 99),
        ("普京", "俄罗斯", 0),
        ("普京", "俄羅斯", 3),
        ("习近平", "主席", 0),
        ("習近平", "美国", 15),
        ("朝鲜", "美国", 8),
        ("习近平", "金正恩", 30),
    ],
)
def test_near_finds_exactly_the_articles_the_oracle_finds(
    searcher: Searcher, mention_oracle: Oracle, left: str, right: str, gap: int
) -> None:
    expected = mention_oracle.near(left, right, gap)
    found = ids(searcher, f"{left} NEAR/{gap} {right}")
    assert found == expected, (sorted(found - expected)[:5], sorted(expected - found)[:5])
    assert found == ids(searcher, f"{right} NEAR/{gap} {left}")
    assert found <= mention_oracle.find(left) & mention_oracle.find(right)


def test_near_grows_with_the_distance_and_is_rarer_than_and(searcher: Searcher) -> None:
    sizes = [len(ids(searcher, f"金正恩 NEAR/{gap} 普京")) for gap in (0, 10, 40, 99)]
    both = len(ids(searcher, "金正恩 普京"))
    assert sizes == sorted(sizes) and 0 < sizes[1] < sizes[-1] < both, (sizes, both)


@pytest.mark.parametrize(
    ("first", "second"),
    [("金正恩 普京", "习近平 特朗普"), ("普京 乌克兰", "蒲亭 烏克蘭"), ("朝鲜 导弹", "title:习近平 -美国")],
)
def test_grouped_or_is_exactly_the_union(searcher: Searcher, mention_oracle: Oracle, first: str, second: str) -> None:
    union = ids(searcher, first) | ids(searcher, second)
    assert ids(searcher, f"({first}) OR ({second})") == union
    assert ids(searcher, f"(({first}) OR ({second}))") == union
    assert 0 < len(ids(searcher, first)) < len(union)
    if ":" not in first + second:
        a, b = first.split()
        c, d = second.split()
        assert union == (mention_oracle.find(a) & mention_oracle.find(b)) | (
            mention_oracle.find(c) & mention_oracle.find(d)
        )


def test_near_combines_with_exclusion_nesting_and_filters(searcher: Searcher) -> None:
    near = ids(searcher, "金正恩 NEAR/10 普京")
    titled = ids(searcher, "title:访问")
    assert ids(searcher, "(金正恩 NEAR/10 普京) -title:访问") == near - titled
    assert ids(searcher, "-(金正恩 NEAR/10 普京) 金正恩 普京") == ids(searcher, "金正恩 普京") - near
    assert ids(searcher, "(金正恩 NEAR/10 普京) OR (习近平 NEAR/0 主席)") == near | ids(searcher, "习近平 NEAR/0 主席")
    assert ids(searcher, "title:金正恩 NEAR/10 普京") == ids(searcher, "title:金正恩 NEAR/10 title:普京") <= near
    assert ids(searcher, "(金正恩 NEAR/10 普京) date:2019") == near & ids(searcher, "金正恩 date:2019")
