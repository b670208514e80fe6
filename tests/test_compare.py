"""Outlet metadata, `compare` and `histogram --share`, and charts: against the real node (small corpus sample), and
the metadata tables on their own."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.charts import line_chart
from indexer.compare import By, Comparison, compare
from indexer.config import Settings
from indexer.coverage import comparison
from indexer.errors import ConfigError, IndexerError
from indexer.ingest import IngestOptions, ingest
from indexer.outlet_meta import KINDS, REGIONS, SCRIPTS, UNKNOWN, load_outlets, lookup, merge
from indexer.outlets import OUTLETS
from indexer.reindex import reindex
from indexer.search import Interval, Searcher
from tests.nodes import run_cli

QUERIES = ("特朗普", "川普", '"新冠 疫苗" OR 疫情')


def _compare(
    searcher: Searcher,
    interval: Interval = "month",
    date_from: str | None = None,
    date_to: str | None = None,
    by: By | None = None,
) -> Comparison:
    base = searcher.parse("", (), date_from, date_to, allow_empty=True)
    parsed = [(query, searcher.parse(query, (), date_from, date_to)) for query in QUERIES]
    return compare(searcher, base, parsed, interval, by)


# --- the metadata tables --------------------------------------------------------------------------------------------


def test_every_known_outlet_has_valid_metadata_in_the_package_table() -> None:
    table = load_outlets()
    assert {outlet.name for outlet in OUTLETS} <= set(table)
    for meta in table.values():
        assert (meta.region in REGIONS, meta.script in SCRIPTS, meta.kind in KINDS) == (True, True, True), meta
        assert meta.name and meta.origin == "package"
    assert (table["cna"].region, table["cna"].script) == ("tw", "traditional")
    assert (table["zaobao"].region, table["cctv-xwlb"].kind) == ("sg", "state")


def test_a_user_file_adds_and_overrides_outlets_field_by_field(tmp_path: Path) -> None:
    user = tmp_path / "outlets.toml"
    user.write_text('[dw]\nregion = "cn"\n\n[hkfp]\nname = "HKFP"\nregion = "hk"\nkind = "independent"\n', "utf-8")
    table = load_outlets(user)
    assert (table["dw"].region, table["dw"].kind, table["dw"].origin) == ("cn", "abroad", str(user))
    assert (table["hkfp"].region, table["hkfp"].script, table["hkfp"].kind) == ("hk", UNKNOWN, "independent")
    assert lookup(table, "example.org").region == UNKNOWN
    assert load_outlets()["dw"].region == "intl"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[dw]\nregion = "de"\n', "[dw] region 'de' is not one of cn, hk, tw, sg, intl"),
        ('[dw]\ncountry = "de"\n', "[dw] has unknown key 'country'"),
        ('dw = "intl"\n', "[dw] must be a table"),
        ("[dw\n", "user.toml"),
    ],
)
def test_a_bad_user_file_is_an_error_naming_the_file_and_the_outlet(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        merge({}, text, "user.toml")
    assert "user.toml" in str(caught.value) and message in str(caught.value)


# --- compare against the real node ----------------------------------------------------------------------------------


def test_compare_counts_equal_search_count_for_every_period_and_query(searcher: Searcher) -> None:
    comparison = _compare(searcher)
    assert len(comparison.periods) >= 7
    assert sum(period.total.articles for period in comparison.periods) + comparison.undated == searcher.count(
        searcher.parse("", allow_empty=True)
    )
    for period in comparison.periods:
        everything = searcher.parse("", (), period.label, period.label, allow_empty=True)
        assert period.total.articles == searcher.count(everything)
        for query in QUERIES:
            assert period.total.counts[query] == searcher.count(searcher.parse(query, (), period.label, period.label))
            expected = period.total.counts[query] / period.total.articles if period.total.articles else None
            assert period.total.shares[query] == expected
    assert any(period.total.counts["川普"] for period in comparison.periods)


def test_compare_by_region_splits_each_period_exactly_under_the_filters(searcher: Searcher) -> None:
    comparison = _compare(searcher, "week", date_from="2020-08", date_to="2020-10", by="region")
    assert comparison.periods[0].label == "2020-07-27"  # the week of 1 August
    assert {"tw", "intl", "sg", "cn"} <= set(comparison.groups)
    for period in comparison.periods:
        assert sum(cell.articles for cell in period.groups.values()) == period.total.articles
        week = f"date:{period.start:%Y-%m-%d}..{period.start + timedelta(days=6):%Y-%m-%d}"
        for region, cell in period.groups.items():
            scoped = f"region:{region} {week}"
            assert cell.articles == searcher.count(searcher.parse(scoped, (), "2020-08", "2020-10"))
            for query in QUERIES:
                expected = searcher.count(searcher.parse(f"{query} {scoped}", (), "2020-08", "2020-10"))
                assert cell.counts[query] == expected
        for query in QUERIES:
            assert sum(cell.counts[query] for cell in period.groups.values()) == period.total.counts[query]


def test_region_and_kind_scope_queries_and_are_counted_by_terms(searcher: Searcher) -> None:
    regions = dict(searcher.terms(searcher.parse("", allow_empty=True), "region").values)
    outlets = dict(searcher.terms(searcher.parse("", allow_empty=True), "outlet", 100).values)
    table = load_outlets()
    assert regions["tw"] == outlets["cna"] + outlets["rti"]
    assert searcher.count(searcher.parse("region:tw")) == regions["tw"]
    assert searcher.count(searcher.parse("kind:state")) == sum(
        count for outlet, count in outlets.items() if lookup(table, outlet).kind == "state"
    )
    assert searcher.count(searcher.parse("region:sg")) == outlets["zaobao"]


def test_compare_within_a_range_keeps_its_periods_and_counts_the_rest_outside(searcher: Searcher) -> None:
    everything = searcher.parse("", allow_empty=True)
    parsed = [(query, searcher.parse(query)) for query in QUERIES]
    full = compare(searcher, everything, parsed)
    within = searcher.parse("", (), "2020-09", None, allow_empty=True).date_bounds()
    kept = compare(searcher, everything, parsed, within=within)
    assert kept.periods[0].label == "2020-09" and kept.articles == full.articles
    assert [p.label for p in kept.periods] == [p.label for p in full.periods if p.label >= "2020-09"]
    before = sum(p.total.articles for p in full.periods if p.label < "2020-09")
    assert kept.outside == before == searcher.count(searcher.parse("", (), None, "2020-08", allow_empty=True)) > 0
    assert kept.undated == full.undated


# --- index time: unknown outlets, overrides, reindex ----------------------------------------------------------------


def _article(folder: Path, name: str, url: str, when: str, body: str) -> None:
    millis = int(datetime.fromisoformat(when).timestamp() * 1000)
    (folder / f"{name}.md").write_text(f"<!--{millis}-->\n[{body[:8]}]({url})\n------\n\n<p>{body}</p>\n", "utf-8")


def test_an_outlet_without_metadata_is_unknown_and_reindex_applies_an_override(
    es: Elasticsearch, es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    _article(files, "a", "https://www.dw.com/zh/x/a-1", "2020-10-02T08:00:00+00:00", "川普在白宫发表讲话。")
    _article(files, "b", "https://news.example.org/2020/1", "2020-10-03T08:00:00+00:00", "川普的支持者集会。")
    summary = ingest(es_settings, [files], IngestOptions(workers=1), alias=alias, report=tmp_path / "r.jsonl")
    assert summary.indexed == 2
    searcher = Searcher(es_settings, index=alias)
    fields = {hit["_source"]["outlet"]: hit["_source"] for hit in es.search(index=alias)["hits"]["hits"]}
    assert (fields["dw"]["region"], fields["dw"]["kind"]) == ("intl", "abroad")
    assert (fields["news.example.org"]["region"], fields["news.example.org"]["kind"]) == (UNKNOWN, UNKNOWN)
    comparison = compare(
        searcher, searcher.parse("", allow_empty=True), [("川普", searcher.parse("川普"))], "month", "region"
    )
    (period,) = comparison.periods
    assert {name: cell.counts["川普"] for name, cell in period.groups.items()} == {"intl": 1, UNKNOWN: 1}

    user = tmp_path / "outlets.toml"
    user.write_text('[dw]\nregion = "cn"\n\n["news.example.org"]\nregion = "hk"\nkind = "blog"\n', "utf-8")
    overridden = es_settings.with_overrides(outlets_file=str(user))
    reindex(overridden, alias=alias, options=IngestOptions(workers=1))
    es.indices.refresh(index=alias)
    assert dict(searcher.terms(searcher.parse("", allow_empty=True), "region").values) == {"cn": 1, "hk": 1}
    assert searcher.count(searcher.parse("kind:blog 川普")) == 1


def test_a_bad_outlet_file_stops_the_run_before_any_file_is_read(
    es_settings: Settings, alias: str, tmp_path: Path
) -> None:
    user = tmp_path / "outlets.toml"
    user.write_text('[dw]\nkind = "tabloid"\n', "utf-8")
    with pytest.raises(ConfigError, match="tabloid"):
        ingest(es_settings.with_overrides(outlets_file=str(user)), [tmp_path], alias=alias)


# --- the CLI --------------------------------------------------------------------------------------------------------


def test_compare_json_has_the_documented_shape_and_equals_the_library(searcher: Searcher) -> None:
    result = run_cli("compare", "--index", searcher.index, *QUERIES, "--from", "2020-08", "--to", "2020-10", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    library = _compare(searcher, date_from="2020-08", date_to="2020-10")
    assert [row["period"] for row in data["periods"]] == ["2020-08", "2020-09", "2020-10"]
    for row, period in zip(data["periods"], library.periods, strict=True):
        assert set(row) == {"period", "start", "articles", "counts", "shares"}
        assert (row["articles"], row["counts"], row["shares"]) == (
            period.total.articles,
            period.total.counts,
            period.total.shares,
        )
    assert data["queries"] == list(QUERIES)


def test_compare_csv_and_table_by_outlet(searcher: Searcher) -> None:
    args = ("compare", "--index", searcher.index, "川普", "--from", "2020-11", "--to", "2020-11", "--by", "outlet")
    result = run_cli(*args, "--csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    counts = {row["outlet"]: int(row["count"]) for row in rows}
    for outlet, count in counts.items():
        assert count == searcher.count(searcher.parse(f"川普 outlet:{outlet}", (), "2020-11", "2020-11"))
    table = run_cli(*args)
    assert table.returncode == 0 and "outlet cna:" in table.stdout and "1 川普" in table.stdout


def test_histogram_share_matches_compare_and_plots_write_png_and_svg(searcher: Searcher, tmp_path: Path) -> None:
    png, svg = tmp_path / "share.png", tmp_path / "compare.svg"
    result = run_cli("histogram", "--index", searcher.index, "疫情", "--share", "--json", "--plot", str(png))
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout.split("\nchart written")[0])
    buckets = shown["buckets"]
    everything = searcher.parse("", allow_empty=True)
    library = comparison(searcher, everything, [(query, searcher.parse(query)) for query in QUERIES])
    assert shown["range"].startswith("from the first match inside the archive's dense span")
    assert library.periods and len(library.periods) < len(_compare(searcher).periods), "the 2014 outlier is cut"
    assert shown["outside"] == library.outside > 0
    assert [(b["period"], b["count"], b["articles"]) for b in buckets] == [
        (p.label, searcher.count(searcher.parse("疫情", (), p.label, p.label)), p.total.articles)
        for p in library.periods
    ]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = run_cli("compare", "--index", searcher.index, "特朗普", "川普", "--by", "region", "--plot", str(svg))
    assert result.returncode == 0, result.stderr
    assert svg.read_text("utf-8").startswith("<?xml") and "<path" in svg.read_text("utf-8")


def test_a_plot_file_of_another_type_is_refused_before_querying(tmp_path: Path) -> None:
    with pytest.raises(IndexerError, match=r"must end in \.png or \.svg"):
        line_chart(tmp_path / "chart.pdf", ["2020"], {"": {"a": [1.0]}}, "t", "y")
    result = run_cli("compare", "川普", "--plot", str(tmp_path / "chart.jpg"), "--es-url", "http://127.0.0.1:1")
    assert result.returncode == 1 and "must end in .png or .svg" in result.stderr and "Traceback" not in result.stderr
