"""The server: the Maven Central zip, downloaded once, verified, unpacked, and its command-line tools.

The zip is ``org.elasticsearch.distribution.integ-test-zip:elasticsearch`` (no bundled JDK, no optional modules). It
is fetched over HTTPS or, failing that, with the Maven client, checked against the checksum Maven Central publishes
and against the SHA-512 pinned here, and unpacked into ``<cache>/dist/``.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from indexer.errors import NodeError
from indexer.node.logs import server_error

ES_VERSION = "9.5.4"
"""The one place the server version is pinned."""
ES_SHA512 = (
    "a75df614854ace52dd0bce977662b3792873ac077ec0af9026cd0b2a0eb119e449910f8eb8ed577d1a83c51c6ee6af71bf5004c3cf5b"
    "418c979186de8b5dd9e6"
)
"""SHA-512 of elasticsearch-9.5.4.zip as first downloaded from Maven Central, checked on every download."""
MAVEN_GROUP = "org.elasticsearch.distribution.integ-test-zip"
MAVEN_ARTIFACT = "elasticsearch"
MAVEN_REPO = "https://repo1.maven.org/maven2"

Log = Callable[[str], None]


def quiet(_: str) -> None:
    """A log that drops every line."""


def _artifact_path(version: str) -> str:
    group = MAVEN_GROUP.replace(".", "/")
    return f"{group}/{MAVEN_ARTIFACT}/{version}/{MAVEN_ARTIFACT}-{version}.zip"


def sha512(path: Path) -> str:
    """The SHA-512 of a file, as hex."""
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


def download(cache_dir: Path, version: str = ES_VERSION, log: Log = quiet) -> Path:
    """The server zip in ``<cache>/downloads``, fetched over HTTPS from INDEXER_MAVEN_REPO (default Maven Central)
    or, failing that, with the Maven client."""
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
    if version == ES_VERSION and (actual := sha512(target)) != ES_SHA512:
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
def locked(cache_dir: Path) -> Iterator[None]:
    """Hold the cache dir's lock: one process at a time unpacks the server or changes its plugins."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_distribution(cache_dir: Path, version: str = ES_VERSION, log: Log = quiet) -> Path:
    """The unpacked server (its home directory), downloading and unpacking it on first use."""
    home = cache_dir / "dist" / f"elasticsearch-{version}"
    with locked(cache_dir):
        if not (home / "bin" / "elasticsearch").exists():
            archive = download(cache_dir, version, log)
            home.parent.mkdir(parents=True, exist_ok=True)
            log(f"unpacking {archive.name} into {home.parent}")
            _unpack(archive, home)
    return home


def run_tool(home: Path, java: Path, name: str, args: list[str], conf: Path, stdin: str = "") -> None:
    """Run one of the distribution's command-line tools; NodeError with its own message when it fails."""
    env = {**os.environ, "ES_JAVA_HOME": str(java), "ES_PATH_CONF": str(conf)}
    env.pop("ES_JAVA_OPTS", None)
    result = subprocess.run(
        [str(home / "bin" / name), *args], input=stdin, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise NodeError(f"{name} failed: {server_error(result.stdout + result.stderr)}")
