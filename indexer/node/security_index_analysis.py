"""The ``security-index-analysis`` Elasticsearch plugin, built with Maven and installed for secure nodes.

Elasticsearch's own ``.security`` system index declares an ``email`` analyzer whose components (the
``uax_url_email`` tokenizer, the ``lowercase``, ``unique`` and ``pattern_capture`` filters) only the
``analysis-common`` module provides. The integ-test zip lacks that module, so without this plugin a node with
security on cannot create the index and cannot store API keys. A node without security never creates the index:
it needs neither the plugin nor Maven. The plugin's sources ship in the package
(``indexer/data/security-index-analysis/``); a build is cached per server version and sources digest.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from indexer.errors import NodeError
from indexer.node.distribution import Log, locked

PLUGIN_NAME = "security-index-analysis"
SOURCES = "data/security-index-analysis"
"""The plugin's Maven project, relative to the ``indexer`` package."""
MAVEN_TIMEOUT_S = 900
SOURCES_MARK = "sources.sha256"
"""File in an installed plugin's directory naming the sources it was built from; marks the plugins this tool built."""
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # Maven prints colour resets even in batch mode


def _source_files(root: Traversable | None = None, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    """(relative path, file) of each source file, sorted; hidden files and Maven's ``target/`` left out."""
    root = root or resources.files("indexer").joinpath(SOURCES)
    for entry in sorted(root.iterdir(), key=lambda item: item.name):
        if entry.name.startswith(".") or (not prefix and entry.name == "target"):
            continue
        if entry.is_dir():
            yield from _source_files(entry, f"{prefix}{entry.name}/")
        else:
            yield f"{prefix}{entry.name}", entry


def sources_digest() -> str:
    """A short hash of the plugin's sources: when they change, the plugin is rebuilt and reinstalled."""
    digest = hashlib.sha256()
    for relative, source in _source_files():
        digest.update(f"{relative}\0".encode() + source.read_bytes())
    return digest.hexdigest()[:16]


def prepare_plugins(cache_dir: Path, home: Path, version: str, java: Path, secure: bool, log: Log) -> None:
    """Remove the plugins this tool built from other sources (or under another name) from the server at `home`,
    and, for a `secure` node, install the current plugin, building it first unless that build is cached.

    Raises NodeError when a secure node needs the plugin and it cannot be built. A classic plugin loads only on the
    exact server version it was built for, so `version` must be the version of `home`.
    """
    if (home / "modules" / "analysis-common").is_dir():
        return
    digest = sources_digest()
    plugins = home / "plugins"
    with locked(cache_dir):
        for plugin in sorted(plugins.iterdir()) if plugins.is_dir() else []:
            mark = plugin / SOURCES_MARK
            if mark.is_file() and (plugin.name, mark.read_text().strip()) != (PLUGIN_NAME, digest):
                log(f"removing the plugin {plugin.name!r}, built from other sources")
                shutil.rmtree(plugin)
        target = plugins / PLUGIN_NAME
        if not secure or (target / SOURCES_MARK).is_file():
            return
        log(f"building the {PLUGIN_NAME} plugin with Maven (a secure node needs it)")
        try:
            jar, descriptor = _build(version, java, cache_dir / "plugin-build" / f"{version}-{digest}")
        except NodeError as exc:
            raise NodeError(
                f"a secure node needs the {PLUGIN_NAME} plugin (the analysis components of Elasticsearch's security "
                f"index, which this distribution lacks), and it could not be built: {exc.message}",
                "install Maven (mvn) with access to Maven Central, or run the node without security",
            ) from None
        target.mkdir(parents=True)
        shutil.copy2(jar, target / jar.name)
        shutil.copy2(descriptor, target / descriptor.name)
        (target / SOURCES_MARK).write_text(digest + "\n")


def _build(es_version: str, java_home: Path, out_dir: Path) -> tuple[Path, Path]:
    """The plugin jar and descriptor, built from a copy of the sources in `out_dir` unless already there."""
    jar = out_dir / f"{PLUGIN_NAME}-{es_version}.jar"
    descriptor = out_dir / "plugin-metadata" / "plugin-descriptor.properties"
    if jar.is_file() and descriptor.is_file():
        return jar, descriptor
    if not shutil.which("mvn"):
        raise NodeError("Maven (`mvn`) is not on PATH")
    project = out_dir / "sources"
    shutil.rmtree(project, ignore_errors=True)
    for relative, source in _source_files():
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        (project / relative).write_bytes(source.read_bytes())
    command = [
        "mvn",
        "-B",
        "-q",
        "-f",
        str(project / "pom.xml"),
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
        raise NodeError(f"could not run {' '.join(command)}: {exc}") from None
    if result.returncode != 0 or not (jar.is_file() and descriptor.is_file()):
        output = _ANSI_ESCAPE.sub("", result.stdout + result.stderr).splitlines()
        errors = [line for line in output if line.startswith("[ERROR] ") and line[8:].strip()] or output[-20:]
        raise NodeError(f"mvn package failed (exit {result.returncode}): " + " | ".join(errors))
    return jar, descriptor
