"""Word segmentation of folded text with jieba's algorithm: words for the words field, entities and keywords.

jieba's own dictionary, the project news dictionary (``data/news_dict.txt``) and an optional user dictionary
are folded with ``indexer.normalize.fold`` and merged into one prefix dictionary, so the segmenter reads the
same folded text that the chars field and the query side use: a word segments the same way whatever script,
width or case it was written in.

Two engines run jieba's precise mode over that dictionary. The native one (the default) is jieba-rs through
rjieba; the reference is jieba's own Python ``Tokenizer.get_DAG``/``calc``, which also builds the merged
dictionary (frequencies of added words come from its route) and is the only one with posseg's HMM. They give the
same tokens but for the classes measured in docs/segmentation.md. The merged dictionary is built once per
dictionary set into a read-only SQLite file under the cache directory (``indexer.lexicon``). The native engine
starts empty and takes from that file only the words inside the texts it is given, so a process that segments
a query is ready in milliseconds; after ``LOOKUP_CHARS`` characters it loads the whole dictionary at once.
"""

from __future__ import annotations

import hashlib
import heapq
import importlib.machinery
import importlib.util
import json
import logging
import os
import re
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from indexer.lexicon import Lexicon
from indexer.normalize import HAN, NORMALIZATION_VERSION, fold

if TYPE_CHECKING:
    import jieba

_JIEBA_DIR = Path(importlib.util.find_spec("jieba").origin).parent  # type: ignore[union-attr, arg-type]
_JIEBA_DICT = _JIEBA_DIR / "dict.txt"
_JIEBA_IDF = _JIEBA_DIR / "analyse" / "idf.txt"
_JIEBA_CODE = _JIEBA_DIR / "__init__.py"
_T = TypeVar("_T")
_NEWS_DICT = "data/news_dict.txt"
_NEWS_PATH = Path(__file__).parent / _NEWS_DICT
_RULES = "1"
"""Bump when a change in this module changes tokens."""

HMM = False
"""jieba's HMM guessing of unknown words: off (measured slower and noisier, see docs/segmentation.md)."""
CONTEXT_MARGIN = 20
"""Added words get this many times the frequency at which they beat their own split (see ``word_freq``)."""


def fold_words(words: str) -> frozenset[str]:
    """The folded forms of space-separated words."""
    return frozenset(fold(word) for word in words.split())


PERSON_TITLES = fold_words(
    "总统 总理 外长 主席 部长 发言人 国务卿 首相 议员 大使 先生 女士 教授 博士 律师 记者 主任 书记 局长 市长 州长 "
    "院长 总裁 董事长 创始人 将军 法官 特使 候选人 领导人 总书记 副总统 参议员 众议员 国务委员 主持人 作者 导演 歌手 "
    "演员 球员 教练 牧师 太太 夫人 委员 常委 委员长 省长 部长助理 副部长 副总理 大法官 总督 国王 女王 王储 儿子 女儿 "
    "妻子 丈夫 母亲 父亲 活动人士 异见人士 维权人士 艺术家 作家 学者 分析师 经济学家 科学家 专家 主教 法师 司令 "
    "顾问 次卿 代表 谈判代表 助理 总编 总编辑 主编 祝贺 特首 行政长官 司长 立委 议长 部长级"
)
"""Words that stand before a person's name (``外长拉夫罗夫``)."""
PERSON_VERBS = fold_words(
    "说 表示 称 指出 认为 强调 透露 坦言 呼吁 承认 宣布 回应 告诉 会见 会晤 致电 访问 出席 签署 批评 警告 否认 写道 "
    "发表 当选 就任 辞职 被捕 去世 逝世"
)
"""Words that follow a person's name (``拉夫罗夫说``)."""
PERSON_FLAGS = frozenset({"nr", "nrfg", "nrt"})
PLACE_FLAGS = frozenset({"ns", "nsf"})
ORG_FLAGS = frozenset({"nt"})
_KEYWORD_SKIP_FLAGS = frozenset({"m", "x", "eng"})


LOOKUP_CHARS = 2_000
"""The native engine looks words up in the dictionary file for this many characters, then loads all of it."""
ENGINE_DOT = "豈"
"""Stands for ``·`` inside the native engine, whose blocks stop at ``·``: a Han character that fold never
outputs (it folds to 岂), so the swap is lossless."""
_PAD = "\uf900"
"""A word that never occurs in folded text: it carries the frequency of the words not yet looked up, so the
engine's total (and so every route) is the whole dictionary's from the first text on."""

