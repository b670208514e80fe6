"""Index and alias names: the one check every alias passes, and the versioned index names this tool creates.

An alias is what users name (``news``); behind it sit versioned indices ``<alias>-m<mapping version>-d<analysis
version>-g<generation>`` (``news-m3-d9685aa6c-g2``). The check refuses what Elasticsearch forbids in a name and
what would make one name reach other indices: wildcards, commas, ``_all`` and other names starting with ``_``,
``-`` (an exclusion) or ``+``.
"""

from __future__ import annotations

import re
import unicodedata

from indexer.errors import InvalidName, echo
from indexer.mapping import load_template

MAX_NAME_BYTES = 255
"""Elasticsearch's limit for index and alias names (UTF-8 bytes)."""
SUFFIX_BYTES = 24
"""Room kept for the versioned suffix, e.g. ``-m999-d12345678-g999999``."""
MAX_ALIAS_BYTES = MAX_NAME_BYTES - SUFFIX_BYTES
FORBIDDEN = '\\/"<>|#:'
"""Characters Elasticsearch refuses in names, besides those handled on their own (wildcards, comma, space)."""
LEADING = {
    "_": "names starting with _ are Elasticsearch's own (_all, _doc ...)",
    "-": "a leading - means 'all but this' to Elasticsearch",
    "+": "Elasticsearch forbids a leading +",
}
_VERSIONED = re.compile(r"(?P<alias>.+)-m(?P<mapping>\d+)-d(?P<analysis>[^/]{1,8})-g(?P<generation>\d+)")
NAME_HINT = "use lower-case letters, digits, - and _, e.g. news"


def _problem(name: str) -> str | None:
    """What makes `name` unusable as an alias, or None."""
    if not name:
        return "it is empty"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "it is not valid UTF-8"
    if any(unicodedata.category(char).startswith("C") for char in name):
        return "it holds control or invisible characters"
    if any(char in "*?" for char in name):
        return "a wildcard (* or ?) would reach other indices"
    if "," in name:
        return "a comma would name several indices"
    if any(char.isspace() for char in name):
        return "it holds a space"
    bad = sorted({char for char in name if char in FORBIDDEN})
    if bad:
        return f"Elasticsearch forbids {' '.join(bad)} in names"
    if name[0] in LEADING:
        return LEADING[name[0]]
    if name in {".", ".."} or name.startswith("."):
        return "names starting with . are for hidden and system indices"
    if name != name.lower():
        return "Elasticsearch names are lower case"
    if size > MAX_ALIAS_BYTES:
        return f"it is {size} bytes long; at most {MAX_ALIAS_BYTES} are allowed (the index names add a suffix)"
    return None


def check_alias(name: str) -> str:
    """`name` if it can be an alias this tool reads and writes through; else InvalidName, one line naming why."""
    problem = _problem(name)
    if problem:
        raise InvalidName(f"{echo(name)} can't be an index alias: {problem}", NAME_HINT)
    return name


def index_name(alias: str, analysis_version: str, generation: int) -> str:
    """The versioned index for `generation` of `alias`, with this indexer's mapping version."""
    return f"{alias}-m{load_template().version}-d{analysis_version[:8]}-g{generation}"


def generation_of(alias: str, name: str) -> int | None:
    """The generation when `name` is a versioned index of `alias`, else None."""
    match = _VERSIONED.fullmatch(name)
    return int(match["generation"]) if match and match["alias"] == alias else None


def alias_of(name: str) -> str | None:
    """The alias a versioned index name belongs to, or None when `name` isn't one."""
    match = _VERSIONED.fullmatch(name)
    return match["alias"] if match else None
