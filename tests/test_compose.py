"""docker-compose.yml: checked by `docker compose config` where the compose plugin is installed, and structurally in
Python everywhere (CI machines have the docker CLI but neither the compose plugin nor a Docker engine)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
VARIABLE = re.compile(r"\$(?:\$|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")
"""Compose interpolation: ``$$`` (a literal ``$``), ``${NAME}``, ``${NAME:-default}``, ``${NAME:?error}``."""
ES_IMAGE = "docker.elastic.co/elasticsearch/elasticsearch"
KIBANA_IMAGE = "docker.elastic.co/kibana/kibana"


def env_example() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in ENV_EXAMPLE.read_text().splitlines() if line and not line.startswith("#"))
    return {name.strip(): value.strip() for name, value in pairs}


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """The value as compose sees it with `env` as the .env file."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if name is None:
            return "$"
        if op and op.endswith("?") and not env.get(name):
            raise AssertionError(f"compose would stop: {arg}")
        return env.get(name) or (arg if op and op.endswith("-") else "")

    return VARIABLE.sub(substitute, value)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    return interpolate(raw, env_example())


def test_docker_compose_config_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("no docker compose plugin here (`docker compose version` fails); the other tests check the file")
    result = subprocess.run(
        [docker, "compose", "--env-file", str(ENV_EXAMPLE), "-f", str(COMPOSE_FILE), "config", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr


def test_every_variable_the_file_uses_is_in_env_example() -> None:
    used = {match["name"] for match in VARIABLE.finditer(COMPOSE_FILE.read_text()) if match["name"]}
    assert used, "the file uses no variables: the pattern is broken"
    assert used - set(env_example()) == set()
    assert {"ELASTIC_PASSWORD", "KIBANA_PASSWORD", "STACK_VERSION"} <= used


def test_services_run_elasticsearch_and_kibana_of_one_version(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"elasticsearch", "setup", "kibana"}
    images = {name: service["image"].rsplit(":", 1) for name, service in services.items()}
    assert images == {
        "elasticsearch": [ES_IMAGE, "9.5.4"],
        "setup": [ES_IMAGE, "9.5.4"],
        "kibana": [KIBANA_IMAGE, "9.5.4"],
    }
    assert env_example()["STACK_VERSION"] == "9.5.4"


def test_ports_are_bound_to_127_0_0_1_only(compose: dict[str, Any]) -> None:
    ports = {name: service.get("ports", []) for name, service in compose["services"].items()}
    assert ports == {
        "elasticsearch": [f"127.0.0.1:{env_example()['ES_PORT']}:9200"],
        "setup": [],
        "kibana": [f"127.0.0.1:{env_example()['KIBANA_PORT']}:5601"],
    }


def test_security_is_on_and_kibana_connects_as_kibana_system(compose: dict[str, Any]) -> None:
    env = env_example()
    elasticsearch = compose["services"]["elasticsearch"]["environment"]
    assert elasticsearch["xpack.security.enabled"] == "true"
    assert elasticsearch["ELASTIC_PASSWORD"] == env["ELASTIC_PASSWORD"]
    assert elasticsearch["discovery.type"] == "single-node"
    kibana = compose["services"]["kibana"]["environment"]
    assert kibana["ELASTICSEARCH_HOSTS"] == "http://elasticsearch:9200"
    assert (kibana["ELASTICSEARCH_USERNAME"], kibana["ELASTICSEARCH_PASSWORD"]) == (
        "kibana_system",
        env["KIBANA_PASSWORD"],
    )


def test_setup_service_sets_the_kibana_system_password_before_kibana_starts(compose: dict[str, Any]) -> None:
    services = compose["services"]
    setup = services["setup"]
    assert setup["depends_on"] == {"elasticsearch": {"condition": "service_healthy"}}
    script = "\n".join(setup["command"])
    assert "http://elasticsearch:9200/_security/user/kibana_system/_password" in script
    assert setup["restart"] == "no"
    assert services["kibana"]["depends_on"] == {
        "elasticsearch": {"condition": "service_healthy"},
        "setup": {"condition": "service_completed_successfully"},
    }


def test_passwords_reach_containers_only_through_their_environment(raw: dict[str, Any]) -> None:
    """Commands and healthchecks read passwords from the container's environment (``$$``), so compose never writes
    them into a command line; and the .env file holding them is ignored by git."""
    for name, service in raw["services"].items():
        for key in ("command", "healthcheck"):
            text = str(service.get(key, ""))
            direct = {match["name"] for match in VARIABLE.finditer(text)} & {"ELASTIC_PASSWORD", "KIBANA_PASSWORD"}
            assert not direct, f"{name}.{key} interpolates {direct}"
    assert ".env" in (ROOT / ".gitignore").read_text().splitlines()


def test_long_running_services_have_healthchecks(compose: dict[str, Any]) -> None:
    for name in ("elasticsearch", "kibana"):
        check = compose["services"][name]["healthcheck"]
        assert check["test"][0] == "CMD-SHELL" and check["test"][1].startswith("curl ")
        assert check["retries"] >= 10
    assert "_cluster/health" in compose["services"]["elasticsearch"]["healthcheck"]["test"][1]
    assert "/api/status" in compose["services"]["kibana"]["healthcheck"]["test"][1]


def test_data_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    mounts = {
        name: [volume.split(":", 1) for volume in service.get("volumes", [])]
        for name, service in compose["services"].items()
    }
    assert mounts == {
        "elasticsearch": [["esdata", "/usr/share/elasticsearch/data"]],
        "setup": [],
        "kibana": [["kibanadata", "/usr/share/kibana/data"]],
    }
    assert declared == {"esdata", "kibanadata"}
