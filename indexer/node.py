"""A managed local Elasticsearch for machines without Docker: download, verify, configure, start, stop.

The server is the zip Elastic publishes on Maven Central as
``org.elasticsearch.distribution.integ-test-zip:elasticsearch`` (no bundled JDK, no optional modules). It is
downloaded once into the cache dir, verified against its checksum, unpacked, and run from there with a JDK found on
the machine. Each local cluster lives in ``<cache>/cluster-<port>/`` (config, data and logs per node), so data
survives stop and start. The nodes bind to 127.0.0.1 only, so security is off unless asked for: a secure cluster
has TLS on HTTP and transport with its own CA (made with the distribution's ``elasticsearch-certutil``), a
file-realm user with a generated password (``elasticsearch-users``) and an API key, all written to a 0600
credentials file that doubles as a config file (``indexer --config <cluster>/credentials.toml``).
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
import tomllib
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from indexer.banner_plugin import BannerPluginError, install_banner_plugin, is_current
from indexer.errors import NodeError

ES_VERSION = "9.5.4"
"""The one place the server version is pinned."""
ES_SHA512 = (
    "a75df614854ace52dd0bce977662b3792873ac077ec0af9026cd0b2a0eb119e449910f8eb8ed577d1a83c51c6ee6af71bf5004c3cf5b"
    "418c979186de8b5dd9e6"
)
"""SHA-512 of elasticsearch-9.5.4.zip as first downloaded from Maven Central, checked on every download."""
MIN_JAVA = 21
"""Elasticsearch 9.x runs on Java 21 or newer."""
MAVEN_GROUP = "org.elasticsearch.distribution.integ-test-zip"
MAVEN_ARTIFACT = "elasticsearch"
MAVEN_REPO = "https://repo1.maven.org/maven2"
CLUSTER_NAME = "news-indexer"
SECURE_USER = "indexer"
"""The file-realm user of a secure local cluster (role superuser)."""
JVM_ROOTS = (Path("/usr/lib/jvm"), Path("/usr/java"), Path("/opt/java"))

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class NodeSpec:
    """Where a local cluster lives and how it runs."""

    cache_dir: Path
    port: int = 9200
    """HTTP port of node 0; node i listens on port + i, transport on port + 100 + i."""
    heap: str = "1g"
    nodes: int = 1
    run_as: str = "nobody"
    """Unprivileged user for the server when started by root (Elasticsearch refuses to run as root)."""
    secure: bool = False
    """TLS with a generated CA, a user with a password and an API key (see :attr:`credentials_file`)."""
    settings: tuple[tuple[str, str], ...] = ()
    """Extra ``elasticsearch.yml`` settings for every node, e.g. ``(("thread_pool.write.queue_size", "2"),)``."""

    @property
    def cluster_dir(self) -> Path:
        return self.cache_dir / f"cluster-{self.port}"

    @property
    def url(self) -> str:
        return self.http_url(0)

    @property
    def urls(self) -> tuple[str, ...]:
        """The HTTP URL of every node (what ES_URL takes, comma-separated)."""
        return tuple(self.http_url(index) for index in range(self.nodes))

    @property
    def ca_file(self) -> Path:
        """The CA certificate (PEM) of a secure cluster: what ES_CA_CERTS names."""
        return self.cluster_dir / "security" / "ca" / "ca.crt"

    @property
    def credentials_file(self) -> Path:
        """A secure cluster's URL, CA, user, password and API key as a 0600 config file."""
        return self.cluster_dir / "credentials.toml"

    @classmethod
    def saved(
        cls,
        cache_dir: Path,
        port: int,
        heap: str,
        run_as: str,
        nodes: int | None = None,
        secure: bool | None = None,
    ) -> NodeSpec:
        """A spec for the cluster on `port`; node count and security as last started unless given."""
        try:
            last = json.loads((cache_dir / f"cluster-{port}" / "cluster.json").read_text())
        except (OSError, ValueError):
            last = {}
        return cls(
            cache_dir=cache_dir,
            port=port,
            heap=heap,
            nodes=last.get("nodes", 1) if nodes is None else nodes,
            run_as=run_as,
            secure=last.get("secure", False) if secure is None else secure,
        )

    def node_dir(self, index: int) -> Path:
        return self.cluster_dir / f"node-{index}"

    def http_url(self, index: int) -> str:
        return f"{'https' if self.secure else 'http'}://127.0.0.1:{self.http_port(index)}"

    def http_port(self, index: int) -> int:
        return self.port + index

    def transport_port(self, index: int) -> int:
        return self.port + 100 + index


