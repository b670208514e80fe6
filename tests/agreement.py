"""How far the native segmentation engine agrees with the reference (Python jieba): the measure behind
``tests/test_segment.py`` and ``python -m bench.segment agreement``."""

from __future__ import annotations

import difflib
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from indexer.document import field_texts
from indexer.parser import ParseError, parse_bytes
from indexer.segment import Segmenter, Token

LATIN_CLASS = "Latin letters and digits grouped otherwise"
FLAG_CLASS = "flag of a single character not in the dictionary"


@dataclass
class Agreement:
    """How far the native engine's tokens agree with the reference engine's, over paragraphs of text."""

    paragraphs: int = 0
    same_paragraphs: int = 0
    same_word_paragraphs: int = 0
    tokens: int = 0
    same_tokens: int = 0
    same_words: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, reference: Sequence[Token], native: Sequence[Token], known: Callable[[str], bool]) -> None:
        """Count one paragraph; differences are aligned by word and sorted into named classes."""
        self.paragraphs += 1
        size = max(len(reference), len(native))
        self.tokens += size
        if reference == native:
            self.same_paragraphs += 1
            self.same_word_paragraphs += 1
            self.same_tokens += size
            self.same_words += size
            return
        words = ([token.word for token in reference], [token.word for token in native])
        self.same_word_paragraphs += words[0] == words[1]
        matcher = difflib.SequenceMatcher(None, *words, autojunk=False)
        for op, start, end, other_start, other_end in matcher.get_opcodes():
            if op == "equal":
                pairs = list(zip(reference[start:end], native[other_start:other_end], strict=True))
                self.same_words += len(pairs)
                self.same_tokens += sum(mine == theirs for mine, theirs in pairs)
                for mine, theirs in pairs:
                    if mine != theirs:
                        single = len(mine.word) == 1 and not known(mine.word)
                        self._note(FLAG_CLASS if single else "other flags", f"{mine} / {theirs}")
            else:
                mine, theirs = reference[start:end], native[other_start:other_end]
                latin = all(char.isascii() for token in (*mine, *theirs) for char in token.word)
                shown = f"{' '.join(t.word for t in mine)} / {' '.join(t.word for t in theirs)}"
                self._note(LATIN_CLASS if latin else "other words", shown)

    def _note(self, name: str, example: str) -> None:
        self.classes[name] += 1
        if len(self.examples[name]) < 3:
            self.examples[name].append(example)


def corpus_paragraphs(root: Path, every: int) -> list[str]:
    """The texts the indexer segments (title, paragraphs, captions ...) of every n-th corpus file under `root`."""
    texts: list[str] = []
    for path in sorted(root.glob("*/*/*.md"))[::every]:
        try:
            article = parse_bytes(path.read_bytes(), str(path))
        except ParseError:
            continue
        texts += [text for values in field_texts(article).values() for text in values]
    return texts


def measure_agreement(texts: Sequence[str], native: Segmenter, reference: Segmenter) -> Agreement:
    agreement = Agreement()
    for text in texts:
        agreement.add(reference.tokens(text), native.tokens(text), native.known)
    return agreement
