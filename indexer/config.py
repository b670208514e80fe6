"""Settings: one home for configuration, read from defaults, a TOML file, the environment and CLI options.

Precedence, lowest to highest: built-in defaults < config file < environment variables < command-line options.

The config file is ``$INDEXER_CONFIG`` if set, else ``$XDG_CONFIG_HOME/news-indexer/config.toml`` (by default
``~/.config/news-indexer/config.toml``). Its keys are the setting names below, grouped in tables::

    [elasticsearch]
    url = ["https://es1:9200", "https://es2:9200"]   # or one string, or comma-separated
    api_key = "..."            # or username/password
    ca_certs = "/path/to/ca.crt"
    timeout = 30

    [index]
    name = "news"
    user_dict = "~/my-words.txt"
    outlets = "~/my-outlets.toml"   # adds or overrides outlet metadata (region, script, kind)
    variants_file = "~/my-variants.txt"   # regional spellings for ~TERM (docs/variants.md)

Secrets (``api_key``, ``password``, ``kibana_password``) are never printed: :meth:`Settings.describe` shows only
whether they are set and where from.
"""

from __future__ import annotations

import base64
import math
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from indexer.errors import ConfigError, IndexerError, redact_url
from indexer.names import check_alias

APP_NAME = "news-indexer"
DEFAULT_URL = "http://127.0.0.1:9200"


def _url(text: str) -> str:
    """`text` if it is an http(s) URL with a host and a valid port; the error shows it with credentials masked."""
    shown = repr(redact_url(text))
    if any(char.isspace() for char in text):
        raise ValueError(f"{shown} holds a space")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{shown} is not an http:// or https:// URL")
    try:
        parts.port  # noqa: B018  (raises on a port out of range or not a number)
    except ValueError:
        raise ValueError(f"{shown} has a bad port: use a number from 1 to 65535") from None
    if not parts.hostname:
        raise ValueError(f"{shown} names no host, e.g. http://127.0.0.1:9200")
    if parts.port == 0:
        raise ValueError(f"{shown} has a bad port: use a number from 1 to 65535")
    if parts.port is None and parts.scheme == "http":
        raise ValueError(f"{shown} names no port, e.g. http://127.0.0.1:9200")
    return text


