"""Archive coverage against a real node, on a small corpus written here with a known gap (no dw article in March
2021), known outliers (2009 and 2099) and an undated file; expected counts come from the list of written dates."""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer import charts, coverage
from indexer.config import Settings
from indexer.errors import IndexerError
from indexer.ingest import IngestOptions, ingest
from indexer.query import parse
from indexer.search import Searcher
from tests.nodes import run_cli

DW_MONTHS = (1, 2, 4, 5, 6)
"""dw writes on the 3rd, 10th, 17th and 24th of these months of 2021: March is its gap."""
VOA_MONTHS = (2, 3, 4, 5, 6)
"""voa writes on the 5th, 15th and 25th of these months of 2021: it joins a month after dw."""
OUTLIERS = {"voa:9009": datetime(2009, 7, 1, 8, tzinfo=UTC), "dw:a-9099": datetime(2099, 1, 1, tzinfo=UTC)}
NOW = datetime(2026, 1, 1, tzinfo=UTC)
BODY = "<p>疫苗接种工作在各地继续推进，卫生部门表示将公布更多数据。</p>"


def _url(doc_id: str) -> str:
    outlet, own = doc_id.split(":")
    return f"https://www.dw.com/zh/x/{own}" if outlet == "dw" else f"https://www.voachinese.com/a/{own}.html"


def _write(folder: Path, doc_id: str, published: datetime | None) -> None:
    stamp = f"<!--{int(published.timestamp() * 1000)}-->\n" if published else ""
    text = f"{stamp}[疫苗报道 {doc_id}]({_url(doc_id)})\n------\n\n{BODY}\n"
    (folder / f"{doc_id.replace(':', '-')}.md").write_text(text, encoding="utf-8")


def _midnight(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0)


def dated_articles() -> dict[str, datetime]:
    dates = {
        f"dw:a-{month}{day:02d}": datetime(2021, month, day, 9, tzinfo=UTC)
        for month in DW_MONTHS
        for day in (3, 10, 17, 24)
    }
    dates |= {
        f"voa:{month}{day:02d}": datetime(2021, month, day, 9, tzinfo=UTC)
        for month in VOA_MONTHS
        for day in (5, 15, 25)
    }
    return dates | OUTLIERS


