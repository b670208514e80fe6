"""The `indexer` command line: a thin layer that wires options to the library modules.

One module per group of commands (:mod:`.nodes`, :mod:`.indexing`, :mod:`.searching`, :mod:`.dashboards`,
:mod:`.variants`, :mod:`.evidence`);
importing them registers their commands on :data:`.app.app`.
"""

from indexer.cli import dashboards, evidence, indexing, nodes, searching, variants
from indexer.cli.app import app, main

__all__ = ["app", "dashboards", "evidence", "indexing", "main", "nodes", "searching", "variants"]
