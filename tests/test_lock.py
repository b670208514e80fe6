"""The alias lock on the real node: shared by loads, exclusive for a rebuild, leases that end for crashed runs."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict

import pytest
from elasticsearch import Elasticsearch

from indexer import lock
from indexer.errors import ForeignIndex, Locked
from indexer.lock import LOCK_INDEX, AliasLock, Holder


@pytest.fixture
def locked(es: Elasticsearch, alias: str) -> Iterator[str]:
    """`alias`, with whatever lock document a test leaves removed afterwards."""
    yield alias
    es.options(ignore_status=404).delete(index=LOCK_INDEX, id=alias)


def _record(es: Elasticsearch, alias: str, *holders: Holder) -> None:
    """Write holders as another run would have left them."""
    es.index(index=LOCK_INDEX, id=alias, document={"alias": alias, "holders": [asdict(h) for h in holders]})


def _holder(mode: lock.Mode, machine: str, pid: int, expires_in: float) -> Holder:
    now = time.time()
    return Holder(
        f"{machine}-{pid}", mode, "reindex" if mode == "exclusive" else "index", machine, pid, now, now + expires_in
    )


def test_loads_share_the_alias_and_a_rebuild_waits_for_none_of_them(es: Elasticsearch, locked: str) -> None:
    with AliasLock(es, locked, "shared", "index"), AliasLock(es, locked, "shared", "index"):
        assert [h.mode for h in lock.holders(es, locked)] == ["shared", "shared"]
        with pytest.raises(Locked, match="being loaded by 2 run"):
            AliasLock(es, locked, "exclusive", "reindex").acquire()
    assert lock.holders(es, locked) == []
    assert not es.exists(index=LOCK_INDEX, id=locked), "the last release removes the document"


def test_a_rebuild_holds_the_alias_alone(es: Elasticsearch, locked: str) -> None:
    with AliasLock(es, locked, "exclusive", "reindex"):
        with pytest.raises(Locked, match="is being rebuilt by `indexer reindex`"):
            AliasLock(es, locked, "shared", "index").acquire()
        with pytest.raises(Locked, match="already being rebuilt"):
            AliasLock(es, locked, "exclusive", "reindex").acquire()
    with AliasLock(es, locked, "shared", "index"):
        pass


def test_the_claims_of_crashed_runs_end(es: Elasticsearch, locked: str) -> None:
    lock._ensure_lock_index(es)
    here = lock._machine()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    _record(es, locked, _holder("exclusive", "elsewhere", 1, -1), _holder("exclusive", here, int(dead.stdout), 60))
    with AliasLock(es, locked, "exclusive", "reindex"):  # one lease ran out, one process is gone
        pass
    _record(es, locked, _holder("exclusive", "elsewhere", 1, 60))
    with pytest.raises(Locked, match="pid 1 on elsewhere"):
        AliasLock(es, locked, "shared", "index").acquire()


def test_a_lease_is_renewed_while_the_run_lives_and_a_lost_claim_is_reported(es: Elasticsearch, locked: str) -> None:
    held = AliasLock(es, locked, "shared", "index", lease=2.0).acquire()
    try:
        time.sleep(3)  # longer than the lease: the renewing thread kept it
        assert [h.expires > time.time() for h in lock.holders(es, locked)] == [True]
        _record(es, locked, _holder("exclusive", "elsewhere", 1, 60))  # another run took it over
        with pytest.raises(Locked, match="lost its claim"):
            held.renew()
    finally:
        held.release()


def test_an_index_of_the_lock_name_that_is_not_ours_is_refused(es: Elasticsearch, locked: str) -> None:
    assert not lock.holders(es, locked)
    es.indices.delete(index=LOCK_INDEX, ignore_unavailable=True)
    es.indices.create(index=LOCK_INDEX)
    try:
        with pytest.raises(ForeignIndex, match=LOCK_INDEX):
            AliasLock(es, locked, "shared", "index").acquire()
    finally:
        es.indices.delete(index=LOCK_INDEX)
