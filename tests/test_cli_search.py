"""The search commands end to end: the real `indexer` console script in a subprocess.

Outputs are checked against the library on the same index; every failure mode must end as one line on stderr
with a fix, exit status 1 and no traceback (unless --debug).
"""

from __future__ import annotations

import csv
import io
import json
import resource
import socket
import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from indexer import coverage, output
from indexer.config import Settings
from indexer.search import Searcher
from tests.conftest import EXAMPLES, SecureNode
from tests.nodes import assert_one_line_error, cli_env, run_cli, suite_env


def test_json_output_matches_the_library(searcher: Searcher) -> None:
    result = run_cli("search", "--index", searcher.index, "中国 美国", "--limit", "5", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    page = searcher.search(searcher.parse("中国 美国"), limit=5)
    assert data["total"] == page.total
    assert [hit["id"] for hit in data["hits"]] == [hit.id for hit in page.hits]
    for hit in data["hits"]:
        assert set(hit) == {"id", "url", "title", "published_at", "outlet", "story", "score", "highlights"}
        assert hit["highlights"] and all("<em>" in h["fragment"] for h in hit["highlights"])


def test_table_shows_titles_and_ids(searcher: Searcher) -> None:
    result = run_cli("search", "--index", searcher.index, "拉夫罗夫 金正恩")
    assert result.returncode == 0, result.stderr
    assert "dw:a-67150547" in result.stdout and "1–1 of 1 articles" in result.stdout


def test_all_jsonl_csv_and_count_agree(searcher: Searcher) -> None:
    count = run_cli("search", "--index", searcher.index, "--count", "中国")
    lines = run_cli(
        "search", "--index", searcher.index, "--all", "--jsonl", "中国", "--sort", "oldest"
    ).stdout.splitlines()
    rows = list(
        csv.DictReader(io.StringIO(run_cli("search", "--index", searcher.index, "--all", "--csv", "中国").stdout))
    )
    streamed = json.loads(run_cli("search", "--index", searcher.index, "--all", "--json", "中国").stdout)
    total = searcher.count(searcher.parse("中国"))
    assert int(count.stdout) == total == len(lines) == len(rows) == streamed["total"] == len(streamed["hits"])
    dates = [json.loads(line)["published_at"] for line in lines]
    assert dates == sorted(dates)
    assert {row["id"] for row in rows} == {json.loads(line)["id"] for line in lines}
    assert all(row["story"] for row in rows)
    assert {(row["id"], row["story"]) for row in rows} == {(hit["id"], hit["story"]) for hit in streamed["hits"]}


def test_histogram_and_terms_outputs(searcher: Searcher) -> None:
    histogram = json.loads(
        run_cli("histogram", "--index", searcher.index, "中国", "--interval", "day", "--json").stdout
    )
    shown = sum(b["count"] for b in histogram["buckets"])
    assert shown + histogram["undated"] + histogram["outside"] == histogram["total"]
    assert histogram["total"] == searcher.count(searcher.parse("中国"))
    assert any(b["count"] == 0 for b in histogram["buckets"]), "empty days are included"
    table = run_cli("histogram", "--index", searcher.index, "中国", "--interval", "month")
    assert "█" in table.stdout and "range: from the first match inside the archive's dense span" in table.stdout
    rows = list(csv.DictReader(io.StringIO(run_cli("histogram", "--index", searcher.index, "中国", "--csv").stdout)))
    expected_rows = output.histogram_rows(coverage.histogram(searcher, searcher.parse("中国")))
    assert [{key: str(value) for key, value in row.items()} for row in expected_rows] == rows
    terms = json.loads(
        run_cli("terms", "--index", searcher.index, "--field", "outlet", "--limit", "3", "--json").stdout
    )
    expected = searcher.terms(searcher.parse("", allow_empty=True), "outlet", 3)
    assert [(v["value"], v["count"]) for v in terms["values"]] == expected.values


def test_show_json_and_view(searcher: Searcher) -> None:
    stored = json.loads(run_cli("show", "--index", searcher.index, "dw:a-67150547", "--json").stdout)
    assert stored["_id"] == "dw:a-67150547" and stored["persons"]
    view = run_cli("show", "--index", searcher.index, stored["url"])
    assert view.returncode == 0 and stored["title"] in view.stdout


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["foo:bar"], ["unknown field 'foo:'"]),
        (['"abc'], ["unbalanced quote"]),
        (["a OR"], ["OR needs a term"]),
        (["-a"], ["only excludes"]),
        (["date:2020-13"], ["month must be in 1..12"]),
        (["a", "--from", "2020-02-30"], ["--from/--to", "day is out of range"]),
        (["a [b] [bold]c[/bold] foo:x"], ["a [b] [bold]c[/bold] ⟨here⟩foo:x"]),
    ],
)
def test_malformed_queries_are_one_line(searcher: Searcher, args: list[str], needles: list[str]) -> None:
    assert_one_line_error(run_cli("search", "--index", searcher.index, *args), *needles)


