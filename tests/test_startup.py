"""What a command loads before it runs: `import indexer.cli` (every command, `--help` included) and `import
indexer` stay light; the Elasticsearch client, rich's tables and progress bars, the parser, the segmenter and
Kibana's module load only in the commands that use them. Checked in a fresh interpreter's ``sys.modules``."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "elasticsearch",
    "elastic_transport",
    "urllib3",
    "pydantic",
    "rich",
    "rich.table",
    "rich.progress",
    "bs4",
    "lxml",
    "jieba",
    "rjieba",
    "opencc",
    "sqlite3",
    "indexer.search",
    "indexer.ingest",
    "indexer.parser",
    "indexer.segment",
    "indexer.engines",
    "indexer.normalize",
    "indexer.output",
    "indexer.kibana",
    "indexer.node",
    "indexer.query",
    "indexer.client",
    "indexer.lifecycle",
    "indexer.charts",
    "indexer.compare",
    "indexer.coverage",
    "indexer.kwic",
    "indexer.collocation",
    "indexer.sampling",
    "indexer.provenance",
    "indexer.outlet_meta",
    "indexer.story_counts",
    "indexer.story_ids",
    "indexer.stories",
    "indexer.variants",
    "matplotlib",
)


def loaded_after(code: str) -> set[str]:
    """The modules of HEAVY that `code` leaves in a new interpreter's sys.modules."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(result.stdout.splitlines()[-1])) & set(HEAVY)


@pytest.mark.parametrize("code", ["import indexer.cli", "import indexer", "import indexer.config"])
def test_importing_loads_no_heavy_module(code: str) -> None:
    assert loaded_after(code) == set()


def test_help_loads_no_heavy_module() -> None:
    code = (
        "import contextlib, io, sys\nfrom indexer.cli import app\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    app(['--help'])"
    )
    assert loaded_after(code) - {"rich", "rich.table"} == set()  # typer draws the help with rich


def test_the_public_names_load_on_first_use() -> None:
    assert loaded_after("from indexer import Searcher") >= {"indexer.search", "elasticsearch"}
    assert "indexer.ingest" not in loaded_after("from indexer import parse_file")


def test_the_count_path_loads_no_dictionary_parser_or_renderer() -> None:
    """`search --count` loads indexer.search and the query, not jieba (~90 ms with pkg_resources), the parser or
    rich: what the count sends needs none of them."""
    light = {"jieba", "rjieba", "bs4", "lxml", "rich", "rich.table", "indexer.parser", "indexer.output"}
    assert loaded_after("import indexer.search") & light == set()


@pytest.mark.es
def test_search_count_loads_no_elasticsearch_client(small_alias: str) -> None:
    """`search --count`, run as the command (against the suite's server), loads neither elasticsearch-py nor its
    transport nor urllib3: their imports alone took longer than grep takes to scan the corpus."""
    code = (
        "import contextlib, io, sys\nfrom indexer.cli import app\nout = io.StringIO()\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(out):\n"
        f"    app(['search', '中国', '--count', '--index', {small_alias!r}])\n"
        "assert int(out.getvalue()) > 0, out.getvalue()"
    )
    assert loaded_after(code) & {"elasticsearch", "elastic_transport", "urllib3", "indexer.client"} == set()


def test_the_console_script_builds_the_named_commands_and_the_help_lists_all() -> None:
    """main() registers only the commands named among the arguments (typer builds every registered one at start);
    a word that names another command keeps that one too, and nothing named keeps all."""
    from tests.nodes import run_cli

    listing = run_cli("--help").stdout
    assert all(name in listing for name in ("search", "histogram", "node", "kibana", "doctor"))
    assert "start" in run_cli("node", "--help").stdout
    refused = run_cli("--es-url", "http://127.0.0.1:9", "search", "index", "--count")  # `index` is a command too
    assert refused.returncode == 1 and refused.stderr.startswith("error: cannot reach Elasticsearch"), refused.stderr
