"""A managed node with security on: TLS with its own CA, a user with a password, an API key.

The console script connects with each kind of credential and trust; wrong secrets give one clear line; no secret
ever appears in any output, report or server log; a config file with secrets that others can read is warned of.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from .conftest import Figure, SecureNode
from .nodes import cli_env, corpus_subset, run_cli

pytestmark = [pytest.mark.slow, pytest.mark.es]


def _env(secure: SecureNode, tmp_path: Path, **values: str) -> dict[str, str]:
    return cli_env(ES_URL=secure.spec.url, INDEXER_CACHE_DIR=str(tmp_path / "cache"), **values)


def _auth(secure: SecureNode, kind: str) -> dict[str, str]:
    if kind == "api-key":
        return {"ES_API_KEY": secure.credentials.api_key or ""}
    return {"ES_USERNAME": secure.credentials.username, "ES_PASSWORD": secure.credentials.password}


def _trust(secure: SecureNode, kind: str) -> dict[str, str]:
    return {"ES_CA_CERTS": str(secure.spec.ca_file)} if kind == "ca-file" else {"ES_CA_FINGERPRINT": secure.fingerprint}


def test_secure_start_says_where_the_ca_and_secrets_are_but_not_the_secrets(secure: SecureNode) -> None:
    output = secure.start_output
    assert secure.spec.url.startswith("https://")
    assert str(secure.spec.ca_file) in output and secure.fingerprint in output
    assert str(secure.spec.credentials_file) in output and "0600" in output
    assert secure.spec.credentials_file.stat().st_mode & 0o777 == 0o600
    assert not any(secret in output for secret in secure.secrets())


@pytest.mark.parametrize("trust", ["ca-file", "fingerprint"])
@pytest.mark.parametrize("auth", ["api-key", "password"])
def test_the_cli_connects_with_each_credential_and_each_way_to_trust_the_ca(
    secure: SecureNode, tmp_path: Path, auth: str, trust: str
) -> None:
    result = run_cli("doctor", env=_env(secure, tmp_path, **_auth(secure, auth), **_trust(secure, trust)))
    assert result.returncode == 0, result.stderr
    assert "Elasticsearch 9." in result.stdout and "health green" in result.stdout


def test_the_credentials_file_is_a_config_file(secure: SecureNode, tmp_path: Path) -> None:
    result = run_cli("--config", str(secure.spec.credentials_file), "doctor", env=cli_env())
    assert result.returncode == 0 and "warning" not in result.stderr, result.stderr
    assert "Elasticsearch 9." in result.stdout


def _failure(secure: SecureNode, tmp_path: Path, *args: str, **values: str) -> str:
    result = run_cli(*args, "doctor", env=_env(secure, tmp_path, **values))
    assert result.returncode == 1 and "Traceback" not in result.stdout + result.stderr
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    return line


def test_wrong_secrets_and_an_untrusted_ca_give_one_clear_line(
    secure: SecureNode, tmp_path: Path, figure: Figure
) -> None:
    ca = _trust(secure, "ca-file")
    wrong_key = base64.b64encode(b"not-an-id:not-a-key").decode()
    lines = {
        "wrong password": _failure(secure, tmp_path, ES_USERNAME="indexer", ES_PASSWORD="wrong-Pa55word", **ca),
        "wrong API key": _failure(secure, tmp_path, ES_API_KEY=wrong_key, **ca),
        "no CA": _failure(secure, tmp_path, **_auth(secure, "password")),
        "wrong fingerprint": _failure(secure, tmp_path, ES_CA_FINGERPRINT="AB" * 32, **_auth(secure, "password")),
    }
    assert "rejected the credentials (HTTP 401)" in lines["wrong password"]
    assert "rejected the credentials (HTTP 401)" in lines["wrong API key"]
    assert all(
        "TLS handshake" in lines[name] and "ES_CA_CERTS" in lines[name] for name in ("no CA", "wrong fingerprint")
    )
    figure("security-errors", **lines)


def test_no_secret_appears_in_any_output_report_or_server_log(
    secure: SecureNode, tmp_path: Path, corpus: Path, figure: Figure
) -> None:
    files = corpus_subset(corpus, 30, tmp_path / "files")
    (files / "empty.md").write_bytes(b"")  # a rejected file, so the run writes a report
    password = secure.credentials.password
    wrong = "Wr0ng-" + password[::-1]
    ca = _trust(secure, "ca-file")
    runs = [
        (["--password", password, "--username", "indexer", "index", str(files), "--index", "secrets"], {}),
        (["doctor"], _auth(secure, "api-key")),
        (["--password", password, "--username", "indexer", "stats", "--index", "secrets"], {}),
        (["--password", wrong, "--username", "indexer", "index", str(files), "--index", "secrets"], {}),
        (["--debug", "--password", wrong, "--username", "indexer", "doctor"], {}),
        (["doctor"], {"ES_API_KEY": secure.credentials.api_key[::-1]}),  # type: ignore[index]
    ]
    outputs = []
    for args, values in runs:
        result = run_cli(*args, env=_env(secure, tmp_path, **ca, **values))
        outputs.append(result.stdout + result.stderr)
    assert "articles in secrets" in outputs[0] and "Elasticsearch 9." in outputs[1]
    assert all("401" in output for output in outputs[3:])
    reports = list((tmp_path / "cache").rglob("*.jsonl"))
    logs = [path for path in secure.spec.cluster_dir.rglob("logs/*") if path.is_file()]
    assert reports and logs
    haystack = "\n".join(outputs + [path.read_text(errors="replace") for path in reports + logs])
    for secret in [*secure.secrets(), wrong, secure.credentials.api_key[::-1]]:  # type: ignore[index]
        assert secret not in haystack
    figure("secrets", runs=len(runs), bytes_searched=len(haystack.encode()), files_searched=len(reports + logs))


def test_a_config_file_with_secrets_that_others_can_read_is_warned_of(secure: SecureNode, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[elasticsearch]\nurl = "{secure.spec.url}"\nca_certs = "{secure.spec.ca_file}"\n'
        f'username = "indexer"\npassword = "{secure.credentials.password}"\n'
    )
    config.chmod(0o644)
    warned = run_cli("--config", str(config), "doctor", env=cli_env())
    assert warned.returncode == 0, warned.stderr
    assert f"{config} holds secrets and is readable by other users; run: chmod 600 {config}" in warned.stderr
    config.chmod(0o600)
    quiet = run_cli("--config", str(config), "doctor", env=cli_env())
    assert quiet.returncode == 0 and "warning" not in quiet.stderr
