"""Sending pre-serialized documents to Elasticsearch in byte-sized batches, several in flight, with retries.

Whole requests are retried with backoff on connection errors, timeouts and 429/502/503/504 answers (safe, since
every document carries its id and an external version); items the server rejects with 429 are re-sent after a
backoff. Every document ends in exactly one callback: indexed, or failed with the server's reason; except when
the sender aborts (the server stays away past the retry budget, or the index is blocked for writes, where every
further document would fail the same way): documents not yet answered then get no callback.

One document never costs its neighbours: a document at least as large as a batch is sent alone, and a request
the server refuses for its size (HTTP 413, or an indexing-pressure 429 ``…_operation_bytes=…``) is split in
halves and sent again at once, down to single documents; a single document larger than the server's limit is
failed alone, with the server's reason.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from indexer.client import api_reason
from indexer.connection import es_reason

RETRY_STATUSES = {429, 502, 503, 504}


@dataclass(frozen=True, slots=True)
class BulkDoc:
    """One document ready to send: its action and source lines (NDJSON) and an opaque key for the callback."""

    key: Any
    lines: bytes


Callback = Callable[[Any, str | None, int], None]
"""Called once per document with (key, error reason or None, HTTP status)."""


class BulkAborted(Exception):
    """The server stayed unreachable, kept failing for longer than the retry budget, or refused the request."""


class IndexBlocked(BulkAborted):
    """The index refuses writes: a write block, or the read-only block of the disk flood-stage watermark."""


BLOCK_HINTS = {
    "read-only-allow-delete": "free disk space on the nodes (Elasticsearch lifts this block by itself once disk use "
    "falls below the high watermark) or lift it: "
    'PUT /{index}/_settings {{"index.blocks.read_only_allow_delete": null}}',
    "index write": 'lift the block: PUT /{index}/_settings {{"index.blocks.write": null}}',
    "index read-only": 'lift the block: PUT /{index}/_settings {{"index.blocks.read_only": null}}',
}
"""What to do about each kind of index block, by a phrase of the server's reason."""


def _blocked(error: dict[str, Any], index: str) -> IndexBlocked:
    reason = es_reason(error)
    hint = next((hint for key, hint in BLOCK_HINTS.items() if key in reason), "lift the index block")
    return IndexBlocked(
        f"the index refuses writes ({reason}); {hint.format(index=index)}, then run again: indexed files are skipped"
    )


class _Refused(Exception):
    """The server refused a whole request for its size (413) or its indexing-pressure cost (429)."""

    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


_PRESSURE = re.compile(r"(\w+?)_operation_bytes=(\d+), max_\w+?_bytes=(\d+)")
"""Elasticsearch's indexing-pressure rejection: the operation's bytes and the limit they were measured against."""


def _pressure(reason: str) -> tuple[int, int] | None:
    """(operation bytes, limit) when `reason` is an indexing-pressure rejection."""
    match = _PRESSURE.search(reason)
    return (int(match.group(2)), int(match.group(3))) if match else None


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, elastic_transport.ConnectionError | elastic_transport.ConnectionTimeout):
        return True
    if not isinstance(exc, ApiError) or exc.meta.status not in RETRY_STATUSES:
        return False
    return _pressure(api_reason(exc)) is None


def _halves(docs: list[BulkDoc]) -> list[list[BulkDoc]]:
    middle = len(docs) // 2
    return [docs[:middle], docs[middle:]]


