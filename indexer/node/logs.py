"""A node's log file: where it is, its last lines, and the server's own reason for a failure."""

from __future__ import annotations

import os
import re
from pathlib import Path

from indexer.node.config import CLUSTER_NAME

_ERROR_PATTERNS = (
    r"fatal exception while booting Elasticsearch\S*\s*(.+)",
    r"^ERROR: (.+)$",
    r"^error:\n(.+)$",
    r"\[ERROR\s*\]\[[^]]+\] \[[^]]+\] (.+)",
)


def log_file(node_dir: Path) -> Path:
    """The server log of the node living in node_dir."""
    return node_dir / "logs" / f"{CLUSTER_NAME}.log"


def log_size(path: Path) -> int:
    """How many bytes the log has now (0 before the first start): where this start's lines will begin."""
    return path.stat().st_size if path.exists() else 0


def server_error(output: str, log: Path | None = None, offset: int = 0) -> str:
    """The server's own reason for a failure: from a program's output, or what it logged from `offset` on."""
    text = output
    if log is not None and log.exists():
        with log.open("rb") as handle:
            handle.seek(offset)
            text += "\n" + handle.read(200_000).decode(errors="replace")
    for pattern in _ERROR_PATTERNS:
        matches = re.findall(pattern, text, re.MULTILINE)
        if matches:
            return matches[0].strip()[:500]
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("\tat ")]
    return lines[0][:500] if lines else "no output"


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
