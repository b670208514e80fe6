"""Compare what two versions of the article parser make of the same files.

    .venv/bin/python scripts/parser_diff.py [--base REV] [FOLDER]

Parses every ``*.md`` under FOLDER (default: the shared corpus; READMEs are skipped as ``indexer index`` does) with
the parser of git revision REV (default: the branch point with main) and with the working tree's, then prints JSON:
for each Article field, how many files differ, with the first few examples; rejections on either side; the warnings
that appear or disappear; and the distribution of ``time_source`` on the new side. Each side runs in its own process
with its own ``indexer`` package, so the two never mix.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = Path(os.environ.get("INDEXER_CORPUS", "/work/shared/corpus"))
EXAMPLES_PER_FIELD = 3


def dump(folder: Path) -> None:
    """Print one JSON line per file: its path and the parsed Article's fields, or the rejection."""
    from indexer.parser import ParseError, parse_file
    from indexer.walk import DEFAULT_EXCLUDE

    for path in sorted(folder.rglob("*.md")):
        if any(path.match(pattern) for pattern in DEFAULT_EXCLUDE):
            continue
        key = path.relative_to(folder).as_posix()
        try:
            article = parse_file(path)
        except ParseError as error:
            print(json.dumps({"path": key, "rejected": error.reason}, ensure_ascii=False))
            continue
        fields = dataclasses.asdict(article)
        for name in ("published_at", "body_time"):
            fields[name] = fields[name].isoformat() if fields[name] else None
        print(json.dumps({"path": key, "article": fields}, ensure_ascii=False))


def _side(package_root: Path, folder: Path) -> dict[str, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    command = [
        sys.executable,
        "-c",
        f"import sys; sys.path.insert(0, {str(ROOT / 'scripts')!r}); "
        f"import parser_diff; parser_diff.dump(__import__('pathlib').Path({str(folder)!r}))",
    ]
    output = subprocess.run(command, cwd=package_root, env=env, capture_output=True, text=True, check=True).stdout
    return {entry["path"]: entry for entry in map(json.loads, output.splitlines())}


def _export(revision: str, target: Path) -> None:
    archive = subprocess.run(["git", "archive", revision, "indexer"], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(target, filter="data")


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Differences per field, rejections, warning changes and the new time sources."""
    differing: dict[str, list[str]] = {}
    rejected = {"old": Counter[str](), "new": Counter[str]()}
    warnings = {"old": Counter[str](), "new": Counter[str]()}
    sources: Counter[str] = Counter()
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path, {}), new.get(path, {})
        for side, entry in (("old", before), ("new", after)):
            if "rejected" in entry:
                rejected[side][entry["rejected"]] += 1
        if "article" not in before or "article" not in after:
            continue
        a, b = before["article"], after["article"]
        sources[b.get("time_source", "?")] += 1
        for warning in a["warnings"]:
            warnings["old"][warning.split(":")[0][:60]] += 1
        for warning in b["warnings"]:
            warnings["new"][warning.split(":")[0][:60]] += 1
        for name in sorted(a.keys() & b.keys()):
            if a[name] != b[name]:
                differing.setdefault(name, []).append(path)
    return {
        "files": {"old": len(old), "new": len(new)},
        "rejected": {side: dict(counts) for side, counts in rejected.items()},
        "differing": {
            name: {"count": len(paths), "examples": paths[:EXAMPLES_PER_FIELD]} for name, paths in differing.items()
        },
        "new_fields": sorted(
            {name for entry in new.values() for name in entry.get("article", {})}
            - {name for entry in old.values() for name in entry.get("article", {})}
        ),
        "warnings_changed": {
            text: {"old": warnings["old"][text], "new": warnings["new"][text]}
            for text in sorted(warnings["old"].keys() | warnings["new"].keys())
            if warnings["old"][text] != warnings["new"][text]
        },
        "warnings_total": {side: sum(counts.values()) for side, counts in warnings.items()},
        "time_sources": dict(sources.most_common()),
    }


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("folder", nargs="?", type=Path, default=DEFAULT_CORPUS)
    options.add_argument("--base", default=None, help="git revision of the old parser (default: merge-base with main)")
    args = options.parse_args()
    base = (
        args.base
        or subprocess.run(
            ["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    )
    with tempfile.TemporaryDirectory() as temporary:
        _export(base, Path(temporary))
        old = _side(Path(temporary), args.folder.resolve())
    new = _side(ROOT, args.folder.resolve())
    print(json.dumps({"base": base, **compare(old, new)}, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
