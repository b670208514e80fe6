"""Word segmentation of folded text with jieba's algorithm: words for the words field, entities and keywords.

jieba's own dictionary, the project news dictionary (``data/news_dict.txt``) and an optional user dictionary
are folded with ``indexer.normalize.fold`` and merged into one prefix dictionary, so the segmenter reads the
same folded text that the chars field and the query side use: a word segments the same way whatever script,
width or case it was written in.

Two engines (``indexer.engines``) run jieba's precise mode over that dictionary. The native one (the
default) is jieba-rs through rjieba; the reference is jieba's own Python ``Tokenizer.get_DAG``/``calc``, which
also builds the merged dictionary (frequencies of added words come from its route) and is the only one with
posseg's HMM. They give the same tokens but for the classes measured in docs/segmentation.md. The merged
dictionary is built once per dictionary set into a read-only SQLite file under the cache directory
(``indexer.lexicon``). The native engine starts empty and takes from that file only the words inside the texts
it is given, so a process that segments a query is ready in milliseconds; after ``LOOKUP_CHARS`` characters it
loads the whole dictionary at once.
"""

from __future__ import annotations

import heapq
import os
import re
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from indexer.analysis_version import HMM, NEWS_DICT, NEWS_PATH, versions, writable_dir
from indexer.config import default_cache_dir
from indexer.engines import BLOCK_RE, NativeEngine, ReferenceEngine, Token
from indexer.errors import IndexerError
from indexer.lexicon import Lexicon
from indexer.normalize import fold


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


_USER_LINE_RE = re.compile(r"^(\S+)(?:\s+([0-9]+))?(?:\s+([a-z]+))?$")


class DictionaryError(IndexerError):
    """A dictionary file that cannot be used; the message names the file, the line and the problem."""


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
        if not BLOCK_RE.fullmatch(fold(word)):
            raise DictionaryError(
                f"{source}:{number}: {word!r} can never match: it holds characters the segmenter splits on"
            )
        entries.append(DictEntry(word, int(freq) if freq else None, tag))
    return entries


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
        directory = writable_dir(Path(cache_dir) if cache_dir is not None else default_cache_dir())
        news = NEWS_PATH if news_dict else None
        dictionary, self.version = versions(news, self.user_dict, directory, hmm, native)
        self._lexicon, self._built = self._open(directory / f"lexicon-{dictionary}.sqlite", news)
        self._engine: NativeEngine | ReferenceEngine = NativeEngine(self._lexicon) if native else self._reference()
        self._idf: dict[str, float] | None = None

    def __repr__(self) -> str:
        return (
            f"Segmenter(user_dict={self.user_dict!r}, hmm={self.hmm}, native={self.native}, version={self.version!r})"
        )

    # -- dictionary -------------------------------------------------------------------------------------

    def _open(self, path: Path, news: Path | None) -> tuple[Lexicon, ReferenceEngine | None]:
        """The dictionary file of this dictionary set, built (with the reference engine) if missing or broken.

        Only a build reads the news and user dictionaries (and so reports a bad user dictionary): a file
        for this dictionary set exists only if they were read without error."""
        if path.is_file():
            try:
                return Lexicon(path), None
            except (sqlite3.DatabaseError, KeyError, ValueError):
                path.unlink(missing_ok=True)
        entries = parse_dictionary(news.read_bytes(), NEWS_DICT) if news else []
        if self.user_dict is not None:
            entries += parse_dictionary(self.user_dict.read_bytes(), self.user_dict)
        persons = {fold(entry.word) for entry in entries if entry.tag in PERSON_FLAGS}
        reference, idf, median_idf, stop_words = ReferenceEngine.build(entries)
        Lexicon.write(path, reference.words(), idf, median_idf, stop_words, persons)
        return Lexicon(path), reference

    def _reference(self) -> ReferenceEngine:
        if self._built is None:
            self._built = ReferenceEngine.from_lexicon(self._lexicon)
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
        return not isinstance(self._engine, NativeEngine) or self._engine.complete

    def load(self) -> None:
        """Load the whole dictionary and the IDF table now, as a process that segments many texts wants
        (otherwise the first ``LOOKUP_CHARS`` characters and the first ``keywords`` call do it)."""
        if isinstance(self._engine, NativeEngine) and not self._engine.complete:
            self._engine.load_all()
        self._idf_table()

    # -- segmentation -----------------------------------------------------------------------------------

    def tokens(self, text: str) -> list[Token]:
        """Fold and segment `text` (original text, any script); whitespace and punctuation are dropped."""
        if isinstance(self._engine, NativeEngine):
            return self._engine.tokens(fold(text))
        return self._engine.tokens(fold(text), self.hmm)

    def words(self, text: str) -> list[str]:
        """The words of `text`: the words-field value of a document and the words of a query."""
        if isinstance(self._engine, NativeEngine):
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


_SEGMENTERS: dict[str | None, Segmenter] = {}


def get_segmenter(
    user_dict: str | os.PathLike[str] | None = None, cache_dir: str | os.PathLike[str] | None = None
) -> Segmenter:
    """The process's segmenter for this user dictionary (built once, then reused); its dictionary cache goes in
    `cache_dir` (Settings.cache_dir)."""
    key = str(Path(user_dict).resolve()) if user_dict is not None else None
    if key not in _SEGMENTERS:
        _SEGMENTERS[key] = Segmenter(user_dict, cache_dir=cache_dir)
    return _SEGMENTERS[key]
