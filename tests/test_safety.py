"""Careless and hostile use, through the installed console script against the real node (issue 14).

The tool never touches an index it did not create; a name can never reach more than one alias; a load and a
rebuild can't run into each other; a half-finished load is flagged; credentials never reach the terminal; and
every bad setting or input ends as one line with the fix, never a traceback.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elasticsearch import ApiError, Elasticsearch

from indexer import lifecycle
from indexer.config import Settings
from indexer.ingest import IngestOptions, ingest

from .conftest import EXAMPLES, Figure
from .nodes import INDEXER, cli_env, corpus_subset, expected_ids, run_cli, stored_ids

SECRET_NOTE = "CONFIDENTIAL-7d1e"


def _env(settings: Settings, **values: str) -> dict[str, str]:
    return cli_env(ES_URL=settings.hosts[0], INDEXER_CACHE_DIR=str(settings.cache_dir), **values)


def _one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    """The single `error:` line of a failed run (exit 1, nothing else on stderr, no traceback)."""
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-3000:]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def decoy(es: Elasticsearch, alias: str) -> Iterator[str]:
    """An index this tool never made (``<alias>-2020``, a document with an extra field) behind `alias`."""
    name = f"{alias}-2020"
    es.indices.create(index=name, aliases={alias: {}})
    es.index(index=name, id="1", document={"title": "x", "editor_notes": SECRET_NOTE}, refresh=True)
    yield name
    es.indices.delete(index=name, ignore_unavailable=True)


# --- 1. only our own indices ------------------------------------------------------------------------------------


def test_reindex_delete_old_refuses_a_foreign_alias_and_deletes_nothing(
    es: Elasticsearch, es_settings: Settings, alias: str, decoy: str
) -> None:
    result = run_cli("reindex", "--delete-old", "--index", alias, env=_env(es_settings))
    _one_line_error(result, decoy, "did not create")
    assert es.indices.exists(index=decoy)
    assert es.get(index=decoy, id="1")["_source"]["editor_notes"] == SECRET_NOTE
    assert lifecycle.generations(es, alias) == [], "no new generation was made"


@pytest.mark.parametrize(
    "command",
    [
        ["stats"],
        ["doctor"],
        ["search", "x"],
        ["search", "--count", "x"],
        ["show", "1"],
        ["terms"],
        ["histogram"],
        ["coverage"],
    ],
)
def test_every_command_refuses_a_foreign_alias_naming_the_index(
    es_settings: Settings, alias: str, decoy: str, command: list[str]
) -> None:
    result = run_cli(*command, "--index", alias, env=_env(es_settings))
    output = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in output, output
    assert decoy in output and "did not create" in output
    assert SECRET_NOTE not in output and "reindex" not in output, "no advice to rebuild (and so delete) it"


def test_index_refuses_a_foreign_alias_and_writes_nothing(
    es: Elasticsearch, es_settings: Settings, alias: str, decoy: str
) -> None:
    result = run_cli("index", str(EXAMPLES), "--index", alias, env=_env(es_settings))
    assert "reindex" not in _one_line_error(result, decoy, "did not create")
    es.indices.refresh(index=decoy)
    assert es.count(index=decoy)["count"] == 1


def test_an_index_with_our_name_but_not_our_metadata_is_foreign(
    es: Elasticsearch, es_settings: Settings, alias: str
) -> None:
    name = f"{alias}-m3-d12345678-g1"
    es.indices.create(index=name, aliases={alias: {}})
    for command in (["reindex", "--delete-old"], ["index", str(EXAMPLES)], ["stats"]):
        _one_line_error(run_cli(*command, "--index", alias, env=_env(es_settings)), name, "did not create")
    assert es.indices.exists(index=name)


# --- 2. names that reach other indices --------------------------------------------------------------------------

BAD_NAMES = ["", "*", "_all", "a,b", "de*", "-big", "\udcff", "News", "a b", "a:b", "a/b", ".", "..", "x" * 300]


@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_names_that_would_reach_other_indices_are_refused_in_one_line(
    es_settings: Settings, decoy: str, name: str
) -> None:
    result = run_cli("search", "--count", "x", "--index", name, env=_env(es_settings))
    _one_line_error(result, "can't be an index alias")


@pytest.mark.parametrize("name", ["*", "_all", ""], ids=repr)
@pytest.mark.parametrize("command", [["stats"], ["index", str(EXAMPLES)], ["reindex"], ["show", "1"], ["terms"]])
def test_each_command_refuses_such_names_before_touching_anything(
    es: Elasticsearch, es_settings: Settings, decoy: str, name: str, command: list[str]
) -> None:
    result = run_cli(*command, "--index", name, env=_env(es_settings))
    _one_line_error(result, "can't be an index alias")
    assert SECRET_NOTE not in result.stdout
    assert es.count(index=decoy)["count"] == 1


def test_terms_on_a_name_starting_with_a_dash_and_search_on_a_non_utf8_name(es_settings: Settings) -> None:
    _one_line_error(run_cli("terms", "--index", "-big", env=_env(es_settings)), "'-big'", "all but this")
    _one_line_error(run_cli("search", "x", "--index", "\udcff", env=_env(es_settings)), "not valid UTF-8")


def test_a_bad_alias_in_the_environment_is_refused_too(es_settings: Settings) -> None:
    result = run_cli("search", "--count", "x", env=_env(es_settings, INDEXER_INDEX="*"))
    _one_line_error(result, "$INDEXER_INDEX", "wildcard")


# --- 3. a load and a rebuild at once ----------------------------------------------------------------------------


def _start(settings: Settings, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(INDEXER), *args], env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _wait_for(condition: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def _written(es: Elasticsearch, index: str) -> int:
    """Documents written to `index` so far (0 while it doesn't exist or its shards are still starting)."""
    try:
        return es.indices.stats(index=index, metric="indexing")["_all"]["primaries"]["indexing"]["index_total"]
    except (ApiError, KeyError):
        return 0


@pytest.mark.slow
def test_index_during_reindex_is_refused_and_no_acknowledged_article_is_lost(
    es: Elasticsearch, es_settings: Settings, alias: str, corpus: Path, tmp_path: Path, figure: Figure
) -> None:
    old_files = corpus_subset(corpus, 600, tmp_path / "old")
    new_files = corpus_subset(corpus, 300, tmp_path / "new", offset=3)
    first = ingest(es_settings, [old_files], IngestOptions(workers=2), alias=alias)
    assert first.complete
    old = lifecycle.resolve_alias(es, alias)
    assert old
    rebuild = _start(es_settings, "reindex", "--index", alias, "--workers", "1")
    new = old.replace("-g1", "-g2")
    _wait_for(lambda: _written(es, new) > 0 or rebuild.poll() is not None)
    assert rebuild.poll() is None, "the rebuild ended before the load could start"
    load = subprocess.run(
        [str(INDEXER), "index", str(new_files), "--index", alias, "--json"],
        env=_env(es_settings),
        capture_output=True,
        text=True,
        check=False,
    )
    _, err = rebuild.communicate(timeout=600)
    assert rebuild.returncode == 0, err
    wanted = expected_ids(old_files, new_files)
    stored = set(stored_ids(es, alias))
    if load.returncode == 0:
        assert stored == wanted, f"{len(wanted - stored)} acknowledged articles are missing from the alias"
    else:
        line = _one_line_error(load, "is being rebuilt", "`indexer reindex`")
        assert stored == expected_ids(old_files)
        figure("index-during-reindex", refused=line)


@pytest.mark.slow
def test_two_rebuilds_at_once_one_is_refused_clearly_and_no_stray_generation_is_left(
    es: Elasticsearch, es_settings: Settings, alias: str, corpus: Path, tmp_path: Path, figure: Figure
) -> None:
    files = corpus_subset(corpus, 300, tmp_path / "files")
    assert ingest(es_settings, [files], IngestOptions(workers=2), alias=alias).complete
    runs = [_start(es_settings, "reindex", "--delete-old", "--index", alias, "--workers", "1") for _ in range(2)]
    results = [(run.wait(timeout=600), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], [(code, err[-500:]) for code, _, err in results]
    (failed,) = [subprocess.CompletedProcess([], code, out, err) for code, out, err in results if code]
    line = _one_line_error(failed, "is already being rebuilt")
    index = lifecycle.resolve_alias(es, alias)
    assert lifecycle.generations(es, alias) == [index], "only the new generation is left"
    assert set(stored_ids(es, alias)) == expected_ids(files)
    figure("two-rebuilds", refused=line)


@pytest.mark.slow
def test_two_index_runs_at_once_both_complete(
    es: Elasticsearch, es_settings: Settings, alias: str, corpus: Path, tmp_path: Path
) -> None:
    shares = [corpus_subset(corpus, 200, tmp_path / f"share{k}", offset=k) for k in range(2)]
    runs = [_start(es_settings, "index", str(share), "--index", alias, "--json", "--workers", "1") for share in shares]
    for run in runs:
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
        assert json.loads(out)["complete"]
    assert set(stored_ids(es, alias)) == expected_ids(*shares)


# --- 9. a load that was cut off ---------------------------------------------------------------------------------


def test_stats_and_doctor_flag_an_index_left_in_bulk_load_settings(
    es: Elasticsearch, es_settings: Settings, alias: str
) -> None:
    assert ingest(es_settings, [EXAMPLES], IngestOptions(workers=1), alias=alias).complete
    index = lifecycle.resolve_alias(es, alias)
    assert index
    lifecycle.begin_bulk_load(es, index)  # what a run killed in the middle of a large load leaves
    stats = run_cli("stats", "--index", alias, env=_env(es_settings))
    doctor = run_cli("doctor", "--index", alias, env=_env(es_settings))
    as_json = json.loads(run_cli("stats", "--index", alias, "--json", env=_env(es_settings)).stdout)
    for output in (stats.stdout, doctor.stdout, " ".join(as_json.get("warnings", []))):
        flat = " ".join(output.split())
        assert "bulk-load settings" in flat and "interrupted" in flat, output
        assert f"PUT /{index}/_settings" in flat
    lifecycle.end_bulk_load(es, index, lifecycle.pending_restore(es, index) or {})
    assert "warning" not in run_cli("stats", "--index", alias, env=_env(es_settings)).stdout


# --- 11. credentials in URLs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [[], ["--debug"]], ids=["plain", "debug"])
@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("http://user:secret@127.0.0.1:99999", ["secret"]),
        ("http://user:se@cret@127.0.0.1:9", ["se@cret", "cret@"]),
        ("http://user:p%40ss@127.0.0.1:9", ["p%40ss", "p@ss"]),
    ],
)
def test_credentials_in_a_url_never_reach_the_terminal(url: str, secrets: list[str], debug: list[str]) -> None:
    result = run_cli(*debug, "doctor", env=cli_env(ES_URL=url))
    assert result.returncode == 1
    output = result.stdout + result.stderr
    assert not [secret for secret in secrets if secret in output] and "user:" not in output, output[-3000:]
    assert debug or "***@127.0.0.1" in output


