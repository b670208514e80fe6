"""Regenerate (or check) the command output shown in the README and docs from real runs.

A ``console`` block preceded by ``<!-- output: NAME -->`` is generated: each ``$ indexer …`` line in it (several
commands joined by ``; `` too) is run with ``INDEXER_INDEX`` set to the index given for NAME (``examples`` or
``corpus``), and the lines after it are replaced by what it prints (standard output and error, in the order written).
Commands with shell redirection, and blocks without the marker, are left as written.

    .venv/bin/python -m tools.readme_output --examples demo --corpus news            # rewrite the files
    .venv/bin/python -m tools.readme_output --examples demo --corpus news --check    # exit 1 on any difference

``tests/test_docs.py`` runs the check against the suite's indices, so output that drifts fails the tests.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("README.md",)
"""The documents whose marked blocks are generated."""
COLUMNS = "110"
"""Terminal width the output is rendered at (tables wrap to it)."""

MARKER = re.compile(r"<!-- output: (?P<source>[a-z]+) -->\n```console\n(?P<body>.*?)```", re.DOTALL)
Runner = Callable[[list[str], str], str]
"""Runs ``indexer ARGS`` against the named index and returns what it printed."""


def run_indexer(args: list[str], index: str) -> str:
    """The console script beside this Python, with the index set, at the documented width; standard output and
    error as a terminal shows them (one stream, unbuffered, in the order written)."""
    script = Path(sys.executable).with_name("indexer")
    env = {**os.environ, "INDEXER_INDEX": index, "COLUMNS": COLUMNS, "NO_COLOR": "1", "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [str(script), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False
    )
    return done.stdout


def _render_block(body: str, source: str, indices: Mapping[str, str], run: Runner) -> str:
    lines: list[str] = []
    keep = True
    for line in body.splitlines():
        if line.startswith("$ "):
            commands = [shlex.split(part, comments=True) for part in line[2:].split("; ")]
            generated = all(words[:1] == ["indexer"] and not {">", "|", ">>"} & set(words) for words in commands)
            lines.append(line)
            if generated:
                for words in commands:
                    lines += [out.rstrip() for out in run(words[1:], indices[source]).rstrip("\n").splitlines()]
            keep = not generated
        elif keep:
            lines.append(line)
    return "\n".join(lines) + "\n"


def render(text: str, indices: Mapping[str, str], run: Runner = run_indexer) -> str:
    """`text` with every marked block's command output regenerated."""

    def block(match: re.Match[str]) -> str:
        source = match["source"]
        if source not in indices:
            raise ValueError(f"unknown output source {source!r} (known: {', '.join(sorted(indices))})")
        body = _render_block(match["body"], source, indices, run)
        return f"<!-- output: {source} -->\n```console\n{body}```"

    return MARKER.sub(block, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", required=True, help="alias of an index of examples/")
    parser.add_argument("--corpus", required=True, help="alias of an index of the shared corpus")
    parser.add_argument("--check", action="store_true", help="report differences instead of writing")
    args = parser.parse_args(argv)
    indices = {"examples": args.examples, "corpus": args.corpus}
    differ = False
    for name in FILES:
        path = ROOT / name
        old = path.read_text(encoding="utf-8")
        new = render(old, indices)
        if new == old:
            continue
        if args.check:
            differ = True
            sys.stdout.writelines(difflib.unified_diff(old.splitlines(True), new.splitlines(True), name, name))
        else:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {name}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
