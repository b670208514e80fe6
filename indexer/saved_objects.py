"""The Kibana saved objects shipped with the indexer: the file format, and checks against themselves and the mapping.

The objects (data view, saved search, dashboard) are ``indexer/data/kibana/news-archive.ndjson``, one saved object
per line in the normalized form :func:`dumps` writes: sorted keys, embedded JSON strings re-serialized with sorted
keys, no volatile fields (``updated_at``, ``version``, ...). So exporting unchanged objects writes the file byte for
byte as it was, and a dashboard edited in Kibana's UI becomes a readable diff. The file names the data view after the
default alias ``news``; setup retitles it to the configured alias and export titles it back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from indexer.errors import ConfigError, IndexerError

SavedObject = dict[str, Any]
Need = Literal["date", "keyword", "aggregatable", "exists"]

OBJECTS_FILE = "data/kibana/news-archive.ndjson"
"""The saved objects shipped with the package, relative to the ``indexer`` package."""
FILE_ALIAS = "news"
"""The data view title the shipped file holds; setup replaces it with the configured alias."""
VOLATILE_KEYS = frozenset({"created_at", "created_by", "namespaces", "originId", "updated_at", "updated_by", "version"})
"""Top-level fields Kibana changes on every save or that depend on the space; left out of the file."""
EMBEDDED_JSON_KEYS = frozenset(
    {"fieldAttrs", "fieldFormatMap", "fields", "runtimeFieldMap", "sourceFilters", "typeMeta"}
)
"""Attributes Kibana stores as JSON text (besides every key ending in ``JSON``)."""
RECORDS_FIELD = "___records___"
"""Lens's pseudo field for 'count of documents'."""
LENS_NEEDS: dict[str, Need] = {"date_histogram": "date", "terms": "keyword"}
"""What a Lens operation needs of its field; any other operation needs an aggregatable field."""
MODEL_VERSION_STAMP = (10, 0, 0)
"""The lowest ``typeMigrationVersion`` of a type's model versions: Kibana writes model version n as 10.n.0."""


def _normalized(key: str, value: Any) -> Any:
    if isinstance(value, dict):
        return {name: _normalized(name, item) for name, item in value.items()}
    if isinstance(value, list):
        return [_normalized("", item) for item in value]
    if isinstance(value, str) and (key.endswith("JSON") or key in EMBEDDED_JSON_KEYS):
        try:
            return _compact(json.loads(value))
        except json.JSONDecodeError:
            return value
    return value


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def normalize(obj: SavedObject) -> SavedObject:
    """The object without volatile fields, its embedded JSON strings in canonical form."""
    return _normalized("", {key: value for key, value in obj.items() if key not in VOLATILE_KEYS})


def _order(obj: SavedObject) -> tuple[int, str, str]:
    rank = {"index-pattern": 0, "dashboard": 2}.get(obj["type"], 1)
    return rank, obj["type"], obj["id"]


def dumps(objects: list[SavedObject]) -> str:
    """NDJSON of the normalized objects: data views first, dashboards last, one object per line."""
    return "".join(_compact(normalize(obj)) + "\n" for obj in sorted(objects, key=_order))