@dataclass(frozen=True, slots=True)
class NodeState:
    index: int
    http_port: int
    pid: int | None
    running: bool
    log_file: Path


@dataclass(frozen=True, slots=True)
class ClusterStatus:
    url: str
    nodes: tuple[NodeState, ...]
    version: str | None
    health: str | None

    @property
    def running(self) -> bool:
        return any(node.running for node in self.nodes)


# --- the distribution ---


def _artifact_path(version: str) -> str:
    group = MAVEN_GROUP.replace(".", "/")
    return f"{group}/{MAVEN_ARTIFACT}/{version}/{MAVEN_ARTIFACT}-{version}.zip"


def _sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _published_checksum(url: str) -> tuple[str, str] | None:
    """The checksum Maven Central publishes beside the artifact, as (algorithm, hex), if it serves one."""
    for algorithm in ("sha512", "sha1"):
        try:
            with urllib.request.urlopen(f"{url}.{algorithm}", timeout=30) as answer:
                text = answer.read().decode("ascii", "replace").split()
        except (urllib.error.URLError, OSError):
            continue
        if text and re.fullmatch(r"[0-9a-f]{40,128}", text[0]):
            return algorithm, text[0]
    return None


def _download_https(url: str, target: Path, log: Log) -> None:
    part = target.with_suffix(".part")
    with urllib.request.urlopen(url, timeout=60) as answer, part.open("wb") as out:
        shutil.copyfileobj(answer, out, 1 << 20)
    published = _published_checksum(url)
    if published:
        algorithm, expected = published
        actual = hashlib.new(algorithm, part.read_bytes()).hexdigest()
        if actual != expected:
            part.unlink()
            raise NodeError(f"{url}: published {algorithm} {expected} does not match the download ({actual})")
        log(f"verified the published {algorithm} checksum")
    else:
        log("Maven Central serves no checksum file for this artifact here; checking the pinned SHA-512 only")
    part.rename(target)


