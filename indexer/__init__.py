"""Index and search archives of Chinese-language news articles with Elasticsearch.

The public API, for scripts (docs/search.md shows it at work)::

    from indexer import IngestOptions, Searcher, index, load_settings, parse_file

    settings = load_settings()                      # config file and environment, as the CLI reads them
    article = parse_file("dw/2020-10/dw-54150809.md")
    summary = index(settings, ["archive/"], IngestOptions(workers=2))
    searcher = Searcher(settings)
    print(searcher.count(searcher.parse("疫苗 outlet:dw")))

Everything else is reachable through the submodules; these names are the ones kept stable. They are imported
on first use, so ``import indexer.config`` (or a CLI command) doesn't load Elasticsearch's client, the parser
and the segmenter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_PUBLIC = {
    "Article": ("indexer.article", "Article"),
    "Hit": ("indexer.search", "Hit"),
    "IndexerError": ("indexer.errors", "IndexerError"),
    "IngestOptions": ("indexer.ingest", "IngestOptions"),
    "Page": ("indexer.search", "Page"),
    "ParseError": ("indexer.parser", "ParseError"),
    "Searcher": ("indexer.search", "Searcher"),
    "Settings": ("indexer.config", "Settings"),
    "Summary": ("indexer.ingest", "Summary"),
    "index": ("indexer.ingest", "ingest"),
    "load_settings": ("indexer.config", "load_settings"),
    "parse_bytes": ("indexer.parser", "parse_bytes"),
    "parse_file": ("indexer.parser", "parse_file"),
}
"""Public name → (module, attribute)."""

__all__ = ["__version__", *_PUBLIC]

if TYPE_CHECKING:  # the same names for type checkers (``X as X``: a re-export)
    from indexer.article import Article as Article
    from indexer.config import Settings as Settings
    from indexer.config import load_settings as load_settings
    from indexer.errors import IndexerError as IndexerError
    from indexer.ingest import IngestOptions as IngestOptions
    from indexer.ingest import Summary as Summary
    from indexer.ingest import ingest as index  # noqa: F401 (re-exported under its public name)
    from indexer.parser import ParseError as ParseError
    from indexer.parser import parse_bytes as parse_bytes
    from indexer.parser import parse_file as parse_file
    from indexer.search import Hit as Hit
    from indexer.search import Page as Page
    from indexer.search import Searcher as Searcher


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _PUBLIC[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})
