"""Provenance of an exported result: what was asked, of which index, built how, and when, so that it can be cited
and repeated.

One record (:func:`provenance`) for every export, written by one writer (:func:`write_provenance`) as a JSON
sidecar file beside the result (a sidecar leaves CSV and JSON Lines outputs as they are, for the tools that read
them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from indexer import __version__
from indexer.mapping import load_template
from indexer.search import Searcher

PROVENANCE_FORMAT = 1
"""Bump when a key of the record changes meaning or goes away."""


def provenance(
    searcher: Searcher,
    command: str,
    query: str,
    filters: Mapping[str, Any] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The provenance record of a result computed by `searcher`.

    `command` is the command line as run (secrets already removed), `query` the query text, `filters` what
    narrows it besides the query (outlets, dates) and `parameters` what else shaped the result (seed, window ...).
    The record names the indices behind the alias with their mapping and analysis versions, the article count of
    the index, the versions this searcher queries with, and the time (UTC).
    """
    indices = searcher.indices()
    return {
        "format": PROVENANCE_FORMAT,
        "command": command,
        "query": query,
        "filters": dict(filters or {}),
        "parameters": dict(parameters or {}),
        "alias": searcher.index,
        "indices": [
            {
                "name": name,
                "mapping_version": meta.mapping_version,
                "analysis_version": meta.analysis_version,
                "created_at": meta.created_at,
                "indexer_version": meta.indexer_version,
            }
            for name, meta in sorted(indices.items())
        ],
        "articles": searcher.total(),
        "searcher": {
            "mapping_version": load_template().version,
            "analysis_version": searcher.segmenter.version,
            "indexer_version": __version__,
        },
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_provenance(record: Mapping[str, Any], path: Path) -> None:
    """Write `record` as indented UTF-8 JSON to `path` (replacing it)."""
    path.write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
