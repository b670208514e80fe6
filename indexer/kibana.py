"""Kibana saved objects for the news index: import them, export them back, and check them against the mapping.

The objects (data view, saved search, dashboard) live in ``kibana/news-archive.ndjson``, one saved object per line
in the normalized form :func:`dumps` writes: sorted keys, embedded JSON strings re-serialized with sorted keys, no
volatile fields (``updated_at``, ``version``, ...). So exporting unchanged objects leaves the file byte for byte as
it was, and a dashboard edited in Kibana's UI becomes a readable diff. The file names the data view after the
default alias ``news``; setup retitles it to the configured alias and export titles it back.

Only Kibana's documented saved objects API is used (``GET /api/status``, ``POST /api/saved_objects/_import`` and
``_export``), through the standard library: three requests need no HTTP dependency.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from indexer.client import redact_url
from indexer.config import Settings
from indexer.errors import AuthenticationFailed, ConfigError, ConnectionFailed, IndexerError

SavedObject = dict[str, Any]
Need = Literal["date", "keyword", "aggregatable", "exists"]

OBJECTS_FILE = "data/kibana/news-archive.ndjson"
"""The saved objects shipped with the package, relative to the ``indexer`` package."""
IMPORT_FILENAME = "news-archive.ndjson"
"""The file name sent with an import: Kibana's import route refuses any name not ending in ``.ndjson``."""
FILE_ALIAS = "news"
"""The data view title the repository file holds; setup replaces it with the configured alias."""
MIN_VERSION = (9, 0, 0)
"""Oldest Kibana the objects are written for (Kibana refuses objects exported from a newer version)."""
VOLATILE_KEYS = frozenset({"created_at", "created_by", "namespaces", "updated_at", "updated_by", "version"})
"""Top-level fields Kibana changes on every save or that depend on the space; left out of the repository file."""
EMBEDDED_JSON_KEYS = frozenset(
    {"fieldAttrs", "fieldFormatMap", "fields", "runtimeFieldMap", "sourceFilters", "typeMeta"}
)
"""Attributes Kibana stores as JSON text (besides every key ending in ``JSON``)."""
RECORDS_FIELD = "___records___"
"""Lens's pseudo field for 'count of documents'."""
LENS_NEEDS: dict[str, Need] = {"date_histogram": "date", "terms": "keyword"}
"""What a Lens operation needs of its field; any other operation needs an aggregatable field."""
START_HINT = "start Kibana (`docker compose up -d`, see docs/docker.md) or set KIBANA_URL / --kibana-url"


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
    for layer in chart.attributes.get("state", {}).get("visualization", {}).get("layers", []):
        accessors = [*layer.get("accessors", []), layer.get("xAccessor"), layer.get("splitAccessor")]
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
    """Every index field the objects name: time field, formatted fields, columns, sorts and Lens columns."""
    uses: list[FieldUse] = []
    for obj in objects:
        attributes, where = obj["attributes"], _label(obj)
        if obj["type"] == "index-pattern":
            if attributes.get("timeFieldName"):
                uses.append(FieldUse(where, attributes["timeFieldName"], "date"))
            formats = json.loads(attributes.get("fieldFormatMap") or "{}")
            uses += [FieldUse(where, name, "exists") for name in formats]
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


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP response from Kibana."""

    status: int
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None

    def message(self) -> str:
        data = self.json()
        if isinstance(data, dict) and data.get("message"):
            return str(data["message"])
        text = self.body.decode("utf-8", "replace").strip().splitlines()
        return text[0][:200] if text else ""


@dataclass(frozen=True)
class Kibana:
    """Where Kibana is and how to authenticate; :meth:`request` turns network failures into one-line errors."""

    url: str
    authorization: str | None = field(default=None, repr=False)
    credentials: str = ""
    """Which settings the credentials came from, for error hints (never the values)."""
    verify: bool = True
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Kibana:
        """Kibana credentials, else the Elasticsearch API key or user (Kibana accepts both), else none."""
        url = settings.kibana_url.rstrip("/")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"Kibana URL {redact_url(url)!r} is not an http:// or https:// URL")
        if "@" in url.split("//", 1)[1].split("/", 1)[0]:
            raise ConfigError("put Kibana credentials in KIBANA_USERNAME and KIBANA_PASSWORD, not in the URL")
        authorization, credentials = None, ""
        if settings.kibana_username:
            authorization = _basic(settings.kibana_username, settings.kibana_password or "")
            credentials = "KIBANA_USERNAME and KIBANA_PASSWORD"
        elif settings.api_key:
            authorization, credentials = f"ApiKey {settings.api_key}", "ES_API_KEY"
        elif settings.username:
            authorization = _basic(settings.username, settings.password or "")
            credentials = "ES_USERNAME and ES_PASSWORD"
        return cls(url, authorization, credentials, settings.kibana_verify, settings.timeout)

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> Answer:
        """Send one request; any HTTP status comes back as an Answer, network failures raise ConnectionFailed."""
        headers = {"kbn-xsrf": "true", "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        if self.authorization:
            headers["Authorization"] = self.authorization
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        context = ssl.create_default_context()
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        try:
            with opener.open(request, timeout=self.timeout) as response:
                return Answer(response.status, response.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, exc.read())
        except urllib.error.URLError as exc:
            raise self._unreachable(exc.reason) from None
        except OSError as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, reason: object) -> ConnectionFailed:
        where = redact_url(self.url)
        if isinstance(reason, ssl.SSLError):
            return ConnectionFailed(
                f"TLS handshake with Kibana at {where} failed: {getattr(reason, 'reason', None) or reason}",
                "for a self-signed certificate set KIBANA_VERIFY_CERTS=false (or --no-kibana-verify)",
            )
        if isinstance(reason, TimeoutError):
            return ConnectionFailed(f"Kibana at {where} did not answer within {self.timeout:g} s", START_HINT)
        detail = getattr(reason, "strerror", None) or str(reason)
        return ConnectionFailed(f"cannot reach Kibana at {where} ({detail})", START_HINT)

    def check(self, answer: Answer, action: str) -> Any:
        """The JSON of a successful answer; 401, 403 and other errors raise one-line IndexerErrors."""
        where = redact_url(self.url)
        if answer.status == 401:
            hint = f"check {self.credentials}" if self.credentials else "set KIBANA_USERNAME and KIBANA_PASSWORD"
            raise AuthenticationFailed(f"Kibana at {where} rejected the credentials (HTTP 401)", hint)
        if answer.status == 403:
            raise AuthenticationFailed(
                f"the Kibana user may not {action} (HTTP 403): {answer.message()}",
                "give the user a role with the Kibana privilege 'Saved Objects Management' (or use the elastic user)",
            )
        if answer.status >= 400:
            raise IndexerError(f"Kibana at {where} could not {action} (HTTP {answer.status}): {answer.message()}")
        return answer.json()


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def _version_tuple(version: str) -> tuple[int, ...]:
    numbers = []
    for part in version.split("-")[0].split(".")[:3]:
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


def kibana_version(kibana: Kibana) -> str:
    """Kibana's version from ``GET /api/status``; refuses servers that are not Kibana, not ready, or too old."""
    where = redact_url(kibana.url)
    answer = kibana.request("GET", "/api/status")
    if answer.status == 503:
        raise ConnectionFailed(
            f"Kibana at {where} is not ready yet (HTTP 503)", "wait until `docker compose ps` shows it healthy"
        )
    if answer.status in (401, 403):
        kibana.check(answer, "report its status")
    data = answer.json() if answer.status == 200 else None
    version = data.get("version", {}).get("number") if isinstance(data, dict) else None
    if not isinstance(version, str):
        raise ConnectionFailed(
            f"{where} does not answer like Kibana (GET /api/status: HTTP {answer.status}, no version)",
            "point KIBANA_URL at Kibana (port 5601 by default), not at Elasticsearch",
        )
    if _version_tuple(version) < MIN_VERSION:
        needed = ".".join(map(str, MIN_VERSION))
        raise IndexerError(
            f"Kibana {version} at {where} is too old for these saved objects (they need {needed} or newer)",
            "upgrade Kibana to the version in docker-compose.yml",
        )
    return version


