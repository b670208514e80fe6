"""A segmenter's merged, folded dictionary as a read-only SQLite file: words with frequency and tag, the IDF
table and jieba.analyse's stop words.

The file is written once per dictionary set (its name carries the set's version) and never changed after, so it
is opened immutable: opening takes a fraction of a millisecond, and a word or a few hundred words are looked up
without reading the rest. ``indexer.segment`` builds it and reads it.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

_FORMAT = "2"
_CHUNK = 500
"""Words per look-up statement (SQLite limits the parameters of one statement)."""


class Lexicon:
    """An open dictionary file; safe to use after a fork (the connection is reopened in the child)."""

    def __init__(self, path: Path) -> None:
        self.path = path.resolve()
        self._db: sqlite3.Connection | None = None
        self._pid = 0
        meta = dict(self._connection().execute("SELECT key, value FROM meta"))
        if meta.get("format") != _FORMAT:
            raise ValueError(f"{path}: not a dictionary file of format {_FORMAT}")
        self.total: int = int(meta["total"])
        """Sum of all word frequencies (jieba's ``Tokenizer.total``)."""
        self.max_len: int = int(meta["max_len"])
        """Length of the longest word."""
        self.median_idf: float = float(meta["median_idf"])
        self.stop_words: frozenset[str] = frozenset(str(meta["stop_words"]).split("\n"))
        self.persons: frozenset[str] = frozenset(str(meta["persons"]).split("\n")) - {""}
        """Words the news or user dictionary tags as persons."""

    @staticmethod
    def write(
        path: Path,
        words: Iterable[tuple[str, int, str]],
        idf: Mapping[str, float],
        median_idf: float,
        stop_words: Iterable[str],
        persons: Iterable[str],
    ) -> None:
        """Write a dictionary file atomically (parallel builders may race: the last rename wins, with the
        same content). `words` are (word, frequency, tag) with frequencies above zero."""
        rows = sorted(words)
        meta = {
            "format": _FORMAT,
            "total": sum(freq for _, freq, _ in rows),
            "max_len": max((len(word) for word, _, _ in rows), default=1),
            "median_idf": median_idf,
            "stop_words": "\n".join(sorted(stop_words)),
            "persons": "\n".join(sorted(persons)),
        }
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            db = sqlite3.connect(temporary)
            with db:
                db.execute(
                    "CREATE TABLE words (word TEXT PRIMARY KEY, freq INTEGER NOT NULL, tag TEXT NOT NULL) WITHOUT ROWID"
                )
                db.execute("CREATE TABLE idf (word TEXT PRIMARY KEY, value REAL NOT NULL) WITHOUT ROWID")
                db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID")
                db.executemany("INSERT INTO words VALUES (?, ?, ?)", rows)
                db.executemany("INSERT INTO idf VALUES (?, ?)", sorted(idf.items()))
                db.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            db.close()
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def _connection(self) -> sqlite3.Connection:
        if self._db is None or self._pid != os.getpid():
            uri = f"{self.path.as_uri()}?mode=ro&immutable=1"
            self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            self._pid = os.getpid()
        return self._db

    def lookup(self, words: Collection[str]) -> list[tuple[str, int, str]]:
        """(word, frequency, tag) of those of `words` that are in the dictionary."""
        found: list[tuple[str, int, str]] = []
        chosen = list(words)
        for start in range(0, len(chosen), _CHUNK):
            chunk = chosen[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            found += self._connection().execute(f"SELECT word, freq, tag FROM words WHERE word IN ({marks})", chunk)
        return found

    def entries(self, dot: str = "·") -> list[tuple[str, int, str]]:
        """Every (word, frequency, tag), with ``·`` written as `dot`."""
        query = "SELECT replace(word, '·', ?), freq, tag FROM words"
        return self._connection().execute(query, (dot,)).fetchall()

    def freq(self, word: str) -> int:
        row = self._connection().execute("SELECT freq FROM words WHERE word = ?", (word,)).fetchone()
        return int(row[0]) if row else 0

    def tag(self, word: str) -> str | None:
        row = self._connection().execute("SELECT tag FROM words WHERE word = ?", (word,)).fetchone()
        return str(row[0]) if row else None

    def idf(self) -> dict[str, float]:
        """The whole IDF table (for keywords)."""
        return dict(self._connection().execute("SELECT word, value FROM idf"))