@pytest.mark.es
def test_missing_index_says_how_to_index() -> None:
    missing = f"missing-{uuid.uuid4().hex[:6]}"
    commands = (
        ["search", "中国"],
        ["histogram", "中国"],
        ["terms"],
        ["coverage"],
        ["show", "dw:a-1"],
        ["search", "--all", "a"],
    )
    for command in commands:
        assert_one_line_error(run_cli(*command, "--index", missing), "indexer index")


def test_unreachable_server_says_how_to_start_one() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_cli("search", "中国", env=suite_env(ES_URL=f"http://127.0.0.1:{port}"))
    assert_one_line_error(result, "cannot reach Elasticsearch", "indexer node start", "ES_URL")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A server that accepts connections and never answers (a hung cluster)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_timeout_says_what_to_do(silent_server: str) -> None:
    result = run_cli("search", "中国", env=suite_env(ES_URL=silent_server, ES_TIMEOUT="0.5"))
    assert_one_line_error(result, "did not answer within 0.5 s", "ES_TIMEOUT")


@pytest.mark.es
@pytest.mark.slow
def test_rejected_credentials_say_which_settings_to_check(secure: SecureNode) -> None:
    env = cli_env(
        ES_URL=secure.spec.url,
        ES_CA_CERTS=str(secure.spec.ca_file),
        ES_USERNAME=secure.credentials.username,
        ES_PASSWORD="wrong-Pa55word",
    )
    for command in (["search", "中国"], ["histogram", "中国"], ["show", "dw:a-1"]):
        result = run_cli(*command, env=env)
        assert_one_line_error(result, "rejected the credentials", "ES_USERNAME")
        assert "wrong-Pa55word" not in result.stdout + result.stderr


def test_debug_shows_the_traceback() -> None:
    result = run_cli("--debug", "search", "--index", f"missing-{uuid.uuid4().hex[:6]}", "中国")
    assert result.returncode != 0 and "Traceback" in result.stderr


@pytest.mark.slow
def test_all_streams_every_hit_of_a_large_query_with_flat_memory(es_settings: Settings, corpus_alias: str) -> None:
    searcher = Searcher(es_settings, index=corpus_alias)
    small, large = "拉夫罗夫", "的"
    total = searcher.count(searcher.parse(large))
    assert total > 10_000
    run_cli("search", "--index", corpus_alias, "--all", "--jsonl", small)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = run_cli("search", "--index", corpus_alias, "--all", "--jsonl", large, timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert len(ids) == len(set(ids)) == total
    assert after - before < 60 * 1024, f"peak memory grew by {(after - before) / 1024:.0f} MB"


def test_reindex_through_the_cli_moves_the_alias_keeps_every_article_and_deletes_only_the_old_generation(
    es: Elasticsearch, alias: str
) -> None:
    assert run_cli("index", str(EXAMPLES), "--index", alias).returncode == 0
    (before,) = es.indices.get_alias(name=alias)
    result = run_cli("reindex", "--index", alias, "--delete-old")
    assert result.returncode == 0, result.stderr
    (after,) = es.indices.get_alias(name=alias)
    assert after != before and after.endswith("-g2")
    assert f"{alias} now points to {after}" in " ".join(result.stdout.split())
    assert not es.indices.exists(index=before)
    found = run_cli("search", "--index", alias, "--count", "中国")
    assert (found.returncode, found.stdout.strip()) == (0, "1")
