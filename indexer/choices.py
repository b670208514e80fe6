"""The closed sets of values the commands take (sort orders, periods, countable fields, groupings, measures) and
the defaults their options show: what the command line names in its signatures, importable without the
Elasticsearch client or the modules that use them."""

from __future__ import annotations

from typing import Literal

Sort = Literal["relevance", "newest", "oldest"]
Interval = Literal["day", "week", "month", "year"]
TermField = Literal["person", "place", "org", "outlet", "region", "kind", "keyword"]
KEEP_ALIVE = "5m"
"""How long a point in time lives after each page (Elasticsearch time units: 30s, 5m, 1h)."""
By = Literal["outlet", "region"]
"""What `compare --by` splits periods by and `collocates --by` groups lists by."""
CoverageInterval = Literal["day", "week", "month"]
KwicSort = Literal["date", "left", "right", "outlet"]
KWIC_WIDTH = 20
"""Characters of context on each side of a concordance line."""
Measure = Literal["logdice", "ll", "mi"]
MAX_ARTICLES = 2_000
"""Beyond this many matching articles, collocates and keyness analyse a uniform sample of this many."""
