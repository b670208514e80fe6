"""The progress bar of `indexer index` and `reindex` (its own module: only those commands load rich.progress)."""

from __future__ import annotations

import time

import rich.progress

from indexer.cli.app import err_console
from indexer.ingest import Progress


class RichProgress(Progress):
    """A progress bar with files/s and documents/s for ingest runs."""

    def __init__(self, label: str) -> None:
        self._bar = rich.progress.Progress(
            rich.progress.TextColumn("{task.description}"),
            rich.progress.BarColumn(),
            rich.progress.MofNCompleteColumn(),
            rich.progress.TextColumn("{task.fields[rates]}"),
            rich.progress.TimeElapsedColumn(),
            rich.progress.TimeRemainingColumn(),
            console=err_console.real,
            transient=False,
        )
        self._label = label
        self._task: rich.progress.TaskID | None = None
        self._counts = {"indexed": 0, "unchanged": 0, "rejected": 0}
        self._started = time.monotonic()

    def start(self, total: int | None) -> None:
        if self._task is None:
            self._bar.start()
        else:
            self._bar.remove_task(self._task)
        self._counts = dict.fromkeys(self._counts, 0)
        self._started = time.monotonic()
        self._task = self._bar.add_task(self._label, total=total, rates="")

    def expect(self, total: int) -> None:
        if self._task is not None:
            self._bar.update(self._task, total=total)

    def advance(self, status: str) -> None:
        self._counts[status] += 1
        elapsed = max(time.monotonic() - self._started, 1e-6)
        done = sum(self._counts.values())
        rates = (
            f"{done / elapsed:,.0f} files/s · {self._counts['indexed'] / elapsed:,.0f} docs/s · "
            f"{self._counts['unchanged']:,} unchanged · {self._counts['rejected']:,} rejected"
        )
        assert self._task is not None
        self._bar.update(self._task, advance=1, rates=rates)

    def stop(self) -> None:
        if self._task is not None:  # a bar never started would still print an empty line
            self._bar.stop()
