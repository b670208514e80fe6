"""Who may write behind an alias: a lock held in the cluster, shared by loads and exclusive for a rebuild.

A rebuild copies the current index into a new generation and then moves the alias: articles that a load writes
into the old generation meanwhile would be acknowledged and then left behind, and two rebuilds at once race for
the same generation. So ``reindex`` holds the alias alone, while ``index`` runs share it (any number of loads at
once write the same index and agree through external versions). A run that finds the alias taken stops at once
with a message naming the holder; nothing waits.

The lock is one document per alias in the hidden index ``news-indexer-locks``. Every change is a compare and swap
(``op_type=create`` for the first holder, ``if_seq_no`` / ``if_primary_term`` after), so two runs can never both
win. Each holder has a lease that a thread renews while the run lives: a crashed run's claim ends when its lease
runs out (clocks of the machines are assumed to agree within the lease), or at once when it ran on this machine
and its process is gone.
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

from elasticsearch import ApiError, ConflictError, Elasticsearch, NotFoundError

from indexer.errors import ForeignIndex, Locked
from indexer.names import check_alias
from indexer.node import pid_alive

LOCK_INDEX = "news-indexer-locks"
LOCK_META = {"news_indexer": "locks"}
"""The ``_meta`` that marks the lock index as this tool's."""
LEASE_SECONDS = 60.0
ATTEMPTS = 50
"""Compare-and-swap rounds before giving up (each lost round means another run changed the lock meanwhile)."""
Mode = Literal["shared", "exclusive"]


def _machine() -> str:
    """This host and PID namespace: where a holder's process id can be checked directly."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    return f"{socket.gethostname()} {namespace}".strip()


@dataclass(frozen=True, slots=True)
class Holder:
    """One run holding the lock."""

    id: str
    mode: Mode
    command: str
    machine: str
    pid: int
    since: float
    expires: float

    @property
    def host(self) -> str:
        return self.machine.split(" ")[0]

    def alive(self, now: float) -> bool:
        """Its lease runs, and when it ran here, its process still exists."""
        if self.expires <= now:
            return False
        return self.machine != _machine() or pid_alive(self.pid)

    def describe(self) -> str:
        started = datetime.fromtimestamp(self.since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return f"`indexer {self.command}` (pid {self.pid} on {self.host}, since {started})"


def _holders(source: dict[str, Any]) -> list[Holder]:
    return [Holder(**entry) for entry in source.get("holders", [])]


def _read(es: Elasticsearch, alias: str) -> tuple[list[Holder], tuple[int, int] | None]:
    """The holders recorded for `alias` and the document's (seq_no, primary_term); None when there is none."""
    try:
        answer = es.get(index=LOCK_INDEX, id=alias)
    except NotFoundError:
        return [], None
    return _holders(answer["_source"]), (answer["_seq_no"], answer["_primary_term"])


def holders(es: Elasticsearch, alias: str) -> list[Holder]:
    """The runs that hold `alias` now (expired and vanished ones left out), for display: none known when the lock
    index can't be read (a user without rights to it, its shard unavailable)."""
    now = time.time()
    try:
        recorded = _read(es, alias)[0]
    except ApiError:
        return []
    return [holder for holder in recorded if holder.alive(now)]


def _ensure_lock_index(es: Elasticsearch) -> None:
    """Create the lock index once; refuse an index of that name that this tool did not make."""
    try:
        es.indices.create(
            index=LOCK_INDEX,
            settings={"index.hidden": True, "number_of_shards": 1, "auto_expand_replicas": "0-1"},
            mappings={"dynamic": False, "_meta": LOCK_META, "properties": {"alias": {"type": "keyword"}}},
        )
    except ApiError as exc:
        if "resource_already_exists_exception" not in str(exc.info):
            raise
    meta = es.indices.get_mapping(index=LOCK_INDEX)[LOCK_INDEX]["mappings"].get("_meta")
    if meta != LOCK_META:
        raise ForeignIndex(
            f"the index {LOCK_INDEX}, where this tool keeps its locks, was not made by this tool",
            "rename or delete that index; the tool never writes into it as it is",
        )