def loads(text: str, source: str) -> list[SavedObject]:
    """Parse NDJSON saved objects; `source` names the text in errors."""
    objects = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise IndexerError(f"{source}, line {number}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise IndexerError(f"{source}, line {number}: not a saved object")
        objects.append(obj)
    return objects


def shipped_objects_text() -> str:
    """The NDJSON of the saved objects shipped with the package."""
    return resources.files("indexer").joinpath(OBJECTS_FILE).read_text(encoding="utf-8")


def load_objects(path: Path | None = None) -> list[SavedObject]:
    """The saved objects of an NDJSON file, by default the ones shipped with the package."""
    if path is None:
        return loads(shipped_objects_text(), "the shipped saved objects")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    return loads(text, str(path))


def with_alias(objects: list[SavedObject], alias: str) -> list[SavedObject]:
    """Copies of the objects with every data view titled `alias` (the index pattern Kibana queries)."""
    return [
        {**obj, "attributes": {**obj["attributes"], "title": alias}} if obj["type"] == "index-pattern" else obj
        for obj in objects
    ]


def _label(obj: SavedObject) -> str:
    return f"{obj['type']} {obj['id']}"


def _panels(dashboard: SavedObject) -> list[dict[str, Any]]:
    panels = json.loads(dashboard["attributes"].get("panelsJSON") or "[]")
    return panels if isinstance(panels, list) else []


@dataclass(frozen=True, slots=True)
class LensChart:
    """One Lens visualization: a ``lens`` object or a by-value Lens panel of a dashboard."""

    where: str
    attributes: dict[str, Any]
    references: list[dict[str, str]]
    dashboard: SavedObject | None = None
    panel_index: str = ""

    def layers(self) -> dict[str, dict[str, Any]]:
        return self.attributes.get("state", {}).get("datasourceStates", {}).get("formBased", {}).get("layers", {})


def lens_charts(objects: list[SavedObject]) -> Iterator[LensChart]:
    """Every Lens visualization in the objects, by value or by reference."""
    for obj in objects:
        if obj["type"] == "lens":
            yield LensChart(_label(obj), obj["attributes"], obj.get("references", []))
        elif obj["type"] == "dashboard":
            for panel in _panels(obj):
                attributes = panel.get("embeddableConfig", {}).get("attributes")
                if panel.get("type") == "lens" and attributes:
                    where = f"{_label(obj)} panel {panel.get('title') or panel.get('panelIndex')!r}"
                    references = attributes.get("references", [])
                    yield LensChart(where, attributes, references, obj, str(panel.get("panelIndex")))


def reference_problems(objects: list[SavedObject]) -> list[str]:
    """What is inconsistent in a set of saved objects meant to import on their own: duplicate ids, references to
    objects outside the set, reference names the objects use but don't define, Lens accessors without a column."""
    problems: list[str] = []
    known = {(obj["type"], obj["id"]) for obj in objects}
    if len(known) < len(objects):
        problems.append("two objects share a type and id")
    for obj in objects:
        names = {ref["name"] for ref in obj.get("references", [])}
        problems += [
            f"{_label(obj)} refers to {ref['type']} {ref['id']}, which is not in the file"
            for ref in obj.get("references", [])
            if (ref["type"], ref["id"]) not in known
        ]
        search_source = json.loads(obj["attributes"].get("kibanaSavedObjectMeta", {}).get("searchSourceJSON") or "{}")
        if "indexRefName" in search_source and search_source["indexRefName"] not in names:
            problems.append(f"{_label(obj)} uses reference {search_source['indexRefName']!r} but does not define it")
        if obj["type"] == "dashboard":
            for panel in _panels(obj):
                ref_name = panel.get("panelRefName")
                if ref_name and not {ref_name, f"{panel.get('panelIndex')}:{ref_name}"} & names:
                    problems.append(f"{_label(obj)} panel {panel.get('panelIndex')} has no reference {ref_name!r}")
    for chart in lens_charts(objects):
        problems += _lens_problems(chart, known)
    return problems


def _lens_problems(chart: LensChart, known: set[tuple[str, str]]) -> list[str]:
    problems = []
    own_refs = {ref["name"]: ref for ref in chart.references}
    dashboard_refs = {ref["name"] for ref in (chart.dashboard or {}).get("references", [])}
    columns_by_layer = {layer_id: set(layer.get("columns", {})) for layer_id, layer in chart.layers().items()}
    for layer_id, columns in columns_by_layer.items():
        name = f"indexpattern-datasource-layer-{layer_id}"
        ref = own_refs.get(name)
        if ref is None or (ref["type"], ref["id"]) not in known:
            problems.append(f"{chart.where}: layer {layer_id} has no data view reference in the file")
        if chart.dashboard is not None and f"{chart.panel_index}:{name}" not in dashboard_refs:
            problems.append(f"{chart.where}: the dashboard lacks reference {chart.panel_index}:{name}")
        order = chart.layers()[layer_id].get("columnOrder", [])
        if set(order) != columns:
            problems.append(f"{chart.where}: layer {layer_id} columnOrder does not list exactly its columns")
    visualization = chart.attributes.get("state", {}).get("visualization", {})
    flat = [visualization] if "layerId" in visualization else []  # one-layer charts (heat map): no layer list
    for layer in [*visualization.get("layers", []), *flat]:
        accessors = [
            *layer.get("accessors", []),
            layer.get("xAccessor"),
            layer.get("yAccessor"),
            layer.get("valueAccessor"),
            layer.get("splitAccessor"),  # Kibana before the list below: one split column
            *layer.get("splitAccessors", []),
        ]
        columns = columns_by_layer.get(layer.get("layerId"), set())
        problems += [
            f"{chart.where}: accessor {accessor} is not a column of layer {layer.get('layerId')}"
            for accessor in accessors
            if accessor and accessor not in columns
        ]
    return problems


@dataclass(frozen=True, slots=True)
class FieldUse:
    """A field a saved object reads, and what the index must offer for it to work."""

    where: str
    field: str
    need: Need


def field_uses(objects: list[SavedObject]) -> list[FieldUse]:
    """Every index field the objects name: time field, formatted and labelled fields, columns, sorts and Lens
    columns."""
    uses: list[FieldUse] = []
    for obj in objects:
        attributes, where = obj["attributes"], _label(obj)
        if obj["type"] == "index-pattern":
            if attributes.get("timeFieldName"):
                uses.append(FieldUse(where, attributes["timeFieldName"], "date"))
            formats = json.loads(attributes.get("fieldFormatMap") or "{}")
            labelled = json.loads(attributes.get("fieldAttrs") or "{}")
            uses += [FieldUse(where, name, "exists") for name in (*formats, *labelled)]
        elif obj["type"] == "search":
            uses += [FieldUse(where, name, "exists") for name in attributes.get("columns", [])]
            uses += [FieldUse(where, name, "aggregatable") for name, _ in attributes.get("sort", [])]
    for chart in lens_charts(objects):
        for layer in chart.layers().values():
            for column in layer.get("columns", {}).values():
                source = column.get("sourceField")
                if source and source != RECORDS_FIELD:
                    need = LENS_NEEDS.get(column["operationType"], "aggregatable")
                    uses.append(FieldUse(chart.where, source, need))
    return uses


def field_problems(objects: list[SavedObject], caps: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Fields the objects use that the index lacks or has with the wrong type; `caps` is the ``fields`` part of an
    Elasticsearch ``_field_caps`` answer for the index."""
    problems = []
    for use in field_uses(objects):
        types = caps.get(use.field)
        if not types:
            problems.append(f"{use.where}: field {use.field!r} is not in the index")
            continue
        kinds = set(types)
        aggregatable = all(cap.get("aggregatable") for cap in types.values())
        fits = {
            "exists": True,
            "aggregatable": aggregatable,
            "date": aggregatable and kinds <= {"date", "date_nanos"},
            "keyword": aggregatable and kinds == {"keyword"},
        }[use.need]
        if not fits:
            shown = ", ".join(sorted(kinds)) + ("" if aggregatable else ", not aggregatable")
            problems.append(f"{use.where}: field {use.field!r} needs to be {use.need} but is {shown}")
    return problems


def version_tuple(version: str) -> tuple[int, ...]:
    """``"9.5.4"`` (or ``"9.5.4-SNAPSHOT"``) as ``(9, 5, 4)``; stops at the first part that isn't a number."""
    numbers = []
    for part in version.split("-")[0].split(".")[:3]:
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


def migration_problems(objects: list[SavedObject]) -> list[str]:
    """Dashboards with by-value Lens charts stamped so that Kibana would run its pre-model-version migrations on
    them on import. The embeddable migrations Kibana applies to by-value panels are keyed by Kibana version; the one
    for 8.6.0 (Lens's ``commonMigrateIndexPatternDatasource``) replaces ``datasourceStates`` with ``{formBased:
    datasourceStates.indexpattern}``, which drops every layer of a chart already in the ``formBased`` form (the
    ``indexpattern`` entry exported beside it is empty or absent). A stamp of 10.0.0 or more (model versions, written
    as 10.<n>.0) runs none of them."""
    problems = []
    charted = {_label(chart.dashboard) for chart in lens_charts(objects) if chart.dashboard is not None}
    for obj in objects:
        if obj["type"] == "dashboard" and _label(obj) in charted:
            stamp = str(obj.get("typeMigrationVersion") or "")
            if version_tuple(stamp) < MODEL_VERSION_STAMP:
                problems.append(
                    f"{_label(obj)} has typeMigrationVersion {stamp or 'none'}: Kibana would run its by-value panel "
                    "migrations on import, and Lens's 8.6.0 migration wipes the layers of charts in the formBased "
                    "form (the stamp must be 10.0.0 or newer)"
                )
    return problems


def with_ids(objects: list[SavedObject], ids: Mapping[tuple[str, str], str]) -> list[SavedObject]:
    """Copies of the objects with each (type, id) in `ids` renamed, in the objects themselves and in every reference
    to them, including those inside by-value Lens panels."""

    def rename(refs: list[dict[str, str]]) -> list[dict[str, str]]:
        return [{**ref, "id": ids.get((ref["type"], ref["id"]), ref["id"])} for ref in refs]

    renamed = []
    for obj in objects:
        copy = {
            **obj,
            "id": ids.get((obj["type"], obj["id"]), obj["id"]),
            "references": rename(obj.get("references", [])),
        }
        if obj["type"] == "dashboard" and "panelsJSON" in obj["attributes"]:
            panels = _panels(obj)
            for panel in panels:
                attributes = panel.get("embeddableConfig", {}).get("attributes")
                if isinstance(attributes, dict) and "references" in attributes:
                    attributes["references"] = rename(attributes["references"])
            copy["attributes"] = {**obj["attributes"], "panelsJSON": _compact(panels)}
        renamed.append(copy)
    return renamed
