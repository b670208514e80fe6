"""Stories in the index, against the real node: copies across outlets share an id, ids survive re-runs,
incremental loads and rebuilds, the search views survive the id updates, and story counts are the number of
distinct ``story`` values among the hits."""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import opencc
import pytest
from elasticsearch import Elasticsearch

from indexer.compare import compare
from indexer.config import Settings
from indexer.ingest import IngestOptions, Summary, ingest
from indexer.reindex import reindex
from indexer.search import Searcher, local_time

from .conftest import require_corpus
from .nodes import run_cli
from .test_stories import FAIR, OTHER_REPORT

NOON = datetime(2020, 10, 22, 12, tzinfo=UTC)


def _file(folder: Path, url: str, at: datetime, title: str, paragraphs: tuple[str, ...]) -> Path:
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    path = folder / f"{url.rsplit('/', 1)[1].split('.')[0]}.md"
    path.write_text(f"<!--{int(at.timestamp() * 1000)}-->\n[{title}]({url})\n------\n\n{body}\n", encoding="utf-8")
    return path


def _zaobao(folder: Path, number: int, at: datetime, paragraphs: tuple[str, ...] = FAIR) -> Path:
    url = f"https://www.zaobao.com/news/china/story20201022-{number}"
    return _file(folder, url, at, "东海国际茶叶博览会开幕", paragraphs)


def _cna(folder: Path, number: int, at: datetime) -> Path:
    traditional = tuple(opencc.OpenCC("s2twp").convert(paragraph) for paragraph in FAIR)
    url = f"https://www.cna.com.tw/news/acn/2020102200{number:02d}.aspx"
    return _file(
        folder, url, at, "杭州茶博會揭幕 八百企業參展", ("（中央社杭州22日電）" + traditional[0], *traditional[1:])
    )


def _reuters(folder: Path, at: datetime) -> Path:
    url = "https://www.reuters.com/article/idCNKBS2TEA01"
    return _file(folder, url, at, "东海茶博会揭幕", OTHER_REPORT)


def _run(settings: Settings, alias: str, paths: list[Path]) -> Summary:
    summary = ingest(settings, paths, IngestOptions(workers=1), alias=alias)
    assert summary.complete and summary.rejected == 0, summary
    return summary


def _stories(es: Elasticsearch, alias: str) -> dict[str, str]:
    answer = es.search(index=alias, size=1000, source_includes=["story"])
    return {hit["_id"]: hit["_source"]["story"] for hit in answer["hits"]["hits"]}


