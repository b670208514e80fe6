"""What one document may carry: the caps on entries and characters (no Elasticsearch)."""

from __future__ import annotations

from indexer.article import Article, Image, Link
from indexer.limits import MAX_CHARS, MAX_ENTRIES, cap
from indexer.parser import parse_bytes


def _article(**fields: object) -> Article:
    base = {"id": "a-1", "outlet": "dw", "host": "www.dw.com", "url": "https://www.dw.com/zh/a-1", "title": "标题"}
    return Article(published_at=None, **{**base, **fields})  # type: ignore[arg-type]


def test_an_ordinary_article_is_kept_whole_and_unwarned() -> None:
    article = _article(paragraphs=("第一段。", "第二段。"), links=(Link("https://x.org/1", "链接"),))
    assert cap(article) is article


def test_a_file_of_20000_paragraphs_keeps_the_first_ones_and_says_what_was_cut() -> None:
    body = "".join(f"<p>第{n}段。</p>" for n in range(20_000))
    data = f"<!--1600000000000-->\n[标题](https://www.dw.com/zh/a-1)\n------\n\n{body}\n".encode()
    article = parse_bytes(data, "big.md")
    capped = cap(article)
    assert capped.paragraphs == article.paragraphs[:MAX_ENTRIES]
    (warning,) = [w for w in capped.warnings if w not in article.warnings]
    assert "kept 5,000 of 20,000 paragraphs" in warning and "the full text is only in the file" in warning


def test_characters_are_capped_over_all_text_the_last_entry_cut_and_urls_never_cut() -> None:
    paragraph = "字" * 100_000
    article = _article(
        paragraphs=(paragraph,) * 5,
        images=(Image("https://x.org/" + "i" * 50_000, "图"),),
        links=(Link("https://x.org/1", "链接"),),
    )
    capped = cap(article)
    kept = len(capped.title) + sum(map(len, capped.paragraphs))
    assert kept == MAX_CHARS and capped.paragraphs[-1] == paragraph[: MAX_CHARS - 2 - 200_000]
    assert len(capped.paragraphs) == 3 and capped.images == () and capped.links == ()
    assert f"of {2 + 500_000 + 50_015 + 17:,} characters" in capped.warnings[-1]


def test_every_list_is_capped() -> None:
    many = tuple(Link(f"https://x.org/{n}", "l") for n in range(MAX_ENTRIES + 10))
    capped = cap(_article(links=many, tags=("t",) * (MAX_ENTRIES + 1), headings=("h",) * (MAX_ENTRIES + 1)))
    assert len(capped.links) == len(capped.tags) == len(capped.headings) == MAX_ENTRIES
    assert "kept 0 of 0 paragraphs" in capped.warnings[-1]
