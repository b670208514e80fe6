"""Versioned indices behind an alias: create, inspect, bulk-load settings, and the atomic swap after a rebuild.

Index names are ``<alias>-m<mapping version>-d<dictionary version>-g<generation>``: deterministic, so several
machines loading one cluster side by side create (and agree on) the same first index, and a rebuild takes the next
generation. Readers and writers only ever use the alias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError

from indexer.errors import IndexerError, IndexMissing
from indexer.mapping import IndexMeta, index_body, load_template

BULK_LOAD_SETTINGS = {"refresh_interval": "-1", "number_of_replicas": 0}


def index_name(alias: str, dict_version: str, generation: int) -> str:
    return f"{alias}-m{load_template().version}-d{dict_version[:8]}-g{generation}"


def _generation(name: str) -> int:
    match = re.search(r"-g(\d+)$", name)
    return int(match.group(1)) if match else 0


def resolve_alias(es: Elasticsearch, alias: str) -> str | None:
    """The index behind `alias`, or None when there is none. A concrete index of that name is an error."""
    try:
        answer = es.indices.get_alias(name=alias)
    except NotFoundError:
        if es.indices.exists(index=alias):
            raise IndexerError(
                f"{alias!r} is an index, not an alias; this tool reads and writes through an alias",
                f"choose another name with --index, or delete the index {alias!r}",
            ) from None
        return None
    names = sorted(answer)
    if len(names) > 1:
        writers = [n for n in names if answer[n]["aliases"][alias].get("is_write_index")]
        if len(writers) != 1:
            raise IndexerError(f"alias {alias!r} points to several indices ({', '.join(names)}) and none is for writes")
        return writers[0]
    return names[0]


def index_meta(es: Elasticsearch, index: str) -> IndexMeta | None:
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]
    return IndexMeta.from_mapping(mapping)


def create_index(
    es: Elasticsearch, name: str, dict_version: str, shards: int | None = None, replicas: int | None = None
) -> None:
    """Create `name` with the current mapping; an index of that name already there is taken as is."""
    try:
        es.indices.create(index=name, **index_body(dict_version, shards, replicas))
    except ApiError as exc:
        if "resource_already_exists_exception" not in str(exc.info):
            raise


def ensure_index(
    es: Elasticsearch, alias: str, dict_version: str, shards: int | None = None, replicas: int | None = None
) -> str:
    """The index to write to behind `alias`, creating the first generation on a fresh cluster.

    Refuses an index built with another mapping or dictionary version: mixing segmentations in one index would
    make queries miss; `indexer reindex` rebuilds it instead.
    """
    current = resolve_alias(es, alias)
    if current is None:
        current = index_name(alias, dict_version, 1)
        create_index(es, current, dict_version, shards, replicas)
        es.indices.update_aliases(actions=[{"add": {"index": current, "alias": alias, "is_write_index": True}}])
        return current
    meta = index_meta(es, current)
    expected = load_template().version
    if meta is None or meta.mapping_version != expected or meta.dict_version != dict_version:
        built = f"mapping v{meta.mapping_version}, dictionary {meta.dict_version}" if meta else "unknown versions"
        raise IndexerError(
            f"index {current} was built with {built}; this indexer has mapping v{expected}, dictionary {dict_version}",
            f"rebuild it with `indexer reindex --index {alias}`",
        )
    return current


@dataclass(frozen=True, slots=True)
class IndexStats:
    alias: str
    index: str
    documents: int
    size_bytes: int
    meta: IndexMeta | None
    settings: dict[str, Any]
    other_generations: tuple[str, ...]


def index_stats(es: Elasticsearch, alias: str) -> IndexStats:
    """Document count, size, versions and settings of the index behind `alias`."""
    index = resolve_alias(es, alias)
    if index is None:
        raise IndexMissing(f"no index behind {alias!r}", "index some articles first: `indexer index PATH`")
    stats = es.indices.stats(index=index, metric="docs,store")["indices"][index]["primaries"]
    settings = es.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    others = sorted(set(es.indices.get(index=f"{alias}-m*", expand_wildcards="open")) - {index})
    return IndexStats(
        alias=alias,
        index=index,
        documents=stats["docs"]["count"],
        size_bytes=stats["store"]["size_in_bytes"],
        meta=index_meta(es, index),
        settings=settings,
        other_generations=tuple(others),
    )


def next_generation(es: Elasticsearch, alias: str, dict_version: str) -> str:
    existing = es.indices.get(index=f"{alias}-m*", expand_wildcards="all")
    generation = max((_generation(name) for name in existing), default=0) + 1
    return index_name(alias, dict_version, generation)


def swap_alias(es: Elasticsearch, alias: str, old: str | None, new: str) -> None:
    """Point `alias` from `old` to `new` in one atomic step."""
    actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": alias, "is_write_index": True}}]
    if old:
        actions.insert(0, {"remove": {"index": old, "alias": alias}})
    es.indices.update_aliases(actions=actions)


def begin_bulk_load(es: Elasticsearch, index: str) -> dict[str, Any]:
    """Turn refresh off and replicas to 0 for a large load; returns the settings to restore afterwards.

    The saved values are kept in the index's ``_meta`` too, so a run that was killed is repaired by the next one.
    """
    restore = pending_restore(es, index) or _current_load_settings(es, index)
    meta = es.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    es.indices.put_mapping(index=index, meta={**meta, "bulk_load_restore": restore})
    es.indices.put_settings(index=index, settings=BULK_LOAD_SETTINGS)
    return restore


def _current_load_settings(es: Elasticsearch, index: str) -> dict[str, Any]:
    settings = es.indices.get_settings(index=index, include_defaults=True, flat_settings=True)[index]
    merged = {**settings.get("defaults", {}), **settings["settings"]}
    return {
        "refresh_interval": merged.get("index.refresh_interval", "1s"),
        "number_of_replicas": int(merged.get("index.number_of_replicas", 0)),
    }


def pending_restore(es: Elasticsearch, index: str) -> dict[str, Any] | None:
    """Settings an interrupted bulk load left to restore, if any."""
    meta = es.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    return meta.get("bulk_load_restore")


def end_bulk_load(es: Elasticsearch, index: str, restore: dict[str, Any]) -> None:
    """Restore refresh and replicas, forget the saved values, and refresh so the new documents are searchable."""
    es.indices.put_settings(index=index, settings=restore)
    meta = es.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    meta.pop("bulk_load_restore", None)
    es.indices.put_mapping(index=index, meta=meta)
    es.indices.refresh(index=index)
