"""Parse one archived article file into an :class:`~indexer.article.Article`.

The file format (``<!--epoch-ms-->``, ``[title](url)``, ``------``, an empty line, the body HTML on one line), its
variants (found by :mod:`indexer.header`) and what happens to each kind of bad input are described in
``docs/input-format.md``. A file is rejected with a :class:`ParseError` only when it holds no article (no title and
no body text, binary data, not text in a supported encoding, too large to read); everything else is indexed, with a
warning for whatever was odd.
"""

from __future__ import annotations

import codecs
import html
import os
import re
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

from lxml import etree

from indexer.article import TIME_SOURCES, Article, GalleryItem, Image, Link, TimeSource
from indexer.header import Header, read_header
from indexer.outlets import (
    UNKNOWN_OUTLET,
    article_id_from_url,
    content_id,
    find_outlet,
    host_of,
    is_article_url,
    outlet_from_host,
)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
"""Files larger than this are rejected without being read (``too-large``)."""

TIME_TOLERANCE = timedelta(hours=24)
"""How far the header time may lie from the body's own time before a warning.

Measured on the corpus: the header (the feed item's date) is never earlier than the body time and is
within 12 h of it for 99 % of DW, VOA, Reuters, NYT and RFI articles; the 25 files beyond 24 h are
re-dated feed items (up to 28 days for DW, a year for re-featured BBC pages).
"""

_MIN_RECOVERED = 1 / 3
"""Least share of a body's non-ASCII text that must come out as text (the corpus minimum is 40 %, on a
short BBC page whose headline is dropped; alt texts and attributes make the HTML hold more than is shown)."""
_MIN_WIDE_FOR_CHECK = 60

_MAX_INVALID_UTF8 = 0.001
"""Largest share of invalid UTF-8 sequences (per byte) still read as damaged UTF-8 rather than rejected."""


class ParseError(Exception):
    """A file that cannot be indexed. ``reason`` is a short stable code, ``detail`` explains it."""

    def __init__(self, path: str, reason: str, detail: str) -> None:
        super().__init__(path, reason, detail)
        self.path = path
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"


