"""Finding article files: walk folders once, safely (symlink loops, unreadable entries), in a stable order.

Each file is taken once, however often it is reached: the same path given twice, a file given and its folder,
a symlink or a hard link to a file already taken (files are told apart by device and inode). Every later
arrival is reported as Skipped, naming the path that was taken.

File names are bytes on Linux and need not be UTF-8 (GBK names from old archives): :func:`display_path` shows
such a name losslessly as text, with each byte that isn't UTF-8 as ``\\xNN``.
"""

from __future__ import annotations

import fnmatch
import os
import re
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
    """A file to process. `key` is its path relative to the folder it was found in (stable across machines);
    `size` and `mtime_ns` are from the walk's stat (None when it failed: reading the file reports why)."""

    path: Path
    key: str
    size: int | None = None
    mtime_ns: int | None = None


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


def display_path(path: str | os.PathLike[str]) -> str:
    """The path as valid text: undecodable bytes of the name (kept by Python as surrogates) as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def on_disk(shown: str) -> bool:
    """Whether the file a :func:`display_path` names exists (its ``\\xNN`` read back as bytes)."""
    raw = re.sub(rb"\\x([89a-f][0-9a-f])", lambda match: bytes([int(match.group(1), 16)]), shown.encode())
    return os.path.exists(shown) or os.path.exists(raw)


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
    missing = [display_path(path) for path in paths if not os.path.lexists(path)]
    if missing:
        raise IndexerError(f"no such file or folder: {', '.join(missing)}")
    visited: set[tuple[int, int]] = set()
    taken: dict[tuple[int, int], Path] = {}
    for root in paths:
        if root.is_dir():
            found: Iterator[Candidate | Skipped] = _walk_dir(root, root, include, exclude, partition, visited)
        elif partition is None or root.name in partition:
            found = iter([Candidate(root, root.name)])
        else:
            continue
        for item in found:
            yield _once(item, taken) if isinstance(item, Candidate) else item


def count_files(
    paths: Sequence[Path],
    include: Sequence[str] = DEFAULT_INCLUDE,
    exclude: Sequence[str] = DEFAULT_EXCLUDE,
    partition: Partition | None = None,
) -> int:
    """About how many files :func:`walk` takes (without its stat per file: a file reached twice counts twice)."""
    total = 0
    visited: set[tuple[int, int]] = set()
    for root in paths:
        if root.is_dir():
            found = _walk_dir(root, root, include, exclude, partition, visited)
            total += sum(isinstance(item, Candidate) for item in found)
        elif os.path.lexists(root):
            total += partition is None or root.name in partition
    return total


def _once(candidate: Candidate, taken: dict[tuple[int, int], Path]) -> Candidate | Skipped:
    """The candidate with its size and mtime, or Skipped when the same file was taken before."""
    try:
        info = candidate.path.stat()
    except OSError:
        return candidate
    identity = (info.st_dev, info.st_ino)
    first = taken.setdefault(identity, candidate.path)
    if first is not candidate.path:
        return Skipped(candidate.path, f"the same file as {display_path(first)}, which is taken")
    return Candidate(candidate.path, candidate.key, info.st_size, info.st_mtime_ns)


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
