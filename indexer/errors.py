"""Errors that reach the user as one line with a fix, instead of a traceback."""

from __future__ import annotations


class IndexerError(Exception):
    """An expected failure: the message says what went wrong, the hint how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(IndexerError):
    """A setting is missing or malformed."""


class ConnectionFailed(IndexerError):
    """Elasticsearch (or Kibana) cannot be reached."""


class AuthenticationFailed(IndexerError):
    """The server rejected the credentials."""


class IndexMissing(IndexerError):
    """The index or alias a command needs does not exist."""


class NodeError(IndexerError):
    """The managed Elasticsearch node could not be set up, started or stopped."""


class QueryError(IndexerError):
    """The user's query cannot be understood."""
