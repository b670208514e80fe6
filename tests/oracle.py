"""A grep-style oracle over the article files, and a query set derived from them, for recall checks.

The oracle is independent of the search side: it reads the files with the project's parser (to get the
displayed text of title, body, subheadings, captions and gallery as indexed), and matches a query as a plain
substring of each text after Unicode NFKC and lower-casing, nothing else. Across scripts, its variants come
from OpenCC's phrase-level converters (s2t/t2s), never from the index's fold table: a query matches when any of
query, s2t(query) and t2s(query) occurs in the text, or t2s(query) occurs in t2s(text).

Used by ``tests/test_recall.py`` and ``bench/search.py``.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jieba.posseg
import opencc
from elasticsearch import Elasticsearch

from indexer.article import Article
from indexer.document import document_id
from indexer.paging import Pages
from indexer.parser import ParseError, parse_bytes, read_article_file

SEPARATOR = "\n"
"""Between texts: never in a query, and (unlike NUL) kept by OpenCC."""
_S2T = opencc.OpenCC("s2t")
_T2S = opencc.OpenCC("t2s")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_SPACE_RUN = re.compile(r"\s+")
_HAN_CHAR = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
"""Han ideographs (unified, extensions, compatibility): whitespace next to one is not counted by NEAR."""
_LATIN_DIGIT = re.compile(r"(?<![A-Za-z0-9])(?:[A-Za-z]+-?[0-9]+[A-Za-z]*|[0-9]+[A-Za-z]+)(?![A-Za-z0-9])")


def normalize(text: str) -> str:
    """The oracle's only normalization: NFKC and lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def displayed_texts(article: Article) -> list[str]:
    """Every displayed text of the article, one entry per title, paragraph, heading, caption, gallery text."""
    texts = [article.title, *article.paragraphs, *article.headings, *(image.caption for image in article.images)]
    texts.append(article.gallery_title)
    for item in article.gallery:
        texts += [item.title, item.caption]
    return [text for text in texts if text]


def article_files(corpus: Path) -> list[Path]:
    """The article files of the corpus: ``<outlet>/<YYYY-MM or undated>/<id>.md``."""
    return sorted(path for path in corpus.glob("*/*/*.md"))


class _Haystack:
    """Many texts in one string, for fast substring scans that report which texts match."""

    def __init__(self, chunks: list[str]) -> None:
        self.starts: list[int] = []
        position = 0
        for chunk in chunks:
            self.starts.append(position)
            position += len(chunk)
        self.text = "".join(chunks)

    def scan(self, needle: str) -> set[int]:
        """Indexes of the chunks containing `needle` (each chunk reported once)."""
        found: set[int] = set()
        position = self.text.find(needle)
        while position >= 0:
            index = bisect.bisect_right(self.starts, position) - 1
            found.add(index)
            following = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
            position = self.text.find(needle, following)
        return found


class Oracle:
    """Substring search over the normalized displayed texts of a set of articles."""

    def __init__(self, articles: Iterable[tuple[str, str, list[str]]]) -> None:
        self.ids: list[str] = []
        self.outlets: list[str] = []
        plain: list[str] = []
        for doc_id, outlet, texts in articles:
            self.ids.append(doc_id)
            self.outlets.append(outlet)
            plain.append(SEPARATOR.join(normalize(text) for text in texts) + SEPARATOR)
        self._plain = _Haystack(plain)
        self._simplified = _Haystack([_T2S.convert(chunk) for chunk in plain])

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def text(self) -> str:
        """All normalized texts, texts separated by newlines (for deriving queries)."""
        return self._plain.text

    def variants(self, query: str) -> set[str]:
        return {normalize(form) for form in (query, _S2T.convert(query), _T2S.convert(query))}

    def near(self, left: str, right: str, gap: int) -> set[str]:
        """Ids of the articles with one text (title, paragraph, caption ...) holding `left` and `right` (any OpenCC
        script variant) apart, at most `gap` characters between them, either order (:func:`near_in`); whitespace
        touching a Han character is not counted, another run of whitespace counts one."""
        lefts = {_squeeze(_T2S.convert(form)) for form in self.variants(left)}
        rights = {_squeeze(_T2S.convert(form)) for form in self.variants(right)}
        both = set.intersection(
            *({index for form in forms for index in self._simplified.scan(form)} for forms in (lefts, rights))
        )
        found = set()
        for index in both:
            start = self._simplified.starts[index]
            end = self._simplified.starts[index + 1] if index + 1 < len(self.ids) else len(self._simplified.text)
            texts = self._simplified.text[start:end].split(SEPARATOR)
            if any(near_in(_squeeze(text), lefts, rights, gap) for text in texts):
                found.add(self.ids[index])
        return found

    def occurrences(self, query: str) -> Counter[str]:
        """Per article id, how many times the query (any OpenCC script variant) occurs in its displayed texts,
        overlapping occurrences included, whitespace touching a Han character ignored (as :meth:`near` counts)."""
        forms = {_squeeze(_T2S.convert(form)) for form in self.variants(query)}
        counts: Counter[str] = Counter()
        for index in {index for form in forms for index in self._simplified.scan(form)}:
            start = self._simplified.starts[index]
            end = self._simplified.starts[index + 1] if index + 1 < len(self.ids) else len(self._simplified.text)
            for text in self._simplified.text[start:end].split(SEPARATOR):
                squeezed = _squeeze(text)
                counts[self.ids[index]] += sum(len(_spans(squeezed, form)) for form in forms if form)
        return +counts

    def find(self, query: str) -> set[str]:
        """Ids of the articles whose displayed text contains the query (in any OpenCC script variant)."""
        found: set[int] = set()
        for form in self.variants(query):
            if form and SEPARATOR not in form:
                found |= self._plain.scan(form)
                found |= self._simplified.scan(_T2S.convert(form))
        return {self.ids[index] for index in found}