@pytest.fixture(scope="module")
def archive(es: Elasticsearch, es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("coverage-corpus")
    for doc_id, published in dated_articles().items():
        _write(folder, doc_id, published)
    _write(folder, "voa:7777", None)
    alias = f"test-coverage-{folder.name[-6:].lower()}"
    summary = ingest(es_settings, [folder], IngestOptions(workers=1), alias=alias)
    assert summary.complete and summary.indexed == len(dated_articles()) + 1, summary
    yield alias
    es.indices.delete(index=",".join(es.indices.get(index=f"{alias}-*")))


@pytest.fixture(scope="module")
def searcher(es_settings: Settings, archive: str) -> Searcher:
    return Searcher(es_settings, index=archive)


def test_dense_span_leaves_out_the_far_and_future_dates(searcher: Searcher) -> None:
    span = coverage.dense_span(searcher, NOW)
    assert span is not None
    inside = [moment for doc_id, moment in dated_articles().items() if doc_id not in OUTLIERS]
    day = timedelta(days=1)
    assert (span.start, span.end) == (_midnight(min(inside)), _midnight(max(inside)) + day), "[first day, last day]"
    assert (span.inside, span.dated) == (len(inside), len(dated_articles()))
    before_june = coverage.dense_span(searcher, datetime(2021, 6, 1, tzinfo=UTC))
    assert before_june is not None and before_june.end == datetime(2021, 5, 26, tzinfo=UTC)


def test_coverage_counts_gaps_outliers_and_undated(searcher: Searcher) -> None:
    report = coverage.coverage(searcher, "month", now=NOW)
    assert report.labels == [f"2021-{month:02d}" for month in range(1, 7)]
    expected = Counter(
        (doc_id.split(":")[0], f"{moment:%Y-%m}")
        for doc_id, moment in dated_articles().items()
        if doc_id not in OUTLIERS
    )
    rows = {row.outlet: row for row in report.outlets}
    for outlet, row in rows.items():
        assert row.counts == [expected[(outlet, label)] for label in report.labels], outlet
    dw, voa = rows["dw"], rows["voa"]
    assert dw.empty == ["2021-03"] and dw.longest_gap == coverage.Gap("2021-03", "2021-03", 1)
    assert voa.empty == [] and voa.longest_gap is None
    assert dw.first is not None and dw.first.id == "dw:a-103" and dw.last is not None and dw.last.id == "dw:a-624"
    assert voa.first is not None and voa.first.published == datetime(2021, 2, 5, 9, tzinfo=UTC)
    assert (dw.outliers, voa.outliers, dw.undated, voa.undated) == (1, 1, 0, 1)
    assert [(item.id, item.published) for item in report.outliers] == sorted(OUTLIERS.items(), key=lambda kv: kv[1])
    assert report.outlier_total == 2
    assert report.total == len(dated_articles()) + 1 == sum(map(sum, (r.counts for r in rows.values()))) + 3


def test_coverage_of_chosen_outlets_and_weeks(searcher: Searcher) -> None:
    report = coverage.coverage(searcher, "week", ["voa", "rfi"], now=NOW)
    assert [row.outlet for row in report.outlets] == ["voa", "rfi"]
    assert report.outlets[1].total == 0 and report.outlets[1].first is None
    assert [item.id for item in report.outliers] == ["voa:9009"]
    voa = report.outlets[0]
    assert sum(voa.counts) == 15 and voa.longest_gap is not None and voa.longest_gap.periods == 1


def test_histogram_starts_in_the_dense_span_and_counts_what_it_leaves_out(searcher: Searcher) -> None:
    shown = coverage.histogram(searcher, searcher.parse("疫苗"), "month", NOW)
    counts = shown.histogram
    assert [bucket.label for bucket in counts.buckets] == [f"2021-{month:02d}" for month in range(1, 7)]
    assert (counts.outside, counts.undated, counts.total) == (2, 1, len(dated_articles()) + 1)
    assert shown.uncovered == [] and "dense span" in shown.shown.reason
    dw = coverage.histogram(searcher, searcher.parse("疫苗", ["dw"]), "month", NOW)
    assert dw.outlets == ("dw",) and dw.uncovered == ["2021-03"]
    assert dw.histogram.buckets[2].count == 0 and dw.archived[2] == 0
    voa = coverage.histogram(searcher, searcher.parse("outlet:voa 疫苗"), "month", NOW)
    assert voa.histogram.buckets[0].label == "2021-02", "starts at the outlet's first match, not the archive's"


def test_dates_asked_for_win(searcher: Searcher) -> None:
    asked = coverage.histogram(searcher, searcher.parse("疫苗", (), "2009", "2021"), "year", NOW)
    assert asked.shown.within is None
    assert [bucket.label for bucket in asked.histogram.buckets] == [str(year) for year in range(2009, 2022)]
    assert asked.histogram.outside == 0 and asked.uncovered == [str(year) for year in range(2010, 2021)]


def test_cli_json_csv_and_plots(archive: str, tmp_path: Path) -> None:
    report = json.loads(run_cli("coverage", "--index", archive, "--json").stdout)
    assert report["total"] == len(dated_articles()) + 1 and report["undated"] == 1
    assert {item["id"] for item in report["outliers"]} == set(OUTLIERS)
    rows = list(csv.DictReader(io.StringIO(run_cli("coverage", "--index", archive, "--csv").stdout)))
    per_outlet = Counter()
    for row in rows:
        per_outlet[row["outlet"]] += int(row["count"])
    assert per_outlet == {row["outlet"]: row["total"] for row in report["outlets"]}, "every article in the CSV"
    for name in ("map.png", "map.svg"):
        drawn = run_cli("coverage", "--index", archive, "--interval", "week", "--plot", str(tmp_path / name))
        assert drawn.returncode == 0 and "warning" not in drawn.stderr, drawn.stderr
    assert (tmp_path / "map.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (tmp_path / "map.svg").read_text(encoding="utf-8")
    refused = run_cli("coverage", "--index", archive, "--plot", str(tmp_path / "map.txt"))
    assert refused.returncode == 1 and "map.txt" in refused.stderr and ".png or .svg" in refused.stderr
    assert not (tmp_path / "map.txt").exists()


def test_the_chart_font_has_chinese_glyphs(tmp_path: Path) -> None:
    """matplotlib warns "Glyph … missing from font(s)" for a character its fonts lack: none may be missing."""
    from matplotlib.figure import Figure

    with charts.chart_style() as notes, warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = Figure()
        figure.add_subplot().set_title("疫苗接种 臺灣與台湾 德国之声")
        figure.savefig(tmp_path / "cjk.png")
    assert notes == [] and charts.cjk_font()


@pytest.mark.slow
def test_the_corpus_histogram_starts_at_its_first_match_inside_the_dense_span(
    es_settings: Settings, corpus_alias: str
) -> None:
    """The shared corpus has a handful of 2014 BBC articles before its real span: the histogram no longer opens with
    years of empty months for them, and counts them as outside."""
    searcher = Searcher(es_settings, index=corpus_alias)
    shown = coverage.histogram(searcher, searcher.parse("疫苗"), "month")
    buckets = shown.histogram.buckets
    report = coverage.coverage(searcher, "month")
    assert report.span is not None and report.outliers, "the corpus has far-off publish times"
    assert buckets[0].count > 0 and buckets[0].start <= report.span.start < buckets[1].start
    assert len(buckets) <= 12 and shown.uncovered == []
    assert shown.histogram.outside == searcher.count(searcher.parse("疫苗 -date:none")) - sum(b.count for b in buckets)
    assert all(item.published < report.span.start for item in report.outliers)


def test_outlets_asked_are_the_outlet_only_groups() -> None:
    assert coverage.outlets_asked(parse("疫苗", "UTC", ["dw", "voa"])) == ("dw", "voa")
    assert coverage.outlets_asked(parse("outlet:dw OR outlet:voa outlet:voa")) == ("voa",)
    assert coverage.outlets_asked(parse("outlet:dw outlet:voa")) == ()
    assert coverage.outlets_asked(parse("outlet:dw OR 疫苗")) == (), "a group with text doesn't limit the outlets"


def test_a_heat_map_of_an_archive_without_dates_is_refused(tmp_path: Path) -> None:
    row = coverage.OutletCoverage("dw", 1, [], None, None, [], None, 0, 1)
    report = coverage.Coverage("month", [], [], None, [row], [], 0)
    with pytest.raises(IndexerError, match="no article has a publish time"):
        charts.coverage_heatmap(report, tmp_path / "map.png")
    assert not (tmp_path / "map.png").exists()