def import_objects(kibana: Kibana, objects: list[SavedObject], filename: str) -> int:
    """Import with overwrite (the documented multipart upload, field ``file``); returns how many were imported."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    )
    body = head.encode() + dumps(objects).encode() + f"\r\n--{boundary}--\r\n".encode()
    answer = kibana.request(
        "POST", "/api/saved_objects/_import?overwrite=true", body, f"multipart/form-data; boundary={boundary}"
    )
    result = kibana.check(answer, "import saved objects")
    if not isinstance(result, dict) or not result.get("success"):
        errors = result.get("errors", []) if isinstance(result, dict) else []
        count = result.get("successCount", 0) if isinstance(result, dict) else 0
        raise IndexerError(
            f"Kibana imported {count} of {len(objects)} saved objects; failed: "
            + ("; ".join(_import_error(error) for error in errors) or "no reason given"),
            "fix the file, or see Kibana's log",
        )
    return int(result.get("successCount", len(objects)))


def _import_error(error: Mapping[str, Any]) -> str:
    detail = error.get("error", {})
    kind = detail.get("type", "error")
    if kind == "missing_references":
        missing = ", ".join(f"{ref.get('type')} {ref.get('id')}" for ref in detail.get("references", []))
        return f"{error.get('type')} {error.get('id')} (missing references: {missing})"
    message = detail.get("message") or detail.get("reason")
    return f"{error.get('type')} {error.get('id')} ({kind}{': ' + message if message else ''})"


def export_objects(kibana: Kibana, objects: list[SavedObject]) -> list[SavedObject]:
    """Kibana's current version of `objects` and of everything they reference (deep), without export details."""
    body = {
        "objects": [{"type": obj["type"], "id": obj["id"]} for obj in objects],
        "includeReferencesDeep": True,
        "excludeExportDetails": False,
    }
    answer = kibana.request("POST", "/api/saved_objects/_export", _compact(body).encode(), "application/json")
    if answer.status == 400:
        data = answer.json()
        missing = data.get("attributes", {}).get("objects", []) if isinstance(data, dict) else []
        if missing:
            names = ", ".join(f"{item.get('type')} {item.get('id')}" for item in missing)
            raise IndexerError(f"Kibana has no {names}", "import them first: `indexer kibana setup`")
    kibana.check(answer, "export saved objects")
    exported = loads(answer.body.decode("utf-8", "replace"), "Kibana's export")
    details = [obj for obj in exported if "exportedCount" in obj]
    if details and details[-1].get("missingRefCount"):
        refs = ", ".join(f"{ref.get('type')} {ref.get('id')}" for ref in details[-1].get("missingReferences", []))
        raise IndexerError(f"the objects in Kibana refer to objects Kibana does not have: {refs}")
    return [obj for obj in exported if "exportedCount" not in obj]


