"""Versioned indices behind an alias: the ownership check, create, inspect, bulk-load settings, and the atomic
swap after a rebuild.

Index names are ``<alias>-m<mapping version>-d<analysis version>-g<generation>`` (:mod:`indexer.names`):
deterministic, so several machines loading one cluster side by side create (and agree on) the same first index,
and a rebuild takes the next generation. Readers and writers only ever use the alias.

The tool reads, writes and deletes only its own indices: a versioned name of the alias and this tool's ``_meta``
(:func:`behind` is the one check every command's alias goes through; :func:`owned` is the check itself, for a
client other than elasticsearch-py). Anything else is refused, by name. elasticsearch-py is needed only by the
functions that take it: ``search --count`` checks its alias without loading it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from indexer.errors import ForeignIndex, IndexerError, IndexMissing
from indexer.mapping import IndexMeta, index_body, load_template
from indexer.names import alias_of, check_alias, generation_of, index_name

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from indexer.lock import Holder

BULK_LOAD_SETTINGS = {"refresh_interval": "-1", "number_of_replicas": 0}
OWNERSHIP_FEATURES = "aliases,mappings"
"""What :func:`owned` reads of ``GET /<alias>``."""


def behind(es: Elasticsearch, alias: str) -> dict[str, IndexMeta]:
    """The indices behind `alias` with what they were built with; empty when the alias doesn't exist.

    Raises InvalidName for a name that isn't a plain alias, IndexerError when `alias` is a concrete index, and
    ForeignIndex, naming it, for any index behind the alias that this tool did not create.
    """
    check_alias(alias)
    answer = es.options(ignore_status=404).indices.get(index=alias, features=OWNERSHIP_FEATURES)
    return owned(alias, None if answer.meta.status == 404 else answer.body)


def owned(alias: str, answer: Mapping[str, Any] | None) -> dict[str, IndexMeta]:
    """:func:`behind` for the answer to ``GET /<alias>?features=aliases,mappings`` (None for HTTP 404), once
    :func:`indexer.names.check_alias` accepted `alias`."""
    if answer is None:
        return {}
    if alias in answer:
        owner = alias_of(alias)
        raise IndexerError(
            f"{alias!r} is an index, not an alias; this tool reads and writes through an alias",
            f"use the alias {owner!r}" if owner else f"choose another name, or delete the index {alias!r}",
        )
    metas = {}
    for name, body in sorted(answer.items()):
        meta = IndexMeta.from_mapping(body.get("mappings", {}))
        if meta is None or generation_of(alias, name) is None:
            why = "has no metadata of this tool" if meta is None else f"is not named {alias}-m<N>-d<V>-g<G>"
            raise ForeignIndex(
                f"alias {alias!r} points to {name}, which this tool did not create (it {why}); "
                "the tool reads, writes and deletes only its own indices",
                "give this tool an alias of its own",
            )
        metas[name] = meta
    return metas


def existing(es: Elasticsearch, alias: str) -> dict[str, IndexMeta]:
    """:func:`behind`, raising IndexMissing when there is no index behind `alias`."""
    return required(alias, behind(es, alias))


def required(alias: str, indices: dict[str, IndexMeta]) -> dict[str, IndexMeta]:
    """`indices` (what :func:`owned` found behind `alias`), raising IndexMissing when there is none."""
    if not indices:
        raise IndexMissing(f"no index behind {alias!r}", "index some articles first: `indexer index PATH`")
    return indices


def resolve_alias(es: Elasticsearch, alias: str) -> str | None:
    """The index behind `alias` (its write index when there are several), or None when there is none; refuses
    what :func:`behind` refuses."""
    return _writer(es, alias, behind(es, alias))


def _writer(es: Elasticsearch, alias: str, indices: dict[str, IndexMeta]) -> str | None:
    if len(indices) <= 1:
        return next(iter(indices), None)
    answer = es.indices.get_alias(name=alias)
    writers = [name for name in indices if answer[name]["aliases"][alias].get("is_write_index")]
    if len(writers) != 1:
        raise IndexerError(f"alias {alias!r} points to several indices ({', '.join(indices)}) and none is for writes")
    return writers[0]


def index_meta(es: Elasticsearch, index: str) -> IndexMeta | None:
    mapping = es.indices.get_mapping(index=index)[index]["mappings"]
    return IndexMeta.from_mapping(mapping)


def stale_reason(meta: IndexMeta, analysis_version: str) -> str | None:
    """Why an index built with `meta` doesn't suit this indexer, or None when it does: its mapping version or its
    analysis version (dictionaries and normalization rules, :attr:`indexer.segment.Segmenter.version`) differ."""
    expected = load_template().version
    differences = []
    if meta.mapping_version != expected:
        differences.append(f"mapping v{meta.mapping_version} (this indexer: v{expected})")
    if meta.analysis_version != analysis_version:
        differences.append(f"analysis version {meta.analysis_version} (this indexer: {analysis_version})")
    return f"built with {' and '.join(differences)}" if differences else None


def create_index(
    es: Elasticsearch, name: str, analysis_version: str, shards: int | None = None, replicas: int | None = None
) -> None:
    """Create `name` with the current mapping; an index of that name already there is taken as is when it is
    this tool's (a loader on another machine made it first), and refused otherwise."""
    from elasticsearch import ApiError

    try:
        es.indices.create(index=name, **index_body(analysis_version, shards, replicas))
    except ApiError as exc:
        if "resource_already_exists_exception" not in str(exc.info):
            raise
        if index_meta(es, name) is None:
            raise ForeignIndex(
                f"an index named {name} exists and this tool did not create it (it has no metadata of this tool)",
                "delete or rename it, or give this tool another alias",
            ) from None


