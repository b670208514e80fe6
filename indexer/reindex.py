"""Rebuilding the index behind an alias (new mapping or analysis version) with zero downtime.

The new generation is filled from the source files when given, then from the current index for every article the
files no longer provide (re-segmented from the stored original text), so nothing is lost when files are gone.
Only when the new index holds at least as many articles as the old one does the alias move, in one atomic step;
searches through the alias keep working throughout. The rebuild holds the alias alone (:mod:`indexer.lock`): no
load can write into the old index behind its back, and no second rebuild can start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from indexer import lifecycle
from indexer.client import connect
from indexer.config import Settings
from indexer.errors import IndexerError
from indexer.ingest import IngestOptions, Progress, Summary, copy_from, default_report_path, load_into
from indexer.lock import AliasLock
from indexer.segment import get_segmenter
from indexer.story_ids import StoryPass, assign_stories


@dataclass(frozen=True, slots=True)
class ReindexResult:
    alias: str
    old: str | None
    new: str
    from_files: Summary | None
    from_index: Summary | None
    documents: int
    old_documents: int
    deleted_old: bool
    stories: StoryPass | None = None


def reindex(
    settings: Settings,
    paths: Sequence[Path] = (),
    alias: str | None = None,
    delete_old: bool = False,
    options: IngestOptions | None = None,
    progress: Progress | None = None,
) -> ReindexResult:
    """Build the next generation behind `alias` from `paths` and/or the current index, then swap the alias."""
    alias = alias or settings.index
    options = options or IngestOptions()
    progress = progress or Progress()
    es = connect(settings)
    with AliasLock(es, alias, "exclusive", "reindex") as lock:
        old = lifecycle.resolve_alias(es, alias)
        if old is None and not paths:
            raise IndexerError(f"nothing to rebuild: no index behind {alias!r} and no files given")
        segmenter = get_segmenter(settings.user_dict, settings.cache_dir)
        version = segmenter.version
        new = lifecycle.next_generation(es, alias, version)
        shards, replicas = options.shards, options.replicas
        if old is not None:
            current = es.indices.get_settings(index=old)[old]["settings"]["index"]
            restore = lifecycle.pending_restore(es, old) or {}
            shards = shards or int(current["number_of_shards"])
            replicas = (
                replicas
                if replicas is not None
                else int(restore.get("number_of_replicas", current["number_of_replicas"]))
            )
        lifecycle.create_index(es, new, version, shards, replicas)
        report = default_report_path(settings)
        from_files = load_into(es, settings, new, paths, options, progress, report) if paths else None
        from_index = None
        if old is not None and not (from_files and from_files.aborted):
            copy_report = report.with_name(report.stem + "-copy.jsonl")
            from_index = copy_from(es, settings, old, new, options, progress, copy_report, bool(paths))
        aborted = [s.aborted for s in (from_files, from_index) if s and s.aborted]
        old_count = es.count(index=old)["count"] if old else 0
        new_count = es.count(index=new)["count"]
        if aborted or new_count < old_count:
            why = "; ".join(aborted) or f"it holds {new_count} articles, fewer than the {old_count} of {old}"
            raise IndexerError(
                f"the rebuild into {new} did not complete ({why}); the alias still points to {old}",
                f"inspect {new}, then delete it or run the rebuild again",
            )
        stories = assign_stories(es, new, segmenter, previous=old)
        lock.renew()
        lifecycle.swap_alias(es, alias, old, new)
        if delete_old and old:
            es.indices.delete(index=old)
    deleted = bool(delete_old and old)
    return ReindexResult(alias, old, new, from_files, from_index, new_count, old_count, deleted, stories)
