"""Reading an alias without elasticsearch-py: what every reader of an alias does before its requests
(:class:`AliasReader`: parsing queries with the configured time zone and regional spellings, the rank-free query
of counts, the stale-index warning) and :class:`LightCounter`, the exact count of ``indexer search --count`` over
the standard library's HTTP client (:class:`indexer.connection.LightClient`).

:class:`indexer.search.Searcher` is the other reader, over elasticsearch-py, for everything else. Both send the
same requests for a count, through the same ownership check of the alias (:func:`indexer.lifecycle.owned`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from indexer import lifecycle
from indexer.config import Settings
from indexer.connection import LightClient
from indexer.errors import ConfigError, IndexMissing, QueryError
from indexer.mapping import IndexMeta
from indexer.names import check_alias
from indexer.query import Query, matching_dsl, parse

if TYPE_CHECKING:
    from indexer.variants import VariantTable


class AliasReader(ABC):
    """Queries against the index behind an alias: the parts that don't depend on the client."""

    def __init__(self, settings: Settings, index: str | None = None) -> None:
        self.settings = settings
        self.index = index or settings.index
        self._variants: VariantTable | None = None

    @abstractmethod
    def indices(self) -> dict[str, IndexMeta]:
        """The indices behind the alias and what each was built with (raises IndexMissing when there is none)."""

    @property
    @abstractmethod
    def analysis_version(self) -> str:
        """The analysis version of this reader's segmenter (:attr:`indexer.segment.Segmenter.version`)."""

    @abstractmethod
    def count(self, query: Query) -> int:
        """The exact number of matching articles."""

    def parse(
        self,
        text: str,
        outlets: Sequence[str] = (),
        date_from: str | None = None,
        date_to: str | None = None,
        allow_empty: bool = False,
    ) -> Query:
        """Parse query text with the configured time zone and regional spellings (see :func:`indexer.query.parse`)."""
        return parse(text, self.settings.timezone, outlets, date_from, date_to, allow_empty, self._spellings)

    def variant_table(self) -> VariantTable:
        """The regional spellings table with the configured variants file, loaded on first use.

        Raises QueryError without the ``variants`` extra, ConfigError for a variants file that can't be used.
        """
        from indexer.variants import VariantFileError, VariantsUnavailable, load_table

        if self._variants is None:
            path = self.settings.variants_file
            try:
                self._variants = load_table(self.settings.cache_dir, path)
            except VariantsUnavailable as exc:
                raise QueryError(str(exc)) from None
            except VariantFileError as exc:
                raise ConfigError(str(exc), "fix the file or unset variants_file") from None
            except OSError as exc:
                raise ConfigError(f"cannot read the variants file {path}: {exc.strerror or exc}") from None
        return self._variants

    def _spellings(self, term: str) -> list[str]:
        return self.variant_table().spellings(term)

    def _matching(self, query: Query) -> dict[str, Any]:
        """The query of counts and aggregations (:func:`indexer.query.matching_dsl`)."""
        return matching_dsl(query)

    def version_warning(self) -> str | None:
        """Why results may be off when the index was built with another mapping or analysis version (dictionaries,
        normalization rules) than this reader uses; None when they agree, or when the index doesn't exist."""
        try:
            behind = self.indices()
        except IndexMissing:
            return None
        reasons = {
            f"{name} was {reason}"
            for name, meta in behind.items()
            if (reason := lifecycle.stale_reason(meta, self.analysis_version))
        }
        if not reasons:
            return None
        return (
            f"{'; '.join(sorted(reasons))}: matches may be missed and ranking be off; "
            f"rebuild it with `indexer reindex --index {self.index}`"
        )


class LightCounter(AliasReader):
    """Exact counts over the standard library's HTTP client: no elasticsearch-py, no segmenter dictionary."""

    def __init__(self, settings: Settings, index: str | None = None) -> None:
        super().__init__(settings, index)
        self.client = LightClient(settings)
        self._behind: dict[str, IndexMeta] | None = None
        self._version: str | None = None

    def indices(self) -> dict[str, IndexMeta]:
        if self._behind is None:
            check_alias(self.index)
            answer = self.client.call(
                "GET", f"/{quote(self.index, safe='')}?features={lifecycle.OWNERSHIP_FEATURES}", none_if_missing=True
            )
            self._behind = lifecycle.required(self.index, lifecycle.owned(self.index, answer))
        return dict(self._behind)

    @property
    def analysis_version(self) -> str:
        if self._version is None:
            from indexer.analysis_version import analysis_version

            self._version = analysis_version(self.settings.user_dict, self.settings.cache_dir)
        return self._version

    def count(self, query: Query) -> int:
        self.indices()
        answer = self.client.call("POST", f"/{quote(self.index, safe='')}/_count", {"query": self._matching(query)})
        return int(answer["count"])

    def close(self) -> None:
        self.client.close()
