"""Link text: the anchor text of every link has its own chars/words views. A term without a prefix never searches
it (a related-reading list is navigation: counting it would inflate mentions); ``links:`` searches only it, and
highlighting marks it. End to end against the node with a related-reading list."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.config import Settings
from indexer.document import build_document, field_texts
from indexer.ingest import IngestOptions, ingest
from indexer.mapping import LINK_FIELD, TEXT_FIELDS, VIEW_FIELDS, load_template
from indexer.normalize import char_tokens
from indexer.parser import parse_file
from indexer.query import SCOPES, Text, parse
from indexer.search import Searcher
from indexer.segment import Segmenter, get_segmenter

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "articles" / "related-links.md"
RELATED_TITLE = "肉品加工厂为什么成为疫情重灾区"


@pytest.fixture(scope="module")
def segmenter() -> Segmenter:
    return get_segmenter()


def test_every_link_text_gets_its_own_views_and_no_entities(segmenter: Segmenter) -> None:
    article = parse_file(FIXTURE)
    assert RELATED_TITLE not in "".join(article.paragraphs)  # a link-only block goes to links only
    document = build_document(article, segmenter)
    links = [link.text for link in article.links]
    assert field_texts(article)[LINK_FIELD] == links
    assert document["chars"][LINK_FIELD] == [char_tokens(text) for text in links]
    assert len(document["words"][LINK_FIELD]) == len(links) and "加工厂" in document["words"][LINK_FIELD][1].split()
    assert "加工厂" not in document["keywords"]
    properties = load_template().mappings["properties"]
    assert all(name in properties[view]["properties"] for view in ("chars", "words") for name in VIEW_FIELDS)


def test_links_scope_and_the_default_fields() -> None:
    assert parse("links:加工厂").groups == ((Text("加工厂", (LINK_FIELD,)),),)
    assert SCOPES["links"] == (LINK_FIELD,)
    assert LINK_FIELD not in parse("加工厂").groups[0][0].fields == TEXT_FIELDS
    default_field = load_template().settings["query"]["default_field"]
    assert f"chars.{LINK_FIELD}" not in default_field and "chars.*" not in default_field


def test_links_finds_a_related_link_title_that_a_plain_query_does_not(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    (tmp_path / "related.md").write_bytes(FIXTURE.read_bytes())
    summary = ingest(es_settings, [tmp_path], IngestOptions(workers=1), alias=alias)
    assert (summary.indexed, summary.complete) == (1, True)
    searcher = Searcher(es_settings, index=alias)
    assert searcher.count(searcher.parse(RELATED_TITLE)) == 0
    assert searcher.count(searcher.parse("加工厂")) == 0
    page = searcher.search(searcher.parse("links:加工厂"))
    assert [hit.id for hit in page.hits] == ["bbc:science-54509082"]
    (fragment,) = page.hits[0].fragments
    assert (fragment.field, fragment.text) == (LINK_FIELD, RELATED_TITLE)
    assert fragment.marked() == "肉品<em>加工厂</em>为什么成为疫情重灾区"
    assert searcher.count(searcher.parse("links:注意事项清单")) == searcher.count(searcher.parse("注意事项清单")) == 1
    body = searcher.search(searcher.parse("钞票"))
    assert {fragment.field for hit in body.hits for fragment in hit.fragments} == {"body"}
    assert searcher.count(searcher.parse("links:手机屏幕")) == 0
