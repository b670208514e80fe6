"""The ingest decision: what to do with one article file, given what the index holds for its article. Pure.

Several files can hold one article (same outlet article id): an archive that moved, an identical copy, an edited
file, or a revised copy of the article. The rules:

- nothing stored: index the file;
- the same content (SHA-1) stored: the file is ``unchanged``; stored from another path, it is ``moved`` (a moved
  archive, or an identical copy); stored from this path with another size or mtime (a copy that didn't keep
  times), ``touch`` indexes it again at the stored version to record the new ones, so the next run can skip the
  file without reading it (a partial update would rebuild the document from ``_source``, which leaves out the
  ``chars``/``words`` views: the article would stop being searchable);
- other content stored from this path, or from a path that is gone: the file replaces it (an edit, or an
  archive moved and edited);
- other content from a file that is still there: two files of one article. The newer publish time wins (a
  dated article beats an undated one); equal times are decided by the full content hashes, the larger wins, so
  every run and every machine keeps the same file whatever the order. The loser is a ``duplicate``.

Elasticsearch enforces the same order between loaders running at once, through external versions
(:func:`version_of`): the publish time in milliseconds, then the first :data:`TIEBREAK_BITS` bits of the hash,
so the version order is the decision's order. Two different files with the same millisecond and the same first
21 bits (a chance of one in 2,097,152 per such pair) get equal versions; this function still decides them by
the full hash, and only two loaders writing exactly that pair at the same moment could disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

TIEBREAK_BITS = 21
"""Hash bits in a version: the most that fit in Elasticsearch's signed 64-bit version with millisecond times."""
MAX_MILLIS = 4_102_444_800_000
"""2100-01-01T00:00:00Z in epoch milliseconds; later times count as this (the parser only accepts 1990-2099)."""

Action = Literal["index", "unchanged", "moved", "touch", "duplicate"]


@dataclass(frozen=True, slots=True)
class Incoming:
    """The file being indexed: its absolute path (as stored), content hash, publish time, size and mtime."""

    path: str
    sha1: str
    published_at: datetime | None
    size: int | None = None
    mtime_ns: int | None = None


@dataclass(frozen=True, slots=True)
class Stored:
    """What the index holds for the article: its version and where it came from (None when not recorded).

    ``path_exists`` says whether the stored file is still on disk (the caller looks; this module does no I/O).
    """

    version: int
    sha1: str | None
    path: str | None
    published_at: datetime | None
    size: int | None = None
    mtime_ns: int | None = None
    path_exists: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """What to do: ``index`` or ``touch`` with ``version`` (external_gte); the others send nothing."""

    action: Action
    version: int = 0
    detail: str = ""


def _millis(moment: datetime | None) -> int:
    return min(MAX_MILLIS, max(0, int(moment.timestamp() * 1000))) if moment else 0


def version_of(published_at: datetime | None, sha1: str) -> int:
    """External version: publish time in milliseconds, then the hash's first bits (undated files: 0 ms)."""
    return _millis(published_at) << TIEBREAK_BITS | int(sha1, 16) >> (len(sha1) * 4 - TIEBREAK_BITS)


def _rank(published_at: datetime | None, sha1: str) -> tuple[int, int, str]:
    return (published_at is not None, _millis(published_at), sha1)


def decide(incoming: Incoming, stored: Stored | None) -> Decision:
    """The decision for `incoming` (see the module docstring for the rules)."""
    version = version_of(incoming.published_at, incoming.sha1)
    if stored is None:
        return Decision("index", version)
    if stored.sha1 == incoming.sha1:
        if stored.path not in (incoming.path, None):
            return Decision("moved", detail=f"the same content is indexed from {stored.path}")
        if (stored.size, stored.mtime_ns, stored.path) != (incoming.size, incoming.mtime_ns, incoming.path):
            return Decision("touch", stored.version)
        return Decision("unchanged")
    if stored.path == incoming.path or not stored.path_exists:
        return Decision("index", max(version, stored.version))
    mine, theirs = _rank(incoming.published_at, incoming.sha1), _rank(stored.published_at, stored.sha1 or "")
    if mine > theirs:
        return Decision("index", max(version, stored.version + 1))
    why = (
        "its publish time is newer"
        if theirs[:2] > mine[:2]
        else "ties on publish time are broken by content hash (the larger wins)"
    )
    return Decision("duplicate", detail=f"same article as {stored.path}, which is kept: {why}")
