"""Finding a JDK the server accepts (the integ-test zip bundles none)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from indexer.errors import NodeError
from indexer.node.distribution import ES_VERSION

MIN_JAVA = 21
"""Elasticsearch 9.x runs on Java 21 or newer."""
JVM_ROOTS = (Path("/usr/lib/jvm"), Path("/usr/java"), Path("/opt/java"))


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