def _download_maven(version: str, target: Path) -> None:
    if not shutil.which("mvn"):
        raise NodeError("no `mvn` on PATH")
    artifact = f"{MAVEN_GROUP}:{MAVEN_ARTIFACT}:{version}:zip"
    result = subprocess.run(
        ["mvn", "-B", "-q", "dependency:copy", f"-Dartifact={artifact}", f"-DoutputDirectory={target.parent}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not target.exists():
        errors = [line for line in result.stdout.splitlines() if "ERROR" in line][:3]
        raise NodeError(f"mvn dependency:copy failed: {' '.join(errors) or result.returncode}")


def download(cache_dir: Path, version: str = ES_VERSION, log: Log = _quiet) -> Path:
    """The server zip in ``<cache>/downloads``, fetched over HTTPS or, failing that, with the Maven client."""
    target = cache_dir / "downloads" / f"{MAVEN_ARTIFACT}-{version}.zip"
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    url = f"{os.environ.get('INDEXER_MAVEN_REPO', MAVEN_REPO)}/{_artifact_path(version)}"
    log(f"downloading Elasticsearch {version} from {url}")
    try:
        _download_https(url, target, log)
    except (urllib.error.URLError, OSError) as https_error:
        log(f"HTTPS download failed ({https_error}); trying the Maven client")
        try:
            _download_maven(version, target)
        except NodeError as maven_error:
            raise NodeError(
                f"cannot download Elasticsearch {version}: HTTPS {url} failed ({https_error}); {maven_error.message}",
                "check the network or proxy settings for Maven Central",
            ) from None
    if version == ES_VERSION and (actual := _sha512(target)) != ES_SHA512:
        target.unlink()
        raise NodeError(f"{target.name}: SHA-512 {actual} does not match the pinned {ES_SHA512}")
    return target


def _unpack(archive: Path, destination: Path) -> None:
    staging = destination.with_name(destination.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(archive) as zipped:
        for info in zipped.infolist():
            extracted = Path(zipped.extract(info, staging))
            mode = info.external_attr >> 16
            if mode and not info.is_dir():
                extracted.chmod(mode & 0o777)
    (top,) = list(staging.iterdir())
    top.rename(destination)
    staging.rmdir()


@contextmanager
def _locked(cache_dir: Path) -> Iterator[None]:
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_distribution(cache_dir: Path, java: Path, version: str = ES_VERSION, log: Log = _quiet) -> Path:
    """The unpacked server (its home directory), downloading and unpacking it on first use.

    The root-endpoint plugin from ``node-plugin/`` is added when it can be built (it needs Maven), so that
    ``GET /`` answers with the usual banner; the node works without it.
    """
    home = cache_dir / "dist" / f"elasticsearch-{version}"
    with _locked(cache_dir):
        if not (home / "bin" / "elasticsearch").exists():
            archive = download(cache_dir, version, log)
            home.parent.mkdir(parents=True, exist_ok=True)
            log(f"unpacking {archive.name} into {home.parent}")
            _unpack(archive, home)
        if not is_current(home):
            log("building the root-endpoint (banner) plugin with Maven")
            try:
                install_banner_plugin(home, version, java, cache_dir / "plugin-build")
            except BannerPluginError as exc:
                log(f"warning: no banner at GET / (the node works without it): {exc}")
    return home


# --- Java ---


def java_major(java_home: Path) -> int | None:
    """The major version of the JDK at java_home, from its ``release`` file, or None if it isn't a JDK."""
    try:
        release = (java_home / "release").read_text(errors="replace")
    except OSError:
        return None
    match = re.search(r'^JAVA_VERSION="(\d+)(?:\.(\d+))?', release, re.MULTILINE)
    if not match or not (java_home / "bin" / "java").exists():
        return None
    major = int(match.group(1))
    return int(match.group(2)) if major == 1 and match.group(2) else major


def find_java(
    minimum: int = MIN_JAVA,
    environ: dict[str, str] | None = None,
    roots: tuple[Path, ...] = JVM_ROOTS,
) -> Path:
    """A JDK the server accepts: ES_JAVA_HOME (must qualify if set), else JAVA_HOME, else the newest under roots."""
    env = dict(os.environ) if environ is None else environ
    if env.get("ES_JAVA_HOME"):
        home = Path(env["ES_JAVA_HOME"])
        major = java_major(home)
        if major is None or major < minimum:
            found = f"Java {major}" if major else "not a JDK"
            raise NodeError(
                f"Elasticsearch {ES_VERSION} needs Java {minimum} or newer; ES_JAVA_HOME={home} is {found}",
                f"point ES_JAVA_HOME at a JDK {minimum}+ or unset it",
            )
        return home
    seen: list[str] = []
    candidates = [Path(env["JAVA_HOME"])] if env.get("JAVA_HOME") else []
    for root in roots:
        if root.is_dir():
            candidates += sorted(path for path in root.iterdir() if path.is_dir() and not path.is_symlink())
    best: tuple[int, Path] | None = None
    for home in candidates:
        major = java_major(home)
        if major is None:
            continue
        seen.append(f"Java {major} at {home}")
        if major >= minimum and (best is None or major > best[0]):
            best = (major, home)
        if major >= minimum and env.get("JAVA_HOME") == str(home):
            return home
    if best is None:
        found = "; found " + ", ".join(seen) if seen else "; no JDK found"
        raise NodeError(
            f"Elasticsearch {ES_VERSION} needs Java {minimum} or newer{found}",
            f"install a JDK {minimum}+ (e.g. Temurin) and set ES_JAVA_HOME to it",
        )
    return best[1]


# --- processes ---


def _read_pid(node_dir: Path) -> int | None:
    try:
        return int((node_dir / "node.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def _is_our_server(pid: int, node_dir: Path) -> bool:
    """True if pid is the Elasticsearch server of node_dir (its JVM runs with java.io.tmpdir in node_dir)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False
    return "org.elasticsearch" in cmdline and f"-Djava.io.tmpdir={node_dir / 'tmp'}" in cmdline


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[-1].startswith("Z"))


def _running_pid(node_dir: Path) -> int | None:
    pid = _read_pid(node_dir)
    return pid if pid and pid_alive(pid) and _is_our_server(pid, node_dir) else None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _request(spec: NodeSpec, index: int, path: str, body: dict | None = None, timeout: float = 5.0) -> dict | None:
    """A node's JSON answer to GET (POST with `body`), as the cluster's user over TLS when secure; None on failure."""
    headers = {"Content-Type": "application/json"}
    context = None
    if spec.secure:
        credentials = read_credentials(spec)
        if credentials is None:
            return None
        token = base64.b64encode(f"{credentials.username}:{credentials.password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        context = ssl.create_default_context(cafile=spec.ca_file)
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(spec.http_url(index) + path, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            return json.loads(answer.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def _log_file(node_dir: Path) -> Path:
    return node_dir / "logs" / f"{CLUSTER_NAME}.log"


# --- security ---


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


def _tool(home: Path, java: Path, name: str, args: list[str], conf: Path, stdin: str = "") -> None:
    """Run one of the distribution's command-line tools; NodeError with its own message when it fails."""
    env = {**os.environ, "ES_JAVA_HOME": str(java), "ES_PATH_CONF": str(conf)}
    env.pop("ES_JAVA_OPTS", None)
    result = subprocess.run(
        [str(home / "bin" / name), *args], input=stdin, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise NodeError(f"{name} failed: {_startup_error(result.stdout + result.stderr, Path('-'), 0)}")


def _ensure_security(spec: NodeSpec, home: Path, java: Path, log: Log) -> None:
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
            _tool(
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
        _tool(
            home, java, "elasticsearch-users", ["useradd", SECURE_USER, "-r", "superuser"], realm, f"{password}\n" * 2
        )
    _write_credentials(spec, credentials)


def _security_config(spec: NodeSpec, config: Path) -> list[str]:
    """elasticsearch.yml lines for security; copies the certificates and the user files into the node's config."""
    if not spec.secure:
        return [
            "# Security is off only because the node binds to the loopback interface.",
            "xpack.security.enabled: false",
        ]
    security = spec.cluster_dir / "security"
    (config / "certs").mkdir(exist_ok=True)
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


def _ensure_api_key(spec: NodeSpec) -> None:
    """Create the cluster's API key on its first start and add it to the credentials file."""
    credentials = read_credentials(spec)
    if credentials is None or credentials.api_key:
        return
    answer = _request(spec, 0, "/_security/api_key", {"name": "news-indexer"}, timeout=30)
    if not answer or "encoded" not in answer:
        raise NodeError("the secure cluster started but refused to create an API key", "see `indexer node logs`")
    _write_credentials(spec, Credentials(credentials.username, credentials.password, answer["encoded"]))


# --- configuration ---


def _write_config(spec: NodeSpec, index: int, home: Path) -> Path:
    node_dir = spec.node_dir(index)
    config = node_dir / "config"
    for sub in (config / "jvm.options.d", node_dir / "data", node_dir / "logs", node_dir / "tmp"):
        sub.mkdir(parents=True, exist_ok=True)
    for name in ("jvm.options", "log4j2.properties"):
        shutil.copyfile(home / "config" / name, config / name)
    (config / "jvm.options.d" / "heap.options").write_text(f"-Xms{spec.heap}\n-Xmx{spec.heap}\n")
    lines = [
        f"cluster.name: {CLUSTER_NAME}",
        f"node.name: node-{index}",
        "network.host: 127.0.0.1",
        f"http.port: {spec.http_port(index)}",
        f"transport.port: {spec.transport_port(index)}",
        f"path.data: {node_dir / 'data'}",
        f"path.logs: {node_dir / 'logs'}",
        *_security_config(spec, config),
        *(f"{key}: {value}" for key, value in spec.settings),
    ]
    if spec.nodes == 1:
        lines.append("discovery.type: single-node")
    else:
        seeds = ", ".join(f'"127.0.0.1:{spec.transport_port(i)}"' for i in range(spec.nodes))
        masters = ", ".join(f'"node-{i}"' for i in range(spec.nodes))
        lines += [f"discovery.seed_hosts: [{seeds}]", f"cluster.initial_master_nodes: [{masters}]"]
    (config / "elasticsearch.yml").write_text("\n".join(lines) + "\n")
    return node_dir


def _privilege_drop(spec: NodeSpec, node_dir: Path) -> list[str]:
    """The setpriv prefix that runs the server as spec.run_as when we are root (and chowns its dir)."""
    if os.geteuid() != 0:
        return []
    try:
        user = pwd.getpwnam(spec.run_as)
    except KeyError:
        raise NodeError(
            f"running as root, and the user {spec.run_as!r} to run Elasticsearch as does not exist",
            "set INDEXER_NODE_USER to an unprivileged user",
        ) from None
    for path in [node_dir, *node_dir.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]


_ERROR_PATTERNS = (
    r"fatal exception while booting Elasticsearch\S*\s*(.+)",
    r"^ERROR: (.+)$",
    r"^error:\n(.+)$",
    r"\[ERROR\s*\]\[[^]]+\] \[[^]]+\] (.+)",
)


def _log_size(log_file: Path) -> int:
    return log_file.stat().st_size if log_file.exists() else 0


def _startup_error(output: str, log_file: Path, log_offset: int) -> str:
    """The server's own reason for a failed start: from its output, or what it logged during this start."""
    text = output
    if log_file.exists():
        with log_file.open("rb") as handle:
            handle.seek(log_offset)
            text += "\n" + handle.read(200_000).decode(errors="replace")
    for pattern in _ERROR_PATTERNS:
        matches = re.findall(pattern, text, re.MULTILINE)
        if matches:
            return matches[0].strip()[:500]
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("\tat ")]
    return lines[0][:500] if lines else "no output"


# --- public operations ---


def start(spec: NodeSpec, log: Log = _quiet, timeout: float = 180.0, only: int | None = None) -> ClusterStatus:
    """Start the local cluster (or just node `only`), wait until it answers and is healthy. Idempotent."""
    java = find_java()
    home = ensure_distribution(spec.cache_dir, java, log=log)
    indices = range(spec.nodes) if only is None else [only]
    spec.cluster_dir.mkdir(parents=True, exist_ok=True)
    saved = {"nodes": spec.nodes, "version": ES_VERSION, "secure": spec.secure}
    (spec.cluster_dir / "cluster.json").write_text(json.dumps(saved))
    if spec.secure:
        _ensure_security(spec, home, java, log)
    launches: list[tuple[int, int, subprocess.Popen[str]]] = []
    for index in indices:
        node_dir = spec.node_dir(index)
        if _running_pid(node_dir):
            log(f"node-{index} is already running on port {spec.http_port(index)}")
            continue
        for port in (spec.http_port(index), spec.transport_port(index)):
            if not _port_free(port):
                raise NodeError(
                    f"port {port} on 127.0.0.1 is already in use by another program",
                    "stop it, or choose another port with --port / INDEXER_NODE_PORT",
                )
        _write_config(spec, index, home)
        command = [*_privilege_drop(spec, node_dir), str(home / "bin" / "elasticsearch"), "-d", "-p"]
        command.append(str(node_dir / "node.pid"))
        env = {
            **os.environ,
            "ES_JAVA_HOME": str(java),
            "ES_PATH_CONF": str(node_dir / "config"),
            "ES_TMPDIR": str(node_dir / "tmp"),
        }
        env.pop("ES_JAVA_OPTS", None)
        log(f"starting node-{index} on port {spec.http_port(index)} (Java {java_major(java)} at {java})")
        log_offset = _log_size(_log_file(node_dir))
        launcher = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        launches.append((index, log_offset, launcher))
    for index, log_offset, launcher in launches:  # the nodes start side by side; each launcher waits for its node
        try:
            output, _ = launcher.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            launcher.kill()
            output, _ = launcher.communicate()
        if launcher.returncode != 0:
            reason = _startup_error(output, _log_file(spec.node_dir(index)), log_offset)
            raise NodeError(
                f"Elasticsearch node-{index} failed to start: {reason}", f"see {_log_file(spec.node_dir(index))}"
            )
    _wait_healthy(spec, timeout)
    if spec.secure:
        _ensure_api_key(spec)
    return status(spec)


def _wait_healthy(spec: NodeSpec, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    running = [i for i in range(spec.nodes) if _running_pid(spec.node_dir(i))]
    if not running:
        raise NodeError("no node of the local cluster is running", "start it with `indexer node start`")
    url = spec.http_url(running[0])
    query = f"wait_for_status=yellow&wait_for_nodes={len(running)}&timeout=5s"
    while time.monotonic() < deadline:
        health = _request(spec, running[0], f"/_cluster/health?{query}", timeout=10)
        if health and not health.get("timed_out") and health.get("status") in ("yellow", "green"):
            return
        time.sleep(0.5)
    raise NodeError(
        f"the local cluster at {url} did not become healthy within {timeout:g} s", "see `indexer node logs`"
    )


def stop(spec: NodeSpec, only: int | None = None, timeout: float = 60.0) -> list[int]:
    """Stop the nodes this tool started (or just node `only`), side by side; returns the pids that were stopped."""
    running = {}
    for index in range(spec.nodes) if only is None else [only]:
        pid = _running_pid(spec.node_dir(index))
        if pid is None:
            (spec.node_dir(index) / "node.pid").unlink(missing_ok=True)
        else:
            os.kill(pid, signal.SIGTERM)
            running[index] = pid
    deadline = time.monotonic() + timeout
    for index, pid in running.items():
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            while pid_alive(pid):
                time.sleep(0.1)
        (spec.node_dir(index) / "node.pid").unlink(missing_ok=True)
    return list(running.values())


def status(spec: NodeSpec) -> ClusterStatus:
    """Which nodes run, and the cluster's version and health when it answers."""
    nodes = tuple(
        NodeState(
            index=i,
            http_port=spec.http_port(i),
            pid=_running_pid(spec.node_dir(i)),
            running=_running_pid(spec.node_dir(i)) is not None,
            log_file=_log_file(spec.node_dir(i)),
        )
        for i in range(spec.nodes)
    )
    version = health = None
    for node in nodes:
        if not node.running:
            continue
        info = _request(spec, node.index, "/_nodes/_local?filter_path=nodes.*.version")
        answer = _request(spec, node.index, "/_cluster/health")
        if info and answer:
            version = next(iter(info["nodes"].values()))["version"]
            health = answer["status"]
            break
    return ClusterStatus(url=spec.url, nodes=nodes, version=version, health=health)


def tail(path: Path, lines: int) -> list[str]:
    """The last `lines` lines of a log file."""
    if not path.exists():
        return []
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 256 * 1024))
        text = handle.read().decode(errors="replace")
    return text.splitlines()[-lines:]
