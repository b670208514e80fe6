"""Outlet metadata: each outlet's region, script and kind, from the table shipped in the package
(``indexer/data/outlets.toml``, which documents the codes) and an optional user file that adds or overrides outlets.

The index stores ``region`` and ``kind`` on every article (:func:`outlet_fields`); an outlet the tables don't know
gets :data:`UNKNOWN`, so it is counted and shown, never dropped.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from indexer.errors import ConfigError

OUTLETS_FILE = "data/outlets.toml"
"""The package's table, relative to the ``indexer`` package."""
UNKNOWN = "unknown"
"""Region, script and kind of an outlet without metadata."""
REGIONS: dict[str, str] = {
    "cn": "mainland China",
    "hk": "Hong Kong",
    "tw": "Taiwan",
    "sg": "Singapore",
    "intl": "international",
}
SCRIPTS: dict[str, str] = {"simplified": "Simplified Chinese", "traditional": "Traditional Chinese"}
KINDS: dict[str, str] = {
    "state": "state media",
    "abroad": "public broadcaster abroad",
    "commercial": "commercial",
    "independent": "independent/NGO",
    "blog": "blog",
}
_CODES = {"region": REGIONS, "script": SCRIPTS, "kind": KINDS}
INDEXED = ("region", "kind")
"""The metadata stored as keyword fields on every article."""


@dataclass(frozen=True, slots=True)
class OutletMeta:
    """What is known about one outlet, and which file said it."""

    outlet: str
    name: str = ""
    region: str = UNKNOWN
    script: str = UNKNOWN
    kind: str = UNKNOWN
    origin: str = ""


OutletTable = Mapping[str, OutletMeta]


def _entries(text: str, origin: str) -> dict[str, dict[str, Any]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"outlet metadata {origin}: {exc}") from None
    for outlet, entry in data.items():
        if not isinstance(entry, dict):
            raise ConfigError(f"outlet metadata {origin}: [{outlet}] must be a table of name/region/script/kind")
        for key, value in entry.items():
            if key != "name" and key not in _CODES:
                raise ConfigError(f"outlet metadata {origin}: [{outlet}] has unknown key {key!r}")
            if key in _CODES and value not in _CODES[key]:
                codes = ", ".join(_CODES[key])
                raise ConfigError(f"outlet metadata {origin}: [{outlet}] {key} {value!r} is not one of {codes}")
    return data


def merge(table: OutletTable, text: str, origin: str) -> dict[str, OutletMeta]:
    """`table` with the entries of the TOML `text` applied: new outlets added, the fields given replaced."""
    merged = dict(table)
    for outlet, entry in _entries(text, origin).items():
        base = merged.get(outlet, OutletMeta(outlet))
        merged[outlet] = replace(base, **{key: str(value) for key, value in entry.items()}, origin=origin)
    return merged


@cache
def load_outlets(user_file: Path | None = None) -> OutletTable:
    """The package's table, with `user_file` (see :mod:`indexer.config`, ``outlets``) applied when given."""
    package = resources.files("indexer").joinpath(OUTLETS_FILE).read_text(encoding="utf-8")
    table = merge({}, package, "package")
    if user_file is None:
        return table
    try:
        text = user_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read outlet metadata {user_file}: {exc}") from None
    return merge(table, text, str(user_file))


def lookup(table: OutletTable, outlet: str) -> OutletMeta:
    """The metadata of `outlet`; every field :data:`UNKNOWN` when the table has none."""
    return table.get(outlet) or OutletMeta(outlet)


def outlet_fields(table: OutletTable, outlet: str) -> dict[str, str]:
    """The indexed fields (:data:`INDEXED`) of an article from `outlet`."""
    meta = lookup(table, outlet)
    return {name: getattr(meta, name) for name in INDEXED}
