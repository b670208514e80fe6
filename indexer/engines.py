"""jieba's precise mode over the folded dictionary, two ways, with one set of rules for the characters outside
dictionary words: jieba's own Python code (the reference, which also builds the dictionary) and jieba-rs
through rjieba (native). See docs/segmentation.md ("Engines") for how they are made to agree and how far.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar

from indexer.analysis_version import CONTEXT_MARGIN, JIEBA_DICT, rjieba_files
from indexer.lexicon import Lexicon
from indexer.normalize import HAN, fold

if TYPE_CHECKING:
    import jieba

_T = TypeVar("_T")

LOOKUP_CHARS = 2_000
"""The native engine looks words up in the dictionary file for this many characters, then loads all of it."""
ENGINE_DOT = "豈"
"""Stands for ``·`` inside the native engine, whose blocks stop at ``·``: a Han character that fold never
outputs (it folds to 岂), so the swap is lossless."""
_PAD = "\uf900"
"""A word that never occurs in folded text: it carries the frequency of the words not yet looked up, so the
engine's total (and so every route) is the whole dictionary's from the first text on."""

_BLOCK_CHARS = f"{HAN}a-z0-9+#&._%·"
BLOCK_RE = re.compile(f"([{_BLOCK_CHARS}]+)")
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


class Token(NamedTuple):
    """One word of folded text and its jieba.posseg part-of-speech flag (``nr`` person, ``ns`` place ...)."""

    word: str
    flag: str


_as_token: Callable[[tuple[str, str]], Token] = partial(tuple.__new__, Token)
"""A Token from an engine's (word, flag) pair, without a Python-level call per token."""


class Entry(Protocol):
    """A dictionary line to add: the word as written, its frequency (if given) and POS tag."""

    @property
    def word(self) -> str: ...
    @property
    def freq(self) -> int | None: ...
    @property
    def tag(self) -> str | None: ...


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


class ReferenceEngine:
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
    def from_lexicon(cls, lexicon: Lexicon) -> ReferenceEngine:
        freq: dict[str, int] = {}
        tags: dict[str, str] = {}
        for word, count, tag in lexicon.entries():
            freq[word] = count
            tags[word] = tag
        return cls(_with_prefixes(freq), lexicon.total, tags)

    @classmethod
    def build(cls, entries: Iterable[Entry]) -> tuple[ReferenceEngine, dict[str, float], float, frozenset[str]]:
        """Fold jieba's dictionary and IDF table, then add the news and user dictionary `entries`; returns
        the reference, the folded IDF table, its median and the folded stop words."""
        import jieba.analyse  # jieba's IDF table and stop words

        freq: Counter[str] = Counter()
        tag_freq: dict[str, int] = {}
        tags: dict[str, str] = {}
        for line in JIEBA_DICT.read_text(encoding="utf-8").splitlines():
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
        for match in BLOCK_RE.finditer(folded):
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
    for path in rjieba_files():
        loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(path))
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))  # type: ignore[arg-type]
        loader.exec_module(module)
        return module
    import rjieba

    return rjieba


class NativeEngine:
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
            for block in BLOCK_RE.findall(folded)
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
        if not BLOCK_RE.fullmatch(part):
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
