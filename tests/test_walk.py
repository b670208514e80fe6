"""Finding article files: patterns, partitions, symlink loops, unreadable entries."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from indexer.errors import IndexerError
from indexer.walk import Candidate, Partition, Skipped, walk


def _tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_folders_are_walked_for_articles_in_a_stable_order(tmp_path: Path) -> None:
    _tree(tmp_path, ["b/2.md", "a/1.md", "a/notes.txt", "README.md", "c/README.md", "c/3.md"])
    found = [item.key for item in walk([tmp_path]) if isinstance(item, Candidate)]
    assert found == ["a/1.md", "b/2.md", "c/3.md"]


def test_a_file_named_on_the_command_line_is_always_taken(tmp_path: Path) -> None:
    _tree(tmp_path, ["README.md"])
    assert [item.key for item in walk([tmp_path / "README.md"])] == ["README.md"]


def test_missing_paths_are_an_error_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(IndexerError, match=r"no such file or folder: .*nope"):
        list(walk([tmp_path / "nope"]))


def test_symlink_loops_are_entered_once_and_reported(tmp_path: Path) -> None:
    _tree(tmp_path, ["a/1.md"])
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    os.symlink(tmp_path / "a" / "self.md", tmp_path / "a" / "self.md")
    items = list(walk([tmp_path]))
    candidates = [item.key for item in items if isinstance(item, Candidate)]
    skipped = [item for item in items if isinstance(item, Skipped)]
    assert candidates == ["a/1.md", "a/self.md"]
    assert len(skipped) == 1 and "already visited" in skipped[0].reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list any folder")
def test_an_unreadable_folder_is_reported(tmp_path: Path) -> None:
    _tree(tmp_path, ["locked/1.md", "open/2.md"])
    (tmp_path / "locked").chmod(0)
    try:
        items = list(walk([tmp_path]))
    finally:
        (tmp_path / "locked").chmod(0o755)
    assert [i.key for i in items if isinstance(i, Candidate)] == ["open/2.md"]
    assert any(isinstance(i, Skipped) and "cannot list" in i.reason for i in items)


def test_partitions_are_disjoint_and_cover_everything(tmp_path: Path) -> None:
    _tree(tmp_path, [f"d{i % 7}/{i}.md" for i in range(300)])
    everything = {item.key for item in walk([tmp_path])}
    shares = [{item.key for item in walk([tmp_path], partition=Partition(k, 3))} for k in (1, 2, 3)]
    assert set.union(*shares) == everything
    assert sum(len(share) for share in shares) == len(everything)
    assert all(len(share) > 50 for share in shares)


@pytest.mark.parametrize("text", ["0/3", "4/3", "x", "1/0", "1-3"])
def test_bad_partitions_are_refused(text: str) -> None:
    with pytest.raises(IndexerError, match="partition"):
        Partition.parse(text)
