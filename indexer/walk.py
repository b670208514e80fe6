"""Finding article files: walk folders once, safely (symlink loops, unreadable entries), in a stable order."""

from __future__ import annotations

import fnmatch
import os
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from indexer.errors import IndexerError

DEFAULT_INCLUDE = ("*.md",)
DEFAULT_EXCLUDE = ("README.md", "README.*.md")
"""Folders of articles often carry a README; it is documentation, not an article."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A file to process. `key` is its path relative to the folder it was found in (stable across machines)."""

    path: Path
    key: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """Something the walk did not enter, with the reason (a symlink loop, an unreadable folder)."""

    path: Path
    reason: str


@dataclass(frozen=True, slots=True)
class Partition:
    """Share `part` of `of` (1-based): a stable split of the files by path, for loading from several machines."""

    part: int
    of: int

    @classmethod
    def parse(cls, text: str) -> Partition:
        try:
            part, of = (int(value) for value in text.split("/"))
        except ValueError:
            raise IndexerError(f"partition {text!r} is not K/N, e.g. 1/3", param="partition") from None
        if not 1 <= part <= of:
            raise IndexerError(f"partition {text!r}: K must be between 1 and N", param="partition")
        return cls(part, of)

    def __contains__(self, key: str) -> bool:
        return zlib.crc32(key.encode("utf-8", "surrogateescape")) % self.of == self.part - 1


def _matches(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in include) and not any(fnmatch.fnmatch(name, p) for p in exclude)


def walk(
    paths: Sequence[Path],
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    partition: Partition | None = None,
) -> Iterator[Candidate | Skipped]:
    """Files named on the command line are always taken; folders are walked for names matching `include`.

    Symlinks are followed, but a folder already visited (a loop, or two links to one folder) is entered once.
    Entries that vanish or can't be listed are reported as Skipped, never silently dropped.
    """
    missing = [str(path) for path in paths if not os.path.lexists(path)]
    if missing:
        raise IndexerError(f"no such file or folder: {', '.join(missing)}")
    for root in paths:
        if root.is_dir():
            yield from _walk_dir(root, root, include, exclude, partition, set())
        elif partition is None or root.name in partition:
            yield Candidate(root, root.name)


def _walk_dir(
    root: Path,
    folder: Path,
    include: Sequence[str],
    exclude: Sequence[str],
    partition: Partition | None,
    visited: set[tuple[int, int]],
) -> Iterator[Candidate | Skipped]:
    try:
        info = folder.stat()
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        yield Skipped(folder, f"cannot list folder: {exc.strerror or exc}")
        return
    identity = (info.st_dev, info.st_ino)
    if identity in visited:
        yield Skipped(folder, "folder already visited (symlink loop or second link to it)")
        return
    visited.add(identity)
    for entry in entries:
        path = Path(entry.path)
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False  # e.g. a symlink to itself: if it looks like an article, reading it reports why
        if is_dir:
            yield from _walk_dir(root, path, include, exclude, partition, visited)
        elif _matches(entry.name, include, exclude):
            key = path.relative_to(root).as_posix()
            if partition is None or key in partition:
                yield Candidate(path, key)
