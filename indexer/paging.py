"""Every hit of a search, a page at a time, over a point in time with ``search_after``.

The one way this package reads a whole index or result set: ``search --all`` exports, rebuilds from the old
index, benchmarks and tests. A point in time keeps the view consistent while the pages are fetched and memory
stays flat (one page at a time). It lives for ``keep_alive`` after each page: a reader that pauses longer than
that between two pages, or a server restart, loses it; the next page then fails with :class:`PagingCut`, which
says how many hits were delivered and what the server answered. The point in time is released on every path,
and releasing it never raises: an expired one is already gone, and one the server can't be asked to free
expires by itself, so nothing can hide the error that ended the paging.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import elastic_transport
from elasticsearch import ApiError, Elasticsearch, NotFoundError

from indexer.choices import KEEP_ALIVE
from indexer.client import api_reason
from indexer.errors import IndexerError

PAGE_SIZE = 1000


class PagingCut(IndexerError):
    """The pages stopped before the last one: the point in time expired, or the server failed.

    ``delivered`` hits (of ``total``, when counted) were handed out before; ``reason`` says what happened.
    """

    def __init__(self, delivered: int, total: int | None, keep_alive: str, cause: BaseException) -> None:
        self.delivered = delivered
        self.total = total
        self.keep_alive = keep_alive
        self.cause = cause
        self.expired = isinstance(cause, NotFoundError) and "search_context_missing" in _describe(cause)
        what = (
            f"the point in time expired (more than {keep_alive} passed between two pages, or the server restarted)"
            if self.expired
            else "the server failed"
        )
        self.reason = f"{what}: {_describe(cause)}"
        super().__init__(f"stopped after {self.progress}: {self.reason}")

    @property
    def progress(self) -> str:
        """``1,000 of 4,409 hits``."""
        return f"{self.delivered:,}" + (f" of {self.total:,}" if self.total is not None else "") + " hits"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ApiError):
        return f"HTTP {exc.meta.status}: {api_reason(exc)}"
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class Pages:
    """The pages of one search over a point in time; iterate once, or use as a context manager.

    The first page is fetched on creation (an error there is raised as the client raises it), so ``total`` is
    known up front when ``track_total_hits`` is set. ``delivered`` counts the hits of the pages handed out
    and consumed (the caller asked for the next page). `request` goes to every ``search`` (``query``,
    ``source_includes``, ``version``, ...); `sort` defaults to ``_shard_doc``, the cheapest full scan.
    """

    def __init__(
        self,
        es: Elasticsearch,
        index: str,
        *,
        size: int = PAGE_SIZE,
        keep_alive: str = KEEP_ALIVE,
        sort: Sequence[Any] = ("_shard_doc",),
        track_total_hits: bool = False,
        **request: Any,
    ) -> None:
        self._es = es
        self._size = size
        self._keep_alive = keep_alive
        self._request = {**request, "size": size, "sort": list(sort)}
        self.delivered = 0
        self._pit: str | None = es.open_point_in_time(index=index, keep_alive=keep_alive)["id"]
        try:
            first = self._search(track_total_hits=track_total_hits)
        except BaseException:
            self.close()
            raise
        self.total: int | None = first["hits"]["total"]["value"] if track_total_hits else None
        self._page: dict[str, Any] | None = first

    def _search(self, **extra: Any) -> dict[str, Any]:
        answer = dict(self._es.search(**self._request, pit={"id": self._pit, "keep_alive": self._keep_alive}, **extra))
        self._pit = answer.get("pit_id", self._pit)
        return answer

    def __iter__(self) -> Iterator[list[dict[str, Any]]]:
        try:
            while self._page is not None:
                hits = self._page["hits"]["hits"]
                self._page = None
                if not hits:
                    return
                yield hits
                self.delivered += len(hits)
                if len(hits) < self._size:
                    return
                try:
                    self._page = self._search(search_after=hits[-1]["sort"], track_total_hits=False)
                except (ApiError, elastic_transport.TransportError) as exc:
                    raise PagingCut(self.delivered, self.total, self._keep_alive, exc) from exc
        finally:
            self.close()

    def hits(self) -> Iterator[dict[str, Any]]:
        """The hits one by one."""
        for page in self:
            yield from page

    def close(self) -> None:
        """Release the point in time (idempotent; never raises, see the module docstring)."""
        self._page = None
        if self._pit is None:
            return
        pit, self._pit = self._pit, None
        with contextlib.suppress(ApiError, elastic_transport.TransportError):
            self._es.close_point_in_time(id=pit)

    def __enter__(self) -> Pages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