def _squeeze(text: str) -> str:
    """The text as NEAR counts characters: whitespace touching a Han character (or an end) dropped, any other run
    of whitespace one character."""
    return _SPACE_RUN.sub(lambda run: "" if _touches_han(text, run.start(), run.end()) else " ", text)


def _touches_han(text: str, start: int, end: int) -> bool:
    return start == 0 or end == len(text) or bool(_HAN_CHAR.match(text[start - 1]) or _HAN_CHAR.match(text[end]))


def _spans(text: str, needle: str) -> list[tuple[int, int]]:
    spans = []
    position = text.find(needle)
    while position >= 0:
        spans.append((position, position + len(needle)))
        position = text.find(needle, position + 1)
    return spans


def near_in(text: str, lefts: Iterable[str], rights: Iterable[str], gap: int) -> bool:
    """Whether `text` holds one of `lefts` and one of `rights`, not overlapping, at most `gap` characters between
    the end of the first and the start of the second (either order)."""
    left_spans = [span for form in lefts if form for span in _spans(text, form)]
    right_spans = [span for form in rights if form for span in _spans(text, form)]
    return any(
        0 <= later[0] - earlier[1] <= gap
        for a in left_spans
        for b in right_spans
        for earlier, later in ((a, b), (b, a))
    )


def load(corpus: Path, stored: dict[str, str] | None = None) -> Oracle:
    """The oracle over every article file of `corpus`.

    Two files can hold the same article (same document id); where `stored` (document id → the SHA-1 of the file
    the index keeps, from ``source.sha1``) names one, only the file with that content stands for the article, else
    every copy does. Content, not path, so the oracle holds wherever the corpus is mounted.
    """
    return load_paths(article_files(corpus), stored)


def load_paths(paths: Iterable[Path], stored: dict[str, str] | None = None) -> Oracle:
    """The oracle over the article files `paths` (`stored` as for :func:`load`)."""
    stored = stored or {}
    articles = []
    for path in paths:
        try:
            data = read_article_file(path)
            article = parse_bytes(data, str(path))
        except ParseError:
            continue
        doc_id = document_id(article)
        kept = stored.get(doc_id)
        if kept is None or kept == hashlib.sha1(data).hexdigest():
            articles.append((doc_id, article.outlet, displayed_texts(article)))
    return Oracle(articles)


@dataclass(frozen=True, slots=True)
class DerivedQuery:
    kind: str
    text: str


def derive_queries(oracle: Oracle, seed: int = 20201231, scale: int = 1) -> list[DerivedQuery]:
    """A few hundred queries drawn from the corpus text (fixed seed): persons and places found by jieba.posseg,
    2-6 character substrings, single characters, Latin/digit mixes, and Traditional spellings and their
    Simplified forms (and the reverse)."""
    rng = random.Random(seed)
    text = oracle.text
    queries: list[DerivedQuery] = []
    seen: set[str] = set()

    def add(kind: str, value: str) -> None:
        if value and value not in seen:
            seen.add(value)
            queries.append(DerivedQuery(kind, value))

    def sample_span(length: int, traditional: bool | None = None) -> str:
        for _ in range(1000):
            start = rng.randrange(len(text) - length)
            span = text[start : start + length]
            if not _HAN_RUN.fullmatch(span):
                continue
            is_traditional = _T2S.convert(span) != span
            if traditional is None or traditional == is_traditional:
                return span
        return ""

    titles = [t for t in text.split(SEPARATOR) if 6 < len(t) < 60]
    persons: Counter[str] = Counter()
    places: Counter[str] = Counter()
    for title in rng.sample(titles, min(len(titles), 3000)):
        for word, flag in jieba.posseg.cut(title, HMM=False):
            if len(word) > 1 and flag in {"nr", "nrfg", "nrt"}:
                persons[word] += 1
            elif len(word) > 1 and flag in {"ns", "nsf"}:
                places[word] += 1
    for word in rng.sample(sorted(persons), min(len(persons), 50 * scale)):
        add("person", word)
    for word in rng.sample(sorted(places), min(len(places), 40 * scale)):
        add("place", word)
    for _ in range(120 * scale):
        add("substring", sample_span(rng.randint(2, 6)))
    characters = Counter(char for char in text[:: max(1, len(text) // 400_000)] if "\u4e00" <= char <= "\u9fff")
    common = [char for char, _ in characters.most_common()]
    for char in rng.sample(common[20:], min(len(common) - 20, 25 * scale)):
        add("character", char)
    mixes = sorted(set(_LATIN_DIGIT.findall(text)))
    for mix in rng.sample(mixes, min(len(mixes), 30 * scale)):
        add("latin-digit", mix.upper() if rng.random() < 0.5 else mix)
    for _ in range(40 * scale):
        span = sample_span(rng.randint(2, 4), traditional=True)
        add("traditional", span)
        add("traditional→simplified", _T2S.convert(span))
    for _ in range(25 * scale):
        add("simplified→traditional", _S2T.convert(sample_span(rng.randint(2, 4), traditional=False)))
    return queries


def stored_hashes(es: Elasticsearch, index: str) -> dict[str, str]:
    """Document id → the SHA-1 of the file the index keeps for it (``source.sha1``)."""
    hits = Pages(es, index, source_includes=["source.sha1"]).hits()
    return {hit["_id"]: hit["_source"].get("source", {}).get("sha1", "") for hit in hits}
