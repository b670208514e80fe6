"""Index and search archives of Chinese-language news articles with Elasticsearch.

The public API, for scripts (docs/search.md shows it at work)::

    from indexer import IngestOptions, Searcher, index, load_settings, parse_file

    settings = load_settings()                      # config file and environment, as the CLI reads them
    article = parse_file("dw/2020-10/dw-54150809.md")
    summary = index(settings, ["archive/"], IngestOptions(workers=2))
    searcher = Searcher(settings)
    print(searcher.count(searcher.parse("疫苗 outlet:dw")))

Everything else is reachable through the submodules; these names are the ones kept stable.
"""

__version__ = "0.1.0"
# Set before the imports below: indexer.mapping reads it while this package is still initializing.

from indexer.article import Article
from indexer.config import Settings, load_settings
from indexer.errors import IndexerError
from indexer.ingest import IngestOptions, Summary
from indexer.ingest import ingest as index
from indexer.parser import ParseError, parse_bytes, parse_file
from indexer.search import Hit, Page, Searcher

__all__ = [
    "Article",
    "Hit",
    "IndexerError",
    "IngestOptions",
    "Page",
    "ParseError",
    "Searcher",
    "Settings",
    "Summary",
    "__version__",
    "index",
    "load_settings",
    "parse_bytes",
    "parse_file",
]
