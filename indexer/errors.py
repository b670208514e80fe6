"""Errors that reach the user as one line with a fix, instead of a traceback; and how text is made safe to show in
them (credentials masked, echoed input cut)."""

from __future__ import annotations

import re

ECHO_CHARS = 80
"""How much of a user's input an error message quotes."""
_USERINFO = re.compile(r"(?<=://)[^\s/]*@")
"""The ``user:password@`` part of a URL, up to its last ``@`` (a password may hold ``@``)."""


class IndexerError(Exception):
    """An expected failure: the message says what went wrong, the hint how to fix it.

    ``param`` is the library argument the message is about, as the message names it (``partition``,
    ``offset + limit``), so that a front end can put its own name for it instead (the CLI names its flags).
    """

    def __init__(self, message: str, hint: str = "", param: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.param = param

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def renamed(self, name: str, hint: str | None = None) -> IndexerError:
        """The same error with its parameter called `name` (and another hint, if given)."""
        message = self.message.replace(self.param, name, 1) if self.param else self.message
        return type(self)(message, self.hint if hint is None else hint, name)


class ConfigError(IndexerError):
    """A setting is missing or malformed."""


class ConnectionFailed(IndexerError):
    """Elasticsearch (or Kibana) cannot be reached."""


class AuthenticationFailed(IndexerError):
    """The server rejected the credentials."""


class IndexMissing(IndexerError):
    """The index or alias a command needs does not exist."""


class InvalidName(IndexerError):
    """A name that can't be an index alias (a wildcard, a comma, a character Elasticsearch forbids ...)."""


class ForeignIndex(IndexerError):
    """An index this tool did not create: it is never read, written or deleted."""


class Locked(IndexerError):
    """Another run holds the alias: a rebuild, or loads while a rebuild wants it to itself."""


class NodeError(IndexerError):
    """The managed Elasticsearch node could not be set up, started or stopped."""


class QueryError(IndexerError):
    """The user's query cannot be understood."""


def redact_url(text: str) -> str:
    """`text` with the ``user:password@`` of every URL in it replaced by ``***@``."""
    return _USERINFO.sub("***@", text)


def echo(text: str, limit: int = ECHO_CHARS) -> str:
    """User input quoted in a message: its repr, the middle cut out when it is longer than `limit` characters."""
    if len(text) <= limit:
        return repr(text)
    half = limit // 2
    return f"{text[:half]!r}…({len(text) - 2 * half:,} characters)…{text[-half:]!r}"


def clip(message: str, limit: int = 1000) -> str:
    """A message cut in the middle when longer than `limit` characters, so its start and its fix stay readable."""
    if len(message) <= limit:
        return message
    half = limit // 2
    return f"{message[:half]}…({len(message) - 2 * half:,} characters cut)…{message[-half:]}"