def test_credentials_in_the_url_of_a_reachable_node_are_masked(es_settings: Settings) -> None:
    host = es_settings.hosts[0].split("://", 1)[1]
    result = run_cli("doctor", env=cli_env(ES_URL=f"http://user:se@cret@{host}"))
    assert result.returncode == 0, result.stderr
    assert "Elasticsearch 9." in result.stdout
    assert "cret" not in result.stdout + result.stderr and "***@" in result.stdout


# --- 14. one line with the fix ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "needles"),
    [
        ({"ES_TIMEOUT": "nan"}, ["$ES_TIMEOUT", "'nan'"]),
        ({"ES_TIMEOUT": "inf"}, ["$ES_TIMEOUT", "'inf'"]),
        ({"ES_URL": "http://"}, ["$ES_URL", "names no host"]),
        ({"ES_URL": "http://127.0.0.1:99999"}, ["$ES_URL", "port"]),
        ({"ES_URL": "http://127.0.0.1:92 00"}, ["$ES_URL", "space"]),
    ],
)
def test_bad_settings_give_one_line_with_the_fix(
    es_settings: Settings, values: dict[str, str], needles: list[str]
) -> None:
    line = _one_line_error(run_cli("stats", env={**_env(es_settings), **values}), *needles)
    assert "cannot reach" not in line


