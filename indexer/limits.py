"""What one indexed document may carry: a cap on entries and characters, so one hostile or broken file can't
build a document that the server refuses (with the documents sent beside it) or that takes minutes to segment.

The largest article of the 16,131-file corpus has 450 paragraphs and 45,548 characters of text; the limits are
about ten and six times that. A capped article keeps its first entries in file order, the entry at the
character limit cut, and says so in a warning. The index then holds only the kept part: the full text stays in
the file (the document's ``source.path``), and the warning names both sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from indexer.article import Article, GalleryItem, Image, Link

MAX_ENTRIES = 5_000
"""Most entries kept per list: paragraphs, headings, images, links, gallery items, boilerplate lines, tags."""
MAX_CHARS = 300_000
"""Most characters kept over all the article's text: title, paragraphs, headings, captions and image URLs,
gallery, link texts and URLs, boilerplate, tags (about 3 MB as an indexed document with its views)."""

T = TypeVar("T")


@dataclass(slots=True)
class _Budget:
    left: int
    entries_cut: int = 0
    chars_cut: int = 0

    def text(self, value: str) -> str:
        kept = value[: max(self.left, 0)]
        self.left -= len(kept)
        self.chars_cut += len(value) - len(kept)
        return kept

    def texts(self, values: Sequence[str]) -> tuple[str, ...]:
        """The first entries that fit, the last one cut at the limit."""
        kept = [self.text(value) for value in self._entries(values, len)]
        return tuple(value for value in kept if value)

    def items(self, values: Sequence[T], size: Callable[[T], int]) -> tuple[T, ...]:
        """The first items that fit whole (a URL is never cut)."""
        kept = []
        for value in self._entries(values, size):
            cost = size(value)
            if cost > self.left:
                self.chars_cut += cost
                continue
            self.left -= cost
            kept.append(value)
        return tuple(kept)

    def _entries(self, values: Sequence[T], size: Callable[[T], int]) -> Sequence[T]:
        dropped = values[MAX_ENTRIES:]
        self.entries_cut += len(dropped)
        self.chars_cut += sum(map(size, dropped))
        return values[:MAX_ENTRIES]


def _image(image: Image) -> int:
    return len(image.url) + len(image.caption)


def _link(link: Link) -> int:
    return len(link.url) + len(link.text)


def _gallery(item: GalleryItem) -> int:
    return len(item.title) + len(item.caption) + len(item.image)


def cap(article: Article) -> Article:
    """The article within :data:`MAX_ENTRIES` and :data:`MAX_CHARS`, with a warning when anything was cut."""
    budget = _Budget(MAX_CHARS)
    capped = replace(
        article,
        title=budget.text(article.title),
        paragraphs=budget.texts(article.paragraphs),
        headings=budget.texts(article.headings),
        images=budget.items(article.images, _image),
        gallery_title=budget.text(article.gallery_title),
        gallery=budget.items(article.gallery, _gallery),
        links=budget.items(article.links, _link),
        boilerplate=budget.texts(article.boilerplate),
        tags=budget.texts(article.tags),
        byline=budget.text(article.byline),
    )
    if not (budget.entries_cut or budget.chars_cut):
        return article
    kept = MAX_CHARS - budget.left
    warning = (
        f"too large to index whole: kept {len(capped.paragraphs):,} of {len(article.paragraphs):,} paragraphs and "
        f"{kept:,} of {kept + budget.chars_cut:,} characters (limits: {MAX_ENTRIES:,} entries per list, "
        f"{MAX_CHARS:,} characters); the full text is only in the file"
    )
    return replace(capped, warnings=(*article.warnings, warning))
