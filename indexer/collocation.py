"""Collocates (the words near a query's terms) and keyness (the words over-represented in one set of articles
against another), on the stored original text with this indexer's segmentation.

Text. The displayed text fields of each article (title, body, subheadings, captions, gallery; not link text)
are folded and segmented with the searcher's :class:`indexer.segment.Segmenter`, one paragraph at a time
(windows don't cross paragraphs or fields). Punctuation is never a word. A word *counts* unless the
:class:`WordFilter` drops it: by default stop words (``data/stop_words.txt`` plus jieba's) and numbers (digits,
or Chinese numerals only). Window distances are in words as segmented, dropped words included.

Size. Beyond ``max_articles`` matching articles the statistics come from a uniform sample of that many
(:mod:`indexer.sampling`, by ``seed``); results say how many were analysed out of how many.

Collocates. A node is an occurrence of a positive text term of the query in a field the term searches: the
term's words joined (as :meth:`Segmenter.words` gives them) found in the paragraph's words joined, so a term
inside a longer word is found too. The node's words are those the occurrence overlaps; its window is the
``window`` words before and after them. Per group of articles (all, or one per outlet/region):

- ``N``: counted words in the analysed text; ``f(y)``: occurrences of the word ``y``;
- ``f(x)``: nodes; ``W``: counted words inside at least one window (node words excluded);
- ``f(x,y)``: occurrences of ``y`` inside at least one window (each word once, however many windows hold it);
- ``docs``: articles with ``y`` in a window.

Measures: ``logdice = 14 + log2(2·f(x,y) / (f(x) + f(y)))`` (Rychlý 2008); ``mi = log2(f(x,y)·N / (f(x)·f(y)))``;
``ll``: Dunning's log-likelihood of the 2×2 table (in a window or not) × (``y`` or another word), negative when
``y`` is rarer in the windows than elsewhere.

Keyness. For each word, ``a``/``b`` occurrences in the focus/reference text of ``c``/``d`` counted words:
``ll = 2·(a·ln(a/E1) + b·ln(b/E2))`` with ``E1 = c·(a+b)/(c+d)``, ``E2 = d·(a+b)/(c+d)`` (Rayson and Garside
2000); ``%DIFF = 100·(fpm_focus − fpm_ref)/fpm_ref`` (Gabrielatos and Marchi 2012; None when the reference has
none); frequencies per million counted words. Only words more frequent (per word) in the focus are listed.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import get_args

from indexer.choices import MAX_ARTICLES, By, Measure
from indexer.document import article_from_source, field_texts
from indexer.errors import IndexerError
from indexer.mapping import TEXT_FIELDS
from indexer.normalize import fold
from indexer.query import Query
from indexer.sampling import sample
from indexer.search import SOURCE_FIELDS, Searcher
from indexer.segment import Segmenter

MEASURES: tuple[str, ...] = get_args(Measure)
GROUPS: tuple[str, ...] = get_args(By)
STOP_WORDS_FILE = "data/stop_words.txt"
_NUMBER_RE = re.compile(r"[0-9零〇一二三四五六七八九十百千万亿两]+|.*[0-9].*")

Paragraph = tuple[str, list[str]]
"""A field name and the words of one of its entries (paragraph, caption ...)."""


def read_stop_words(text: str) -> frozenset[str]:
    """The words of a stop-word list, one per line (blank and ``#`` lines ignored), folded."""
    lines = (line.strip() for line in text.splitlines())
    return frozenset(fold(line) for line in lines if line and not line.startswith("#"))


def default_stop_words() -> frozenset[str]:
    """The shipped list (``indexer/data/stop_words.txt``)."""
    return read_stop_words(resources.files("indexer").joinpath(STOP_WORDS_FILE).read_text(encoding="utf-8"))


def stop_words_file(path: Path) -> frozenset[str]:
    """A user's stop-word list; a file that can't be read is an error naming it."""
    try:
        return read_stop_words(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as error:
        raise IndexerError(f"{path}: can't read the stop-word list ({error})") from None


@dataclass(frozen=True, slots=True)
class WordFilter:
    """Which words count: not a stop word, and not a number unless ``numbers``."""

    stop_words: frozenset[str] = field(default_factory=default_stop_words)
    numbers: bool = False

    def counts(self, word: str) -> bool:
        return word not in self.stop_words and (self.numbers or not _NUMBER_RE.fullmatch(word))


def paragraphs(source: dict[str, object], segmenter: Segmenter) -> list[Paragraph]:
    """The words of each entry of each displayed text field of a stored article."""
    texts = field_texts(article_from_source(source))
    return [(name, segmenter.words(text)) for name in TEXT_FIELDS for text in texts[name]]


@dataclass(frozen=True, slots=True)
class Analysed:
    """Which articles were analysed: ``articles`` of ``matching`` (a sample by ``seed`` when fewer)."""

    articles: int
    matching: int
    seed: int

    @property
    def sampled(self) -> bool:
        return self.articles < self.matching


def _documents(
    searcher: Searcher, query: Query, max_articles: int, seed: int
) -> tuple[Analysed, Iterator[tuple[str, dict[str, object]]]]:
    if max_articles < 1:
        raise IndexerError(f"at least one article must be analysed, not {max_articles}")
    drawn = sample(searcher, query, max_articles, seed)
    analysed = Analysed(len(drawn.ids), drawn.population, seed)
    return analysed, searcher.sources(sorted(drawn.ids), (*SOURCE_FIELDS, *GROUPS))


# --- collocates --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Collocate:
    """A word near the nodes: ``freq`` = f(x,y), ``docs`` articles, ``word_freq`` = f(y), and the score."""

    word: str
    freq: int
    docs: int
    word_freq: int
    score: float


@dataclass
class _Counts:
    words: Counter[str] = field(default_factory=Counter)
    near: Counter[str] = field(default_factory=Counter)
    near_docs: Counter[str] = field(default_factory=Counter)
    nodes: int = 0
    total: int = 0
    in_windows: int = 0
    articles: int = 0


@dataclass(frozen=True, slots=True)
class CollocateGroup:
    """The collocates among one group of analysed articles (``group`` is the outlet or region, or None)."""

    group: str | None
    articles: int
    nodes: int
    words: int
    collocates: list[Collocate]


@dataclass(frozen=True, slots=True)
class Collocates:
    """The answer of :func:`collocates`."""

    analysed: Analysed
    window: int
    measure: str
    min_freq: int
    groups: list[CollocateGroup]


def _spans(words: Sequence[str], needle: str) -> Iterator[tuple[int, int]]:
    """The word index ranges [first, last] that non-overlapping occurrences of `needle` in the joined words
    overlap."""
    starts: list[int] = []
    position = 0
    for word in words:
        starts.append(position)
        position += len(word)
    joined = "".join(words)
    found = joined.find(needle)
    while needle and found >= 0:
        end = found + len(needle)
        first = bisect.bisect_right(starts, found) - 1
        last = bisect.bisect_left(starts, end) - 1
        yield first, last
        found = joined.find(needle, end)


def count_near(
    paragraphs_of: Iterable[Sequence[Paragraph]],
    nodes: Sequence[tuple[str, tuple[str, ...]]],
    window: int,
    words: WordFilter,
) -> _Counts:
    """The counts of the module docstring over articles given as their paragraphs; `nodes` are the joined words
    of each term and the fields it searches."""
    counts = _Counts()
    for article in paragraphs_of:
        counts.articles += 1
        seen: set[str] = set()
        for name, tokens in article:
            kept = [words.counts(token) for token in tokens]
            counts.total += sum(kept)
            counts.words.update(token for token, keep in zip(tokens, kept, strict=True) if keep)
            inside: set[int] = set()
            node_words: set[int] = set()
            for needle, fields in nodes:
                if name not in fields:
                    continue
                for first, last in _spans(tokens, needle):
                    counts.nodes += 1
                    node_words.update(range(first, last + 1))
                    inside.update(range(max(0, first - window), first))
                    inside.update(range(last + 1, min(len(tokens), last + 1 + window)))
            for index in sorted(inside - node_words):
                if kept[index]:
                    counts.in_windows += 1
                    counts.near[tokens[index]] += 1
                    seen.add(tokens[index])
        counts.near_docs.update(seen)
    return counts


def _log_likelihood(table: Sequence[tuple[float, float]]) -> float:
    """G² of a 2×2 table of observed counts (0·ln 0 = 0)."""
    total = sum(sum(row) for row in table)
    rows = [sum(row) for row in table]
    columns = [sum(row[j] for row in table) for j in range(2)]
    return 2 * sum(
        observed * math.log(observed * total / (rows[i] * columns[j]))
        for i, row in enumerate(table)
        for j, observed in enumerate(row)
        if observed > 0
    )


def association(measure: str, near: int, nodes: int, word_freq: int, total: int, in_windows: int) -> float:
    """The score of a word seen `near` times in windows (see the module docstring for the symbols)."""
    if measure == "logdice":
        return 14 + math.log2(2 * near / (nodes + word_freq))
    if measure == "mi":
        return math.log2(near * total / (nodes * word_freq))
    if measure == "ll":
        elsewhere = word_freq - near
        table = [(near, in_windows - near), (elsewhere, total - in_windows - elsewhere)]
        score = _log_likelihood(table)
        expected = in_windows * word_freq / total
        return score if near >= expected else -score
    raise IndexerError(f"unknown measure {measure!r}: use one of {', '.join(MEASURES)}")


def rank_collocates(counts: _Counts, measure: str, min_freq: int, limit: int) -> list[Collocate]:
    """The `limit` best words seen at least `min_freq` times in windows, best first (ties by word)."""
    found = [
        Collocate(
            word,
            near,
            counts.near_docs[word],
            counts.words[word],
            association(measure, near, counts.nodes, counts.words[word], counts.total, counts.in_windows),
        )
        for word, near in counts.near.items()
        if near >= min_freq
    ]
    found.sort(key=lambda item: (-item.score, -item.freq, item.word))
    return found[:limit]


def collocates(
    searcher: Searcher,
    query: Query,
    window: int = 5,
    measure: Measure = "logdice",
    min_freq: int = 3,
    by: By | None = None,
    limit: int = 30,
    max_articles: int = MAX_ARTICLES,
    seed: int = 0,
    words: WordFilter | None = None,
) -> Collocates:
    """The words most associated with the query's terms within `window` words (see the module docstring)."""
    if measure not in MEASURES:
        raise IndexerError(f"unknown measure {measure!r}: use one of {', '.join(MEASURES)}")
    if by is not None and by not in GROUPS:
        raise IndexerError(f"can't group by {by!r}: use one of {', '.join(GROUPS)}")
    if window < 1 or min_freq < 1 or limit < 1:
        raise IndexerError("the window, the least frequency and the number of words must be at least 1")
    terms = query.text_terms()
    if not terms:
        raise IndexerError("collocates need a text term in the query (a word or phrase, not only filters)")
    words = words or WordFilter()
    nodes = [("".join(searcher.segmenter.words(term.text)), term.fields) for term in terms]
    analysed, documents = _documents(searcher, query, max_articles, seed)
    searcher.segmenter.load()
    grouped: dict[str | None, list[list[Paragraph]]] = {}
    for _, source in documents:
        key = None if by is None else source.get(by)
        if by is not None and key is None:
            raise IndexerError(f"the articles of {searcher.index!r} have no {by!r} field to group by")
        grouped.setdefault(None if key is None else str(key), []).append(paragraphs(source, searcher.segmenter))
    groups = []
    for key in sorted(grouped, key=lambda name: (name is not None, name or "")):
        counts = count_near(grouped[key], nodes, window, words)
        groups.append(
            CollocateGroup(
                key, counts.articles, counts.nodes, counts.total, rank_collocates(counts, measure, min_freq, limit)
            )
        )
    return Collocates(analysed, window, measure, min_freq, groups)


# --- keyness -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Key:
    """A word over-represented in the focus set."""

    word: str
    focus_freq: int
    reference_freq: int
    focus_per_million: float
    reference_per_million: float
    focus_docs: int
    reference_docs: int
    log_likelihood: float
    percent_diff: float | None


@dataclass
class _Frequencies:
    words: Counter[str] = field(default_factory=Counter)
    docs: Counter[str] = field(default_factory=Counter)
    total: int = 0


@dataclass(frozen=True, slots=True)
class Keyness:
    """The answer of :func:`keyness`: the analysed articles and counted words of both sets, and the key words."""

    focus: Analysed
    reference: Analysed
    focus_words: int
    reference_words: int
    keys: list[Key]


def frequencies(paragraphs_of: Iterable[Sequence[Paragraph]], words: WordFilter) -> _Frequencies:
    """Counted words, their occurrences and the articles holding them."""
    found = _Frequencies()
    for article in paragraphs_of:
        seen: set[str] = set()
        for _, tokens in article:
            kept = [token for token in tokens if words.counts(token)]
            found.total += len(kept)
            found.words.update(kept)
            seen.update(kept)
        found.docs.update(seen)
    return found


def rank_keys(focus: _Frequencies, reference: _Frequencies, min_freq: int, limit: int) -> list[Key]:
    """The `limit` words of highest log-likelihood among those at least `min_freq` times in the focus and more
    frequent there (per word) than in the reference."""
    c, d = focus.total, reference.total
    keys = []
    for word, a in focus.words.items():
        b = reference.words[word]
        if a < min_freq or not c or a * d <= b * c:
            continue
        expected_focus, expected_reference = c * (a + b) / (c + d), d * (a + b) / (c + d)
        ll = 2 * (a * math.log(a / expected_focus) + (b * math.log(b / expected_reference) if b else 0.0))
        per_million_focus = a * 1e6 / c
        per_million_reference = b * 1e6 / d if d else 0.0
        diff = 100 * (per_million_focus - per_million_reference) / per_million_reference if b else None
        keys.append(
            Key(word, a, b, per_million_focus, per_million_reference, focus.docs[word], reference.docs[word], ll, diff)
        )
    keys.sort(key=lambda key: (-key.log_likelihood, key.word))
    return keys[:limit]


def keyness(
    searcher: Searcher,
    focus: Query,
    reference: Query,
    min_freq: int = 3,
    limit: int = 30,
    max_articles: int = MAX_ARTICLES,
    seed: int = 0,
    words: WordFilter | None = None,
) -> Keyness:
    """The words over-represented in the articles matching `focus` against those matching `reference`."""
    if min_freq < 1 or limit < 1:
        raise IndexerError("the least frequency and the number of words must be at least 1")
    words = words or WordFilter()
    searcher.segmenter.load()
    sides = []
    for query in (focus, reference):
        analysed, documents = _documents(searcher, query, max_articles, seed)
        if not analysed.matching:
            raise IndexerError("no article matches the " + ("focus" if query is focus else "reference") + " query")
        sides.append(
            (analysed, frequencies((paragraphs(source, searcher.segmenter) for _, source in documents), words))
        )
    (focus_analysed, focus_counts), (reference_analysed, reference_counts) = sides
    return Keyness(
        focus_analysed,
        reference_analysed,
        focus_counts.total,
        reference_counts.total,
        rank_keys(focus_counts, reference_counts, min_freq, limit),
    )