def read_article_file(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of an article file; files over ``max_bytes`` are rejected before reading."""
    source = os.fspath(path)
    try:
        info = os.stat(source)
        if not stat.S_ISREG(info.st_mode):
            raise ParseError(source, "unreadable", "not a regular file")
        if info.st_size > max_bytes:
            raise ParseError(source, "too-large", f"file is {info.st_size:,} bytes, over the {max_bytes:,} limit")
        with open(source, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as err:
        raise ParseError(source, "unreadable", f"cannot read the file ({err.strerror or err})") from err
    if len(data) > max_bytes:
        raise ParseError(source, "too-large", f"file grew over the {max_bytes:,} byte limit while read")
    return data


def parse_file(path: str | os.PathLike[str], max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Parse the article file at ``path``; files over ``max_bytes`` are rejected before reading."""
    return parse_bytes(read_article_file(path, max_bytes), os.fspath(path))


def parse_bytes(data: bytes, source: str = "<bytes>") -> Article:
    """Parse one article file's bytes; ``source`` names it in errors. Raises only :class:`ParseError`: an
    unexpected failure on one file (a parser bug) is a rejection with reason ``parser-error``, never a crash."""
    try:
        return _parse(data, source)
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(source, "parser-error", f"the parser failed ({type(exc).__name__}: {exc})") from exc


def _parse(data: bytes, source: str) -> Article:
    warnings: list[str] = []
    text = _decode(data, source, warnings)
    header = read_header(text, warnings)
    title = _title(header, warnings)
    url = _url(header, warnings)
    host = host_of(url)
    outlet = find_outlet(host)
    zone = ZoneInfo(outlet.time_zone if outlet is not None else "UTC")
    reader = _BodyReader(url, title, zone)
    body = header.body
    if body is not None:
        reader.read(body, warnings)
    images = reader.images()
    if body and body.strip():
        _check_recovered_text(body, reader, images, warnings)
    if not title and not _has_text(reader, images):
        raise ParseError(source, "no-article", "holds no article: no title and no body text")
    published_at, time_source = _published_at(header, reader.time, zone, warnings)
    if "\ufffd" in text:
        count = text.count("\ufffd")
        warnings.append(f"{count} replacement character(s) U+FFFD: the feed lost characters")
    return Article(
        id=article_id_from_url(url) if url else content_id(title, body or ""),
        outlet=outlet_from_host(host),
        host=host,
        url=url,
        title=title,
        published_at=published_at,
        time_source=time_source,
        body_time=reader.time.at if reader.time is not None else None,
        paragraphs=tuple(reader.paragraphs),
        headings=tuple(reader.headings),
        images=images,
        links=tuple(reader.links),
        gallery_title=reader.gallery_title,
        gallery=tuple(reader.gallery),
        boilerplate=tuple(reader.boilerplate),
        warnings=tuple(warnings),
        byline=reader.byline,
        tags=tuple(reader.tags),
    )


# --- bytes to text ---------------------------------------------------------------------------------

_BINARY_MAGIC = (b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"%PDF", b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\x7fELF")
_CONTROL_BYTES = bytes((*range(1, 9), 11, *range(14, 32), 127))
_LEGACY_CODECS = (("gb18030", "GB18030"), ("big5hkscs", "Big5"))
_MIN_COMMON_HAN = 0.15
"""Share of Han characters that must be among the most common ones for a legacy decoding to count as
Chinese. Corpus articles score 0.31-0.7; Big5 bytes misread as GB18030 up to 0.12, which is why the better
of the two decodings wins."""
_COMMON_HAN = frozenset(
    "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后"
    "作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心她本前开但因"
    "只从想实日军者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应"
    "战向头文体政美相见被利什二等产或新己制身果加西斯月话合回特代内信表化老给世位次度门任常先海通教儿"
    "原东声提立及比员解水名真论处走义各入几口认条平系气题活尔更别打女变四神总何电数安少报才结反受目太"
    "量再感建务做接必场件计管期市直德资命山金指克许统区保至队形社便空决治展马科司五基眼书非则听白却界"
    "達這個們來時說會對們學發過後裡種開還從兩問開點間見與關將應於為國當動經無實"
)


def _decode(data: bytes, source: str, warnings: list[str]) -> str:
    """The file's text: UTF-8, else GB18030 or Big5 when it reads as Chinese; rejects binary data."""
    if not data.strip():
        raise ParseError(source, "empty", "empty file" if not data else "file holds only whitespace")
    if b"\x00" in data or data.startswith(_BINARY_MAGIC):
        raise ParseError(source, "binary", "binary data (NUL bytes or an image/archive signature), not text")
    head = data[:65536]
    if len(head) - len(head.translate(None, _CONTROL_BYTES)) > len(head) // 100:
        raise ParseError(source, "binary", "binary data (over 1% control characters), not text")
    if data.startswith(codecs.BOM_UTF8):
        warnings.append("UTF-8 byte order mark at the start: skipped")
        data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.end == len(data) and err.reason == "unexpected end of data":
            warnings.append("file ends inside a UTF-8 character: it was cut off (truncated)")
            return data[: err.start].decode("utf-8")
        first_error = err.start
    damaged = data.decode("utf-8", "replace")
    invalid = damaged.count("\ufffd") - data.count("\ufffd".encode())
    if invalid <= max(1, int(len(data) * _MAX_INVALID_UTF8)):
        warnings.append(f"{invalid} invalid UTF-8 byte sequence(s) replaced by U+FFFD (first at byte {first_error})")
        return damaged
    legacy = _legacy_decode(data)
    if legacy is not None:
        text, label = legacy
        warnings.append(f"not UTF-8: decoded as {label}")
        return text
    raise ParseError(
        source,
        "encoding",
        f"not UTF-8 ({invalid} invalid byte sequences, first at byte {first_error}) nor GB18030 or Big5 Chinese",
    )


def _legacy_decode(data: bytes) -> tuple[str, str] | None:
    """Decode as GB18030 or Big5, whichever reads as Chinese (most common Han characters), if either does."""
    best: tuple[float, str, str] | None = None
    for codec, label in _LEGACY_CODECS:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        han = [char for char in text if "\u4e00" <= char <= "\u9fff"]
        score = sum(char in _COMMON_HAN for char in han) / len(han) if han else 0.0
        if score >= _MIN_COMMON_HAN and (best is None or score > best[0]):
            best = (score, text, label)
    return (best[1], best[2]) if best is not None else None


def _has_text(reader: _BodyReader, images: tuple[Image, ...]) -> bool:
    """Whether the body yielded searchable text: paragraphs, headings, a gallery or a caption."""
    return bool(reader.paragraphs or reader.headings or reader.gallery or any(image.caption for image in images))


def _check_recovered_text(body: str, reader: _BodyReader, images: tuple[Image, ...], warnings: list[str]) -> None:
    """Warn when the body yields no text, or far less non-ASCII text than its HTML holds (broken markup such
    as an unterminated attribute hides the rest of the body from any HTML parser, browsers included)."""
    texts = [*reader.paragraphs, *reader.headings, *reader.boilerplate, *(image.caption for image in images)]
    texts += [link.text for link in reader.links] + [item.title + item.caption for item in reader.gallery]
    if not _has_text(reader, images):
        warnings.append("no text in the body (only embeds, links or footers)")
        return
    held, recovered = _wide(body), _wide("".join(texts))
    if held >= _MIN_WIDE_FOR_CHECK and recovered < held * _MIN_RECOVERED:
        warnings.append(
            f"broken HTML: only {recovered / held:.0%} of the body's non-ASCII text could be read"
            " (an unterminated tag or attribute hides the rest)"
        )


def _wide(text: str) -> int:
    """Non-ASCII weight of ``text`` (2 per CJK character), cheap to compute."""
    return len(text.encode("utf-8", "surrogatepass")) - len(text)


# --- title, url, times ------------------------------------------------------------------------------

_ABSOLUTE_URL = re.compile(r"https?://[^\s/?#]+", re.IGNORECASE)
_LINK_TITLE = re.compile(r"""\s+(?:"[^"]*"|'[^']*'|\([^)]*\))$""")
"""A Markdown link title after the URL: ``(url "title")``."""
_ZONE_AFTER_SPACE = re.compile(r"\s+([+-]\d\d:?\d\d)$")
_EPOCH_MS = re.compile(r"[0-9]{1,16}")
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _title(header: Header, warnings: list[str]) -> str:
    """The title: the link's (entities decoded twice when double-escaped), else the front matter's."""
    title = _clean(html.unescape(header.title))
    if title:
        return title
    if header.link_line:
        warnings.append(f"no title on line {header.link_line}")
    fallback = _clean(header.front_matter.get("title", ""))
    if fallback:
        warnings.append("the title is the front matter's")
    return fallback


def _url(header: Header, warnings: list[str]) -> str:
    """The article URL: the link's when it is absolute http(s), else the front matter's ``from``; "" when neither
    (the article is then identified by its text, see :func:`indexer.outlets.content_id`)."""
    target = header.url.strip()
    if target.startswith("<") and target.endswith(">"):
        target = target[1:-1].strip()
    target = _LINK_TITLE.sub("", target)
    if _ABSOLUTE_URL.match(target):
        return target
    if not header.link_line:
        problem = "no URL"
    elif target:
        problem = f"the link on line {header.link_line} has no absolute http(s) URL ({target[:80]!r})"
    else:
        problem = f"the link on line {header.link_line} has no URL"
    fallback = header.front_matter.get("from", "").strip()
    if _ABSOLUTE_URL.match(fallback):
        warnings.append(f"{problem}: the URL is the front matter's {fallback[:80]!r}")
        return fallback
    warnings.append(f"{problem}: the id is a hash of the title and body, the outlet {UNKNOWN_OUTLET!r}")
    return ""


def _comment_time(value: str, warnings: list[str]) -> datetime | None:
    """The epoch-milliseconds time of the time comment, when usable."""
    value = value.strip()
    if not _EPOCH_MS.fullmatch(value):
        warnings.append(f"header time {value[:40]!r} is not epoch milliseconds")
        return None
    try:
        moment: datetime | None = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(value))
    except OverflowError:  # after the year 9999
        moment = None
    if moment is None or not _EARLIEST <= moment < _LATEST:
        shown = f" ({moment:%Y-%m-%d})" if moment else ""
        warnings.append(f"header time {value}{shown} is outside 1990-2099")
        return None
    return moment


def _stated_time(value: str | None, what: str, zone: ZoneInfo, warnings: list[str]) -> datetime | None:
    """A time written out as text (a date line, a front matter date), when usable: RFC 822, ISO 8601 or a date;
    naive times are in ``zone``."""
    if value is None:
        return None
    found = _body_time(value, zone)
    moment = found.at if found is not None else _loose_time(value, zone)
    if moment is None:
        warnings.append(f"{what} {value[:40]!r} is not a date")
    elif not _EARLIEST <= moment < _LATEST:
        warnings.append(f"{what} {value[:40]!r} is outside 1990-2099")
        return None
    return moment


def _loose_time(value: str, zone: ZoneInfo) -> datetime | None:
    """RFC 822 in any of its variants, or ISO 8601 with a space before the zone (Jekyll's ``date``)."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            moment = datetime.fromisoformat(_ZONE_AFTER_SPACE.sub(r"\1", value.strip()))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class _BodyTime:
    """A time printed in the body; ``date_only`` when it names a day, not an instant."""

    at: datetime
    date_only: bool


_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?")
_DAY_MONTH_YEAR = re.compile(r"(\d\d)/(\d\d)/(\d{4}) - (\d\d):(\d\d)")
_RFC_2822 = re.compile(r"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d(?::\d\d)? (?:GMT|UT|[+-]\d{4})")
_DATE = re.compile(r"(\d{4})(?:-|年\s*)(\d{1,2})(?:-|月\s*)(\d{1,2})日?")


def _body_time(text: str, zone: ZoneInfo) -> _BodyTime | None:
    """Parse a body time (ISO 8601, RFC 2822, RFI's ``dd/mm/yyyy - hh:mm`` or a date); naive times are in
    ``zone``."""
    text = text.strip()
    try:
        if _ISO_TIME.fullmatch(text):
            moment = datetime.fromisoformat(text)
        elif match := _DAY_MONTH_YEAR.fullmatch(text):
            day, month, year, hour, minute = (int(group) for group in match.groups())
            moment = datetime(year, month, day, hour, minute)
        elif _RFC_2822.fullmatch(text):
            moment = parsedate_to_datetime(text)
        elif match := _DATE.fullmatch(text):
            year, month, day = (int(group) for group in match.groups())
            return _BodyTime(datetime(year, month, day, tzinfo=UTC), date_only=True)
        else:
            return None
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return _BodyTime(moment.astimezone(UTC), date_only=False)


def _published_at(
    header: Header, body: _BodyTime | None, zone: ZoneInfo, warnings: list[str]
) -> tuple[datetime | None, TimeSource]:
    """The publish time and its source: the time comment (checked against the body time), else the body time,
    else the date line, else the front matter's date; None (``none``) when the file states no usable time."""
    comment = _comment_time(header.comment, warnings) if header.comment is not None else None
    fallbacks: tuple[tuple[TimeSource, datetime | None], ...] = (
        ("body", body.at if body is not None else None),
        ("date-line", _stated_time(header.date_line, "date line", zone, warnings)),
        ("front-matter", _stated_time(header.front_matter.get("date"), "front matter date", zone, warnings)),
    )
    if comment is not None:
        if body is not None:
            end = body.at + (timedelta(days=1) if body.date_only else timedelta(0))
            gap = max(body.at - comment, comment - end)
            if gap > TIME_TOLERANCE:
                shown = body.at.date().isoformat() if body.date_only else body.at.isoformat()
                warnings.append(f"header time {comment.isoformat()} and body time {shown} differ by {_duration(gap)}")
        return comment, "comment"
    for source, moment in fallbacks:
        if moment is not None:
            warnings.append(f"no usable header time: published_at is {TIME_SOURCES[source]} {moment.isoformat()}")
            return moment, source
    warnings.append("no usable time in the header, the body or a date line: published_at is None (undated)")
    return None, "none"


def _duration(gap: timedelta) -> str:
    hours = gap.total_seconds() / 3600
    return f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"


# --- text ------------------------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_WORD = re.compile(r"[^\W_]")
_HAN = re.compile(r"[\u3400-\u9fff]")


def _clean(text: str) -> str:
    """Decode entities left after one decoding (``&amp;quot;``), collapse whitespace runs, strip."""
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    return " ".join(text.split())


# --- body HTML ---------------------------------------------------------------------------------------------

_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True, no_network=True, huge_tree=True)
_BLOCK_TAGS = frozenset(
    (
        *("p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6", "hgroup"),
        *("blockquote", "figure", "figcaption", "section", "article", "header", "footer", "main", "aside"),
        *("nav", "table", "thead", "tbody", "tfoot", "tr", "caption", "center", "address"),
        *("pre", "form", "fieldset", "details", "summary"),
    )
)
_HEADING_TAGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_BOLD_TAGS = frozenset(("b", "strong"))
_SKIP_TAGS = frozenset(
    (
        *("script", "style", "template", "svg", "math", "canvas", "button", "input", "select", "option"),
        *("textarea", "iframe", "audio", "object", "embed", "source", "track", "map"),
        *("head", "title", "meta", "link", "base"),
    )
)
_HIDDEN_CLASSES = frozenset(("off-screen", "zoomattribute"))
"""Screen-reader labels (BBC "Image caption") and RFA's zoom icon: not part of the page's text."""
_CAPTION_CLASSES = frozenset(
    ("picinfo", "wp-caption-text", "image-caption", "imageCaption", "media-caption", "Image_caption")
)
_BOILERPLATE_CLASSES = frozenset(
    (
        "copyright",
        "t-copyright",
        "story-image-copyright",
        "moreArticle-title",
        "SubscriptionInner",
        "StandardArticleBody_trustBadgeContainer",
        "m-interstitial",
        "o-self-promo",
        "m-block-ad",
        "m-block-ad__content",
        "dfp-tag-wrapper",
        "adslot_infinite",
        "bbccom_advert",
        "player-with-placeholder__caption",
        "widget_media_image",
        "news-dic-all",
    )
)
"""Credits, newsletter and donation boxes, ads, player notices and CNA's glossary buttons (their text
goes to ``boilerplate``)."""
_BOILERPLATE_PREFIXES = ("©", "获取更多RSS", "Feed enhanced by")
"""Copyright lines, the feedx.net footer and CDT's feed-plugin footer."""
_HEADING_MAX_CHARS = 40
_SENTENCE_END = ("。", "！", "!", "；", ";", "…")
_CLOSING_QUOTES = "”」』’\"'）)"

_BYLINE_CLASS = re.compile(r"-Person\b")
"""BBC's author box (``<ul class="css-…-Person">``: name, title)."""

_BODY, _CAPTION, _BOILERPLATE, _BYLINE = "body", "caption", "boilerplate", "byline"

MAX_DEPTH = 100
"""Elements nested deeper than this are read as plain text (blocks still end paragraphs) instead of walked.
The deepest corpus body nests 16 elements; the walk recurses a few Python frames per level, so hostile input
(hundreds of nested ``<div>`` or unclosed ``<b>``) would otherwise exhaust Python's recursion limit."""


@dataclass(slots=True)
class _ImageSlot:
    url: str
    caption: str = ""
    alt: str = ""


@dataclass(slots=True)
class _BodyReader:
    """Walks a body's element tree once and sorts its text into paragraphs, headings, captions, ...

    Block elements and ``<br>`` end a text block; a caption element names the latest image when no
    body text came after that image; class names pick out captions, hidden labels and boilerplate.
    """

    page: str
    title: str
    zone: ZoneInfo
    paragraphs: list[str] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    gallery_title: str = ""
    gallery: list[GalleryItem] = field(default_factory=list)
    boilerplate: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    byline: str = ""
    time: _BodyTime | None = None
    _images: list[_ImageSlot] = field(default_factory=list)
    _mode: str = _BODY
    _pieces: list[str] = field(default_factory=list)
    _parts: list[str] = field(default_factory=list)
    _bold_depth: int = 0
    _related_depth: int = 0
    _bold_text: bool = False
    _plain_text: bool = False
    _unrelated_text: bool = False
    _related_link: bool = False
    _open_image: int | None = None
    _text_after_image: bool = False
    _last_h3: int | None = None
    _depth: int = 0
    _too_deep: bool = False

    def read(self, body: str, warnings: list[str]) -> None:
        """Read the body HTML; an unparsable body keeps its tag-stripped text with a warning."""
        if not body.strip():
            warnings.append("empty body")
            return
        try:
            root = etree.fromstring(body, _PARSER)
        except (etree.LxmlError, ValueError) as err:
            warnings.append(f"body HTML could not be parsed ({err}): kept its text without tags")
            text = _clean(re.sub(r"<[^>]*>", " ", body))
            if text:
                self.paragraphs.append(text)
            return
        content = root.find("body") if root is not None else None
        if content is not None:
            self._children(content)
            self._flush()
        if self._too_deep:
            warnings.append(f"HTML nested deeper than {MAX_DEPTH} elements: the deeper part was read as plain text")

    def images(self) -> tuple[Image, ...]:
        """The images with their captions; an image without one takes its ``alt``/``title`` text when
        that is Chinese prose not already in the paragraphs."""
        known = set(self.paragraphs)
        images = []
        for slot in self._images:
            caption = slot.caption or (slot.alt if slot.alt not in known else "")
            if slot.url or caption:
                images.append(Image(slot.url, caption))
        return tuple(images)

    # tree walking

    def _children(self, element: etree._Element) -> None:
        if element.text:
            self._text(element.text)
        for child in element:
            self._visit(child)
            if child.tail:
                self._text(child.tail)

    def _visit(self, element: etree._Element) -> None:
        if self._depth >= MAX_DEPTH:
            self._too_deep = True
            self._plain(element)
            return
        self._depth += 1
        self._visit_element(element)
        self._depth -= 1

    def _plain(self, element: etree._Element) -> None:
        """Read `element` without recursion: its text in order, skipped elements left out, a block or ``<br>``
        ending the text block; classes, links, captions and bold are not looked at."""
        walk = etree.iterwalk(element, events=("start", "end"))
        for event, node in walk:
            tag = node.tag
            if not isinstance(tag, str):
                continue
            if event == "start":
                if tag in _SKIP_TAGS:
                    walk.skip_subtree()
                    continue
                if tag in _BLOCK_TAGS or tag == "br":
                    self._flush()
                if node.text:
                    self._text(node.text)
            else:
                if tag in _BLOCK_TAGS:
                    self._flush()
                if node.tail and node is not element:
                    self._text(node.tail)

    def _visit_element(self, element: etree._Element) -> None:
        tag = element.tag
        if not isinstance(tag, str) or tag in _SKIP_TAGS:
            return
        classes = element.get("class")
        ident = element.get("id")
        if classes or ident:
            names = set(classes.split()) if classes else set()
            if ident:
                names.add(ident)
            if names & _HIDDEN_CLASSES:
                return
            if names & _BOILERPLATE_CLASSES:
                self._boilerplate(element)
                return
            if names & _CAPTION_CLASSES:
                self._caption(element)
                return
            if classes and _BYLINE_CLASS.search(classes):
                self.byline = self.byline or self._collect(element, _BYLINE)
                return
        if tag == "img" or tag == "video" or element.get("role") == "img":
            self._image(element)
        elif tag in _BLOCK_TAGS:
            self._block(element, tag)
        elif tag == "br" or tag == "hr":
            self._flush()
        elif tag == "td" or tag == "th":
            self._pieces.append(" ")  # a table row is one block, its cells apart
            self._children(element)
        elif tag == "noscript":
            self._noscript(element)
        elif tag == "a":
            self._anchor(element)
        elif tag == "time":
            self._time(element)
        elif tag in _BOLD_TAGS:
            self._bold_depth += 1
            self._children(element)
            self._bold_depth -= 1
        else:
            self._children(element)

    def _block(self, element: etree._Element, tag: str) -> None:
        self._flush()
        if tag == "figcaption" or (tag == "div" and self._is_small_caption(element)):
            self._caption(element)
        elif tag == "div" and (self._dateline(element) or self._gallery_item(element)):
            return
        elif (tag == "p" or (tag == "div" and self._is_leaf(element))) and self._starts_boilerplate(element):
            self._boilerplate(element)
        else:
            self._children(element)
            self._flush(heading=tag if tag in _HEADING_TAGS else None)

    def _collect(self, element: etree._Element, mode: str) -> str:
        """The text of ``element`` read in ``mode`` (caption or boilerplate), its blocks joined by spaces."""
        self._flush()
        outer_mode, outer_parts = self._mode, self._parts
        self._mode, self._parts = mode, []
        self._children(element)
        self._flush()
        text = " ".join(self._parts)
        self._mode, self._parts = outer_mode, outer_parts
        return text

    def _text(self, text: str) -> None:
        self._pieces.append(text)
        if self._mode != _BODY or not _WORD.search(text):
            return
        if self._bold_depth:
            self._bold_text = True
        else:
            self._plain_text = True
        if not self._related_depth:
            self._unrelated_text = True
        if self._open_image is not None:
            self._text_after_image = True

    def _flush(self, heading: str | None = None) -> None:
        """End the current text block and file it by mode and shape."""
        text = _clean("".join(self._pieces)) if self._pieces else ""
        whole_bold = self._bold_text and not self._plain_text
        link_only = self._related_link and not self._unrelated_text
        closes_image = self._text_after_image
        self._pieces.clear()
        self._bold_text = self._plain_text = self._unrelated_text = self._related_link = False
        self._text_after_image = False
        if not text:
            return
        if self._mode != _BODY:
            self._parts.append(text)
            return
        if text.startswith(_BOILERPLATE_PREFIXES):
            self.boilerplate.append(text)
            return
        if closes_image:
            self._open_image = None
        if link_only:
            return
        if heading is None and whole_bold and self._is_short_heading(text):
            heading = "b"
        elif heading is not None and len(text) > _HEADING_MAX_CHARS and _is_sentence(text):
            heading = None  # a lead sentence set as a heading (Bitter Winter's <h2>)
        if heading is not None:
            if not self._is_title(text):
                self._last_h3 = len(self.headings) if heading == "h3" else None
                self.headings.append(text)
            return
        self._last_h3 = None
        self.paragraphs.append(text)

    def _is_title(self, text: str) -> bool:
        return "".join(text.split()) == "".join(self.title.split())

    @staticmethod
    def _is_short_heading(text: str) -> bool:
        return len(text) <= _HEADING_MAX_CHARS and not _is_sentence(text)

    @staticmethod
    def _is_leaf(element: etree._Element) -> bool:
        return not any(child.tag in _BLOCK_TAGS for child in element)

    @staticmethod
    def _starts_boilerplate(element: etree._Element) -> bool:
        if element.text and not element.text.isspace():
            return element.text.lstrip().startswith(_BOILERPLATE_PREFIXES)
        for text in element.itertext():
            stripped = text.strip()
            if stripped:
                return stripped.startswith(_BOILERPLATE_PREFIXES)
        return False

    # special elements

    def _boilerplate(self, element: etree._Element) -> None:
        text = self._collect(element, _BOILERPLATE)
        if not text:
            return
        if self._mode == _BOILERPLATE:
            self._parts.append(text)
        else:
            self.boilerplate.append(text)

    def _caption(self, element: etree._Element) -> None:
        caption = self._collect(element, _CAPTION)
        if not caption:
            return
        if self._mode != _BODY:
            self._parts.append(caption)
        elif self._open_image is not None and not self._images[self._open_image].caption:
            self._images[self._open_image].caption = caption
        elif not self._is_title(caption) and (
            self._open_image is None or self._images[self._open_image].caption != caption
        ):
            self.paragraphs.append(caption)

    @staticmethod
    def _is_small_caption(element: etree._Element) -> bool:
        """DW/VOA/NYT ``<div><small>caption</small></div>``."""
        return (
            len(element) == 1
            and element[0].tag == "small"
            and not (element.text or "").strip()
            and not (element[0].tail or "").strip()
        )

    def _dateline(self, element: etree._Element) -> bool:
        """A leading ``<div><i>[byline<br>]time</i></div>`` or ``<div>dd/mm/yyyy - hh:mm</div>``."""
        if self.time is not None or self.paragraphs or self.headings:
            return False
        holder = element
        if len(element) == 1 and element[0].tag == "i" and not (element.text or "").strip():
            holder = element[0]
        if any(child.tag != "br" for child in holder):
            return False
        segments = [holder.text or ""] + [child.tail or "" for child in holder]
        lines = [line for line in map(_clean, segments) if line]
        found = _body_time(lines[-1], self.zone) if lines else None
        if found is None:
            return False
        self.time = found
        self.byline = " ".join(lines[:-1])
        return True

    def _time(self, element: etree._Element) -> None:
        """The first ``<time datetime=…>`` outside embedded posts (``<blockquote>``) is the body time;
        its text ("6 分钟前") is not body text. Other ``<time>`` elements are ordinary text."""
        if self.time is None and next(element.iterancestors("blockquote"), None) is None:
            found = _body_time(element.get("datetime") or "".join(element.itertext()), self.zone)
            if found is not None:
                self.time = found
                return
        self._children(element)

    def _gallery_item(self, element: etree._Element) -> bool:
        """DW picture gallery item ``<div><img …>[<br>]<b>title</b>：caption</div>``."""
        if len(element) < 2 or element[0].tag != "img" or (element.text or "").strip():
            return False
        bold = next((child for child in element if child.tag in _BOLD_TAGS), None)
        image = self._image_url(element[0])
        if bold is None or image is None:
            return False
        after = [bold.tail or ""]
        for sibling in bold.itersiblings():
            after.extend(sibling.itertext())
            after.append(sibling.tail or "")
        caption = _clean("".join(after)).lstrip("：:").lstrip()
        if not self.gallery and self._last_h3 is not None:
            self.gallery_title = self.headings.pop(self._last_h3)
        self._last_h3 = None
        self.gallery.append(GalleryItem(_clean("".join(bold.itertext())), caption, image))
        return True

    def _image(self, element: etree._Element) -> None:
        """An ``<img>``, a ``<video>``'s poster or a ``role="img"`` box; one without a usable address
        (DW's ``<img src="">``, RFI's placeholders) is kept when a caption names it."""
        if self._mode != _BODY:
            return
        url = self._image_url(element) or ""
        known = next((index for index, slot in enumerate(self._images) if url and slot.url == url), None)
        if known is None:
            texts = (_clean(element.get(name) or "") for name in ("alt", "title", "aria-label"))
            self._images.append(_ImageSlot(url, alt=next((text for text in texts if _HAN.search(text)), "")))
            known = len(self._images) - 1
        self._open_image = known
        self._text_after_image = False

    def _noscript(self, element: etree._Element) -> None:
        """A ``<noscript>`` copy of an image whose ``src`` is a placeholder gives it its address (RFI)."""
        if self._open_image is None or self._images[self._open_image].url:
            return
        for image in element.iter("img"):
            url = self._image_url(image)
            if url is not None:
                self._images[self._open_image].url = url
                return

    def _image_url(self, element: etree._Element) -> str | None:
        names = ("poster",) if element.tag == "video" else ("src", "data-src", "data-original")
        for name in names:
            value = (element.get(name) or "").strip()
            if value and not value.startswith("data:"):
                url = self._absolute(value)
                return _unwrap_image_proxy(url) if url is not None else None
        return None

    def _anchor(self, element: etree._Element) -> None:
        link = self._link(element)
        if link is not None and self._mode != _BOILERPLATE:
            self.links.append(link)
        related = link is not None and link.related and self._mode == _BODY
        if related:
            self._related_depth += 1
            self._related_link = True
        self._children(element)
        if related:
            self._related_depth -= 1

    def _link(self, element: etree._Element) -> Link | None:
        """The link of an ``<a href>`` with text (its text is also a tag when it points to a tag page)."""
        url = self._absolute(element.get("href") or "")
        if url is None:
            return None
        text = _clean("".join(element.itertext()))
        rel = element.get("rel") or ""
        if text and ("tag" in rel.split() or "/tag/" in url) and text not in self.tags:
            self.tags.append(text)
        if not text:
            return None
        related = (
            "ArticleRef" in rel
            or "moreArticle-link" in (element.get("class") or "")
            or (_without_scheme(url) != _without_scheme(self.page) and is_article_url(url))
        )
        return Link(url, text, related)

    def _absolute(self, href: str) -> str | None:
        """``href`` as an absolute http(s) URL (entities decoded twice, resolved against the page)."""
        href = _clean(href)
        if href.startswith(("http://", "https://")):
            return href
        if not href or href.startswith("#"):
            return None
        try:
            url = urljoin(self.page, href) if "://" not in href[:12] else href
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            return None
        return url if scheme in ("http", "https") else None


def _is_sentence(text: str) -> bool:
    """Whether ``text`` ends like a sentence (full stop, exclamation, ellipsis; quotes aside)."""
    return text.rstrip(_CLOSING_QUOTES).endswith(_SENTENCE_END)


def _without_scheme(url: str) -> str:
    """``url`` without scheme and fragment, for comparing pages."""
    return url.partition("://")[2].partition("#")[0].rstrip("/")


def _unwrap_image_proxy(url: str) -> str:
    """The original image of an ``images.weserv.nl/?url=…`` proxy URL (scheme added, percent-decoded)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.hostname != "images.weserv.nl" or "url=" not in parts.query:
        return url
    target = parts.query.partition("url=")[2]
    if "?" not in target:
        target = target.partition("&")[0]
    target = unquote(target)
    if target.startswith("ssl:"):
        return "https://" + target[4:]
    if "://" in target[:12]:
        return target
    return "https://" + target.lstrip("/")
