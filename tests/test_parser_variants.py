"""Archive variants the rule says to index (docs/input-format.md, "Layout variants"): older layouts of the same
archiver, converted blog posts and hand-edited files. One small fixture per variant, made here by hand; each is
indexed with the warnings and the time source listed. End to end against the node: a folder of them is indexed,
the summary counts them by time source, and ``date:none`` finds the undated ones."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.config import Settings
from indexer.header import read_header
from indexer.ingest import IngestOptions, ingest
from indexer.parser import ParseError, parse_bytes, parse_file
from indexer.search import Searcher

ARTICLES = Path(__file__).resolve().parent / "fixtures" / "articles"
NO_COMMENT = 'no time comment "<!--epoch-ms-->" before the title'
UNDATED = "no usable time in the header, the body or a date line: published_at is None (undated)"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


DW_JUNE_28 = utc(2020, 6, 28, 7, 54, 6)
VARIANTS: dict[str, tuple[str, datetime | None, str, tuple[str, ...]]] = {
    # file: (document id, published_at, time_source, warnings)
    "variant-date-line.md": (
        "dw:a-54000001",
        utc(2020, 7, 2, 8, 12),
        "date-line",
        (NO_COMMENT, "no usable header time: published_at is the date line 2020-07-02T08:12:00+00:00"),
    ),
    "variant-date-line-offset.md": (
        "rfa:hk-07022020101010",
        utc(2020, 7, 2, 10, 30),
        "date-line",
        (NO_COMMENT, "no usable header time: published_at is the date line 2020-07-02T10:30:00+00:00"),
    ),
    "variant-body-time.md": (
        "dw:a-54000002",
        utc(2020, 7, 9, 9, 20),
        "body",
        (NO_COMMENT, "no usable header time: published_at is the body time 2020-07-09T09:20:00+00:00"),
    ),
    "quirk-no-header.md": ("dw:a-67150547", None, "none", (NO_COMMENT, UNDATED)),
    "variant-nan-comment.md": (
        "rfi:h527e00474e3894c6",
        utc(2020, 7, 3, 8, 15),
        "body",
        (
            "header time 'NaN' is not epoch milliseconds",
            "no usable header time: published_at is the body time 2020-07-03T08:15:00+00:00",
        ),
    ),
    "variant-garbage-comment.md": (
        "voa:5483001",
        utc(2020, 7, 2, 3),
        "date-line",
        (
            "header time 'Thu Jul 02 2020 undefined' is not epoch milliseconds",
            "no usable header time: published_at is the date line 2020-07-02T03:00:00+00:00",
        ),
    ),
    "variant-undefined-date-line.md": (
        "voa:5483002",
        None,
        "none",
        ("header time '' is not epoch milliseconds", "date line 'undefined' is not a date", UNDATED),
    ),
    "variant-multiline-title.md": (
        "bbc:world-54349485",
        utc(2020, 9, 30, 3),
        "comment",
        ("the title spans lines 2-4 (line breaks inside the brackets)",),
    ),
    "variant-crlf.md": ("dw:a-53784681", DW_JUNE_28, "comment", ("CRLF line ends (Windows)",)),
    "variant-bare-cr.md": ("dw:a-53784682", DW_JUNE_28, "comment", ("bare CR line ends (old Mac)",)),
    "variant-bom.md": ("dw:a-53784683", DW_JUNE_28, "comment", ("UTF-8 byte order mark at the start: skipped",)),
    "variant-leading-blank-lines.md": (
        "dw:a-53784684",
        DW_JUNE_28,
        "comment",
        ("2 blank line(s) before the first line: skipped",),
    ),
    "variant-brackets-in-title.md": ("cna:202008030316", utc(2020, 8, 3, 8, 13), "comment", ()),
    "variant-parens-in-url.md": ("dw:a-54724384", DW_JUNE_28, "comment", ()),
    "variant-spaced-rule.md": (
        "dw:a-53784685",
        DW_JUNE_28,
        "comment",
        ("the rule on line 3 is '  ------  ', not \"------\"",),
    ),
    "quirk-no-url.md": (
        "unknown:h0afb245feaedd8f3",
        utc(2020, 6, 27, 16, 36),
        "comment",
        ("the link on line 2 has no URL: the id is a hash of the title and body, the outlet 'unknown'",),
    ),
    "quirk-relative-url.md": (
        "unknown:h7d13ce6e8b47c002",
        utc(2020, 6, 27, 16, 36),
        "comment",
        (
            "the link on line 2 has no absolute http(s) URL ('/realtime/china/story20200627-1064791'): the id is a "
            "hash of the title and body, the outlet 'unknown'",
        ),
    ),
    "variant-front-matter.md": (
        "rti:2073060",
        utc(2020, 7, 22, 5, 7, 51),
        "comment",
        ("YAML front matter on lines 1-9 (a blog post)",),
    ),
    "variant-blog-post.md": (
        "cn.nikkei.com:hc0bcdf8e2f560d32",
        utc(2017, 2, 23, 1, 47, 25),
        "front-matter",
        (
            "YAML front matter on lines 1-9 (a blog post)",
            NO_COMMENT,
            'no "[title](url)" line (line 10): no title, the body starts there',
            "the title is the front matter's",
            "no URL: the URL is the front matter's "
            "'https://cn.nikkei.com/trend/traditional-culture/23866-2017-02-23-10-47-25.html'",
            "no usable header time: published_at is the front matter date 2017-02-23T01:47:25+00:00",
        ),
    ),
    "variant-heading-title.md": (
        "unknown:h49ae533708ef4a7e",
        None,
        "none",
        (
            NO_COMMENT,
            'no "[title](url)" line: the title is the heading on line 1, without a URL',
            'line 2 is not the "------" rule: read the body from line 2',
            "no URL: the id is a hash of the title and body, the outlet 'unknown'",
            UNDATED,
        ),
    ),
}
TITLES = {
    "variant-multiline-title.md": "美国大选： 特朗普与拜登 首场辩论",
    "variant-brackets-in-title.md": "[國際] 美中關係【專題】[影]",
    "variant-front-matter.md": "[兩岸] 中美關係有多糟",
    "variant-blog-post.md": "茶道和盆栽或成日本世遗？",
    "variant-heading-title.md": "维权人士的一周",
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_variant_is_indexed_with_its_warnings_and_time_source(name: str) -> None:
    doc_id, published_at, time_source, warnings = VARIANTS[name]
    article = parse_file(ARTICLES / name)
    assert f"{article.outlet}:{article.id}" == doc_id
    assert (article.published_at, article.time_source) == (published_at, time_source)
    assert article.warnings == warnings
    assert article.paragraphs and all("<" not in text and "日期" not in text for text in article.paragraphs)
    if name in TITLES:
        assert article.title == TITLES[name]
    assert article.title and article.outlet


def test_line_ends_bom_blank_lines_and_a_spaced_rule_change_nothing_but_the_warnings() -> None:
    canonical = parse_file(ARTICLES / "quirk-bom-crlf.md")
    for name in (
        "variant-crlf.md",
        "variant-bare-cr.md",
        "variant-bom.md",
        "variant-leading-blank-lines.md",
        "variant-spaced-rule.md",
    ):
        article = parse_file(ARTICLES / name)
        assert (article.title, article.published_at, article.paragraphs, article.body_time) == (
            canonical.title,
            canonical.published_at,
            canonical.paragraphs,
            canonical.body_time,
        )


def test_a_blog_post_reads_like_its_archived_item() -> None:
    """A Jekyll post is the archived item plus front matter and a ``<div>`` wrapper: same article."""
    post = parse_file(ARTICLES / "variant-front-matter.md")
    item = (ARTICLES / "variant-front-matter.md").read_text(encoding="utf-8").split("---\n", 2)[2]
    unwrapped = item.replace("<div>\n", "").replace("\n</div>", "")
    archived = parse_bytes(unwrapped.encode())
    assert (post.id, post.title, post.url, post.published_at, post.paragraphs) == (
        archived.id,
        archived.title,
        archived.url,
        archived.published_at,
        archived.paragraphs,
    )


def test_the_markdown_link_title_and_angle_brackets_are_not_part_of_the_url() -> None:
    for link in ('(https://www.dw.com/zh/a-54000003 "德国之声")', "(<https://www.dw.com/zh/a-54000003>)"):
        article = parse_bytes(f"<!--1593330846000-->\n[标题]{link}\n------\n\n<p>正文。</p>\n".encode())
        assert (article.url, article.id, article.warnings) == ("https://www.dw.com/zh/a-54000003", "a-54000003", ())


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        ("Thu, 02 Jul 2020 08:12:00 GMT", utc(2020, 7, 2, 8, 12)),
        ("Thu, 2 Jul 2020 16:12:00 +0800", utc(2020, 7, 2, 8, 12)),
        ("02 Jul 2020 08:12 UT", utc(2020, 7, 2, 8, 12)),
        ("2020-07-02T08:12:00.000Z", utc(2020, 7, 2, 8, 12)),
        ("2020-07-02 16:12:00 +0800", utc(2020, 7, 2, 8, 12)),
        ("2020年7月2日", utc(2020, 7, 2)),
    ],
)
def test_date_lines_in_rfc_822_iso_or_chinese_form(date: str, expected: datetime) -> None:
    text = f"[标题](https://www.dw.com/zh/a-54000003)\n------\n日期：{date}\n\n<p>正文。</p>\n"
    article = parse_bytes(text.encode())
    assert (article.published_at, article.time_source) == (expected, "date-line")
    assert article.paragraphs == ("正文。",)


def test_precedence_comment_then_body_then_date_line() -> None:
    body_time = "<div><i><br>2020-07-01T10:00:00.000Z</i></div><p>正文。</p>"
    header = "<!--1593597600000-->\n[标题](https://www.dw.com/zh/a-54000003)\n------\n日期：2 Jul 2020 08:12 GMT\n\n"
    both = f"{header}{body_time}\n"
    assert parse_bytes(both.encode()).time_source == "comment"
    no_comment = both.split("\n", 1)[1]
    assert (parse_bytes(no_comment.encode()).time_source, parse_bytes(no_comment.encode()).published_at) == (
        "body",
        utc(2020, 7, 1, 10),
    )
    no_body_time = no_comment.replace("<div><i><br>2020-07-01T10:00:00.000Z</i></div>", "")
    assert parse_bytes(no_body_time.encode()).time_source == "date-line"


def test_a_title_may_not_swallow_the_rule() -> None:
    warnings: list[str] = []
    header = read_header("<!--1-->\n[一个没有结尾的标题\n------\n\n<p>正文</p>\n", warnings)
    assert (header.title, header.link_line, header.body) == ("[一个没有结尾的标题", 0, "<p>正文</p>")
    assert warnings == ['no "[title](url)" line: the title is the heading on line 2, without a URL']


def test_a_feed_title_ending_in_blank_lines_is_one_title() -> None:
    text = "<!--1601434800000-->\n[美国大选首场辩论\n\n](https://www.bbc.com/zhongwen/simp/world-54349485)\n------\n\n<p>正文。</p>\n"
    article = parse_bytes(text.encode())
    assert (article.title, article.id, article.paragraphs) == ("美国大选首场辩论", "world-54349485", ("正文。",))
    assert article.warnings == ("the title spans lines 2-4 (line breaks inside the brackets)",)


@pytest.mark.parametrize(
    "data",
    [
        b"<!--1593330846000-->\n",
        b"<!--1593330846000-->\n[](https://www.dw.com/zh/a-1)\n------\n\n<p><img src='https://x.org/a.jpg'></p>\n",
        b"\n\n------\n\n",
        b"---\ntitle: ''\n---\n<div>\n</div>\n",
    ],
)
def test_only_a_file_with_no_title_and_no_body_text_is_rejected(data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_bytes(data, "memory.md")
    assert (caught.value.reason, caught.value.detail) == ("no-article", "holds no article: no title and no body text")


def test_text_without_title_or_link_is_still_an_article() -> None:
    article = parse_bytes("只是一些文字\n".encode(), "memory.md")
    assert (article.title, article.outlet, article.paragraphs, article.time_source) == (
        "",
        "unknown",
        ("只是一些文字",),
        "none",
    )


# --- end to end against the node ------------------------------------------------------------------------------


def test_a_folder_of_variants_is_indexed_counted_by_time_source_and_date_none_finds_the_undated(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    for name in VARIANTS:
        shutil.copy(ARTICLES / name, tmp_path / name)
    summary = ingest(es_settings, [tmp_path], IngestOptions(workers=1), alias=alias)
    documents = {doc_id for doc_id, *_ in VARIANTS.values()}
    assert len(documents) == len(VARIANTS)
    assert (summary.seen, summary.indexed, summary.rejected, summary.warned) == (
        len(VARIANTS),
        len(VARIANTS),
        0,
        sum(1 for *_, warnings in VARIANTS.values() if warnings),
    )
    assert summary.complete
    sources = [time_source for _, _, time_source, _ in VARIANTS.values()]
    assert summary.time_sources == {source: sources.count(source) for source in set(sources)}
    assert set(summary.time_sources) == {"comment", "body", "date-line", "front-matter", "none"}
    stored = {hit["_id"]: hit["_source"] for hit in es.search(index=alias, size=100)["hits"]["hits"]}
    assert set(stored) == documents
    searcher = Searcher(es_settings, index=alias)
    undated = {hit.id for hit in searcher.stream(searcher.parse("date:none"), highlight=False)}
    expected = {doc_id for doc_id, published_at, *_ in VARIANTS.values() if published_at is None}
    assert undated == expected == {doc_id for doc_id, source in stored.items() if "published_at" not in source}
    assert {stored[doc_id]["time_source"] for doc_id in undated} == {"none"}
    dated = searcher.count(searcher.parse("-date:none", allow_empty=True))
    assert dated == len(documents) - len(expected)
    assert searcher.count(searcher.parse("date:none OR date:2017")) == len(expected) + 1
    (hit,) = searcher.search(searcher.parse("date:none 维权人士")).hits
    assert hit.id == "unknown:h49ae533708ef4a7e" and hit.published_at is None
