"""Article ⇄ Elasticsearch document: the original text for display, plus the chars and words views for search."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from indexer.article import Article, GalleryItem, Image, Link
from indexer.mapping import LINK_FIELD, VIEW_FIELDS
from indexer.normalize import char_tokens, script_of
from indexer.outlet_meta import OutletTable, load_outlets, outlet_fields
from indexer.segment import Segmenter, Token
from indexer.stories import signature


@dataclass(frozen=True, slots=True)
class SourceFile:
    """Where a document came from: the file's path, SHA-1 of its bytes, size, and mtime (ns, when known)."""

    path: str
    sha1: str
    bytes: int
    mtime: int | None = None


def document_id(article: Article) -> str:
    """The Elasticsearch ``_id``: outlet and the outlet's own article id, stable across runs and machines."""
    return f"{article.outlet}:{article.id}"


def field_texts(article: Article) -> dict[str, list[str]]:
    """The displayed text of each field with search views, one entry per paragraph/caption/link (phrases don't
    cross them)."""
    gallery = [article.gallery_title] if article.gallery_title else []
    for item in article.gallery:
        gallery += [text for text in (item.title, item.caption) if text]
    return {
        "title": [article.title] if article.title else [],
        "body": list(article.paragraphs),
        "headings": list(article.headings),
        "captions": list(article.captions),
        "gallery": gallery,
        LINK_FIELD: [link.text for link in article.links],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def build_document(
    article: Article, segmenter: Segmenter, source: SourceFile | None = None, outlets: OutletTable | None = None
) -> dict[str, Any]:
    """The document to index: original fields, derived chars/words views, entities, keywords, counts, and the
    outlet's region and kind from `outlets` (default: the package's table).

    Entities and keywords come from the displayed text only: link text (its own views) would count the titles of
    related-reading lists as mentions."""
    texts = field_texts(article)
    chars: dict[str, list[str]] = {}
    words: dict[str, list[str]] = {}
    tokens: list[Token] = []
    body_words = 0
    for name in VIEW_FIELDS:
        chars[name] = [char_tokens(text) for text in texts[name]]
        words[name] = []
        for text in texts[name]:
            field_tokens = segmenter.tokens(text)
            if name != LINK_FIELD:
                tokens += field_tokens
            words[name].append(" ".join(token.word for token in field_tokens))
            if name == "body":
                body_words += len(field_tokens)
    entities = segmenter.entities(tokens)
    document: dict[str, Any] = {
        "id": article.id,
        "outlet": article.outlet,
        **outlet_fields(load_outlets() if outlets is None else outlets, article.outlet),
        "host": article.host,
        "url": article.url,
        "title": article.title,
        "published_at": _iso(article.published_at),
        "time_source": article.time_source,
        "body_time": _iso(article.body_time),
        "body": list(article.paragraphs),
        "headings": list(article.headings),
        "captions": list(article.captions),
        "image": article.images[0].url if article.images else None,
        "images": [{"url": image.url, "caption": image.caption} for image in article.images],
        "links": [{"url": link.url, "text": link.text, "related": link.related} for link in article.links],
        "gallery_title": article.gallery_title,
        "gallery": [{"title": g.title, "caption": g.caption, "image": g.image} for g in article.gallery],
        "boilerplate": list(article.boilerplate),
        "byline": article.byline or None,
        "tags": list(article.tags),
        "persons": list(entities.persons),
        "places": list(entities.places),
        "orgs": list(entities.orgs),
        "keywords": list(segmenter.keywords(tokens)),
        "script": script_of(article.title + "".join(article.paragraphs[:20])),
        "warnings": list(article.warnings),
        "counts": {
            "chars": sum(len("".join(text.split())) for text in [article.title, *article.paragraphs]),
            "words": body_words,
            "paragraphs": len(article.paragraphs),
            "images": len(article.images),
            "links": len(article.links),
        },
        "indexed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        **story_fields(article),
        "chars": chars,
        "words": words,
    }
    if source:
        document["source"] = {"path": source.path, "sha1": source.sha1, "bytes": source.bytes}
        if source.mtime is not None:
            document["source"]["mtime"] = source.mtime
    return {key: value for key, value in document.items() if value is not None}


def story_fields(article: Article) -> dict[str, Any]:
    """The story signature fields and a provisional story (the article's own id) for the post-pass of
    :mod:`indexer.story_ids` to settle; an article too short for a signature gets no band keys."""
    fields: dict[str, Any] = {"story": document_id(article)}
    found = signature(article)
    if found is not None:
        fields |= {
            "story_bands": list(found.band_keys()),
            "story_minhash": found.encode(),
            "story_size": found.size,
            "story_numbers": sorted(found.numbers),
        }
    return fields


def _tuple(values: Iterable[str] | None) -> tuple[str, ...]:
    return tuple(values or ())


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def article_from_source(source: dict[str, Any]) -> Article:
    """Rebuild the Article from a stored document's ``_source`` (for re-segmenting without the files)."""
    return Article(
        id=source["id"],
        outlet=source["outlet"],
        host=source.get("host", ""),
        url=source["url"],
        title=source.get("title", ""),
        published_at=_time(source.get("published_at")),
        time_source=source.get("time_source") or ("unknown" if source.get("published_at") else "none"),
        body_time=_time(source.get("body_time")),
        paragraphs=_tuple(source.get("body")),
        headings=_tuple(source.get("headings")),
        images=tuple(Image(url=i["url"], caption=i.get("caption", "")) for i in source.get("images", [])),
        links=tuple(
            Link(url=k["url"], text=k.get("text", ""), related=k.get("related", False)) for k in source.get("links", [])
        ),
        gallery_title=source.get("gallery_title", ""),
        gallery=tuple(
            GalleryItem(title=g["title"], caption=g["caption"], image=g["image"]) for g in source.get("gallery", [])
        ),
        boilerplate=_tuple(source.get("boilerplate")),
        byline=source.get("byline", ""),
        tags=_tuple(source.get("tags")),
        warnings=_tuple(source.get("warnings")),
    )
