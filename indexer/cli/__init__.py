"""The `indexer` command line: a thin layer that wires options to the library modules.

One module per group of commands (:mod:`.nodes`, :mod:`.indexing`, :mod:`.searching`, :mod:`.measuring`,
:mod:`.coverage`, :mod:`.evidence`, :mod:`.analysis`, :mod:`.variants`, :mod:`.dashboards`); importing them
registers their commands on :data:`.app.app`.
"""

from indexer.cli import analysis, coverage, dashboards, evidence, indexing, measuring, nodes, searching, variants
from indexer.cli.app import app, main

__all__ = [
    "analysis",
    "app",
    "coverage",
    "dashboards",
    "evidence",
    "indexing",
    "main",
    "measuring",
    "nodes",
    "searching",
    "variants",
]