class AliasLock:
    """Hold `alias` for one run: ``with AliasLock(es, alias, "shared", "index"): ...``.

    Raises :class:`Locked` on entry when another run's claim conflicts, and on leaving (or from :meth:`renew`)
    when this run's claim was lost: its lease ran out and another run took the alias meanwhile.
    """

    def __init__(self, es: Elasticsearch, alias: str, mode: Mode, command: str, lease: float = LEASE_SECONDS) -> None:
        self.es = es
        self.alias = check_alias(alias)
        self.mode: Mode = mode
        self.command = command
        self.lease = lease
        self._id = uuid.uuid4().hex
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost = False

    def _change(self, update: Callable[[list[Holder], float], list[Holder]]) -> None:
        """Write `update(holders, now)` over the recorded holders by compare and swap, retried when another run
        changed them first. The holders passed are the live ones and this run's own entry: an entry that is still
        recorded was never taken over, even when its lease ran out, since every write drops expired entries."""
        for _ in range(ATTEMPTS):
            recorded, version = _read(self.es, self.alias)
            now = time.time()
            wanted = update([h for h in recorded if h.id == self._id or h.alive(now)], now)
            body = {"alias": self.alias, "holders": [asdict(holder) for holder in wanted]}
            try:
                if version is None and not wanted:
                    return
                if version is None:
                    self.es.create(index=LOCK_INDEX, id=self.alias, document=body)
                elif wanted:
                    seq_no, term = version
                    self.es.index(
                        index=LOCK_INDEX, id=self.alias, document=body, if_seq_no=seq_no, if_primary_term=term
                    )
                else:
                    seq_no, term = version
                    self.es.delete(index=LOCK_INDEX, id=self.alias, if_seq_no=seq_no, if_primary_term=term)
                return
            except (ConflictError, NotFoundError):
                time.sleep(random.uniform(0.01, 0.1))
        raise Locked(f"the lock on {self.alias!r} changed {ATTEMPTS} times while this run tried to update it")

    def _claim(self, live: list[Holder], now: float) -> list[Holder]:
        rebuild = next((holder for holder in live if holder.mode == "exclusive"), None)
        if rebuild is not None and self.mode == "exclusive":
            raise Locked(f"{self.alias!r} is already being rebuilt by {rebuild.describe()}", self._hint("it has"))
        if rebuild is not None:
            raise Locked(
                f"{self.alias!r} is being rebuilt by {rebuild.describe()}: articles loaded now would be left behind "
                "in the old index",
                self._hint("the rebuild has"),
            )
        if self.mode == "exclusive" and live:
            raise Locked(
                f"{self.alias!r} is being loaded by {len(live)} run(s), e.g. {live[0].describe()}: a rebuild now "
                "would miss their articles",
                self._hint("they have"),
            )
        holder = Holder(self._id, self.mode, self.command, _machine(), os.getpid(), now, now + self.lease)
        return [*live, holder]

    def _hint(self, subject: str) -> str:
        return f"run again when {subject} finished; the claim of a run that crashed ends within {self.lease:g} s"

    def _extend(self, live: list[Holder], now: float) -> list[Holder]:
        if not any(holder.id == self._id for holder in live):
            self._lost = True
        if self._lost:
            raise self._lost_error()
        return [replace(h, expires=now + self.lease) if h.id == self._id else h for h in live]

    def _lost_error(self) -> Locked:
        return Locked(
            f"this run lost its claim on {self.alias!r}: its lease ran out and another run took the alias",
            "run it again: what is already indexed is skipped",
        )

    def acquire(self) -> AliasLock:
        """Claim the alias, or raise Locked naming the run that holds it; then keep the lease renewed."""
        _ensure_lock_index(self.es)
        self._change(self._claim)
        self._thread = threading.Thread(target=self._keep, name=f"lock-{self.alias}", daemon=True)
        self._thread.start()
        return self

    def renew(self) -> None:
        """Extend this run's lease now; Locked if the claim was lost."""
        self._change(self._extend)

    def _keep(self) -> None:
        while not self._stop.wait(self.lease / 4):
            try:
                self.renew()
            except Locked:
                return
            except Exception:  # the server is away for a moment: the next round tries again
                continue

    def release(self) -> None:
        """Give the claim up. When the server can't be reached, the lease ends it instead."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)  # a renewal stuck on a slow server can't put the claim back
        if self._lost:
            return
        try:
            self._change(lambda live, now: [holder for holder in live if holder.id != self._id])
        except Exception:  # the claim expires by itself; the run's own outcome matters more
            return

    def __enter__(self) -> AliasLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        lost = self._lost
        self.release()
        if lost and kind is None:
            raise self._lost_error()
