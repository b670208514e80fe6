"""Rendering what `doctor` and `stats` report: the settings in use, the server, and the index behind the alias
with what needs attention (a rebuild, settings an interrupted load left, runs holding the alias).

Like :mod:`indexer.output`, cells are :class:`rich.text.Text` or plain strings (never markup), so names and
values from the cluster are shown as they are.
"""

from __future__ import annotations

import json
from typing import Any

from rich.table import Table
from rich.text import Text

from indexer.client import ServerInfo
from indexer.config import Settings
from indexer.lifecycle import IndexStats, stale_reason
from indexer.mapping import load_template

WARNING_STYLE = "yellow"


def settings_table(settings: Settings) -> Table:
    """Each setting, its value (secrets only as 'set', URL credentials masked) and where it came from."""
    table = Table("setting", "value", "from", title="Settings")
    for name, value, source in settings.describe():
        table.add_row(name, value, source)
    return table


def server_line(info: ServerInfo, settings: Settings) -> Text:
    where = settings.scrub(", ".join(settings.hosts))
    return Text(
        f"Elasticsearch {info.version} at {where}: cluster {info.cluster_name!r}, {info.nodes} node(s), "
        f"health {info.health}"
    )


def index_warnings(stats: IndexStats, analysis_version: str) -> list[str]:
    """What needs attention: a rebuild for this indexer, and bulk-load settings an interrupted load left."""
    warnings = []
    stale = stale_reason(stats.meta, analysis_version)
    if stale:
        warnings.append(f"{stats.index} was {stale}: rebuild it with `indexer reindex --index {stats.alias}`")
    if stats.pending_restore:
        now = (
            f"{stats.index} has bulk-load settings (replicas {stats.settings.get('index.number_of_replicas')}, "
            f"refresh {stats.settings.get('index.refresh_interval', 'default')})"
        )
        loading = [holder for holder in stats.holders if holder.mode == "shared"]
        if loading:
            warnings.append(f"{now} while {loading[0].describe()} loads it; they are restored when it ends")
        else:
            restore = json.dumps(stats.pending_restore)
            warnings.append(
                f"{now}, left by an interrupted load: the next `indexer index` run restores them, or restore them "
                f"now: PUT /{stats.index}/_settings {restore}"
            )
    return warnings


def index_line(stats: IndexStats) -> Text:
    """The one-line index summary of `doctor`."""
    meta = stats.meta
    return Text(
        f"index: {stats.alias} → {stats.index}, {stats.documents:,} articles, {stats.size_bytes / 1e6:,.1f} MB, "
        f"built with mapping v{meta.mapping_version}, analysis version {meta.analysis_version}"
    )


def stats_rows(stats: IndexStats, analysis_version: str) -> dict[str, Any]:
    """What `stats` shows, by label (also its JSON)."""
    meta = stats.meta
    return {
        "alias": stats.alias,
        "index": stats.index,
        "articles": stats.documents,
        "size": f"{stats.size_bytes / 1e6:,.1f} MB",
        "mapping version": f"{meta.mapping_version} (this indexer: {load_template().version})",
        "analysis version": f"{meta.analysis_version} (this indexer: {analysis_version})",
        "created": meta.created_at or "?",
        "shards / replicas": f"{stats.settings.get('index.number_of_shards')} / "
        f"{stats.settings.get('index.number_of_replicas')}",
        "older generations": ", ".join(stats.other_generations) or "-",
        "bulk-load settings to restore": json.dumps(stats.pending_restore) if stats.pending_restore else "-",
        "held by": "; ".join(f"{holder.mode}: {holder.describe()}" for holder in stats.holders) or "-",
        "warnings": index_warnings(stats, analysis_version),
    }


def stats_table(rows: dict[str, Any]) -> Table:
    table = Table(show_header=False, title=f"Index {rows['alias']}")
    for key, value in rows.items():
        if key != "warnings":
            table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    return table


def warning_lines(warnings: list[str]) -> list[Text]:
    return [Text(f"warning: {warning}", style=WARNING_STYLE) for warning in warnings]
