"""Shared fixtures. Integration tests run against a real Elasticsearch: ES_URL, or the local node on 9200.

`scripts/test` starts the managed node before running pytest; when no server answers, tests that need one fail
with the command to start it (they are never silently skipped).

Every test that needs Elasticsearch carries the marker ``es``: those using the fixtures below that reach a server
get it here, and the modules that start clusters of their own mark themselves. ``pytest -m "not es"`` runs the
rest with no server, JDK or Maven anywhere.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.client import connect
from indexer.config import Settings, load_settings

ES_FIXTURES = frozenset({"es", "es_settings", "alias", "corpus_alias"})
"""Fixtures that reach an Elasticsearch server: a test using one (directly or through another fixture) is ``es``."""

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ES_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.es)


def _find_corpus() -> Path:
    """INDEXER_CORPUS, else the first ``shared/corpus`` beside the checkout or one of its parents."""
    if os.environ.get("INDEXER_CORPUS"):
        return Path(os.environ["INDEXER_CORPUS"])
    candidates = [parent / "shared" / "corpus" for parent in ROOT.parents] + [Path("/work/shared/corpus")]
    return next((path for path in candidates if (path / "MANIFEST.tsv").is_file()), candidates[0])


CORPUS = _find_corpus()


def require_corpus() -> Path:
    """The shared corpus; tests that need it skip without it, or fail when INDEXER_REQUIRE_CORPUS=1 (CI)."""
    if not (CORPUS / "MANIFEST.tsv").is_file():
        reason = f"the shared corpus is not at {CORPUS} (set INDEXER_CORPUS)"
        if os.environ.get("INDEXER_REQUIRE_CORPUS") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return CORPUS


@pytest.fixture(scope="session")
def es_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings from the environment, with a private cache dir for reports."""
    settings = load_settings(environ=dict(os.environ))
    return settings.with_overrides(cache_dir=str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def es(es_settings: Settings) -> Elasticsearch:
    client = connect(es_settings)
    try:
        client.cluster.health(timeout="10s")
    except Exception as exc:
        pytest.fail(
            f"no Elasticsearch at {', '.join(es_settings.hosts)} ({type(exc).__name__}); "
            "start one with `indexer node start` or set ES_URL",
            pytrace=False,
        )
    return client


@pytest.fixture
def alias(es: Elasticsearch, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh alias name for one test; its indices are deleted afterwards."""
    name = f"test-{request.node.name.lower()[:40].strip('_[]')}-{uuid.uuid4().hex[:6]}"
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name)
    yield name
    leftovers = list(es.indices.get(index=f"{name}-*", expand_wildcards="all"))
    if leftovers:
        es.indices.delete(index=",".join(leftovers))


Figure = Callable[..., None]


@pytest.fixture
def figure(capsys: pytest.CaptureFixture[str]) -> Figure:
    """Report a measured figure (fault tests): printed past the output capture, so every run's log shows it, and
    appended as a JSON line to $INDEXER_FIGURES when set (docs/faults.md copies them from such a run)."""

    def report(name: str, **values: object) -> None:
        line = json.dumps({"figure": name, **values}, ensure_ascii=False)
        with capsys.disabled():
            print(f"\nFIGURE {line}", flush=True)
        if os.environ.get("INDEXER_FIGURES"):
            with open(os.environ["INDEXER_FIGURES"], "a", encoding="utf-8") as out:
                out.write(line + "\n")

    return report


@pytest.fixture(scope="session")
def corpus() -> Path:
    return require_corpus()


@pytest.fixture(scope="session")
def corpus_alias(es: Elasticsearch, es_settings: Settings, corpus: Path) -> str:
    """The whole shared corpus indexed behind alias `test-corpus`, once per session.

    The index is kept between sessions: a later session only re-checks files (unchanged ones are skipped), unless
    the mapping or analysis version changed, in which case it is rebuilt.
    """
    from indexer.ingest import IngestOptions, ingest
    from indexer.lifecycle import behind, stale_reason
    from indexer.segment import get_segmenter

    alias = "test-corpus"
    version = get_segmenter(es_settings.user_dict, es_settings.cache_dir).version
    for index, meta in behind(es, alias).items():
        if stale_reason(meta, version):
            es.indices.delete(index=index)
    summary = ingest(es_settings, [corpus], IngestOptions(), alias=alias)
    assert summary.complete and summary.rejected == 0, summary
    return alias