_BLOCK_CHARS = f"{HAN}a-z0-9+#&._%·"
_BLOCK_RE = re.compile(f"([{_BLOCK_CHARS}]+)")
"""Runs jieba segments as a whole: unlike jieba's own regexes it keeps ``·`` so names stay whole."""
_PIECE_RE = re.compile(f"[0-9]+(?:\\.[0-9]+)*|[a-z0-9]+|(?:(?![{HAN}])[^\\W_])+|.", re.DOTALL)
"""How characters outside dictionary words group: numbers, Latin words, other letter runs, single chars."""
_HAN_RUN_RE = re.compile(f"([{HAN}]+)")
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_LATIN_RE = re.compile(r"[a-z0-9]+")
_ALNUM_RE = re.compile(r"[^\W_]")
_REGROUP_RE = re.compile(r"[0-9](?:[a-z]|\.[0-9])")
"""Where ``_PIECE_RE`` groups single characters otherwise than jieba does (``3.5``, ``5g``)."""
_GAP_LETTERS_RE = re.compile(f"[^\\W_{HAN}a-z0-9]+")
"""Letters and digits outside the blocks (``é``, ``서울``, ``москва``, ``٣``)."""
_SPECIAL_RE = re.compile(
    f"(?<![{_BLOCK_CHARS}])[{_BLOCK_CHARS}]*?{_REGROUP_RE.pattern}[{_BLOCK_CHARS}]*+|{_GAP_LETTERS_RE.pattern}"
)
"""What the native engine reads apart: a block holding ``_REGROUP_RE``, or letters outside the blocks."""
_GAPS_RE = re.compile(f"[^{_BLOCK_CHARS}]+")
"""Runs between blocks: the engine reads one space there (no word crosses them; ``-`` is inside jieba's
blocks but not ours, and no dictionary word holds it)."""
_TO_ENGINE = str.maketrans({"·": ENGINE_DOT})
_FROM_ENGINE = str.maketrans({ENGINE_DOT: "·"})
_USER_LINE_RE = re.compile(r"^(\S+)(?:\s+([0-9]+))?(?:\s+([a-z]+))?$")


class DictionaryError(ValueError):
    """A dictionary file that cannot be used; the message names the file, the line and the problem."""


class Token(NamedTuple):
    """One word of folded text and its jieba.posseg part-of-speech flag (``nr`` person, ``ns`` place ...)."""

    word: str
    flag: str


_as_token: Callable[[tuple[str, str]], Token] = partial(tuple.__new__, Token)
"""A Token from an engine's (word, flag) pair, without a Python-level call per token."""


@dataclass(frozen=True, slots=True)
class Entities:
    """Names found in a text, folded (as the query side folds keyword values), most frequent first."""

    persons: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    orgs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DictEntry:
    """One line of a news or user dictionary: the word as written, its frequency (if given) and POS tag."""

    word: str
    freq: int | None
    tag: str | None


