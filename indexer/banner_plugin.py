"""Build and install the ``root-banner`` Elasticsearch plugin (sources in ``node-plugin/``).

The Maven Central ``integ-test-zip`` distribution ships without the ``rest-root`` module, so ``GET /``
answers 405 instead of the usual cluster banner. The plugin restores ``GET /`` and ``HEAD /``. It also supplies
the analysis components of the security index (from the missing ``analysis-common`` module), without which a
node with security on cannot store API keys.
"""

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

PLUGIN_NAME = "root-banner"
PLUGIN_SOURCE = Path(__file__).resolve().parent.parent / "node-plugin"
MAVEN_TIMEOUT_S = 900
SOURCES_MARK = "sources.sha256"
"""File in the installed plugin's directory naming the sources it was built from."""
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # Maven prints colour resets even in batch mode


class BannerPluginError(RuntimeError):
    """The banner plugin could not be built or installed."""


def sources_digest() -> str:
    """A short hash of the plugin's sources: when they change, the plugin is rebuilt and reinstalled."""
    digest = hashlib.sha256()
    for path in sorted(PLUGIN_SOURCE.rglob("*")):
        relative = path.relative_to(PLUGIN_SOURCE)
        if path.is_file() and relative.parts[0] != "target":
            digest.update(f"{relative}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def is_current(es_home: Path) -> bool:
    """True when the plugin is installed in es_home, built from the current sources."""
    try:
        return (es_home / "plugins" / PLUGIN_NAME / SOURCES_MARK).read_text().strip() == sources_digest()
    except OSError:
        return False


def install_banner_plugin(es_home: Path, es_version: str, java_home: Path, build_dir: Path) -> None:
    """Install the banner plugin into ``es_home/plugins/root-banner/``, replacing any earlier copy.

    Builds it with Maven into ``build_dir/<es_version>-<sources digest>/`` unless that build is already there.
    Does nothing on a distribution that has its
    own ``rest-root`` module. A classic plugin loads only on the exact server version it was built for, so
    ``es_version`` must be the version of ``es_home``. The node must be stopped while this runs.
    """
    if (es_home / "modules" / "rest-root").is_dir():
        return
    if not (es_home / "lib" / f"elasticsearch-{es_version}.jar").is_file():
        raise BannerPluginError(f"{es_home} is not an Elasticsearch {es_version} installation")
    digest = sources_digest()
    jar, descriptor = _build(es_version, java_home, build_dir / f"{es_version}-{digest}")
    target = es_home / "plugins" / PLUGIN_NAME
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy2(jar, target / jar.name)
    shutil.copy2(descriptor, target / descriptor.name)
    (target / SOURCES_MARK).write_text(digest + "\n")


def _build(es_version: str, java_home: Path, out_dir: Path) -> tuple[Path, Path]:
    jar = out_dir / f"{PLUGIN_NAME}-{es_version}.jar"
    descriptor = out_dir / "plugin-metadata" / "plugin-descriptor.properties"
    if jar.is_file() and descriptor.is_file():
        return jar, descriptor
    command = [
        "mvn",
        "-B",
        "-q",
        "-f",
        str(PLUGIN_SOURCE / "pom.xml"),
        f"-Des.version={es_version}",
        f"-Dplugin.build.dir={out_dir.resolve()}",
        "package",
    ]
    try:
        result = subprocess.run(
            command,
            env={**os.environ, "JAVA_HOME": str(java_home)},
            capture_output=True,
            text=True,
            timeout=MAVEN_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BannerPluginError(f"could not run {' '.join(command)}: {exc}") from exc
    if result.returncode != 0 or not (jar.is_file() and descriptor.is_file()):
        output = _ANSI_ESCAPE.sub("", result.stdout + result.stderr).splitlines()
        errors = [line for line in output if line.startswith("[ERROR] ") and line[8:].strip()] or output[-20:]
        raise BannerPluginError(
            f"building the banner plugin for Elasticsearch {es_version} failed "
            f"(mvn exit {result.returncode}):\n" + "\n".join(errors)
        )
    return jar, descriptor
