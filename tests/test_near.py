"""Grouping and NEAR on the real node, against the grep-style oracle over the files (``tests/oracle.py``).

The index holds every corpus file that mentions Kim Jong-un, Putin (in either region's spelling) or Xi Jinping,
so that the pairs below have many near and far co-occurrences.
"""

from __future__ import annotations

import pytest

from indexer.config import Settings
from indexer.search import Searcher
from tests.conftest import ids
from tests.oracle import Oracle


@pytest.fixture(scope="module")
def searcher(es_settings: Settings, mention_alias: str) -> Searcher:
    return Searcher(es_settings, index=mention_alias)


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