def _hosts(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else str(value).split(",")
    hosts = tuple(_url(str(item).strip()) for item in items if str(item).strip())
    if not hosts:
        raise ValueError("no host given")
    return hosts


def _path(value: Any) -> Path:
    return Path(str(value)).expanduser()


def _file(value: Any) -> Path:
    path = _path(value)
    if not path.exists():
        raise ValueError(f"{path} does not exist")
    if not path.is_file():
        raise ValueError(f"{path} is not a file")
    return path


def _fingerprint(value: Any) -> str:
    text = str(value).strip()
    if not re.fullmatch(r"[0-9A-Fa-f]{64}|[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){31}", text):
        raise ValueError("must be a SHA-256 fingerprint: 64 hex digits, optionally in colon-separated pairs")
    return text


def _positive_float(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number) or number <= 0:
        raise ValueError(f"{value!r} is not a number of seconds greater than 0")
    return number


def _port(value: Any) -> int:
    number = int(value)
    if not 1 <= number <= 65535:
        raise ValueError("must be a port number (1-65535)")
    return number


def _space(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"[a-z0-9_-]+", text):
        raise ValueError("must be a Kibana space id: lowercase letters, digits, '_' and '-'")
    return text


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError("must be true or false")


@dataclass(frozen=True, slots=True)
class Option:
    """How one setting is read: its env var, its place in the config file, how to parse it, and whether secret."""

    name: str
    env: str
    table: str
    key: str
    parse: Callable[[Any], Any] = str
    secret: bool = False
    help: str = ""


OPTIONS: tuple[Option, ...] = (
    Option("hosts", "ES_URL", "elasticsearch", "url", _hosts, help="Elasticsearch URL(s), comma-separated"),
    Option("api_key", "ES_API_KEY", "elasticsearch", "api_key", secret=True, help="API key (encoded form)"),
    Option("username", "ES_USERNAME", "elasticsearch", "username", help="user for basic authentication"),
    Option("password", "ES_PASSWORD", "elasticsearch", "password", secret=True, help="password for the user"),
    Option("ca_certs", "ES_CA_CERTS", "elasticsearch", "ca_certs", _path, help="CA certificate file (PEM)"),
    Option(
        "ca_fingerprint",
        "ES_CA_FINGERPRINT",
        "elasticsearch",
        "ca_fingerprint",
        _fingerprint,
        help="SHA-256 fingerprint of the server's CA certificate",
    ),
    Option("timeout", "ES_TIMEOUT", "elasticsearch", "timeout", _positive_float, help="request timeout, seconds"),
    Option("index", "INDEXER_INDEX", "index", "name", check_alias, help="index alias that commands read and write"),
    Option("user_dict", "INDEXER_USER_DICT", "index", "user_dict", _file, help="extra jieba dictionary file"),
    Option(
        "outlets_file",
        "INDEXER_OUTLETS",
        "index",
        "outlets",
        _file,
        help="outlet metadata file adding or overriding outlets (TOML, as indexer/data/outlets.toml)",
    ),
    Option("timezone", "INDEXER_TIMEZONE", "index", "timezone", help="time zone for dates and histograms"),
    Option(
        "variants_file",
        "INDEXER_VARIANTS_FILE",
        "index",
        "variants_file",
        _file,
        help="regional spellings file: adds or removes equivalences for ~TERM (docs/variants.md)",
    ),
    Option("cache_dir", "INDEXER_CACHE_DIR", "node", "cache_dir", _path, help="managed node's download/data dir"),
    Option("node_port", "INDEXER_NODE_PORT", "node", "port", _port, help="managed node's first HTTP port"),
    Option("node_heap", "INDEXER_NODE_HEAP", "node", "heap", help="managed node's JVM heap, e.g. 1g"),
    Option("node_user", "INDEXER_NODE_USER", "node", "user", help="user the node runs as when started by root"),
    Option("kibana_url", "KIBANA_URL", "kibana", "url", help="Kibana URL"),
    Option("kibana_username", "KIBANA_USERNAME", "kibana", "username", help="Kibana user"),
    Option("kibana_password", "KIBANA_PASSWORD", "kibana", "password", secret=True, help="Kibana password"),
    Option("kibana_verify", "KIBANA_VERIFY_CERTS", "kibana", "verify_certs", _bool, help="verify Kibana's TLS"),
    Option("kibana_space", "KIBANA_SPACE", "kibana", "space", _space, help="Kibana space for the saved objects"),
)
OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}


def default_cache_dir() -> Path:
    """XDG cache dir; for root, /var/cache, which the unprivileged node user can traverse (unlike /root)."""
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / APP_NAME
    if os.geteuid() == 0:
        return Path("/var/cache") / APP_NAME
    return Path.home() / ".cache" / APP_NAME


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / APP_NAME / "config.toml"