class BulkSender:
    """Buffers documents and sends them from a small thread pool; call :meth:`close` to flush and wait."""

    def __init__(
        self,
        es: Elasticsearch,
        on_result: Callback,
        batch_bytes: int = 5 * 1024 * 1024,
        in_flight: int = 3,
        retry_seconds: float = 120.0,
        item_retries: int = 8,
        request_timeout: float = 120.0,
    ) -> None:
        self._es = es.options(request_timeout=request_timeout, max_retries=0)
        self._request_timeout = request_timeout
        self._on_result = on_result
        self._batch_bytes = batch_bytes
        self._retry_seconds = retry_seconds
        self._item_retries = item_retries
        self._pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="bulk")
        self._slots = threading.BoundedSemaphore(in_flight + 1)
        self._buffer: list[BulkDoc] = []
        self._size = 0
        self._futures: list[Future[None]] = []
        self._error: BaseException | None = None
        self.requests = 0
        self.retried_requests = 0
        """Whole requests sent again after a connection error, timeout or 429/5xx answer."""
        self.retried_items = 0
        """Documents sent again after the server rejected them with 429 (write queue full)."""
        self.split_requests = 0
        """Requests split in halves because the server refused them for their size."""

    def add(self, doc: BulkDoc) -> None:
        self._check()
        if len(doc.lines) >= self._batch_bytes:
            self.flush()
            self._submit([doc])
            return
        self._buffer.append(doc)
        self._size += len(doc.lines)
        if self._size >= self._batch_bytes:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer, self._size = self._buffer, [], 0
        self._submit(batch)

    def _submit(self, batch: list[BulkDoc]) -> None:
        self._slots.acquire()
        self._check()
        future = self._pool.submit(self._send, batch)
        future.add_done_callback(self._done)
        self._futures = [f for f in self._futures if not f.done()] + [future]

    def close(self) -> None:
        """Flush, wait for every request; raise BulkAborted if any batch could not be delivered."""
        try:
            self.flush()
        finally:
            self.shutdown()
        self._check()

    def shutdown(self) -> None:
        """Send nothing more and wait for the requests in flight, so every answer is in before the caller counts."""
        self._pool.shutdown(wait=True)

    def _check(self) -> None:
        if isinstance(self._error, BulkAborted):
            raise self._error
        if self._error is not None:
            raise BulkAborted(f"{type(self._error).__name__}: {self._error}") from self._error

    def _done(self, future: Future[None]) -> None:
        self._slots.release()
        error = future.exception()
        if error is not None and self._error is None:
            self._error = error

    def _post(self, batch: list[BulkDoc]) -> dict[str, Any]:
        body = b"".join(doc.lines for doc in batch)
        try:
            for attempt in Retrying(
                retry=retry_if_exception(_retryable),
                wait=wait_exponential(multiplier=0.5, max=15),
                stop=stop_after_delay(self._retry_seconds),
                before_sleep=self._count_retry,
                reraise=True,
            ):
                with attempt:
                    self.requests += 1
                    return self._es.bulk(operations=body).body  # type: ignore[arg-type]  # NDJSON bytes, sent as they are
        except elastic_transport.ConnectionTimeout as exc:
            raise BulkAborted(
                f"no answer within {self._request_timeout:g} s, still none after retrying for "
                f"{self._retry_seconds:g} s ({self.retried_requests} retries)"
            ) from exc
        except ApiError as exc:
            reason = api_reason(exc)
            if exc.meta.status == 413:
                raise _Refused("HTTP 413, over the server's http.max_content_length", 413) from exc
            if exc.meta.status == 429 and _pressure(reason):
                raise _Refused(reason, 429) from exc
            retried = f" after retrying for {self._retry_seconds:g} s" if _retryable(exc) else ""
            raise BulkAborted(f"{type(exc).__name__}{retried}: {exc}") from exc
        except elastic_transport.ConnectionError as exc:
            raise BulkAborted(f"{type(exc).__name__} after retrying for {self._retry_seconds:g} s: {exc}") from exc
        raise AssertionError("unreachable")

    def _count_retry(self, _: object) -> None:
        self.retried_requests += 1

    def _send(self, batch: list[BulkDoc]) -> None:
        """Deliver `batch`: each document gets its callback, or the sender aborts (see the module docstring)."""
        work = [(batch, 0)]
        while work:
            docs, round_ = work.pop()
            try:
                answer = self._post(docs)
            except _Refused as refused:
                work += self._split_or_fail(docs, round_, refused.reason, refused.status)
                continue
            throttled: list[BulkDoc] = []
            pressure = ""
            blocked: tuple[dict[str, Any], str] | None = None
            for doc, item in zip(docs, answer["items"], strict=True):
                result = next(iter(item.values()))
                status = result.get("status", 500)
                error = result.get("error")
                if isinstance(error, dict) and error.get("type") == "cluster_block_exception":
                    blocked = error, result.get("_index", "<index>")
                elif status == 429 and _pressure(es_reason(error)):
                    throttled.append(doc)
                    pressure = es_reason(error)
                elif status == 429 and round_ < self._item_retries:
                    throttled.append(doc)
                elif error:
                    self._on_result(doc.key, es_reason(error), status)
                else:
                    self._on_result(doc.key, None, status)
            if blocked:
                raise _blocked(*blocked)
            if pressure:
                work += self._split_or_fail(throttled, round_, pressure, 429)
            elif throttled:
                self.retried_items += len(throttled)
                time.sleep(min(30.0, 0.5 * 2**round_))
                work.append((throttled, round_ + 1))

    def _split_or_fail(
        self, docs: list[BulkDoc], round_: int, reason: str, status: int
    ) -> list[tuple[list[BulkDoc], int]]:
        """The work left after the server refused `docs` for their size or cost: both halves, sent again at once;
        a single document is failed when it alone is over the server's limit, and retried after a backoff when
        the server is merely busy (until the item retries run out)."""
        if len(docs) > 1:
            self.split_requests += 1
            return [(half, round_) for half in _halves(docs)]
        pressure = _pressure(reason)
        oversized = status == 413 or (pressure is not None and pressure[0] > pressure[1])
        if not oversized and round_ < self._item_retries:
            self.retried_items += 1
            time.sleep(min(30.0, 0.5 * 2**round_))
            return [(docs, round_ + 1)]
        self._on_result(docs[0].key, ("too large for the server: " if oversized else "") + reason, status)
        return []
