"""Putting the saved objects into Kibana (``kibana setup``) and writing Kibana's version of them back (``export``).

Only Kibana's documented, non-deprecated APIs are used: ``GET /api/status``, ``GET /api/spaces/space/<id>``,
``POST /api/saved_objects/_import`` and ``_export``, in the chosen space (``/s/<space>`` before the path; none for
the default space). Data views, saved searches and dashboards are shared across spaces by id, so an import into a
space whose objects of the same id already live in another space gets new ids (the import answer names each
``destinationId``); setup reports the dashboard under the id it got, and export finds the objects by their
``originId`` and writes them back under the file's ids.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from indexer.config import Settings
from indexer.errors import AuthenticationFailed, ConfigError, ConnectionFailed, IndexerError, redact_url
from indexer.http_client import HttpClient, NetworkError, RequestTimeout, Response, TlsError, basic_auth, failure_reason
from indexer.saved_objects import (
    FILE_ALIAS,
    SavedObject,
    dumps,
    load_objects,
    loads,
    migration_problems,
    reference_problems,
    version_tuple,
    with_alias,
    with_ids,
)

IMPORT_FILENAME = "news-archive.ndjson"
"""The file name sent with an import: Kibana's import route refuses any name not ending in ``.ndjson``."""
MIN_VERSION = (9, 0, 0)
"""Oldest Kibana the objects are written for (Kibana refuses objects exported from a newer version)."""
DEFAULT_SPACE = "default"
START_HINT = "start Kibana (`docker compose up -d`, see docs/docker.md) or set KIBANA_URL / --kibana-url"

ObjectKey = tuple[str, str]
"""A saved object's (type, id)."""


def _message(answer: Response) -> str:
    data = answer.json()
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    text = answer.body.decode("utf-8", "replace").strip().splitlines()
    return text[0][:200] if text else ""


@dataclass(frozen=True)
class Kibana:
    """Where Kibana is, which space, how to authenticate; :meth:`request` turns network failures into one line."""

    url: str
    client: HttpClient = field(repr=False)
    credentials: str = ""
    """Which settings the credentials came from, for error hints (never the values)."""
    space: str = DEFAULT_SPACE
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> Kibana:
        """Kibana credentials, else the Elasticsearch API key or user (Kibana accepts both), else none."""
        url = settings.kibana_url.rstrip("/")
        if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
            raise ConfigError("put Kibana credentials in KIBANA_USERNAME and KIBANA_PASSWORD, not in the URL")
        authorization, credentials = None, ""
        if settings.kibana_username:
            authorization = basic_auth(settings.kibana_username, settings.kibana_password or "")
            credentials = "KIBANA_USERNAME and KIBANA_PASSWORD"
        elif settings.api_key:
            authorization, credentials = f"ApiKey {settings.api_key}", "ES_API_KEY"
        elif settings.username:
            authorization = basic_auth(settings.username, settings.password or "")
            credentials = "ES_USERNAME and ES_PASSWORD"
        headers = {"kbn-xsrf": "true", "Accept": "application/json"}
        try:
            client = HttpClient(
                url,
                authorization=authorization,
                verify=settings.kibana_verify,
                timeout=settings.timeout,
                headers=headers,
            )
        except ValueError as exc:
            raise ConfigError(f"Kibana URL {redact_url(url)!r}: {exc}") from None
        return cls(url, client, credentials, settings.kibana_space, settings.timeout)

    @property
    def space_path(self) -> str:
        """The path prefix of the space: ``/s/<space>``, or nothing for the default space."""
        return "" if self.space == DEFAULT_SPACE else f"/s/{self.space}"

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str | None = None) -> Response:
        """Send one request; any HTTP status comes back as a Response, network failures raise ConnectionFailed."""
        try:
            return self.client.request(method, path, body, content_type)
        except NetworkError as exc:
            raise self._unreachable(exc) from None

    def _unreachable(self, exc: NetworkError) -> ConnectionFailed:
        where = redact_url(self.url)
        if isinstance(exc, TlsError):
            return ConnectionFailed(
                f"TLS handshake with Kibana at {where} failed: {failure_reason(exc)}",
                "for a self-signed certificate set KIBANA_VERIFY_CERTS=false (or --no-kibana-verify)",
            )
        if isinstance(exc, RequestTimeout):
            return ConnectionFailed(f"Kibana at {where} did not answer within {self.timeout:g} s", START_HINT)
        return ConnectionFailed(f"cannot reach Kibana at {where} ({failure_reason(exc)})", START_HINT)

    def check(self, answer: Response, action: str) -> Any:
        """The JSON of a successful answer; 401, 403 and other errors raise one-line IndexerErrors."""
        where = redact_url(self.url)
        if answer.status == 401:
            hint = f"check {self.credentials}" if self.credentials else "set KIBANA_USERNAME and KIBANA_PASSWORD"
            raise AuthenticationFailed(f"Kibana at {where} rejected the credentials (HTTP 401)", hint)
        if answer.status == 403:
            raise AuthenticationFailed(
                f"the Kibana user may not {action} (HTTP 403): {_message(answer)}",
                "give the user a role with the Kibana privilege 'Saved Objects Management' (or use the elastic user)",
            )
        if answer.status >= 400:
            raise IndexerError(f"Kibana at {where} could not {action} (HTTP {answer.status}): {_message(answer)}")
        return answer.json()

    def saved_objects(self, action: str, body: bytes, content_type: str) -> Response:
        """POST to ``/api/saved_objects/<action>`` in the space."""
        return self.request("POST", f"{self.space_path}/api/saved_objects/{action}", body, content_type)


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
    if version_tuple(version) < MIN_VERSION:
        needed = ".".join(map(str, MIN_VERSION))
        raise IndexerError(
            f"Kibana {version} at {where} is too old for these saved objects (they need {needed} or newer)",
            "upgrade Kibana to the version in docker-compose.yml",
        )
    return version