@dataclass(frozen=True, slots=True)
class Settings:
    """Resolved configuration. ``sources`` tells where each non-default value came from."""

    hosts: tuple[str, ...] = (DEFAULT_URL,)
    api_key: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: Path | None = None
    ca_fingerprint: str | None = None
    timeout: float = 30.0
    index: str = "news"
    user_dict: Path | None = None
    outlets_file: Path | None = None
    timezone: str = "UTC"
    variants_file: Path | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    node_port: int = 9200
    node_heap: str = "1g"
    node_user: str = "nobody"
    kibana_url: str = "http://127.0.0.1:5601"
    kibana_username: str | None = None
    kibana_password: str | None = field(default=None, repr=False)
    kibana_verify: bool = True
    kibana_space: str = "default"
    sources: Mapping[str, str] = field(default_factory=dict, repr=False)
    warnings: tuple[str, ...] = field(default=(), repr=False)

    def describe(self) -> list[tuple[str, str, str]]:
        """(setting, value, source) rows for display; secrets appear only as 'set'."""
        rows = []
        for option in OPTIONS:
            value = getattr(self, option.name)
            if value is None:
                shown = "-"
            elif option.secret:
                shown = "set (hidden)"
            elif isinstance(value, tuple):
                shown = redact_url(", ".join(value))
            else:
                shown = redact_url(str(value))
            rows.append((option.name, shown, self.sources.get(option.name, "default")))
        return rows

    def secrets(self) -> list[str]:
        """The secret values in use, so output can be checked or scrubbed for them: the secret settings, the
        passwords in URLs, and the Basic authorization tokens made of them."""
        found = [getattr(self, o.name) for o in OPTIONS if o.secret and getattr(self, o.name)]
        pairs = [(self.username, self.password), (self.kibana_username, self.kibana_password)]
        for url in (*self.hosts, self.kibana_url):
            parts = urlsplit(url)
            if parts.password:
                found += [parts.password, unquote(parts.password)]
                pairs.append((unquote(parts.username or ""), unquote(parts.password)))
        found += [
            base64.b64encode(f"{user or ''}:{password}".encode()).decode() for user, password in pairs if password
        ]
        return sorted(set(found), key=len, reverse=True)

    def scrub(self, text: str) -> str:
        """`text` with every secret in use, and the credentials of any URL, replaced by ``***``."""
        for secret in self.secrets():
            text = text.replace(secret, "***")
        return redact_url(text)

    def with_overrides(self, **values: Any) -> Settings:
        """A copy with command-line values applied (``None`` means 'not given')."""
        given = {name: value for name, value in values.items() if value is not None}
        if not given:
            return self
        parsed = {name: _parse(OPTIONS_BY_NAME[name], value, "command line") for name, value in given.items()}
        sources = {**self.sources, **dict.fromkeys(parsed, "command line")}
        return replace(self, **parsed, sources=sources)


def _parse(option: Option, value: Any, origin: str) -> Any:
    try:
        return option.parse(value)
    except (TypeError, ValueError, IndexerError) as exc:
        raise ConfigError(f"{option.name} from {origin}: {exc}") from None


def _file_warnings(path: Path, data: Mapping[str, Any]) -> list[str]:
    """Warn when a config file that holds secrets can be read by other users."""
    holds_secret = any(o.secret and o.key in data.get(o.table, {}) for o in OPTIONS)
    mode = path.stat().st_mode
    if holds_secret and mode & (stat.S_IRGRP | stat.S_IROTH):
        return [f"{path} holds secrets and is readable by other users; run: chmod 600 {path}"]
    return []


def load_settings(config_path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings from the config file and the environment (CLI options come later via with_overrides)."""
    env = os.environ if environ is None else environ
    path = config_path or (Path(env["INDEXER_CONFIG"]) if env.get("INDEXER_CONFIG") else default_config_path())
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    warnings: list[str] = []
    if path.is_file():
        import tomllib  # only with a config file: its import is a tenth of `search --count`'s own time

        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        tables = {o.table for o in OPTIONS}
        for table, entries in data.items():
            if table in tables and not isinstance(entries, dict):
                kind = type(entries).__name__
                raise ConfigError(f"config file {path}: {table} must be a table ([{table}] and its keys), not {kind}")
        known = {(o.table, o.key) for o in OPTIONS}
        for table, entries in data.items():
            for key in entries if isinstance(entries, dict) else {"": None}:
                if (table, key) not in known:
                    warnings.append(f"{path}: unknown setting [{table}] {key or ''}".rstrip())
        for option in OPTIONS:
            if option.key in data.get(option.table, {}):
                values[option.name] = _parse(option, data[option.table][option.key], str(path))
                sources[option.name] = str(path)
        warnings += _file_warnings(path, data)
    elif config_path is not None:
        raise ConfigError(f"config file {config_path} does not exist")
    for option in OPTIONS:
        if env.get(option.env):
            values[option.name] = _parse(option, env[option.env], f"${option.env}")
            sources[option.name] = f"${option.env}"
    return Settings(**values, sources=sources, warnings=tuple(warnings))
