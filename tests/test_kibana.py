"""Kibana saved objects: checked against the real index mapping on the running Elasticsearch, and the `indexer kibana`
commands checked against a small local HTTP server that answers as Kibana 9's routes do, as read in Kibana's sources
(it is not Kibana: no Kibana can run on these machines, so this is the closest check there is here)."""

from __future__ import annotations

import base64
import copy
import email.policy
import json
import re
import socket
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from elasticsearch import Elasticsearch

from indexer import lifecycle
from indexer.normalize import char_tokens
from indexer.saved_objects import (
    RECORDS_FIELD,
    SavedObject,
    dumps,
    field_problems,
    field_uses,
    lens_charts,
    load_objects,
    loads,
    migration_problems,
    reference_problems,
    shipped_objects_text,
    version_tuple,
)
from tests import nodes

DATA_VIEW = ("index-pattern", "news-articles-data-view")
SEARCH = ("search", "news-articles-search")
DASHBOARD = ("dashboard", "news-archive-dashboard")
PASSWORD = "s3cret-Kibana-pw"


def _get(objects: list[SavedObject], key: tuple[str, str]) -> SavedObject:
    return next(obj for obj in objects if (obj["type"], obj["id"]) == key)


def _panels(objects: list[SavedObject]) -> list[dict[str, Any]]:
    return json.loads(_get(objects, DASHBOARD)["attributes"]["panelsJSON"])


def _set_panels(objects: list[SavedObject], panels: list[dict[str, Any]]) -> None:
    _get(objects, DASHBOARD)["attributes"]["panelsJSON"] = json.dumps(panels)


