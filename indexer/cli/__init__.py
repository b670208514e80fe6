"""The `indexer` command line: a thin layer that wires options to the library modules.

One module per group of commands (:mod:`.nodes`, :mod:`.indexing`, :mod:`.searching`, :mod:`.measuring`,
:mod:`.dashboards`);
importing them registers their commands on :data:`.app.app`.
"""

from indexer.cli import dashboards, indexing, measuring, nodes, searching
from indexer.cli.app import app, main

__all__ = ["app", "dashboards", "indexing", "main", "measuring", "nodes", "searching"]
