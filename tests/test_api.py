"""The public API (``indexer.__all__``) as a script uses it, against the real node."""

from __future__ import annotations

import indexer
from indexer import IngestOptions, Searcher, index, parse_file
from indexer.config import Settings

from .conftest import EXAMPLES


def test_every_public_name_is_there() -> None:
    assert all(hasattr(indexer, name) for name in indexer.__all__)


def test_parse_index_search_and_count_with_the_public_names(es_settings: Settings, alias: str) -> None:
    article = parse_file(EXAMPLES / "dw-67150547.md")
    summary = index(es_settings, [EXAMPLES], IngestOptions(workers=1), alias=alias)
    assert summary.complete and summary.indexed == 1
    searcher = Searcher(es_settings, index=alias)
    query = searcher.parse(article.title.split()[0])
    assert searcher.count(query) == 1
    assert [hit.title for hit in searcher.search(query).hits] == [article.title]