def check_space(kibana: Kibana) -> None:
    """Refuse a space Kibana doesn't have: its API would store objects there that no one can see in the UI."""
    if kibana.space == DEFAULT_SPACE:
        return
    answer = kibana.request("GET", f"/api/spaces/space/{kibana.space}")
    if answer.status == 404:
        raise IndexerError(
            f"Kibana at {redact_url(kibana.url)} has no space {kibana.space!r}",
            "create it in Stack Management > Spaces, or set KIBANA_SPACE to one that exists",
        )
    kibana.check(answer, f"read the space {kibana.space!r}")


def import_objects(kibana: Kibana, objects: list[SavedObject]) -> dict[ObjectKey, str]:
    """Import with overwrite (the documented multipart upload, field ``file``); returns the id each object got."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{IMPORT_FILENAME}"\r\n'
        "Content-Type: application/ndjson\r\n\r\n"
    )
    body = head.encode() + dumps(objects).encode() + f"\r\n--{boundary}--\r\n".encode()
    answer = kibana.saved_objects("_import?overwrite=true", body, f"multipart/form-data; boundary={boundary}")
    result = kibana.check(answer, "import saved objects")
    if not isinstance(result, dict) or not result.get("success"):
        errors = result.get("errors", []) if isinstance(result, dict) else []
        count = result.get("successCount", 0) if isinstance(result, dict) else 0
        raise IndexerError(
            f"Kibana imported {count} of {len(objects)} saved objects; failed: "
            + ("; ".join(_import_error(error) for error in errors) or "no reason given"),
            "fix the file, or see Kibana's log",
        )
    given: dict[ObjectKey, str] = {
        (item["type"], item["id"]): item.get("destinationId") or item["id"] for item in result.get("successResults", [])
    }
    return {(obj["type"], obj["id"]): given.get((obj["type"], obj["id"])) or obj["id"] for obj in objects}


def _import_error(error: Mapping[str, Any]) -> str:
    detail = error.get("error", {})
    kind = detail.get("type", "error")
    if kind == "missing_references":
        missing = ", ".join(f"{ref.get('type')} {ref.get('id')}" for ref in detail.get("references", []))
        return f"{error.get('type')} {error.get('id')} (missing references: {missing})"
    message = detail.get("message") or detail.get("reason")
    return f"{error.get('type')} {error.get('id')} ({kind}{': ' + message if message else ''})"


def _export(kibana: Kibana, request: Mapping[str, Any]) -> list[SavedObject]:
    """The objects of one ``_export`` request, without the export details line."""
    body = json.dumps(request).encode()
    answer = kibana.saved_objects("_export", body, "application/json")
    kibana.check(answer, "export saved objects")
    exported = loads(answer.body.decode("utf-8", "replace"), "Kibana's export")
    details = [obj for obj in exported if "exportedCount" in obj]
    if details and details[-1].get("missingRefCount"):
        refs = ", ".join(f"{ref.get('type')} {ref.get('id')}" for ref in details[-1].get("missingReferences", []))
        raise IndexerError(f"the objects in Kibana refer to objects Kibana does not have: {refs}")
    return [obj for obj in exported if "exportedCount" not in obj]


def space_ids(kibana: Kibana, objects: list[SavedObject]) -> dict[ObjectKey, str]:
    """The id each of the objects has in the space: its own, else that of the one object whose ``originId`` it is
    (what an import that had to regenerate ids created)."""
    types = sorted({obj["type"] for obj in objects})
    present = _export(kibana, {"type": types, "excludeExportDetails": True})
    found: dict[ObjectKey, str] = {}
    missing = []
    for obj in objects:
        key = (obj["type"], obj["id"])
        same_type = [item for item in present if item["type"] == obj["type"]]
        matches = [item["id"] for item in same_type if item["id"] == obj["id"]] or [
            item["id"] for item in same_type if item.get("originId") == obj["id"]
        ]
        if len(matches) > 1:
            raise IndexerError(
                f"Kibana's space {kibana.space!r} holds {len(matches)} copies of {obj['type']} {obj['id']}: "
                + ", ".join(matches),
                "delete the copies you don't want in Stack Management > Saved objects",
            )
        if matches:
            found[key] = matches[0]
        else:
            missing.append(f"{obj['type']} {obj['id']}")
    if missing:
        raise IndexerError(
            f"Kibana's space {kibana.space!r} has no {', '.join(missing)}", "import them first: `indexer kibana setup`"
        )
    return found


def export_objects(kibana: Kibana, objects: list[SavedObject]) -> list[SavedObject]:
    """Kibana's current version of `objects` and of everything they reference (deep), under the objects' own ids
    whatever ids they have in the space."""
    ids = space_ids(kibana, objects)
    request = {
        "objects": [{"type": kind, "id": space_id} for (kind, _), space_id in ids.items()],
        "includeReferencesDeep": True,
        "excludeExportDetails": False,
    }
    own_ids = {(kind, space_id): own for (kind, own), space_id in ids.items() if space_id != own}
    return with_ids(_export(kibana, request), own_ids)


def dashboard_urls(kibana: Kibana, objects: list[SavedObject], ids: Mapping[ObjectKey, str]) -> list[tuple[str, str]]:
    """(title, URL) of each dashboard among the objects, under the id it has in Kibana's space."""
    base = redact_url(kibana.url) + kibana.space_path
    return [
        (obj["attributes"].get("title", obj["id"]), f"{base}/app/dashboards#/view/{ids[(obj['type'], obj['id'])]}")
        for obj in objects
        if obj["type"] == "dashboard"
    ]


