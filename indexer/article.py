"""The parsed form of one archived article: plain typed data, no behaviour beyond derived views."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

TimeSource = Literal["comment", "body", "date-line", "front-matter", "none", "unknown"]
TIME_SOURCES: dict[TimeSource, str] = {
    "comment": "the time comment",
    "body": "the body time",
    "date-line": "the date line",
    "front-matter": "the front matter date",
    "none": "no time",
    "unknown": "a source not recorded (rebuilt from an index made before time sources were)",
}
"""Where an article's ``published_at`` comes from, best first, as stored in ``time_source``: the time comment
``<!--epoch-ms-->``, the time printed at the top of the body, a ``日期：`` line after the rule (older layout), the
``date`` of a YAML front matter block (a blog post), none (undated)."""


@dataclass(frozen=True, slots=True)
class Image:
    """An image in the body: the original URL (unwrapped from any image proxy) and its caption."""

    url: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Link:
    """A hyperlink in the body. ``related`` is true when it points to another news article."""

    url: str
    text: str
    related: bool = False


@dataclass(frozen=True, slots=True)
class GalleryItem:
    """One picture of a picture gallery: its short title, caption and image URL."""

    title: str
    caption: str
    image: str


@dataclass(frozen=True, slots=True)
class Article:
    """One article file, parsed.

    Text fields hold the outlet's text as displayed (entities decoded, whitespace collapsed),
    never a normalized or segmented form.
    """

    id: str
    """Stable article id taken from the URL (``a-67150547``), or ``h`` + 16 hex digits of SHA-1 (of the URL; of
    the title and body when the file names no URL)."""
    outlet: str
    """Short outlet name derived from the URL host (``dw``, ``bbc``, ``cna`` ...); ``unknown`` without a URL."""
    host: str
    url: str
    title: str
    published_at: datetime | None
    """Publish time, timezone-aware (UTC), from the best source the file has (see ``time_source``); None when
    it carries no usable time at all (see ``warnings``)."""
    time_source: TimeSource = "none"
    """Where ``published_at`` comes from: one of :data:`TIME_SOURCES`."""
    body_time: datetime | None = None
    """The time some outlets print at the top of the body (UTC; a date alone gives midnight), when present."""
    paragraphs: tuple[str, ...] = ()
    headings: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    links: tuple[Link, ...] = ()
    gallery_title: str = ""
    gallery: tuple[GalleryItem, ...] = ()
    boilerplate: tuple[str, ...] = ()
    """Copyright lines and feed footers, kept apart from the body."""
    warnings: tuple[str, ...] = field(default=())
    """Problems that did not stop parsing (time mismatch, re-decoded from GBK, ...)."""
    byline: str = ""
    """Author line printed above the body (DW, NYT), as printed."""
    tags: tuple[str, ...] = ()
    """The outlet's own topic tags linked from the body (``rel="tag"`` or ``/tag/`` links), in order."""

    @property
    def captions(self) -> tuple[str, ...]:
        """Non-empty image captions, in order."""
        return tuple(image.caption for image in self.images if image.caption)
