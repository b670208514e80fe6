"""A secure local cluster: its CA and certificates, its user, its API key, and how to talk to its nodes.

Security is off unless asked for (the nodes bind to 127.0.0.1 only). A secure cluster has TLS on HTTP and transport
with its own CA (made with the distribution's ``elasticsearch-certutil``), a file-realm user with a generated
password (``elasticsearch-users``) and an API key, all written to a 0600 credentials file that doubles as a config
file (``indexer --config <cluster>/credentials.toml``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import ssl
import tomllib
import zipfile
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

from indexer.errors import NodeError
from indexer.http_client import HttpClient, NetworkError, basic_auth
from indexer.node.config import NodeSpec
from indexer.node.distribution import Log, run_tool

SECURE_USER = "indexer"
"""The file-realm user of a secure local cluster (role superuser)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """The user and API key of a secure local cluster (kept out of reprs)."""

    username: str
    password: str = field(repr=False)
    api_key: str | None = field(default=None, repr=False)


def read_credentials(spec: NodeSpec) -> Credentials | None:
    """The credentials a secure cluster was set up with, or None before its first start."""
    try:
        section = tomllib.loads(spec.credentials_file.read_text())["elasticsearch"]
        return Credentials(section["username"], section["password"], section.get("api_key"))
    except (OSError, ValueError, KeyError):
        return None


def ca_fingerprint(ca_file: Path) -> str:
    """SHA-256 of the CA certificate (DER) as colon-separated hex, the form Elasticsearch prints."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(ca_file.read_text())).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def connection(spec: NodeSpec, index: int, timeout: float) -> HttpClient | None:
    """A client for node `index`: as the cluster's user over TLS when secure; None if its credentials are missing."""
    if not spec.secure:
        return HttpClient(spec.http_url(index), timeout=timeout)
    credentials = read_credentials(spec)
    if credentials is None:
        return None
    authorization = basic_auth(credentials.username, credentials.password)
    return HttpClient(spec.http_url(index), authorization=authorization, ca_certs=spec.ca_file, timeout=timeout)


def _write_credentials(spec: NodeSpec, credentials: Credentials) -> None:
    """The connection settings and secrets as a config file only its owner can read (written atomically)."""
    entries = {
        "url": list(spec.urls),
        "ca_certs": str(spec.ca_file),
        "ca_fingerprint": ca_fingerprint(spec.ca_file),
        "username": credentials.username,
        "password": credentials.password,
        "api_key": credentials.api_key,
    }
    lines = [
        "# The local secure cluster's connection settings and secrets. Keep this file private (mode 0600).",
        "# Use it as the config file: indexer --config <this file> doctor (the API key is used when set).",
        "[elasticsearch]",
        *(f"{key} = {json.dumps(value)}" for key, value in entries.items() if value is not None),
    ]
    staging = spec.credentials_file.with_suffix(".tmp")
    staging.unlink(missing_ok=True)
    with os.fdopen(os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    staging.replace(spec.credentials_file)


def ensure_security(spec: NodeSpec, home: Path, java: Path, log: Log) -> None:
    """Create, once per cluster, the CA, the node certificate, the file-realm user and the credentials file."""
    security = spec.cluster_dir / "security"
    realm = security / "realm"
    security.mkdir(mode=0o700, exist_ok=True)
    if not (security / "node" / "node.crt").exists():
        log("generating the cluster's CA and node certificate with elasticsearch-certutil")
        for command, args in (
            ("ca", []),
            ("cert", ["--ca-cert", str(spec.ca_file), "--ca-key", str(security / "ca" / "ca.key"), "--name", "node"]),
        ):
            archive = security / f"{command}.zip"
            archive.unlink(missing_ok=True)
            extra = ["--dns", "localhost", "--ip", "127.0.0.1"] if command == "cert" else []
            run_tool(
                home,
                java,
                "elasticsearch-certutil",
                [command, "--silent", "--pem", *args, *extra, "--out", str(archive)],
                home / "config",
            )
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(security)
            archive.unlink()
        # The node sends its certificate with the CA, so clients can pin the CA's fingerprint.
        with (security / "node" / "node.crt").open("a") as chain:
            chain.write(spec.ca_file.read_text())
    credentials = read_credentials(spec)
    if credentials is None or not (realm / "users").exists():
        credentials = Credentials(SECURE_USER, secrets.token_urlsafe(24))
        log(f"creating the user {SECURE_USER!r} (file realm) with a generated password")
        realm.mkdir(exist_ok=True)
        for name in ("elasticsearch.yml", "users", "users_roles"):
            (realm / name).write_text("")
        password = credentials.password
        run_tool(
            home, java, "elasticsearch-users", ["useradd", SECURE_USER, "-r", "superuser"], realm, f"{password}\n" * 2
        )
    _write_credentials(spec, credentials)


def security_settings(spec: NodeSpec, config: Path) -> list[str]:
    """``elasticsearch.yml`` lines for security; copies the certificates and the user files into the node's config
    dir `config`."""
    if not spec.secure:
        return [
            "# Security is off only because the node binds to the loopback interface.",
            "xpack.security.enabled: false",
        ]
    security = spec.cluster_dir / "security"
    (config / "certs").mkdir(parents=True, exist_ok=True)
    for source in (spec.ca_file, security / "node" / "node.crt", security / "node" / "node.key"):
        shutil.copyfile(source, config / "certs" / source.name)
    for name in ("users", "users_roles"):
        shutil.copyfile(security / "realm" / name, config / name)
    lines = ["xpack.security.enabled: true"]
    for layer in ("http", "transport"):
        lines += [
            f"xpack.security.{layer}.ssl.enabled: true",
            f"xpack.security.{layer}.ssl.key: certs/node.key",
            f"xpack.security.{layer}.ssl.certificate: certs/node.crt",
            f"xpack.security.{layer}.ssl.certificate_authorities: [certs/ca.crt]",
        ]
    return [*lines, "xpack.security.transport.ssl.verification_mode: certificate"]


def ensure_api_key(spec: NodeSpec) -> None:
    """Create the cluster's API key on its first start and add it to the credentials file."""
    credentials = read_credentials(spec)
    if credentials is None or credentials.api_key:
        return
    client = connection(spec, 0, timeout=30)
    answer = None
    if client is not None:
        with client:
            body = json.dumps({"name": "news-indexer"}).encode()
            with suppress(NetworkError):
                answer = client.request("POST", "/_security/api_key", body, "application/json").json()
    if not isinstance(answer, dict) or "encoded" not in answer:
        raise NodeError("the secure cluster started but refused to create an API key", "see `indexer node logs`")
    _write_credentials(spec, Credentials(credentials.username, credentials.password, answer["encoded"]))