def test_copies_across_outlets_and_within_one_share_the_earliest_id_and_keep_their_search_views(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    _cna(tmp_path, 1, NOON + timedelta(hours=5))
    _zaobao(tmp_path, 1, NOON)
    _zaobao(tmp_path, 2, NOON + timedelta(days=1))  # the same outlet reposts it a day later
    _reuters(tmp_path, NOON)  # same event, same day, written separately
    summary = _run(es_settings, alias, [tmp_path])
    assert summary.stories is not None and (summary.stories.articles, summary.stories.stories) == (4, 2)
    assert _stories(es, alias) == {
        "zaobao:20201022-1": "zaobao:20201022-1",
        "zaobao:20201022-2": "zaobao:20201022-1",
        "cna:202010220001": "zaobao:20201022-1",
        "reuters:idCNKBS2TEA01": "reuters:idCNKBS2TEA01",
    }
    searcher = Searcher(es_settings, index=alias)
    # the rewritten documents are still found through the chars/words views
    assert searcher.count(searcher.parse("数字茶园")) == 3
    assert searcher.count_stories(searcher.parse("数字茶园")) == 1


def test_a_rerun_changes_nothing_and_a_new_copy_joins_the_stored_story_even_when_published_earlier(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    _zaobao(first, 1, NOON)
    _reuters(first, NOON)
    _run(es_settings, alias, [first])
    before = _stories(es, alias)
    again = _run(es_settings, alias, [first])
    assert again.indexed == 0 and _stories(es, alias) == before
    verified = ingest(es_settings, [first], IngestOptions(workers=1, verify=True), alias=alias)
    assert verified.indexed == 0 and _stories(es, alias) == before

    _cna(later, 1, NOON + timedelta(hours=3))
    _zaobao(later, 3, NOON - timedelta(hours=6))  # a backfilled copy published before the story's first article
    summary = _run(es_settings, alias, [first, later])
    assert summary.indexed == 2 and summary.stories is not None and summary.stories.joined == 2
    stories = _stories(es, alias)
    assert stories["cna:202010220001"] == stories["zaobao:20201022-3"] == "zaobao:20201022-1"
    assert stories["reuters:idCNKBS2TEA01"] == "reuters:idCNKBS2TEA01"


@pytest.mark.parametrize("from_files", [False, True], ids=["from-index", "from-files"])
def test_a_rebuild_keeps_the_ids(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path, from_files: bool
) -> None:
    _zaobao(tmp_path, 1, NOON)
    _run(es_settings, alias, [tmp_path])
    # loaded in two runs, the earlier copy joined the later article's story; one run would name it otherwise
    _zaobao(tmp_path, 3, NOON - timedelta(hours=6))
    _cna(tmp_path, 1, NOON + timedelta(hours=3))
    _run(es_settings, alias, [tmp_path])
    before = _stories(es, alias)
    assert set(before.values()) == {"zaobao:20201022-1"}
    result = reindex(es_settings, [tmp_path] if from_files else [], alias=alias, options=IngestOptions(workers=1))
    assert result.stories is not None and result.stories.kept == 3
    assert _stories(es, alias) == before
    searcher = Searcher(es_settings, index=alias)
    assert searcher.count(searcher.parse("数字茶园")) == 3


@pytest.fixture(scope="module")
def copies_alias(es: Elasticsearch, es_settings: Settings) -> Iterator[str]:
    """Two months of two outlets that carry each other's copies (reuters and zaobao, 2020-07)."""
    corpus = require_corpus()
    alias = "test-story-counts"
    for index in es.indices.get(index=f"{alias}-*"):
        es.indices.delete(index=index)
    _run(es_settings, alias, [corpus / "reuters" / "2020-07", corpus / "zaobao" / "2020-07"])
    yield alias
    es.indices.delete(index=",".join(es.indices.get(index=f"{alias}-*")))


def _hits(es: Elasticsearch, alias: str, query: dict) -> list[dict]:
    return es.search(index=alias, query=query, size=10_000, source_includes=["story", "outlet", "published_at"])[
        "hits"
    ]["hits"]


def test_story_counts_are_the_distinct_story_values_among_the_hits(
    es: Elasticsearch, es_settings: Settings, copies_alias: str
) -> None:
    searcher = Searcher(es_settings, index=copies_alias)
    for text in ("", "美国", "中国 经济", "香港"):
        query = searcher.parse(text, allow_empty=True)
        hits = _hits(es, copies_alias, searcher.dsl(query))
        stories = {hit["_source"]["story"] for hit in hits}
        assert searcher.count_stories(query) == len(stories) <= searcher.count(query) == len(hits)

        weeks = searcher.histogram(query, "week", unique=True)
        articles = searcher.histogram(query, "week")
        assert [b.label for b in weeks.buckets] == [b.label for b in articles.buckets]
        per_week: dict[str, set[str]] = defaultdict(set)
        for hit in hits:
            moment = local_time(hit["_source"].get("published_at"), searcher.settings.timezone)
            assert moment is not None
            start = moment.date()
            per_week[str(start - timedelta(days=start.weekday()))].add(hit["_source"]["story"])
        assert {b.label: b.count for b in weeks.buckets if b.count} == {k: len(v) for k, v in per_week.items()}
        for unique, plain in zip(weeks.buckets, articles.buckets, strict=True):
            assert unique.count <= plain.count
        assert weeks.total == len(stories)

        outlets = searcher.terms(query, "outlet", unique=True)
        per_outlet = Counter(outlet for outlet, _ in {(h["_source"]["outlet"], h["_source"]["story"]) for h in hits})
        assert dict(outlets.values) == dict(per_outlet) and outlets.unit == "stories"
    everything = searcher.parse("", allow_empty=True)
    assert searcher.count_stories(everything) < searcher.count(everything)  # these months do carry copies


def test_unique_search_gives_one_hit_per_story_with_its_copies_and_show_lists_them(
    es: Elasticsearch, es_settings: Settings, copies_alias: str
) -> None:
    searcher = Searcher(es_settings, index=copies_alias)
    query = searcher.parse("", allow_empty=True)
    page = searcher.search(query, "oldest", limit=1000, unique=True)
    assert page.stories == len(page.hits) == searcher.count_stories(query)
    assert len({hit.story for hit in page.hits}) == len(page.hits)
    assert sum(1 + hit.copies_total for hit in page.hits) == page.total == searcher.count(query)
    shared = [hit for hit in page.hits if hit.copies]
    assert shared and any(
        {hit.outlet, *(other.outlet for other in hit.copies)} == {"reuters", "zaobao"} for hit in shared
    )
    for hit in shared:
        assert all(other.story == hit.story for other in hit.copies)
        article = searcher.show(hit.id)
        assert {other.id for other in article.copies} >= {other.id for other in hit.copies}

    result = run_cli("search", "--index", copies_alias, "美国", "--unique", "--limit", "50", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    american = searcher.parse("美国")
    assert data["stories"] == searcher.count_stories(american) and data["total"] == searcher.count(american)
    assert all("story" in hit and "copies" in hit for hit in data["hits"])
    jsonl = run_cli("search", "--index", copies_alias, "美国", "--all", "--jsonl")
    assert jsonl.returncode == 0, jsonl.stderr
    assert all(json.loads(line)["story"] for line in jsonl.stdout.splitlines())
    count = run_cli("search", "--index", copies_alias, "美国", "--unique", "--count")
    assert count.stdout.strip() == str(data["stories"])
    shown = run_cli("show", "--index", copies_alias, shared[0].id, "--json")
    assert {other["id"] for other in json.loads(shown.stdout)["copies"]} >= {c.id for c in shared[0].copies}


def test_a_file_whose_mtime_alone_changed_keeps_its_search_views_and_its_story(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    _zaobao(tmp_path, 1, NOON)
    copy = _cna(tmp_path, 1, NOON + timedelta(hours=5))
    _run(es_settings, alias, [tmp_path])
    before = _stories(es, alias)
    searcher = Searcher(es_settings, index=alias)
    assert searcher.count(searcher.parse("数字茶园")) == 2
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    summary = _run(es_settings, alias, [tmp_path])
    assert (summary.indexed, summary.unchanged, summary.read) == (0, 2, 1)
    assert searcher.count(searcher.parse("数字茶园")) == 2
    assert (
        _stories(es, alias)
        == before
        == {"zaobao:20201022-1": "zaobao:20201022-1", "cna:202010220001": "zaobao:20201022-1"}
    )
    stored = es.get(index=alias, id="cna:202010220001")["_source"]["source"]
    assert stored["mtime"] == stat.st_mtime_ns + 10**9


def test_outside_a_display_range_counts_stories_when_compare_counts_stories(
    es_settings: Settings, copies_alias: str
) -> None:
    searcher = Searcher(es_settings, index=copies_alias)
    everything = searcher.parse("", allow_empty=True)
    queries = [("美国", searcher.parse("美国"))]
    within = searcher.parse("", (), "2020-07-01", "2020-07-14", allow_empty=True).date_bounds()
    stories = compare(searcher, everything, queries, "week", unique=True, within=within)
    articles = compare(searcher, everything, queries, "week", within=within)
    late = searcher.parse("", (), "2020-07-15", None, allow_empty=True)
    assert stories.outside == searcher.count_stories(late) < articles.outside == searcher.count(late)
    assert stories.outside == searcher.histogram(everything, "week", within, unique=True).outside


def test_compare_unique_counts_stories_as_the_story_histograms_do(es_settings: Settings, copies_alias: str) -> None:
    searcher = Searcher(es_settings, index=copies_alias)
    everything = searcher.parse("", allow_empty=True)
    queries = [(text, searcher.parse(text)) for text in ("美国", "香港")]
    stories = compare(searcher, everything, queries, "week", unique=True)
    articles = compare(searcher, everything, queries, "week")
    assert stories.unit == "stories" and stories.articles == searcher.count_stories(everything) < articles.articles
    denominators = {b.label: b.count for b in searcher.histogram(everything, "week", unique=True).buckets}
    for text, query in queries:
        per_week = {b.label: b.count for b in searcher.histogram(query, "week", unique=True).buckets}
        for period in stories.periods:
            assert period.total.counts[text] == per_week.get(period.label, 0)
            assert period.total.articles == denominators[period.label]
    result = run_cli("compare", "--index", copies_alias, "美国", "香港", "--interval", "week", "--unique", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["unit"] == "stories"
    assert [p["counts"] for p in data["periods"]] == [p.total.counts for p in stories.periods][: len(data["periods"])]
