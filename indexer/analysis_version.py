"""The analysis version: a short hash of everything that can change how a text is segmented (jieba's code,
dictionary and IDF table, the news and user dictionaries, the normalization version, the margin, the engine and
its settings). Every index records the version it was built with; a reader compares it with its own (the
stale-index warning) through :func:`analysis_version`, which reads no dictionary and loads neither jieba nor the
engines (:mod:`indexer.segment` builds on this module).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
from collections.abc import Sequence
from pathlib import Path

from indexer.config import default_cache_dir
from indexer.normalize import NORMALIZATION_VERSION

_JIEBA_DIR = Path(importlib.util.find_spec("jieba").origin).parent  # type: ignore[union-attr, arg-type]
JIEBA_DICT = _JIEBA_DIR / "dict.txt"
JIEBA_IDF = _JIEBA_DIR / "analyse" / "idf.txt"
JIEBA_CODE = _JIEBA_DIR / "__init__.py"
CONTEXT_MARGIN = 20
"""Added words get this many times the frequency at which they beat their own split (see ``word_freq``)."""
NEWS_DICT = "data/news_dict.txt"
NEWS_PATH = Path(__file__).parent / NEWS_DICT
_RULES = "1"
"""Bump when a change in :mod:`indexer.segment` or :mod:`indexer.engines` changes tokens."""
HMM = False
"""jieba's HMM guessing of unknown words: off (measured slower and noisier, see docs/segmentation.md)."""


def analysis_version(
    user_dict: str | os.PathLike[str] | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> str:
    """The ``version`` of :func:`get_segmenter`'s segmenter, without building one (no dictionary is opened): what
    the stale-index check compares."""
    directory = writable_dir(Path(cache_dir) if cache_dir is not None else default_cache_dir())
    return versions(NEWS_PATH, Path(user_dict) if user_dict is not None else None, directory, HMM, True)[1]


def versions(news: Path | None, user_dict: Path | None, directory: Path, hmm: bool, native: bool) -> tuple[str, str]:
    """The digest of the dictionary set (it names the lexicon file) and the segmenter version."""
    engine = rjieba_files() if native else []
    digests = _file_digests([JIEBA_CODE, JIEBA_DICT, JIEBA_IDF, *filter(None, (news, user_dict)), *engine], directory)
    jieba_digests, named = digests[:3], iter(digests[3:])
    dictionary = _digest(
        *jieba_digests,
        f"news={next(named) if news else None}",
        f"user={next(named) if user_dict else None}",
        NORMALIZATION_VERSION,
        f"margin={CONTEXT_MARGIN}",
    )
    engine_name = f"rjieba {' '.join(named)}" if native else "jieba"
    return dictionary, _digest(dictionary, engine_name, f"{_RULES} hmm={hmm}")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _file_digests(paths: Sequence[Path], directory: Path) -> list[str]:
    """SHA-256 of each file, remembered in `directory` by path, size and modification time: reading and
    hashing the 16 MB of jieba's files and rjieba's module would cost more than all the rest of a start."""
    memo_path = directory / "file-digests.json"
    try:
        memo = json.loads(memo_path.read_bytes())
    except (OSError, ValueError):
        memo = {}
    memo = memo if isinstance(memo, dict) else {}
    digests: list[str] = []
    known = len(memo)
    for path in paths:
        info = path.stat()
        key = f"{path.resolve()}|{info.st_size}|{info.st_mtime_ns}"
        if not isinstance(memo.get(key), str):
            memo[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        digests.append(memo[key])
    if len(memo) != known:
        import logging
        import tempfile

        try:
            fd, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(memo, handle)
            os.replace(temporary, memo_path)
        except OSError as error:
            logging.getLogger(__name__).warning("file digests not remembered in %s: %s", memo_path, error)
    return digests


def writable_dir(preferred: Path) -> Path:
    """`preferred`, else a folder of this user's in the temporary directory (created as needed)."""
    if _writable(preferred):
        return preferred
    import tempfile

    fallback = Path(tempfile.gettempdir()) / f"news-indexer-{os.getuid()}"
    if _writable(fallback):
        return fallback
    raise OSError(f"no writable directory for the segmenter's dictionary: tried {preferred} and {fallback}")


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def rjieba_files() -> list[Path]:
    """rjieba's extension module: what identifies the native engine's code."""
    spec = importlib.util.find_spec("rjieba")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(spec.submodule_search_locations[0])
    return sorted(path for suffix in importlib.machinery.EXTENSION_SUFFIXES for path in folder.glob(f"rjieba{suffix}"))
