"""The index settings and mappings (``indexer/data/mappings/news.json``, shipped in the package), and the metadata every
index records about itself."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from indexer import __version__

MAPPING_FILE = "data/mappings/news.json"
"""The mapping file, relative to the ``indexer`` package."""

TEXT_FIELDS: tuple[str, ...] = ("title", "body", "headings", "captions", "gallery")
"""Displayed text fields, searched by default; each has a ``chars.<name>`` and a ``words.<name>`` view."""
LINK_FIELD = "links"
"""The anchor text of every link in the body: it has views too, but only the ``links:`` scope searches it
(related-reading lists are navigation, and counting them by default would inflate mentions)."""
VIEW_FIELDS = (*TEXT_FIELDS, LINK_FIELD)
"""Every field with a ``chars.<name>`` and a ``words.<name>`` view."""


@dataclass(frozen=True, slots=True)
class IndexTemplate:
    """The parsed mapping file."""

    version: int
    settings: dict[str, Any]
    mappings: dict[str, Any]


@cache
def load_template() -> IndexTemplate:
    """The mapping file shipped in the package."""
    data = json.loads((Path(__file__).parent / MAPPING_FILE).read_text(encoding="utf-8"))
    return IndexTemplate(version=int(data["mapping_version"]), settings=data["settings"], mappings=data["mappings"])


@dataclass(frozen=True, slots=True)
class IndexMeta:
    """What an index was built with; stored in its mapping's ``_meta``.

    ``analysis_version`` covers the dictionaries and the normalization rules (the segmenter's version); indices
    built before it had that name store it as ``dict_version``, which is read the same.
    """

    mapping_version: int
    analysis_version: str
    created_at: str = ""
    indexer_version: str = __version__

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> IndexMeta | None:
        meta = mapping.get("_meta") or {}
        if "mapping_version" not in meta:
            return None
        return cls(
            mapping_version=int(meta["mapping_version"]),
            analysis_version=str(meta.get("analysis_version", meta.get("dict_version", ""))),
            created_at=str(meta.get("created_at", "")),
            indexer_version=str(meta.get("indexer_version", "")),
        )


def index_body(
    analysis_version: str, shards: int | None = None, replicas: int | None = None, template: IndexTemplate | None = None
) -> dict[str, Any]:
    """Settings and mappings for a new index, with shard/replica overrides and the build metadata."""
    template = template or load_template()
    settings = dict(template.settings)
    if shards is not None:
        settings["number_of_shards"] = shards
    if replicas is not None:
        settings["number_of_replicas"] = replicas
    meta = {
        "mapping_version": template.version,
        "analysis_version": analysis_version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "indexer_version": __version__,
    }
    return {"settings": settings, "mappings": {**template.mappings, "_meta": meta}}
