"""The command output shown in the README and docs is what the commands print (see tools/readme_output.py)."""

from __future__ import annotations

import difflib

import pytest
from elasticsearch import Elasticsearch

from indexer.config import Settings
from indexer.ingest import IngestOptions, ingest
from tests.conftest import EXAMPLES, ROOT
from tools.readme_output import FILES, render

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def examples_alias(es: Elasticsearch, es_settings: Settings) -> str:
    alias = "test-docs-examples"
    summary = ingest(es_settings, [EXAMPLES], IngestOptions(workers=1), alias=alias)
    assert summary.complete
    return alias


@pytest.mark.parametrize("name", FILES)
def test_generated_output_is_what_the_commands_print(name: str, examples_alias: str, corpus_alias: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    assert "<!-- output: " in text, f"{name} has no generated block"
    generated = render(text, {"examples": examples_alias, "corpus": corpus_alias})
    diff = "".join(difflib.unified_diff(text.splitlines(True), generated.splitlines(True), name, "generated"))
    assert not diff, (
        f"{name} shows output the commands no longer print; regenerate it with "
        f"`.venv/bin/python -m tools.readme_output --examples {examples_alias} --corpus {corpus_alias}`\n{diff}"
    )