def parse_dictionary(data: bytes, source: str | os.PathLike[str]) -> list[DictEntry]:
    """Parse a jieba-style dictionary: ``word [freq] [tag]`` per line, UTF-8, blank and ``#`` lines ignored.

    Raises DictionaryError naming `source` and the line for undecodable text, malformed lines and words
    that can never match because they contain characters the segmenter splits on (spaces, punctuation).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DictionaryError(f"{source}: not UTF-8 ({error})") from None
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = _USER_LINE_RE.match(line)
        if not match:
            raise DictionaryError(f"{source}:{number}: expected 'word [frequency] [tag]', got {line!r}")
        word, freq, tag = match.groups()
        if not _BLOCK_RE.fullmatch(fold(word)):
            raise DictionaryError(
                f"{source}:{number}: {word!r} can never match: it holds characters the segmenter splits on"
            )
        entries.append(DictEntry(word, int(freq) if freq else None, tag))
    return entries


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "news-indexer"


def _writable_dir(preferred: Path) -> Path:
    fallback = Path(tempfile.gettempdir()) / f"news-indexer-{os.getuid()}"
    for candidate in (preferred, fallback):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    raise OSError(f"no writable directory for the segmenter's dictionary: tried {preferred} and {fallback}")


def _is_word(word: str) -> bool:
    """Whether `word` holds a letter or digit (punctuation, spaces and symbols are not words)."""
    return word.isalnum() or (len(word) > 1 and _ALNUM_RE.search(word) is not None)


def _pieces(chars: str, tag_of: Callable[[str], str]) -> Iterator[tuple[str, str]]:
    """Characters outside dictionary words, grouped by ``_PIECE_RE``: numbers ``m``, Latin words ``eng``, the
    rest tagged by `tag_of`."""
    for piece in _PIECE_RE.findall(chars):
        if _NUMBER_RE.fullmatch(piece):
            yield piece, "m"
        elif _LATIN_RE.fullmatch(piece):
            yield piece, "eng"
        else:
            yield piece, tag_of(piece)


class _Reference:
    """jieba's own precise mode: ``Tokenizer.get_DAG``/``calc`` over the folded prefix dictionary, and
    posseg's HMM for runs of single characters if asked. Builds the merged dictionary."""

    def __init__(self, freq: dict[str, int], total: int, tags: dict[str, str]) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._tokenizer: jieba.Tokenizer = jieba.Tokenizer()
        self._tokenizer.FREQ = freq
        self._tokenizer.total = total
        self._tokenizer.initialized = True
        self.tags = tags

    @classmethod
    def from_lexicon(cls, lexicon: Lexicon) -> _Reference:
        freq: dict[str, int] = {}
        tags: dict[str, str] = {}
        for word, count, tag in lexicon.entries():
            freq[word] = count
            tags[word] = tag
        return cls(_with_prefixes(freq), lexicon.total, tags)

    @classmethod
    def build(cls, entries: Iterable[DictEntry]) -> tuple[_Reference, dict[str, float], float, frozenset[str]]:
        """Fold jieba's dictionary and IDF table, then add the news and user dictionary `entries`; returns
        the reference, the folded IDF table, its median and the folded stop words."""
        import jieba.analyse  # jieba's IDF table and stop words

        freq: Counter[str] = Counter()
        tag_freq: dict[str, int] = {}
        tags: dict[str, str] = {}
        for line in _JIEBA_DICT.read_text(encoding="utf-8").splitlines():
            word, count, tag = line.split(" ")
            key = fold(word)
            freq[key] += int(count)
            if int(count) > tag_freq.get(key, -1):
                tag_freq[key] = int(count)
                tags[key] = tag
        reference = cls(_with_prefixes(dict(freq)), sum(freq.values()), tags)
        for entry in entries:
            reference.add_word(entry.word, entry.freq, entry.tag)
        idf: dict[str, float] = {}
        for word, value in jieba.analyse.default_tfidf.idf_freq.items():
            key = fold(word)
            idf[key] = min(value, idf.get(key, value))
        stop_words = frozenset(fold(word) for word in jieba.analyse.default_tfidf.stop_words)
        return reference, idf, jieba.analyse.default_tfidf.median_idf, stop_words

    def words(self) -> Iterator[tuple[str, int, str]]:
        """The dictionary's (word, frequency, tag), frequencies above zero."""
        return ((word, count, self.tags[word]) for word, count in self._tokenizer.FREQ.items() if count)

    def word_freq(self, word: str) -> int:
        key = fold(word)
        split = 1.0
        for piece, _ in self.cut_block(key, hmm=False, whole=False):
            split *= self._tokenizer.FREQ.get(piece, 1) / self._tokenizer.total
        return int(split * self._tokenizer.total * CONTEXT_MARGIN) + 1

    def add_word(self, word: str, freq: int | None, tag: str | None) -> None:
        """Add a dictionary word (folded); its frequency never drops below what jieba already has or below
        ``word_freq``, so a low frequency given in a dictionary file never splits it."""
        key = fold(word)
        tokenizer = self._tokenizer
        count = max(freq or 0, tokenizer.FREQ.get(key, 0), self.word_freq(key))
        tokenizer.total += count - tokenizer.FREQ.get(key, 0)
        tokenizer.FREQ[key] = count
        for end in range(1, len(key)):
            tokenizer.FREQ.setdefault(key[:end], 0)
        self.tags[key] = tag or self.tags.get(key, "nz")

    def tokens(self, folded: str, hmm: bool) -> list[Token]:
        tokens: list[tuple[str, str]] = []
        position = 0
        for match in _BLOCK_RE.finditer(folded):
            tokens.extend(_pieces(folded[position : match.start()], self._tag_of))
            tokens.extend(self.cut_block(match.group(), hmm))
            position = match.end()
        tokens.extend(_pieces(folded[position:], self._tag_of))
        return [Token(word, flag) for word, flag in tokens if _is_word(word)]

    def _tag_of(self, piece: str) -> str:
        return self.tags.get(piece, "x")

    def cut_block(self, block: str, hmm: bool, whole: bool = True) -> Iterator[tuple[str, str]]:
        """jieba's precise mode on one block: the most probable path through the dictionary DAG; runs of
        characters left single are grouped by ``_PIECE_RE`` or, with `hmm`, by posseg's HMM.
        ``whole=False`` leaves out the block itself as a candidate word (to price its split)."""
        tokenizer = self._tokenizer
        dag = tokenizer.get_DAG(block)
        if not whole and len(block) > 1:
            dag[0] = [end for end in dag[0] if end != len(block) - 1] or [0]
        route: dict[int, tuple[float, int]] = {}
        tokenizer.calc(block, dag, route)
        start = 0
        single = 0
        while start < len(block):
            end = route[start][1] + 1
            if end - start > 1:
                yield from self._singles(block[single:start], hmm)
                word = block[start:end]
                yield word, self.tags.get(word, "x")
                single = end
            start = end
        yield from self._singles(block[single:], hmm)

    def _singles(self, chars: str, hmm: bool) -> Iterator[tuple[str, str]]:
        if not chars:
            return
        if hmm and len(chars) > 1 and not self._tokenizer.FREQ.get(chars):
            for part in _HAN_RUN_RE.split(chars):
                if _HAN_RUN_RE.fullmatch(part):
                    yield from _hmm_words(part)
                else:
                    yield from _pieces(part, self._tag_of)
        else:
            yield from _pieces(chars, self._tag_of)