def _lens_columns(panel: dict[str, Any]) -> list[dict[str, Any]]:
    layers = panel["embeddableConfig"]["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
    return [column for layer in layers.values() for column in layer["columns"].values()]


# --- the objects against the real mapping ---------------------------------------------------------------------------


def test_saved_objects_use_only_fields_the_real_index_has_with_the_types_they_need(
    es: Elasticsearch, alias: str
) -> None:
    lifecycle.ensure_index(es, alias, analysis_version="test")
    caps = es.field_caps(index=alias, fields="*")["fields"]
    objects = load_objects()
    uses = {(use.field, use.need) for use in field_uses(objects)}
    assert {
        ("published_at", "date"),
        ("outlet", "keyword"),
        ("region", "keyword"),
        ("region", "exists"),
        ("kind", "exists"),
        ("persons", "keyword"),
        ("places", "keyword"),
        ("orgs", "keyword"),
        ("keywords", "keyword"),
        ("url", "exists"),
        ("image", "exists"),
        ("title", "exists"),
        ("story", "exists"),
        ("story", "aggregatable"),
    } <= uses
    assert field_problems(objects, caps) == []
    mapping = es.indices.get_mapping(index=alias)
    properties = next(iter(mapping.values()))["mappings"]["properties"]
    assert properties["published_at"]["type"] == "date"
    assert {properties[name]["type"] for name in ("outlet", "persons", "places", "orgs", "keywords")} == {"keyword"}


def test_field_check_reports_missing_fields_and_fields_of_the_wrong_type(es: Elasticsearch, alias: str) -> None:
    lifecycle.ensure_index(es, alias, analysis_version="test")
    caps = es.field_caps(index=alias, fields="*")["fields"]
    objects = copy.deepcopy(load_objects())
    panels = _panels(objects)
    by_title = {panel["title"]: panel for panel in panels}
    for column in _lens_columns(by_title["Top persons"]):
        if column["operationType"] == "terms":
            column["sourceField"] = "body"
    for column in _lens_columns(by_title["Articles over time by outlet"]):
        if column["operationType"] == "date_histogram":
            column["sourceField"] = "outlet"
    _set_panels(objects, panels)
    _get(objects, SEARCH)["attributes"]["columns"].append("author")
    problems = field_problems(objects, caps)
    assert len(problems) == 3, problems
    assert any("'body' needs to be keyword but is text, not aggregatable" in problem for problem in problems)
    assert any("'outlet' needs to be date but is keyword" in problem for problem in problems)
    assert any("'author' is not in the index" in problem for problem in problems)


def test_the_region_panel_shows_each_regions_share_of_the_weeks_articles() -> None:
    (panel,) = [panel for panel in _panels(load_objects()) if panel["title"] == "Share of coverage by region"]
    columns = {column["operationType"]: column for column in _lens_columns(panel)}
    assert (columns["terms"]["sourceField"], columns["date_histogram"]["params"]["interval"]) == ("region", "w")
    assert columns["count"]["sourceField"] == RECORDS_FIELD
    (layer,) = panel["embeddableConfig"]["attributes"]["state"]["visualization"]["layers"]
    assert layer["seriesType"] == "bar_percentage_stacked"


# --- the file on its own --------------------------------------------------------------------------------------------


def test_ndjson_parses_is_normalized_and_every_reference_resolves_within_the_file() -> None:
    text = shipped_objects_text()
    objects = loads(text, "test")
    assert dumps(objects) == text, "the file is not in the form `indexer kibana export` writes"
    assert {(obj["type"], obj["id"]) for obj in objects} == {DATA_VIEW, SEARCH, DASHBOARD}
    data_view = _get(objects, DATA_VIEW)["attributes"]
    assert (data_view["title"], data_view["timeFieldName"]) == ("news", "published_at")
    formats = json.loads(data_view["fieldFormatMap"])
    assert (formats["url"]["params"]["type"], formats["image"]["params"]["type"]) == ("a", "img")
    search = _get(objects, SEARCH)["attributes"]
    assert (search["columns"], search["sort"]) == (["outlet", "title", "url", "story"], [["published_at", "desc"]])
    panels = _panels(objects)
    assert [panel["type"] for panel in panels] == ["lens"] * 9 + ["search"]
    assert _get(objects, DASHBOARD)["attributes"]["title"] == "News archive"
    assert reference_problems(objects) == []


def test_reference_check_reports_objects_missing_from_the_file_and_undefined_reference_names() -> None:
    objects = [obj for obj in copy.deepcopy(load_objects()) if (obj["type"], obj["id"]) != DATA_VIEW]
    problems = reference_problems(objects)
    assert any("search news-articles-search refers to index-pattern news-articles-data-view" in p for p in problems)
    assert sum("has no data view reference in the file" in problem for problem in problems) == 9

    objects = copy.deepcopy(load_objects())
    search_panel = _panels(objects)[-1]
    dashboard = _get(objects, DASHBOARD)
    dashboard["references"] = [ref for ref in dashboard["references"] if ref["type"] != "search"]
    assert reference_problems(objects) == [
        f"dashboard news-archive-dashboard panel {search_panel['panelIndex']} "
        f"has no reference {search_panel['panelRefName']!r}"
    ]


def test_checks_follow_a_chart_saved_to_the_library_as_kibana_exports_it() -> None:
    """A by-value panel turned into a `lens` object the dashboard references, as after "Save to library"."""
    objects = copy.deepcopy(load_objects())
    panels = _panels(objects)
    timeline = panels[0]
    attributes = timeline["embeddableConfig"].pop("attributes")
    lens = {
        "type": "lens",
        "id": "timeline-chart",
        "references": attributes.pop("references"),
        "attributes": attributes,
    }
    timeline["panelRefName"] = f"panel_{timeline['panelIndex']}"
    _set_panels(objects, panels)
    dashboard = _get(objects, DASHBOARD)
    dashboard["references"] = [
        *(ref for ref in dashboard["references"] if not ref["name"].startswith(timeline["panelIndex"])),
        {"type": "lens", "id": "timeline-chart", "name": f"{timeline['panelIndex']}:panel_{timeline['panelIndex']}"},
    ]
    objects.append(lens)
    assert reference_problems(objects) == []
    assert {("published_at", "date"), ("outlet", "keyword")} <= {
        (use.field, use.need) for use in field_uses(objects) if use.where == "lens timeline-chart"
    }
    lens["references"] = []
    assert reference_problems(objects) == [
        f"lens timeline-chart: layer {next(iter(attributes['state']['datasourceStates']['formBased']['layers']))} "
        "has no data view reference in the file"
    ]


def test_lens_checker_checks_split_accessors_in_the_list_form_and_the_single_form() -> None:
    """Newer Lens writes an XY layer's split columns as ``splitAccessors`` (a list), older ``splitAccessor``."""
    objects = copy.deepcopy(load_objects())
    panels = _panels(objects)
    timeline = next(panel for panel in panels if panel["title"] == "Articles over time by outlet")
    (layer,) = timeline["embeddableConfig"]["attributes"]["state"]["visualization"]["layers"]
    split = layer.pop("splitAccessor")
    where = "dashboard news-archive-dashboard panel 'Articles over time by outlet': accessor"
    layer["splitAccessors"] = [split, "no-such-column"]
    _set_panels(objects, panels)
    assert reference_problems(objects) == [f"{where} no-such-column is not a column of layer {layer['layerId']}"]
    layer["splitAccessors"] = [split]
    _set_panels(objects, panels)
    assert reference_problems(objects) == []
    layer.pop("splitAccessors")
    layer["splitAccessor"] = "gone"
    _set_panels(objects, panels)
    assert reference_problems(objects) == [f"{where} gone is not a column of layer {layer['layerId']}"]


def test_the_coverage_heat_map_counts_outlets_per_week_and_its_accessors_are_checked() -> None:
    """A heat map keeps its accessors on the visualization itself (no layer list): they are checked too."""
    objects = copy.deepcopy(load_objects())
    panels = _panels(objects)
    heat_map = next(panel for panel in panels if panel["title"].startswith("Coverage"))
    columns = {column["operationType"]: column for column in _lens_columns(heat_map)}
    assert (columns["terms"]["sourceField"], columns["date_histogram"]["sourceField"]) == ("outlet", "published_at")
    visualization = heat_map["embeddableConfig"]["attributes"]["state"]["visualization"]
    assert visualization["shape"] == "heatmap"
    visualization["yAccessor"] = "no-such-column"
    _set_panels(objects, panels)
    where = f"dashboard news-archive-dashboard panel {heat_map['title']!r}"
    assert reference_problems(objects) == [
        f"{where}: accessor no-such-column is not a column of layer {visualization['layerId']}"
    ]


def test_the_dashboard_is_stamped_past_the_lens_migrations_that_would_wipe_its_charts() -> None:
    objects = load_objects()
    dashboard = _get(objects, DASHBOARD)
    assert version_tuple(dashboard["typeMigrationVersion"]) >= (10, 0, 0)
    charts = list(lens_charts(objects))
    assert len(charts) == 9
    # Lens's 8.6.0 migration sets datasourceStates to {formBased: datasourceStates.indexpattern}: here that is the
    # empty entry Kibana exports beside formBased, so every layer would be gone.
    for chart in charts:
        states = chart.attributes["state"]["datasourceStates"]
        assert states["formBased"]["layers"] and states["indexpattern"] == {"layers": {}}
    assert migration_problems(objects) == []
    for stamp in ("8.5.0", "9.5.4", None):
        dashboard["typeMigrationVersion"] = stamp
        (problem,) = migration_problems(objects)
        assert problem.startswith(f"dashboard news-archive-dashboard has typeMigrationVersion {stamp or 'none'}:")
        assert "must be 10.0.0 or newer" in problem


# --- the commands against a local HTTP server that answers as Kibana's routes do (it is not Kibana) -----------------
#
# Kibana cannot run on these machines (no Docker engine, no Kibana package), so `KibanaRoutes` plays the few routes
# the commands use, as Kibana 9's sources define them (cited in docs/kibana.md): the import route refuses a file
# name not ending in .ndjson; data views, saved searches and dashboards are multi-namespace types whose ids are
# unique across spaces, so an import into a space, with overwrite, keeps an object's id when the space has it, takes
# the id of the one object in the space whose originId it is, gets a new id (originId = the file's id) when only
# another space has it, and reports each new id as successResults[].destinationId; export refuses objects the space
# lacks and follows references deep within the space; API requests to a space that doesn't exist are not refused.


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


STATUS_9 = (200, {"name": "kibana", "version": {"number": "9.5.4", "build_flavor": "default"}, "status": {}})
SPACE_PATH = re.compile(r"^/s/([a-z0-9_-]+)(/.*)$")


def _multipart_file(request: Recorded) -> tuple[str | None, str | None, bytes]:
    """(field name, file name, content) of the one part of a multipart/form-data request."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    parts = list(message.iter_parts())
    assert len(parts) == 1
    part = parts[0]
    content = part.get_payload(decode=True)
    assert isinstance(content, bytes)
    return part.get_param("name", header="content-disposition"), part.get_filename(), content


def _error(status: int, message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    names = {400: "Bad Request", 404: "Not Found"}
    return status, {"statusCode": status, "error": names[status], "message": message, **extra}


@dataclass
class KibanaRoutes:
    """Saved objects by (type, id), each with the spaces it is in; `overrides` answer (method, path) first."""

    spaces: set[str] = field(default_factory=lambda: {"default"})
    store: dict[tuple[str, str], SavedObject] = field(default_factory=dict)
    overrides: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def put(self, space: str, obj: SavedObject) -> None:
        self.store[(obj["type"], obj["id"])] = {**copy.deepcopy(obj), "namespaces": [space]}

    def in_space(self, space: str) -> list[SavedObject]:
        return [obj for obj in self.store.values() if space in obj["namespaces"]]

    def answer(self, request: Recorded) -> tuple[int, Any]:
        path, _, query = request.path.partition("?")
        space, route = "default", path
        if match := SPACE_PATH.match(path):
            space, route = match.groups()
        if (request.method, route) in self.overrides:
            return self.overrides[(request.method, route)]
        if (request.method, route) == ("GET", "/api/status"):
            return STATUS_9
        if request.method == "GET" and route.startswith("/api/spaces/space/"):
            wanted = route.rsplit("/", 1)[1]
            if wanted in self.spaces:
                return 200, {"id": wanted, "name": wanted}
            return _error(404, f"Saved object [space/{wanted}] not found")
        if (request.method, route) == ("POST", "/api/saved_objects/_import"):
            assert query == "overwrite=true"
            return self._import(space, request)
        if (request.method, route) == ("POST", "/api/saved_objects/_export"):
            return self._export(space, json.loads(request.body))
        return _error(404, "Not Found")

    def _import(self, space: str, request: Recorded) -> tuple[int, Any]:
        _, filename, content = _multipart_file(request)
        extension = Path(filename or "").suffix.lower()
        if extension != ".ndjson":
            return _error(400, f"Invalid file extension {extension}")
        objects = loads(content.decode("utf-8"), "upload")
        destinations = {}
        for obj in objects:
            key = (obj["type"], obj["id"])
            existing = self.store.get(key)
            origins = [item["id"] for item in self.in_space(space) if item.get("originId") == obj["id"]]
            if existing and space in existing["namespaces"]:
                destinations[key] = obj["id"]
            elif len(origins) == 1:
                destinations[key] = origins[0]
            else:
                destinations[key] = str(uuid.uuid4()) if existing else obj["id"]
        results = []
        for obj in objects:
            key = (obj["type"], obj["id"])
            references = [
                {**ref, "id": destinations.get((ref["type"], ref["id"]), ref["id"])} for ref in obj["references"]
            ]
            stored = {**obj, "id": destinations[key], "references": references, "updated_at": "2026-01-02T03:04:05Z"}
            if destinations[key] != obj["id"]:
                stored["originId"] = obj["id"]
            self.put(space, stored)
            result = {"type": obj["type"], "id": obj["id"], "meta": {"title": obj["attributes"].get("title")}}
            if destinations[key] != obj["id"]:
                result["destinationId"] = destinations[key]
            results.append(result)
        return 200, {"success": True, "successCount": len(results), "successResults": results, "errors": []}

    def _export(self, space: str, body: dict[str, Any]) -> tuple[int, Any]:
        present = {(obj["type"], obj["id"]): obj for obj in self.in_space(space)}
        if "objects" in body:
            wanted = [(item["type"], item["id"]) for item in body["objects"]]
            missing = [key for key in wanted if key not in present]
            if missing:
                errors = [{"type": kind, "id": key, "error": {"statusCode": 404}} for kind, key in missing]
                return _error(400, "Error fetching objects to export", attributes={"objects": errors})
        else:
            wanted = [key for key in present if key[0] in body["type"]]
        chosen, missing_refs = list(wanted), []
        for key in chosen if body.get("includeReferencesDeep") else []:
            for ref in present[key]["references"]:
                target = (ref["type"], ref["id"])
                if target not in present:
                    missing_refs.append({"type": ref["type"], "id": ref["id"]})
                elif target not in chosen:
                    chosen.append(target)
        lines = [{k: v for k, v in present[key].items() if k != "namespaces"} for key in chosen]
        if not body.get("excludeExportDetails"):
            lines.append(
                {"exportedCount": len(chosen), "missingRefCount": len(missing_refs), "missingReferences": missing_refs}
            )
        return 200, "".join(json.dumps(line) + "\n" for line in lines).encode()


@pytest.fixture
def kibana_server() -> Iterator[KibanaRoutes]:
    routes = KibanaRoutes()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Recorded(self.command, self.path, headers, body)
            routes.requests.append(request)
            status, payload = routes.answer(request)
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/ndjson" if isinstance(payload, bytes) else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    routes.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield routes
    server.shutdown()
    server.server_close()


Runner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(tmp_path: Path) -> Runner:
    """The console script with a clean environment (no config file, no inherited credentials) plus `env`."""

    def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return nodes.run_cli(*args, env=nodes.cli_env(INDEXER_CONFIG=str(tmp_path / "absent.toml"), **env))

    return run


def test_setup_sends_the_documented_import_request(kibana_server: KibanaRoutes, run_cli: Runner) -> None:
    run = run_cli(
        "kibana", "setup", "--kibana-url", kibana_server.url + "/", "--index", "research-news",
        KIBANA_USERNAME="researcher", KIBANA_PASSWORD=PASSWORD,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"News archive: {kibana_server.url}/app/dashboards#/view/news-archive-dashboard" in run.stdout
    assert PASSWORD not in run.stdout + run.stderr
    assert [(r.method, r.path) for r in kibana_server.requests] == [
        ("GET", "/api/status"),
        ("POST", "/api/saved_objects/_import?overwrite=true"),
    ]
    basic = "Basic " + base64.b64encode(f"researcher:{PASSWORD}".encode()).decode()
    assert all(request.headers["authorization"] == basic for request in kibana_server.requests)
    upload = kibana_server.requests[1]
    assert upload.headers["kbn-xsrf"] == "true"
    assert upload.headers["content-type"].startswith("multipart/form-data; boundary=")
    name, filename, content = _multipart_file(upload)
    assert (name, filename) == ("file", "news-archive.ndjson")
    sent = loads(content.decode("utf-8"), "upload")
    expected = load_objects()
    _get(expected, DATA_VIEW)["attributes"]["title"] = "research-news"
    assert sorted(sent, key=json.dumps) == sorted(expected, key=json.dumps)


def test_setup_from_a_file_whose_name_does_not_end_in_ndjson_still_imports(
    kibana_server: KibanaRoutes, run_cli: Runner, tmp_path: Path
) -> None:
    objects = tmp_path / "dashboard-objects.json"
    objects.write_text(shipped_objects_text(), encoding="utf-8")
    run = run_cli("kibana", "setup", "--kibana-url", kibana_server.url, "--file", str(objects))
    assert run.returncode == 0, run.stderr
    assert _multipart_file(kibana_server.requests[-1])[1] == "news-archive.ndjson"
    assert len(kibana_server.in_space("default")) == 3


def test_setup_in_a_second_space_prints_the_new_dashboard_id_and_export_writes_the_file_ids_back(
    kibana_server: KibanaRoutes, run_cli: Runner, tmp_path: Path
) -> None:
    kibana_server.spaces.add("research")
    first = run_cli("kibana", "setup", "--kibana-url", kibana_server.url)
    assert first.returncode == 0, first.stderr
    setup = ["kibana", "setup", "--kibana-url", kibana_server.url, "--space", "research", "--index", "research-news"]
    second = run_cli(*setup)
    assert second.returncode == 0, second.stderr
    assert "imported 3 saved objects into space 'research', data view on 'research-news'" in second.stdout
    in_research = {obj["type"]: obj for obj in kibana_server.in_space("research")}
    dashboard_id = in_research["dashboard"]["id"]
    assert dashboard_id != DASHBOARD[1] and in_research["dashboard"]["originId"] == DASHBOARD[1]
    assert f"News archive: {kibana_server.url}/s/research/app/dashboards#/view/{dashboard_id}" in second.stdout
    assert {ref["id"] for ref in in_research["dashboard"]["references"]} >= {in_research["index-pattern"]["id"]}

    again = run_cli(*setup)
    assert again.returncode == 0 and f"/s/research/app/dashboards#/view/{dashboard_id}" in again.stdout
    assert len(kibana_server.in_space("research")) == 3 and len(kibana_server.store) == 6

    target = tmp_path / "exported.ndjson"
    export = run_cli(
        "kibana", "export", "--kibana-url", kibana_server.url, "--space", "research", "--file", str(target)
    )
    assert export.returncode == 0, export.stderr
    assert target.read_text(encoding="utf-8") == shipped_objects_text()
    assert [request.path for request in kibana_server.requests[-2:]] == ["/s/research/api/saved_objects/_export"] * 2


def test_setup_refuses_a_dashboard_stamped_before_model_versions_without_sending_it(
    kibana_server: KibanaRoutes, run_cli: Runner, tmp_path: Path
) -> None:
    objects = load_objects()
    _get(objects, DASHBOARD)["typeMigrationVersion"] = "8.5.0"
    old = tmp_path / "old-stamp.ndjson"
    old.write_text(dumps(objects), encoding="utf-8")
    run = run_cli("kibana", "setup", "--kibana-url", kibana_server.url, "--file", str(old))
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert f"{old}: dashboard news-archive-dashboard has typeMigrationVersion 8.5.0" in run.stderr
    assert kibana_server.requests == []


def test_a_space_kibana_does_not_have_is_refused_before_anything_is_written(
    kibana_server: KibanaRoutes, run_cli: Runner
) -> None:
    run = run_cli("kibana", "setup", "--kibana-url", kibana_server.url, "--space", "reserch")
    assert run.returncode == 1 and run.stderr.count("\n") == 1
    assert "has no space 'reserch' (create it in Stack Management > Spaces" in run.stderr
    assert kibana_server.store == {}
    bad = run_cli("kibana", "setup", "--kibana-url", kibana_server.url, "--space", "Research News")
    assert bad.returncode == 1 and "must be a Kibana space id" in bad.stderr


def test_export_writes_kibanas_objects_normalized_to_the_file(
    kibana_server: KibanaRoutes, run_cli: Runner, tmp_path: Path
) -> None:
    in_kibana = copy.deepcopy(load_objects())
    _get(in_kibana, DATA_VIEW)["attributes"]["title"] = "research-news"
    _set_panels(in_kibana, _panels(in_kibana))  # Kibana's own key order and spacing, not the file's
    _get(in_kibana, DASHBOARD)["attributes"]["title"] = "News archive, edited in the UI"
    for obj in in_kibana:
        kibana_server.put("default", {**obj, "updated_at": "2026-01-02T03:04:05.678Z", "version": "WzEyLDFd"})
    target = tmp_path / "objects.ndjson"
    target.write_text(shipped_objects_text(), encoding="utf-8")

    run = run_cli(
        "kibana", "export", "--kibana-url", kibana_server.url, "--file", str(target), ES_API_KEY="a2V5OnNlY3JldA=="
    )

    assert run.returncode == 0, run.stderr
    request = kibana_server.requests[-1]
    assert (request.method, request.path) == ("POST", "/api/saved_objects/_export")
    assert request.headers["kbn-xsrf"] == "true"
    assert request.headers["authorization"] == "ApiKey a2V5OnNlY3JldA=="
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert sorted((item["type"], item["id"]) for item in body["objects"]) == sorted([DATA_VIEW, SEARCH, DASHBOARD])
    assert body["includeReferencesDeep"] is True
    expected = copy.deepcopy(load_objects())
    _get(expected, DASHBOARD)["attributes"]["title"] = "News archive, edited in the UI"
    assert target.read_text(encoding="utf-8") == dumps(expected)
    assert "updated_at" not in target.read_text(encoding="utf-8")


def test_export_needs_a_file_to_write_and_names_what_the_space_lacks(
    kibana_server: KibanaRoutes, run_cli: Runner, tmp_path: Path
) -> None:
    no_file = run_cli("kibana", "export", "--kibana-url", kibana_server.url)
    assert no_file.returncode == 2 and "Missing option '--file'" in no_file.stderr
    target = tmp_path / "out.ndjson"
    empty = run_cli("kibana", "export", "--kibana-url", kibana_server.url, "--file", str(target))
    assert empty.returncode == 1 and not target.exists()
    assert empty.stderr.startswith(
        "error: Kibana's space 'default' has no index-pattern news-articles-data-view, search news-articles-search, "
        "dashboard news-archive-dashboard (import them first: `indexer kibana setup`)"
    )


FORBIDDEN = "Unable to bulk_create index-pattern,search,dashboard: [security_exception] for user [u]"
IMPORT_FAILED = {
    "success": False,
    "successCount": 2,
    "errors": [
        {
            "id": "news-archive-dashboard",
            "type": "dashboard",
            "meta": {"title": "News archive"},
            "error": {"type": "missing_references", "references": [{"type": "index-pattern", "id": "other-view"}]},
        }
    ],
}


@pytest.mark.parametrize(
    ("routes", "expected"),
    [
        pytest.param(
            {("GET", "/api/status"): (401, {"statusCode": 401, "error": "Unauthorized", "message": "unauthorized"})},
            "rejected the credentials (HTTP 401) (check KIBANA_USERNAME and KIBANA_PASSWORD)",
            id="401",
        ),
        pytest.param(
            {
                ("GET", "/api/status"): STATUS_9,
                ("POST", "/api/saved_objects/_import"): (403, {"statusCode": 403, "message": FORBIDDEN}),
            },
            f"the Kibana user may not import saved objects (HTTP 403): {FORBIDDEN}",
            id="403",
        ),
        pytest.param(
            {("GET", "/api/status"): (200, {"version": {"number": "8.11.0"}})},
            "Kibana 8.11.0 at {url} is too old for these saved objects (they need 9.0.0 or newer)",
            id="old-version",
        ),
        pytest.param(
            {("GET", "/api/status"): STATUS_9, ("POST", "/api/saved_objects/_import"): (200, IMPORT_FAILED)},
            "Kibana imported 2 of 3 saved objects; failed: dashboard news-archive-dashboard "
            "(missing references: index-pattern other-view)",
            id="import-errors",
        ),
        pytest.param(
            {("GET", "/api/status"): (503, b"Kibana server is not ready yet")},
            "Kibana at {url} is not ready yet (HTTP 503)",
            id="starting",
        ),
    ],
)
def test_setup_failures_are_one_line_errors(
    routes: dict[tuple[str, str], tuple[int, Any]],
    expected: str,
    kibana_server: KibanaRoutes,
    run_cli: Runner,
) -> None:
    server = kibana_server
    server.overrides.update(routes)
    run = run_cli("kibana", "setup", "--kibana-url", server.url, KIBANA_USERNAME="u", KIBANA_PASSWORD=PASSWORD)
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: "), run.stderr
    assert expected.format(url=server.url) in run.stderr
    assert PASSWORD not in run.stderr + run.stdout
    if "too old" in expected:
        assert [request.path for request in server.requests] == ["/api/status"]


def test_setup_reports_kibana_unreachable_in_one_line(run_cli: Runner) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    run = run_cli("kibana", "setup", "--kibana-url", f"http://127.0.0.1:{port}")
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith(f"error: cannot reach Kibana at http://127.0.0.1:{port} (Connection refused)")


# --- Kibana's query bar on the real mapping -------------------------------------------------------------------------


def _article(outlet: str, title: str, body: list[str], persons: list[str], words: list[str]) -> dict[str, Any]:
    """A document as the indexer writes it; `words` stands for jieba's output (the chars view is the real fold)."""
    return {
        "id": outlet,
        "outlet": outlet,
        "url": f"https://example.org/{outlet}",
        "title": title,
        "body": body,
        "published_at": "2020-07-01T00:00:00Z",
        "persons": persons,
        "chars": {"title": [char_tokens(title)], "body": [char_tokens(text) for text in body]},
        "words": {"body": words},
    }


ARTICLES = {
    "simplified": _article(
        "voa",
        "俄外长拉夫罗夫访华",
        ["俄罗斯外长拉夫罗夫周二抵达北京。", "2024年的会谈"],
        ["拉夫罗夫"],
        ["俄罗斯 外长 拉夫罗夫 周二 抵达 北京 。", "2024 年 的 会谈"],
    ),
    "traditional": _article(
        "cna",
        "俄外長拉夫羅夫訪華",
        ["俄羅斯外長拉夫羅夫週二抵達北京。"],
        ["拉夫罗夫"],
        ["俄罗斯 外长 拉夫罗夫 周二 抵达 北京 。"],
    ),
    "decoy": _article(
        "rfi", "罗马游记", ["在罗马的夫子庙前，我们谈起拉萨。"], [], ["在 罗马 的 夫子庙 前 ， 我们 谈起 拉萨 。"]
    ),
}


def _kql(query: str) -> dict[str, Any]:
    """The Elasticsearch query Kibana's KQL sends for ``[field:]value`` (as kbn-es-query's ``is`` function builds it:
    no field → multi_match on index.query.default_field, phrase when quoted; keyword field → term; text field →
    match_phrase when quoted, else match)."""
    field_name, _, value = query.rpartition(":") if not query.startswith('"') else ("", "", query)
    quoted = value.startswith('"')
    value = value.strip('"')
    if not field_name:
        return {"multi_match": {"type": "phrase" if quoted else "best_fields", "query": value, "lenient": True}}
    if field_name in {"outlet", "persons", "places", "orgs", "keywords", "url"}:
        return {"term": {field_name: {"value": value}}}
    return {"match_phrase" if quoted else "match": {field_name: value}}


@pytest.fixture(scope="module")
def kql_index(es: Elasticsearch) -> Iterator[str]:
    """One index holding the three articles, shared by the KQL examples; deleted afterwards."""
    alias = f"test-kql-{uuid.uuid4().hex[:6]}"
    lifecycle.ensure_index(es, alias, analysis_version="test")
    for doc_id, document in ARTICLES.items():
        es.index(index=alias, id=doc_id, document=document)
    es.indices.refresh(index=alias)
    yield alias
    es.indices.delete(index=",".join(es.indices.get(index=f"{alias}-*", expand_wildcards="all")))


@pytest.mark.parametrize(
    ("kql", "finds"),
    [
        ('"拉夫罗夫"', {"simplified", "traditional"}),
        ('"拉夫羅夫"', {"traditional"}),
        ("拉夫罗夫", {"simplified", "traditional", "decoy"}),
        ('chars.body:"拉夫罗夫"', {"simplified", "traditional"}),
        ('chars.body:"拉夫羅夫"', set()),
        ('body:"拉夫罗夫"', {"simplified"}),
        ('title:"外长"', {"simplified"}),
        ('chars.title:"外长"', {"simplified", "traditional"}),
        ("persons:拉夫罗夫", {"simplified", "traditional"}),
        ("persons:拉夫羅夫", set()),
        ('"2024年"', {"simplified"}),
        ('chars.body:"2024年"', set()),
        ('chars.body:"2 0 2 4 年"', {"simplified"}),
        ("words.body:外长", {"simplified", "traditional"}),
        ("words.body:外", set()),
    ],
)
def test_kql_examples_of_docs_kibana_md_find_what_the_doc_says(
    kql: str, finds: set[str], es: Elasticsearch, kql_index: str
) -> None:
    hits = es.search(index=kql_index, query=_kql(kql))["hits"]["hits"]
    assert {hit["_id"] for hit in hits} == finds