def ensure_index(
    es: Elasticsearch,
    alias: str,
    analysis_version: str,
    shards: int | None = None,
    replicas: int | None = None,
) -> str:
    """The index to write to behind `alias`, creating the first generation on a fresh cluster.

    Refuses an index built with another mapping or analysis version: mixing segmentations in one index would
    make queries miss; `indexer reindex` rebuilds it instead.
    """
    indices = behind(es, alias)
    current = _writer(es, alias, indices)
    if current is None:
        current = index_name(alias, analysis_version, 1)
        create_index(es, current, analysis_version, shards, replicas)
        es.indices.update_aliases(actions=[{"add": {"index": current, "alias": alias, "is_write_index": True}}])
        return current
    stale = stale_reason(indices[current], analysis_version)
    if stale:
        raise IndexerError(f"index {current} was {stale}", f"rebuild it with `indexer reindex --index {alias}`")
    return current


@dataclass(frozen=True, slots=True)
class IndexStats:
    alias: str
    index: str
    documents: int
    size_bytes: int
    meta: IndexMeta
    settings: dict[str, Any]
    other_generations: tuple[str, ...]
    pending_restore: dict[str, Any] | None
    """Settings an interrupted bulk load left to restore (the index still has replicas 0 / refresh off)."""
    holders: tuple[Holder, ...]
    """Runs that hold the alias now (see :mod:`indexer.lock`)."""


def generations(es: Elasticsearch, alias: str) -> list[str]:
    """Every versioned index of `alias`, in the alias or not, oldest generation first."""
    found = es.indices.get(index=f"{alias}-m*", expand_wildcards="all", features="aliases")
    numbered = {name: generation_of(alias, name) for name in found}
    return sorted((name for name, number in numbered.items() if number is not None), key=lambda n: numbered[n] or 0)


def index_stats(es: Elasticsearch, alias: str) -> IndexStats:
    """Document count, size, versions, settings and holders of the index behind `alias`."""
    from indexer.lock import holders

    indices = existing(es, alias)
    index = _writer(es, alias, indices)
    assert index is not None
    stats = es.indices.stats(index=index, metric="docs,store")["indices"][index]["primaries"]
    settings = es.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    return IndexStats(
        alias=alias,
        index=index,
        documents=stats["docs"]["count"],
        size_bytes=stats["store"]["size_in_bytes"],
        meta=indices[index],
        settings=settings,
        other_generations=tuple(name for name in generations(es, alias) if name != index),
        pending_restore=pending_restore(es, index),
        holders=tuple(holders(es, alias)),
    )


def next_generation(es: Elasticsearch, alias: str, analysis_version: str) -> str:
    generation = max((generation_of(alias, name) or 0 for name in generations(es, alias)), default=0) + 1
    return index_name(alias, analysis_version, generation)


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
    restore: dict[str, Any] | None = meta.get("bulk_load_restore")
    return restore


def end_bulk_load(es: Elasticsearch, index: str, restore: dict[str, Any]) -> None:
    """Restore refresh and replicas, forget the saved values, and refresh so the new documents are searchable."""
    es.indices.put_settings(index=index, settings=restore)
    meta = es.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    meta.pop("bulk_load_restore", None)
    es.indices.put_mapping(index=index, meta=meta)
    es.indices.refresh(index=index)