@dataclass(frozen=True, slots=True)
class SetupReport:
    version: str
    space: str
    imported: int
    dashboards: list[tuple[str, str]]


def setup(settings: Settings, path: Path | None = None) -> SetupReport:
    """Check the objects (`path`, else the shipped ones), check Kibana, import the objects into the configured
    space with the data view on ``settings.index``."""
    objects = load_objects(path)
    problems = reference_problems(objects) + migration_problems(objects)
    if problems:
        more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
        raise IndexerError(f"{path or 'the shipped saved objects'}: {problems[0]}{more}")
    kibana = Kibana.from_settings(settings)
    version = kibana_version(kibana)
    check_space(kibana)
    ids = import_objects(kibana, with_alias(objects, settings.index))
    return SetupReport(version, kibana.space, len(ids), dashboard_urls(kibana, objects, ids))


@dataclass(frozen=True, slots=True)
class ExportReport:
    version: str
    objects: list[SavedObject]
    path: Path


def export(settings: Settings, path: Path) -> ExportReport:
    """Write Kibana's current version of the objects (and what they reference) in the configured space, normalized,
    to `path`: the objects `path` holds when it exists, else the shipped ones."""
    wanted = load_objects(path if path.exists() else None)
    kibana = Kibana.from_settings(settings)
    version = kibana_version(kibana)
    check_space(kibana)
    objects = with_alias(export_objects(kibana, wanted), FILE_ALIAS)
    path.write_text(dumps(objects), encoding="utf-8")
    return ExportReport(version, objects, path)
