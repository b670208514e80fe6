"""The closed sets of values searches take (sort orders, histogram periods, countable fields) and the export's
keep-alive default: what the command line names in its options, importable without the Elasticsearch client."""

from __future__ import annotations

from typing import Literal

Sort = Literal["relevance", "newest", "oldest"]
Interval = Literal["day", "week", "month", "year"]
TermField = Literal["person", "place", "org", "outlet", "keyword"]
KEEP_ALIVE = "5m"
"""How long a point in time lives after each page (Elasticsearch time units: 30s, 5m, 1h)."""
