"""Sending pre-serialized documents to Elasticsearch in byte-sized batches, several in flight, with retries.

Whole requests are retried with backoff on connection errors, timeouts and 429/502/503/504 answers (safe, since
every document carries its id and an external version); items the server rejects with 429 are re-sent after a
backoff. Every document ends in exactly one callback: indexed, or failed with the server's reason.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

RETRY_STATUSES = {429, 502, 503, 504}


@dataclass(frozen=True, slots=True)
class BulkDoc:
    """One document ready to send: its action and source lines (NDJSON) and an opaque key for the callback."""

    key: Any
    lines: bytes


Callback = Callable[[Any, str | None, int], None]
"""Called once per document with (key, error reason or None, HTTP status)."""


class BulkAborted(Exception):
    """The server stayed unreachable or kept failing for longer than the retry budget."""


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, elastic_transport.ConnectionError | elastic_transport.ConnectionTimeout):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in RETRY_STATUSES


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
        self.retried_items = 0

    def add(self, doc: BulkDoc) -> None:
        self._check()
        self._buffer.append(doc)
        self._size += len(doc.lines)
        if self._size >= self._batch_bytes:
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        batch, self._buffer, self._size = self._buffer, [], 0
        self._slots.acquire()
        self._check()
        future = self._pool.submit(self._send, batch)
        future.add_done_callback(self._done)
        self._futures = [f for f in self._futures if not f.done()] + [future]

    def close(self) -> None:
        """Flush, wait for every request; raise BulkAborted if any batch could not be delivered."""
        try:
            self.flush()
            for future in list(self._futures):
                future.exception()
        finally:
            self._pool.shutdown(wait=True)
        self._check()

    def _check(self) -> None:
        if self._error is not None:
            raise BulkAborted(str(self._error)) from self._error

    def _done(self, future: Future[None]) -> None:
        self._slots.release()
        error = future.exception()
        if error is not None and self._error is None:
            self._error = error

    def _post(self, batch: list[BulkDoc]) -> dict[str, Any]:
        body = b"".join(doc.lines for doc in batch)
        for attempt in Retrying(
            retry=retry_if_exception(_retryable),
            wait=wait_exponential(multiplier=0.5, max=15),
            stop=stop_after_delay(self._retry_seconds),
            reraise=True,
        ):
            with attempt:
                self.requests += 1
                return self._es.bulk(operations=body).body
        raise AssertionError("unreachable")

    def _send(self, batch: list[BulkDoc]) -> None:
        pending = batch
        for round_ in range(self._item_retries + 1):
            answer = self._post(pending)
            throttled = []
            for doc, item in zip(pending, answer["items"], strict=True):
                result = next(iter(item.values()))
                status = result.get("status", 500)
                if status == 429 and round_ < self._item_retries:
                    throttled.append(doc)
                elif "error" in result:
                    self._on_result(doc.key, _reason(result["error"]), status)
                else:
                    self._on_result(doc.key, None, status)
            if not throttled:
                return
            self.retried_items += len(throttled)
            time.sleep(min(30.0, 0.5 * 2**round_))
            pending = throttled


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        return f"{reason} ({cause.get('reason', '')})" if isinstance(cause, dict) else reason
    return str(error)
