"""Shared fixtures. Integration tests run against a real Elasticsearch: ES_URL, or the local node on 9200.

`scripts/test` starts the managed node before running pytest; when no server answers, tests that need one fail
with the command to start it (they are never silently skipped).

Every test that needs Elasticsearch carries the marker ``es``: those using the fixtures below that reach a server
get it here, and the modules that start clusters of their own mark themselves. ``pytest -m "not es"`` runs the
rest with no server, JDK or Maven anywhere.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer import node
from indexer.client import connect
from indexer.config import Settings, load_settings
from indexer.ingest import IngestOptions, ingest
from indexer.search import Searcher
from tests.nodes import cli_env, free_port, run_cli
from tests.oracle import Oracle, article_files, load_paths, stored_hashes

ES_FIXTURES = frozenset({"es", "es_settings", "alias", "corpus_alias", "small_alias", "secure", "mention_alias"})
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


@dataclass(frozen=True)
class SecureNode:
    spec: node.NodeSpec
    credentials: node.Credentials
    start_output: str

    @property
    def fingerprint(self) -> str:
        return node.ca_fingerprint(self.spec.ca_file)

    def secrets(self) -> list[str]:
        """The password, the encoded API key and its decoded id:key (all must stay out of every output)."""
        assert self.credentials.api_key
        return [
            self.credentials.password,
            self.credentials.api_key,
            base64.b64decode(self.credentials.api_key).decode(),
        ]


@pytest.fixture(scope="module")
def secure() -> Iterator[SecureNode]:
    """A secure one-node cluster started with the console script, as a user would (one per module: a node kept for
    the whole session shares its port range with the fault tests' short-lived clusters, which may take its port
    and remove its folder if it ever goes down)."""
    cache = load_settings().cache_dir
    spec = node.NodeSpec(cache_dir=cache, port=free_port(), heap="512m", secure=True)
    env = cli_env(INDEXER_CACHE_DIR=str(cache))
    try:
        started = run_cli("node", "start", "--secure", "--port", str(spec.port), "--heap", spec.heap, env=env)
        assert started.returncode == 0, started.stderr
        credentials = node.read_credentials(spec)
        assert credentials and credentials.api_key
        yield SecureNode(spec, credentials, started.stdout + started.stderr)
    finally:
        node.stop(spec)
        shutil.rmtree(spec.cluster_dir, ignore_errors=True)


SMALL_FILES_PER_FOLDER = 6
"""Files per outlet-month folder in :func:`small_alias`."""


@pytest.fixture(scope="session")
def small_alias(es: Elasticsearch, es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """examples/ plus the first files of every outlet's month folders (Traditional outlets included)."""
    corpus = require_corpus()
    paths = [
        EXAMPLES,
        *(
            path
            for folder in sorted(corpus.glob("*/*/"))
            for path in sorted(folder.glob("*.md"))[:SMALL_FILES_PER_FOLDER]
        ),
    ]
    alias = f"test-search-{uuid.uuid4().hex[:6]}"
    report = tmp_path_factory.mktemp("report") / "report.jsonl"
    summary = ingest(es_settings, paths, IngestOptions(workers=1), alias=alias, report=report)
    assert summary.indexed > 100 and summary.complete
    yield alias
    es.indices.delete(index=",".join(es.indices.get(index=f"{alias}-*")))


@pytest.fixture(scope="module")
def searcher(es_settings: Settings, small_alias: str) -> Searcher:
    """A searcher over :func:`small_alias`."""
    return Searcher(es_settings, index=small_alias)


MENTIONS = ("金正恩", "普京", "蒲亭", "習近平", "习近平")
"""A file is indexed when it holds one of these (as bytes: a cheap filter, the oracle decides matches)."""


def mention_files(corpus: Path) -> list[Path]:
    needles = [mention.encode() for mention in MENTIONS]
    return [path for path in article_files(corpus) if any(needle in path.read_bytes() for needle in needles)]


@pytest.fixture(scope="session")
def mention_alias(es: Elasticsearch, es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    alias = f"test-near-{uuid.uuid4().hex[:6]}"
    report = tmp_path_factory.mktemp("near") / "report.jsonl"
    summary = ingest(es_settings, mention_files(require_corpus()), IngestOptions(workers=1), alias=alias, report=report)
    assert summary.indexed > 300 and summary.complete
    yield alias
    es.indices.delete(index=",".join(es.indices.get(index=f"{alias}-*")))


@pytest.fixture(scope="session")
def mention_oracle(es: Elasticsearch, mention_alias: str) -> Oracle:
    stored = stored_hashes(es, mention_alias)
    oracle = load_paths(mention_files(require_corpus()), stored)
    assert set(oracle.ids) == set(stored)
    return oracle


def ids(searcher: Searcher, query: str) -> set[str]:
    found = [hit.id for hit in searcher.stream(searcher.parse(query), highlight=False)]
    assert len(found) == len(set(found))
    return set(found)
