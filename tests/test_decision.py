"""The ingest decision as a pure function: no Elasticsearch, no files."""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta

from indexer.decision import MAX_MILLIS, TIEBREAK_BITS, Incoming, Stored, decide, version_of

T0 = datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def _incoming(path: str, sha1: str, published: datetime | None = T0, size: int = 10, mtime: int = 1) -> Incoming:
    return Incoming(path, sha1, published, size, mtime)


def _stored(item: Incoming, version: int | None = None, exists: bool = True) -> Stored:
    """What the index holds after `item` was indexed."""
    return Stored(
        version=version_of(item.published_at, item.sha1) if version is None else version,
        sha1=item.sha1,
        path=item.path,
        published_at=item.published_at,
        size=item.size,
        mtime_ns=item.mtime_ns,
        path_exists=exists,
    )


def _winner(files: list[Incoming]) -> str:
    """Load `files` (same article) one after another, as separate runs would: the path the index keeps."""
    stored: Stored | None = None
    for item in files:
        decision = decide(item, stored)
        if decision.action == "index":
            assert stored is None or decision.version >= stored.version, "Elasticsearch would refuse the write"
            stored = _stored(item, decision.version)
    assert stored is not None and stored.path is not None
    return stored.path


def test_a_new_article_is_indexed_with_its_version() -> None:
    item = _incoming("/a.md", _sha("a"))
    assert decide(item, None).action == "index"
    assert decide(item, None).version == version_of(T0, item.sha1)


def test_same_content_same_path_size_and_mtime_is_unchanged() -> None:
    item = _incoming("/a.md", _sha("a"))
    assert decide(item, _stored(item)).action == "unchanged"


def test_same_content_with_new_file_times_is_unchanged_and_records_them() -> None:
    item = _incoming("/a.md", _sha("a"))
    assert decide(_incoming("/a.md", item.sha1, mtime=2), _stored(item)).action == "touch"


def test_same_content_elsewhere_is_moved_and_names_the_stored_path() -> None:
    item = _incoming("/old/a.md", _sha("a"))
    decision = decide(_incoming("/new/a.md", item.sha1), _stored(item, exists=False))
    assert decision.action == "moved" and "/old/a.md" in decision.detail


def test_an_edit_replaces_the_stored_version_even_with_an_older_publish_time() -> None:
    stored = _stored(_incoming("/a.md", _sha("a")))
    edit = _incoming("/a.md", _sha("b"), T0 - timedelta(days=1))
    decision = decide(edit, stored)
    assert decision.action == "index" and decision.version >= stored.version


def test_an_edit_of_a_moved_file_replaces_it_when_the_stored_file_is_gone() -> None:
    stored = _stored(_incoming("/old/a.md", _sha("a")), exists=False)
    assert decide(_incoming("/new/a.md", _sha("b"), T0 - timedelta(days=1)), stored).action == "index"


def test_of_two_files_of_one_article_the_newer_publish_time_wins_in_either_order() -> None:
    older = _incoming("/older.md", _sha("old"), T0)
    newer = _incoming("/newer.md", _sha("new"), T0 + timedelta(minutes=10))
    assert _winner([older, newer]) == _winner([newer, older]) == "/newer.md"
    decision = decide(older, _stored(newer))
    assert decision.action == "duplicate" and "/newer.md" in decision.detail and "newer" in decision.detail


def test_a_dated_file_beats_an_undated_one() -> None:
    dated = _incoming("/dated.md", "0" * 40, T0)
    undated = _incoming("/undated.md", "f" * 40, None)
    assert _winner([dated, undated]) == _winner([undated, dated]) == "/dated.md"


def test_ties_on_publish_time_are_decided_by_the_full_hash_whatever_the_order() -> None:
    """Pairs whose hashes agree on the first TIEBREAK_BITS bits get equal versions; the full hash still decides
    (with `sha1 % 1000` alone, about one tie in a thousand depended on the order)."""
    prefix = "abcdef0123"
    for low, high in [("0" * 30, "f" * 30), ("1" + "0" * 29, "1" + "0" * 28 + "1")]:
        first, second = _incoming("/1.md", prefix + low), _incoming("/2.md", prefix + high)
        assert version_of(T0, first.sha1) == version_of(T0, second.sha1)
        assert _winner([first, second]) == _winner([second, first]) == "/2.md"
        assert "content hash" in decide(first, _stored(second)).detail


def test_many_copies_of_one_article_keep_the_same_file_in_every_order() -> None:
    files = [_incoming(f"/{n}.md", _sha(f"revision {n}"), T0 + timedelta(seconds=n % 2)) for n in range(6)]
    winners = {_winner(list(order)) for order in itertools.permutations(files)}
    assert len(winners) == 1


def test_versions_follow_time_then_hash_and_fit_a_signed_64_bit_long() -> None:
    assert version_of(T0, "0" * 40) < version_of(T0, "f" * 40) < version_of(T0 + timedelta(milliseconds=1), "0" * 40)
    latest = datetime(2099, 12, 31, 23, 59, 59, 999000, tzinfo=UTC)
    assert version_of(latest, "f" * 40) < 2**63
    assert version_of(datetime(3000, 1, 1, tzinfo=UTC), "f" * 40) == MAX_MILLIS << TIEBREAK_BITS | (2**21 - 1)
    assert version_of(None, "f" * 40) < version_of(datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC), "0" * 40)