def test_a_config_file_whose_table_is_a_number_gives_one_line(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("elasticsearch = 5\n")
    result = run_cli("--config", str(config), "doctor", env=cli_env())
    _one_line_error(result, str(config), "[elasticsearch]")


@pytest.mark.parametrize("kind", ["binary", "missing", "folder"])
def test_a_user_dictionary_that_cant_be_read_gives_one_line(es_settings: Settings, tmp_path: Path, kind: str) -> None:
    path = tmp_path / "words.txt"
    if kind == "binary":
        path.write_bytes(b"\xff\xfe\x00\x01\x9c" * 50)
    elif kind == "folder":
        path.mkdir()
    _one_line_error(run_cli("search", "x", env=_env(es_settings, INDEXER_USER_DICT=str(path))), str(path))


def test_a_huge_query_is_not_echoed_whole(es_settings: Settings, alias: str) -> None:
    assert ingest(es_settings, [EXAMPLES], IngestOptions(workers=1), alias=alias).complete
    words = ["中" * 1000] * 199 + ['"x']  # 200,000 characters and an unclosed quote
    line = _one_line_error(run_cli("search", *words, "--index", alias, env=_env(es_settings)), "unbalanced quote")
    assert len(line) < 1000


def test_a_query_the_server_finds_too_large_gives_a_hint(es_settings: Settings, alias: str) -> None:
    assert ingest(es_settings, [EXAMPLES], IngestOptions(workers=1), alias=alias).complete
    terms = [(chr(0x4E00 + k) + "国美") * 167 for k in range(32)]  # 32 terms of 501 -> 500 characters each
    query = " OR ".join(term[:500] for term in terms)
    line = _one_line_error(run_cli("search", query, "--index", alias, env=_env(es_settings)), "too large")
    assert "fewer or shorter terms" in line


def test_library_calls_refuse_bad_names_too(es_settings: Settings) -> None:
    from indexer.errors import IndexerError
    from indexer.search import Searcher

    searcher = Searcher(es_settings, index="*")
    with pytest.raises(IndexerError, match="can't be an index alias"):
        searcher.count(searcher.parse("x"))
    with pytest.raises(IndexerError, match="can't be an index alias"):
        ingest(es_settings, [EXAMPLES], IngestOptions(workers=1), alias=f"_all{uuid.uuid4().hex[:4]}")
