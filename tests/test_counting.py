"""`search --count` over the standard library (indexer.counting): the same counts as Searcher.count (elasticsearch-py)
for every kind of query, the same connection rules (failover, API key, password, CA file, CA fingerprint) and the
same one-line errors as client.explain gives for elasticsearch-py's failures, against real nodes.

The secure tests start this module's own secure node (the `secure` fixture, a free 95xx port)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.client import connect, explain
from indexer.config import Settings, load_settings
from indexer.counting import LightCounter
from indexer.errors import IndexerError
from indexer.ingest import IngestOptions, ingest
from indexer.search import Searcher
from tests.conftest import EXAMPLES, SecureNode
from tests.nodes import cli_env

pytestmark = pytest.mark.es

QUERIES = (
    "中国",
    "美国 俄罗斯",
    "朝鲜 OR 北韩 核武器",
    "疫情 -武汉",
    "(拜登 疫苗) OR (川普 口罩)",
    "-(美国 OR 中国) 的",
    '"B-52 轰炸机"',
    '"俄罗斯 外交部"',
    "title:普京",
    "body:疫情",
    "caption:朝鲜",
    "links:普京",
    "金正恩 NEAR/10 普京",
    "俄罗斯 NEAR/3 朝鲜",
    "~川普",
    "title:~特朗普 美国",
    "date:2020",
    "date:2020-10..2021-03 疫情",
    "date:2022-07-01..",
    "date:none",
    "疫情 -date:none",
    "outlet:dw 中国",
    "region:tw",
    "kind:state 美国",
    "臺灣",
    "ＡＢＣ",
)


def test_counts_equal_the_searchers_for_every_kind_of_query(searcher: Searcher) -> None:
    light = LightCounter(searcher.settings, searcher.index)
    counts = {text: (light.count(light.parse(text)), searcher.count(searcher.parse(text))) for text in QUERIES}
    assert {text: mine for text, (mine, _) in counts.items()} == {text: theirs for text, (_, theirs) in counts.items()}
    assert sum(1 for mine, _ in counts.values() if mine) >= len(QUERIES) - 4, counts  # most queries match something
    outlets = light.parse("中国", ["dw"], "2020-01", "2021-12")
    assert light.count(outlets) == searcher.count(searcher.parse("中国", ["dw"], "2020-01", "2021-12")) > 0


def test_the_stale_index_warning_and_the_ownership_check_are_the_searchers(searcher: Searcher) -> None:
    light = LightCounter(searcher.settings, searcher.index)
    assert light.indices() == searcher.indices()
    assert light.analysis_version == searcher.segmenter.version
    assert light.version_warning() is None is searcher.version_warning()


def test_a_concrete_index_and_a_foreign_index_are_refused_alike(es: Elasticsearch, es_settings: Settings) -> None:
    name = f"test-count-foreign-{uuid.uuid4().hex[:6]}"
    es.indices.create(index=f"{name}-1", aliases={name: {}})
    try:
        for index in (name, f"{name}-1"):
            mine, theirs = _errors(es_settings, index)
            assert mine == theirs and ("did not create" in mine or "not an alias" in mine)
    finally:
        es.indices.delete(index=f"{name}-1")


def _dead_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_a_dead_first_host_fails_over_to_the_next(searcher: Searcher) -> None:
    settings = searcher.settings.with_overrides(hosts=",".join((_dead_url(), *searcher.settings.hosts)))
    light = LightCounter(settings, searcher.index)
    assert light.count(light.parse("中国")) == searcher.count(searcher.parse("中国")) > 0


def _errors(settings: Settings, index: str, text: str = "中国") -> tuple[str, str]:
    """The one-line errors of the light counter and of Searcher.count (through client.explain) for one count."""
    light = LightCounter(settings, index)
    with pytest.raises(IndexerError) as mine:
        light.count(light.parse(text))
    searcher = Searcher(settings, index)
    with pytest.raises(Exception) as raised:
        searcher.count(searcher.parse(text))
    theirs = explain(raised.value, settings)
    assert theirs is not None and type(theirs) is type(mine.value), raised.value
    return str(mine.value), str(theirs)


def test_a_refused_connection_says_the_same(es_settings: Settings, small_alias: str) -> None:
    mine, theirs = _errors(es_settings.with_overrides(hosts=_dead_url()), small_alias)
    assert mine == theirs and mine.startswith("cannot reach Elasticsearch at http://127.0.0.1:")


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_a_timeout_says_the_same(es_settings: Settings, silent_server: str) -> None:
    mine, theirs = _errors(es_settings.with_overrides(hosts=silent_server, timeout="0.3"), "news")
    assert mine == theirs and "did not answer within 0.3 s" in mine


def test_a_missing_index_says_the_same(es_settings: Settings) -> None:
    mine, theirs = _errors(es_settings, f"missing-{uuid.uuid4().hex[:6]}")
    assert mine == theirs and mine.startswith("no index behind")


def test_too_many_clauses_says_the_same(es_settings: Settings, small_alias: str) -> None:
    text = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你" * 10
    long_terms = " OR ".join(text[i:] for i in range(40))  # each character a clause, per text field
    mine, theirs = _errors(es_settings, small_alias, long_terms)
    assert mine == theirs and "the query is too large for the server" in mine


# -- a secure node: TLS with its own CA, a password, API keys ---------------------------------------------------


def _secure_settings(secure: SecureNode, tmp_path: Path, **values: str) -> Settings:
    env = cli_env(ES_URL=secure.spec.url, INDEXER_CACHE_DIR=str(tmp_path / "cache"), **values)
    return load_settings(environ=env)


def _credentials(secure: SecureNode, kind: str) -> dict[str, str]:
    if kind == "api-key":
        return {"ES_API_KEY": secure.credentials.api_key or ""}
    return {"ES_USERNAME": secure.credentials.username, "ES_PASSWORD": secure.credentials.password}


def _trust(secure: SecureNode, kind: str) -> dict[str, str]:
    return {"ES_CA_CERTS": str(secure.spec.ca_file)} if kind == "ca-file" else {"ES_CA_FINGERPRINT": secure.fingerprint}


@pytest.fixture(scope="module")
def secure_alias(secure: SecureNode, tmp_path_factory: pytest.TempPathFactory) -> str:
    settings = _secure_settings(
        secure, tmp_path_factory.mktemp("secure"), **_credentials(secure, "password"), **_trust(secure, "ca-file")
    )
    summary = ingest(settings, [EXAMPLES], IngestOptions(workers=1), alias="secure-count")
    assert summary.complete and summary.indexed >= 1
    return "secure-count"


@pytest.mark.slow
@pytest.mark.parametrize("trust", ["ca-file", "fingerprint"])
@pytest.mark.parametrize("auth", ["api-key", "password"])
def test_each_credential_and_each_way_to_trust_the_ca(
    secure: SecureNode, secure_alias: str, tmp_path: Path, auth: str, trust: str
) -> None:
    settings = _secure_settings(secure, tmp_path, **_credentials(secure, auth), **_trust(secure, trust))
    light = LightCounter(settings, secure_alias)
    searcher = Searcher(settings, secure_alias)
    assert light.count(light.parse("拉夫罗夫")) == searcher.count(searcher.parse("拉夫罗夫")) == 1
    failover = settings.with_overrides(hosts=f"https://127.0.0.1:{_dead_url().rpartition(':')[2]},{secure.spec.url}")
    light = LightCounter(failover, secure_alias)
    assert light.count(light.parse("拉夫罗夫")) == 1


@pytest.mark.slow
def test_rejected_credentials_say_the_same(secure: SecureNode, secure_alias: str, tmp_path: Path) -> None:
    wrong = {"ES_USERNAME": secure.credentials.username, "ES_PASSWORD": "wrong-Pa55word"}
    mine, theirs = _errors(_secure_settings(secure, tmp_path, **wrong, **_trust(secure, "ca-file")), secure_alias)
    assert mine == theirs and "rejected the credentials (HTTP 401)" in mine


@pytest.mark.slow
def test_a_key_without_privileges_says_the_same(secure: SecureNode, secure_alias: str, tmp_path: Path) -> None:
    admin = _secure_settings(secure, tmp_path, **_credentials(secure, "password"), **_trust(secure, "ca-file"))
    key = connect(admin).security.create_api_key(name="no-privileges", role_descriptors={"none": {}})["encoded"]
    settings = _secure_settings(secure, tmp_path, ES_API_KEY=key, **_trust(secure, "ca-file"))
    mine, theirs = _errors(settings, secure_alias)
    assert mine == theirs and mine.startswith("the configured user may not do this (HTTP 403)")


@pytest.mark.slow
@pytest.mark.parametrize("trust", [{}, {"ES_CA_FINGERPRINT": "AB" * 32}])
def test_an_untrusted_certificate_says_the_same(
    secure: SecureNode, secure_alias: str, tmp_path: Path, trust: dict[str, str]
) -> None:
    settings = _secure_settings(secure, tmp_path, **_credentials(secure, "api-key"), **trust)
    mine, theirs = _errors(settings, secure_alias)
    start = f"TLS handshake with Elasticsearch at {secure.spec.url} failed: "
    assert mine.startswith(start) and theirs.startswith(start)
    assert mine.endswith("SHA-256 fingerprint)") and theirs.endswith("SHA-256 fingerprint)")
