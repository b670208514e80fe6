"""The parser over the whole shared corpus (16,131 files): nothing raises, ids are the file names, every
file has its title, URL and time, and text lands in one place only. One pass, about 10 s."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from indexer.article import Article
from indexer.parser import ParseError, parse_file

from .conftest import require_corpus

pytestmark = pytest.mark.slow

CORPUS = require_corpus()

WITHOUT_TEXT = {
    "cdt/2020-10/h81164e7c8b4da479": "a YouTube embed only",
    "cdt/2020-10/hd4ddf421982e3414": "empty body line",
    "dw/2020-07/a-52798287": "the feedx.net footer only",
    "reuters/2020-09/idCNKBS25Z184": "the feedx.net footer only",
    "reuters/2020-09/idCNKBS25Z1JP": "the feedx.net footer only",
    "reuters/2020-09/idCNKBS2600IC": "empty body line",
}
"""The corpus files whose body carries no text at all (checked by eye)."""

KNOWN_WARNINGS = (
    "header time ",  # ... and body time ... differ by ...
    "replacement character(s) U+FFFD",
    "empty body",
    "no text in the body",
)


@pytest.fixture(scope="module")
def parsed() -> dict[str, Article]:
    """Every corpus file parsed once, keyed by ``folder/month/stem``."""
    articles: dict[str, Article] = {}
    rejected: list[str] = []
    for path in sorted(CORPUS.glob("*/*/*.md")):
        try:
            articles[path.relative_to(CORPUS).with_suffix("").as_posix()] = parse_file(path)
        except ParseError as err:
            rejected.append(str(err))
    assert rejected == []
    assert len(articles) == 16131
    return articles


def test_ids_outlets_and_months_match_the_file_paths(parsed: dict[str, Article]) -> None:
    mismatched = []
    for key, article in parsed.items():
        folder, month, stem = key.split("/")
        published = article.published_at.strftime("%Y-%m") if article.published_at else "undated"
        if (article.id, article.outlet, published) != (stem, folder, month):
            mismatched.append((key, article.id, article.outlet, published))
    assert mismatched == []


def test_every_file_has_title_url_and_time(parsed: dict[str, Article]) -> None:
    assert [key for key, a in parsed.items() if not a.title] == []
    assert [key for key, a in parsed.items() if not re.match(r"https?://", a.url)] == []
    assert [key for key, a in parsed.items() if a.published_at is None or a.published_at.utcoffset()] == []


def test_paragraphs_are_present_except_in_picture_stories_and_known_empty_bodies(
    parsed: dict[str, Article],
) -> None:
    without = {key for key, a in parsed.items() if not a.paragraphs}
    picture_stories = {key for key in without if parsed[key].gallery or parsed[key].captions}
    assert without - picture_stories == set(WITHOUT_TEXT)
    for key in WITHOUT_TEXT:
        assert parsed[key].warnings in (("empty body",), ("no text in the body (only embeds, links or footers)",))


def test_no_caption_or_gallery_text_is_copied_into_paragraphs(parsed: dict[str, Article]) -> None:
    copied = []
    for key, article in parsed.items():
        paragraphs = set(article.paragraphs)
        texts = [*article.captions, *(item.caption for item in article.gallery if item.caption)]
        repeated = [text for text in texts if text in paragraphs]
        if repeated:
            source = _source_text(CORPUS / f"{key}.md")
            # allowed only where the outlet itself printed the text twice (BBC captions quoting the story)
            copied += [(key, text) for text in repeated if source.count(text[:12]) < 2]
    assert copied == []


def test_text_is_clean(parsed: dict[str, Article]) -> None:
    dirty = []
    for key, article in parsed.items():
        texts = [article.title, *article.paragraphs, *article.headings, *article.captions, *article.boilerplate]
        if any("\r" in text or text != text.strip() or "  " in text for text in texts):
            dirty.append((key, "whitespace"))
        if re.search(r"&(?:quot|amp|lt|gt|nbsp|#\d+);", article.title):
            dirty.append((key, "entity in title"))
        if any("&amp;" in link.url for link in article.links):
            dirty.append((key, "double-escaped link"))
    assert dirty == []


def test_only_expected_warnings_and_the_documented_quirks(parsed: dict[str, Article]) -> None:
    unexpected = [(key, w) for key, a in parsed.items() for w in a.warnings if not _known(w)]
    assert unexpected == []
    replacement = {key for key, a in parsed.items() if any("U+FFFD" in w for w in a.warnings)}
    assert len(replacement) == 6 and all(key.startswith("rfi/") for key in replacement)
    far_apart = [key for key, a in parsed.items() if any(w.startswith("header time ") for w in a.warnings)]
    assert 0 < len(far_apart) < 0.01 * len(parsed)


def test_related_links_tags_and_bylines_are_found_where_outlets_print_them(parsed: dict[str, Article]) -> None:
    def share(outlet: str, found: Callable[[Article], object]) -> float:
        articles = [a for key, a in parsed.items() if key.startswith(outlet + "/")]
        return sum(1 for a in articles if found(a)) / len(articles)

    assert share("nytimes", lambda a: a.byline) == 1.0
    assert share("dw", lambda a: a.body_time is not None) > 0.85
    assert share("voa", lambda a: a.body_time is not None) == 1.0
    assert share("cna", lambda a: any(link.related for link in a.links)) > 0.5
    assert share("cdt", lambda a: a.tags) > 0.25


def _known(warning: str) -> bool:
    return any(part in warning for part in KNOWN_WARNINGS)


def _source_text(path: Path) -> str:
    return re.sub(r"\s+", " ", html.unescape(path.read_text(encoding="utf-8")))