def _with_prefixes(freq: dict[str, int]) -> dict[str, int]:
    """jieba's prefix dictionary: every prefix of a word is a key (frequency 0 unless a word itself)."""
    prefixed = dict(freq)
    for word in freq:
        for end in range(1, len(word)):
            prefixed.setdefault(word[:end], 0)
    return prefixed


def _hmm_words(run: str) -> Iterator[tuple[str, str]]:
    """Words and flags that jieba.posseg's HMM finds in a run of Han characters (as posseg does)."""
    import jieba.posseg
    from jieba.posseg.viterbi import viterbi

    _, states = viterbi(
        run, jieba.posseg.char_state_tab_P, jieba.posseg.start_P, jieba.posseg.trans_P, jieba.posseg.emit_P
    )
    begin = 0
    for index, (position, flag) in enumerate(states):
        if position in "ES":
            yield run[begin : index + 1], flag
            begin = index + 1
    if begin < len(run):
        yield run[begin:], states[begin][1]


def _rjieba() -> ModuleType:
    """rjieba's extension module, loaded without the package's ``__init__``: that builds a default Jieba with
    jieba's own dictionary on import (0.1 s), which is never used here."""
    for path in _rjieba_files():
        loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(path))
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))  # type: ignore[arg-type]
        loader.exec_module(module)
        return module
    import rjieba

    return rjieba