def dashboard_urls(kibana_url: str, objects: list[SavedObject]) -> list[tuple[str, str]]:
    """(title, URL) of each dashboard among the objects."""
    base = redact_url(kibana_url.rstrip("/"))
    return [
        (obj["attributes"].get("title", obj["id"]), f"{base}/app/dashboards#/view/{obj['id']}")
        for obj in objects
        if obj["type"] == "dashboard"
    ]


@dataclass(frozen=True, slots=True)
class SetupReport:
    version: str
    imported: int
    dashboards: list[tuple[str, str]]


def setup(settings: Settings, path: Path | None = None) -> SetupReport:
    """Check the objects (`path`, else the shipped ones), check Kibana's version, import the objects with the data
    view on ``settings.index``."""
    objects = load_objects(path)
    problems = reference_problems(objects)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise IndexerError(f"{path or 'the shipped saved objects'} are inconsistent: {problems[0]}{more}")
    kibana = Kibana.from_settings(settings)
    version = kibana_version(kibana)
    imported = import_objects(kibana, with_alias(objects, settings.index), IMPORT_FILENAME)
    return SetupReport(version, imported, dashboard_urls(settings.kibana_url, objects))


@dataclass(frozen=True, slots=True)
class ExportReport:
    version: str
    objects: list[SavedObject]
    path: Path


def export(settings: Settings, path: Path) -> ExportReport:
    """Write Kibana's current version of the objects (and what they reference), normalized, to `path`: the objects
    `path` holds when it exists, else the shipped ones."""
    wanted = load_objects(path if path.exists() else None)
    kibana = Kibana.from_settings(settings)
    version = kibana_version(kibana)
    objects = with_alias(export_objects(kibana, wanted), FILE_ALIAS)
    path.write_text(dumps(objects), encoding="utf-8")
    return ExportReport(version, objects, path)