class _Native:
    """jieba's precise mode in jieba-rs (rjieba) over the same dictionary, with the reference's grouping of
    single characters. Holds the words of the texts seen so far, then (after ``LOOKUP_CHARS``) all of them."""

    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._module = _rjieba()
        self._jieba: Any = self._module.Jieba.empty()
        self._seen: set[str] = set()
        self._given = 0
        self._budget = LOOKUP_CHARS
        self.complete = False

    def _prepare(self, folded: str) -> None:
        """Make sure the engine holds every dictionary word inside `folded`."""
        if self.complete:
            return
        self._budget -= len(folded)
        if self._budget < 0:
            self.load_all()
            return
        longest = self._lexicon.max_len
        wanted = {
            block[start:end]
            for block in _BLOCK_RE.findall(folded)
            for start in range(len(block))
            for end in range(start + 1, min(start + longest, len(block)) + 1)
        }
        wanted -= self._seen
        if not wanted:
            return
        self._seen |= wanted
        for word, freq, tag in self._lexicon.lookup(wanted):
            self._jieba.add_word(word.translate(_TO_ENGINE), freq, tag)
            self._given += freq
        self._jieba.add_word(_PAD, self._lexicon.total - self._given, "x")

    def load_all(self) -> None:
        """Load the whole dictionary (≈0.5 s), as a process that segments many texts wants."""
        engine = self._module.Jieba.empty()
        for word, freq, tag in self._lexicon.entries(ENGINE_DOT):
            engine.add_word(word, freq, tag)
        self._jieba = engine
        self._seen = set()
        self.complete = True

    def tokens(self, folded: str) -> list[Token]:
        return self._read(folded, self._plain_tokens, self._special_tokens)

    def words(self, folded: str) -> list[str]:
        return self._read(folded, self._plain_words, lambda part: [token.word for token in self._special_tokens(part)])

    def _read(self, folded: str, plain: Callable[[str], list[_T]], special: Callable[[str], list[_T]]) -> list[_T]:
        """`plain` on the stretches jieba-rs reads as the reference does, `special` on the ``_SPECIAL_RE``
        matches between them (no word crosses a stretch's edge: they are gaps between blocks)."""
        self._prepare(folded)
        if not (_REGROUP_RE.search(folded) or _GAP_LETTERS_RE.search(folded)):
            return plain(folded)
        read: list[_T] = []
        position = 0
        for match in _SPECIAL_RE.finditer(folded):
            read += plain(folded[position : match.start()])
            read += special(match.group())
            position = match.end()
        return read + plain(folded[position:])

    def _plain_tokens(self, folded: str) -> list[Token]:
        """Tokens of text where jieba-rs groups as the reference does: one call for all its blocks."""
        pairs = self._jieba.tag(_to_engine(folded), False)
        if "·" in folded:
            pairs = [(_from_engine(word), flag) for word, flag in pairs]
        return [_as_token(pair) for pair in pairs if pair[0].isalnum() or _is_word(pair[0])]

    def _plain_words(self, folded: str) -> list[str]:
        words = self._jieba.cut(_to_engine(folded), False)
        if "·" in folded:
            words = [_from_engine(word) for word in words]
        return [word for word in words if word.isalnum() or _is_word(word)]

    def _special_tokens(self, part: str) -> list[Token]:
        """Tokens of a ``_SPECIAL_RE`` match: a block regrouped, or letters outside the blocks."""
        if not _BLOCK_RE.fullmatch(part):
            return [_as_token(pair) for pair in _pieces(part, self._tag_of)]
        pairs = self._regroup(self._jieba.tag(part.translate(_TO_ENGINE), False))
        return [Token(_from_engine(word), flag) for word, flag in pairs if _is_word(_from_engine(word))]

    def _regroup(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """Regroup single characters as the reference does: jieba-rs joins a run of single Latin letters and
        digits into one word (``5g``) and leaves ``.`` apart (``3``, ``.``, ``5``); ``_PIECE_RE`` reads
        ``5``, ``g`` and ``3.5``. A multi-character Latin word is a dictionary word if the dictionary has it."""
        grouped: list[tuple[str, str]] = []
        run = ""
        for word, flag in pairs:
            latin = word.isascii() and word.isalnum()
            if word == "." or (latin and (len(word) == 1 or not self._jieba.has_word(word))):
                run += word
                continue
            if run:
                grouped.extend(_pieces(run, self._tag_of))
                run = ""
            grouped.append((word, flag))
        grouped.extend(_pieces(run, self._tag_of))
        return grouped

    def _tag_of(self, piece: str) -> str:
        """The tag of a piece outside the engine's words (only words are looked up: the rest is dropped)."""
        return (self._lexicon.tag(piece) or "x") if _is_word(piece) else "x"


def _from_engine(word: str) -> str:
    return word.translate(_FROM_ENGINE) if ENGINE_DOT in word else word


def _to_engine(folded: str) -> str:
    """The text jieba-rs reads: gaps between blocks as one space, ``·`` as ``ENGINE_DOT``."""
    engine = _GAPS_RE.sub(" ", folded)
    return engine.translate(_TO_ENGINE) if "·" in engine else engine


class Segmenter:
    """jieba precise-mode segmentation with part-of-speech flags over folded text; one pass gives words,
    entities and keywords.

    ``native=False`` runs the reference engine (jieba's Python code), which ``hmm=True`` needs. ``version`` is a
    short hash of everything that can change tokens: the dictionary set (jieba's code, dictionary and IDF
    table, the news and user dictionaries, the normalization version, the margin), the engine and the settings.
    """

    def __init__(
        self,
        user_dict: str | os.PathLike[str] | None = None,
        *,
        hmm: bool = HMM,
        native: bool = True,
        news_dict: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if hmm and native:
            raise ValueError("posseg's HMM runs only on the reference engine (native=False)")
        self.hmm = hmm
        self.native = native
        self.user_dict = Path(user_dict) if user_dict is not None else None
        directory = _writable_dir(Path(cache_dir) if cache_dir is not None else _default_cache_dir())
        news = _NEWS_PATH if news_dict else None
        engine = _rjieba_files() if native else []
        digests = _file_digests(
            [_JIEBA_CODE, _JIEBA_DICT, _JIEBA_IDF, *filter(None, (news, self.user_dict)), *engine], directory
        )
        jieba_digests, named = digests[:3], iter(digests[3:])
        dictionary = _digest(
            *jieba_digests,
            f"news={next(named) if news else None}",
            f"user={next(named) if self.user_dict else None}",
            NORMALIZATION_VERSION,
            f"margin={CONTEXT_MARGIN}",
        )
        engine_name = f"rjieba {' '.join(named)}" if native else "jieba"
        self.version: str = _digest(dictionary, engine_name, f"{_RULES} hmm={hmm}")
        self._lexicon, self._built = self._open(directory / f"lexicon-{dictionary}.sqlite", news)
        self._engine: _Native | _Reference = _Native(self._lexicon) if native else self._reference()
        self._idf: dict[str, float] | None = None

    def __repr__(self) -> str:
        return (
            f"Segmenter(user_dict={self.user_dict!r}, hmm={self.hmm}, native={self.native}, version={self.version!r})"
        )

    # -- dictionary -------------------------------------------------------------------------------------

    def _open(self, path: Path, news: Path | None) -> tuple[Lexicon, _Reference | None]:
        """The dictionary file of this dictionary set, built (with the reference engine) if missing or broken.

        Only a build reads the news and user dictionaries (and so reports a bad user dictionary): a file
        for this dictionary set exists only if they were read without error."""
        if path.is_file():
            try:
                return Lexicon(path), None
            except (sqlite3.DatabaseError, KeyError, ValueError):
                path.unlink(missing_ok=True)
        entries = parse_dictionary(news.read_bytes(), _NEWS_DICT) if news else []
        if self.user_dict is not None:
            entries += parse_dictionary(self.user_dict.read_bytes(), self.user_dict)
        persons = {fold(entry.word) for entry in entries if entry.tag in PERSON_FLAGS}
        reference, idf, median_idf, stop_words = _Reference.build(entries)
        Lexicon.write(path, reference.words(), idf, median_idf, stop_words, persons)
        return Lexicon(path), reference

    def _reference(self) -> _Reference:
        if self._built is None:
            self._built = _Reference.from_lexicon(self._lexicon)
        return self._built

    def word_freq(self, word: str) -> int:
        """The frequency an added word gets: ``CONTEXT_MARGIN`` times what beats its own split, at least.

        jieba's ``suggest_freq`` gives the least frequency at which a word beats the split of its own
        characters; in running text a neighbour can still take one of its characters, so added words get a
        margin on top (measured on the corpus by ``tools/build_news_dict.py``). Priced by the reference
        engine (loaded on first use by a native segmenter).
        """
        return self._reference().word_freq(word)

    def known(self, word: str) -> bool:
        """Whether `word` (any script, width or case) is a word of this segmenter's dictionaries."""
        return self._lexicon.freq(fold(word)) > 0

    @property
    def loaded(self) -> bool:
        """Whether the whole dictionary is in memory (the reference engine always holds it)."""
        return not isinstance(self._engine, _Native) or self._engine.complete

    def load(self) -> None:
        """Load the whole dictionary and the IDF table now, as a process that segments many texts wants
        (otherwise the first ``LOOKUP_CHARS`` characters and the first ``keywords`` call do it)."""
        if isinstance(self._engine, _Native) and not self._engine.complete:
            self._engine.load_all()
        self._idf_table()

    # -- segmentation -----------------------------------------------------------------------------------

    def tokens(self, text: str) -> list[Token]:
        """Fold and segment `text` (original text, any script); whitespace and punctuation are dropped."""
        if isinstance(self._engine, _Native):
            return self._engine.tokens(fold(text))
        return self._engine.tokens(fold(text), self.hmm)

    def words(self, text: str) -> list[str]:
        """The words of `text`: the words-field value of a document and the words of a query."""
        if isinstance(self._engine, _Native):
            return self._engine.words(fold(text))
        return [token.word for token in self._engine.tokens(fold(text), self.hmm)]

    # -- entities and keywords --------------------------------------------------------------------------

    def entities(self, tokens: Sequence[Token]) -> Entities:
        """Persons, places and organisations among `tokens` (two characters or more), most frequent first
        (ties in order of first occurrence).

        jieba's dictionary tags many common words as person names (卫星, 乌克兰, 塔斯社), so a person-tagged
        word counts as a person only when the news or user dictionary says so, it holds ``·``, or the text
        itself shows it as one somewhere: after a title (``外长拉夫罗夫``) or before a verb such as ``说``.
        """
        counts = Counter(tokens)
        confirmed = set(self._lexicon.persons)
        doubtful = {word for word, flag in counts if flag in PERSON_FLAGS and word not in confirmed}
        confirmed |= {word for word in doubtful if "·" in word}
        doubtful -= confirmed
        if doubtful:
            for index, (word, flag) in enumerate(tokens):
                if word in doubtful and flag in PERSON_FLAGS:
                    before = tokens[index - 1].word if index else ""
                    after = tokens[index + 1].word if index + 1 < len(tokens) else ""
                    if before in PERSON_TITLES or after in PERSON_VERBS:
                        confirmed.add(word)
        persons: dict[str, int] = {}
        places: dict[str, int] = {}
        orgs: dict[str, int] = {}
        for (word, flag), count in counts.items():
            if len(word) > 1:
                if word in confirmed:
                    persons[word] = persons.get(word, 0) + count
                if flag in PLACE_FLAGS:
                    places[word] = places.get(word, 0) + count
                elif flag in ORG_FLAGS:
                    orgs[word] = orgs.get(word, 0) + count
        return Entities(persons=_ranked(persons), places=_ranked(places), orgs=_ranked(orgs))

    def keywords(self, tokens: Sequence[Token], k: int = 10) -> tuple[str, ...]:
        """The `k` words of highest TF-IDF, by jieba.analyse's IDF table and stop words (as extract_tags
        does, without segmenting again); numbers, Latin-only words and single characters are left out."""
        stop_words = self._lexicon.stop_words
        counts: dict[str, int] = {}
        for (word, flag), count in Counter(tokens).items():
            if len(word) > 1 and flag not in _KEYWORD_SKIP_FLAGS and word not in stop_words:
                counts[word] = counts.get(word, 0) + count
        total = sum(counts.values())
        if not total:
            return ()
        idf, median = self._idf_table(), self._lexicon.median_idf
        scored = [(-(count * idf.get(word, median) / total), word) for word, count in counts.items()]
        return tuple(word for _, word in heapq.nsmallest(k, scored))

    def _idf_table(self) -> dict[str, float]:
        if self._idf is None:
            self._idf = self._lexicon.idf()
        return self._idf


def _ranked(counts: dict[str, int]) -> tuple[str, ...]:
    """Most frequent first; ties keep the order of first occurrence."""
    return tuple(sorted(counts, key=counts.__getitem__, reverse=True))


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _rjieba_files() -> list[Path]:
    """rjieba's extension module: what identifies the native engine's code."""
    spec = importlib.util.find_spec("rjieba")
    if spec is None or not spec.submodule_search_locations:
        return []
    folder = Path(spec.submodule_search_locations[0])
    return sorted(path for suffix in importlib.machinery.EXTENSION_SUFFIXES for path in folder.glob(f"rjieba{suffix}"))


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
        try:
            fd, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(memo, handle)
            os.replace(temporary, memo_path)
        except OSError as error:
            logging.getLogger(__name__).warning("file digests not remembered in %s: %s", memo_path, error)
    return digests


_SEGMENTERS: dict[str | None, Segmenter] = {}


def get_segmenter(user_dict: str | os.PathLike[str] | None = None) -> Segmenter:
    """The process's segmenter for this user dictionary (built once, then reused)."""
    key = str(Path(user_dict).resolve()) if user_dict is not None else None
    if key not in _SEGMENTERS:
        _SEGMENTERS[key] = Segmenter(user_dict)
    return _SEGMENTERS[key]
