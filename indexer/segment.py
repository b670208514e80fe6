"""Word segmentation of folded text with jieba: words for the words field, entities and keywords.

jieba's own dictionary, the project news dictionary (``data/news_dict.txt``) and an optional user dictionary
are folded with ``indexer.normalize.fold`` and merged into one prefix dictionary, so the segmenter reads the
same folded text that the chars field and the query side use: a word segments the same way whatever script,
width or case it was written in. The merged dictionary is cached per dictionary set under the user's cache
directory, so a process starts in a fraction of a second after the first.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jieba

from indexer.config import default_cache_dir
from indexer.errors import IndexerError
from indexer.normalize import HAN, NORMALIZATION_VERSION, fold

jieba.setLogLevel(logging.WARNING)

_JIEBA_DIR = Path(jieba.__file__).parent
_JIEBA_DICT = _JIEBA_DIR / "dict.txt"
_JIEBA_IDF = _JIEBA_DIR / "analyse" / "idf.txt"
_NEWS_DICT = "data/news_dict.txt"
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

_BLOCK_RE = re.compile(f"([{HAN}a-z0-9+#&._%·]+)")
"""Runs jieba segments as a whole: unlike jieba's own regexes it keeps ``·`` so names stay whole."""
_PIECE_RE = re.compile(f"[0-9]+(?:\\.[0-9]+)*|[a-z0-9]+|(?:(?![{HAN}])[^\\W_])+|.", re.DOTALL)
"""How characters outside dictionary words group: numbers, Latin words, other letter runs, single chars."""
_HAN_RUN_RE = re.compile(f"([{HAN}]+)")
_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)*")
_LATIN_RE = re.compile(r"[a-z0-9]+")
_USER_LINE_RE = re.compile(r"^(\S+)(?:\s+([0-9]+))?(?:\s+([a-z]+))?$")


class DictionaryError(IndexerError):
    """A dictionary file that cannot be used; the message names the file, the line and the problem."""


@dataclass(frozen=True, slots=True)
class Token:
    """One word of folded text and its jieba.posseg part-of-speech flag (``nr`` person, ``ns`` place ...)."""

    word: str
    flag: str


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


def _writable_dir(preferred: Path) -> Path | None:
    for candidate in (preferred, Path(tempfile.gettempdir()) / f"news-indexer-{os.getuid()}"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    return None


class Segmenter:
    """jieba precise-mode segmentation with part-of-speech flags over folded text; one pass gives words,
    entities and keywords.

    ``version`` is a short hash of everything that can change tokens: jieba's version and dictionary, its
    IDF table, the news dictionary, the user dictionary, the normalization version and the settings.
    """

    def __init__(
        self,
        user_dict: str | os.PathLike[str] | None = None,
        *,
        hmm: bool = HMM,
        news_dict: bool = True,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.hmm = hmm
        self.user_dict = Path(user_dict) if user_dict is not None else None
        news_bytes = resources.files("indexer").joinpath(_NEWS_DICT).read_bytes() if news_dict else b""
        self._news = parse_dictionary(news_bytes, _NEWS_DICT)
        user_bytes = self.user_dict.read_bytes() if self.user_dict is not None else b""
        self._user = parse_dictionary(user_bytes, self.user_dict) if self.user_dict is not None else []
        self._persons = frozenset(fold(entry.word) for entry in (*self._news, *self._user) if entry.tag in PERSON_FLAGS)
        digest = hashlib.sha256()
        for part in (
            jieba.__version__.encode(),
            _JIEBA_DICT.read_bytes(),
            _JIEBA_IDF.read_bytes(),
            news_bytes,
            user_bytes,
            NORMALIZATION_VERSION.encode(),
            f"{_RULES} hmm={hmm} margin={CONTEXT_MARGIN}".encode(),
        ):
            digest.update(hashlib.sha256(part).digest())
        self.version: str = digest.hexdigest()[:12]
        self._tokenizer = jieba.Tokenizer()
        self._tags: dict[str, str] = {}
        self._idf: dict[str, float] = {}
        self._median_idf = 0.0
        self._stop_words: frozenset[str] = frozenset()
        self._load(Path(cache_dir) if cache_dir is not None else default_cache_dir())

    def __repr__(self) -> str:
        return f"Segmenter(user_dict={self.user_dict!r}, hmm={self.hmm}, version={self.version!r})"

    # -- dictionary -------------------------------------------------------------------------------------

    def _load(self, cache_dir: Path) -> None:
        directory = _writable_dir(cache_dir)
        cache_file = directory / f"dict-{self.version}.marshal" if directory else None
        if cache_file is not None and cache_file.is_file():
            try:
                self._restore(marshal.loads(cache_file.read_bytes()))
                return
            except (EOFError, ValueError, TypeError, KeyError):
                cache_file.unlink(missing_ok=True)
        self._build()
        if cache_file is not None:
            self._save(cache_file)

    def _save(self, cache_file: Path) -> None:
        """Write the cache atomically (parallel workers may race); a full disk only costs the next start."""
        try:
            fd, temporary = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(self._state()))
            os.replace(temporary, cache_file)
        except OSError as error:
            logging.getLogger(__name__).warning("segmenter cache %s not written: %s", cache_file, error)

    def _state(self) -> dict[str, Any]:
        return {
            "freq": self._tokenizer.FREQ,
            "total": self._tokenizer.total,
            "tags": self._tags,
            "idf": self._idf,
            "median_idf": self._median_idf,
            "stop_words": sorted(self._stop_words),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        self._tokenizer.FREQ = state["freq"]
        self._tokenizer.total = state["total"]
        self._tokenizer.initialized = True
        self._tags = state["tags"]
        self._idf = state["idf"]
        self._median_idf = state["median_idf"]
        self._stop_words = frozenset(state["stop_words"])

    def _build(self) -> None:
        """Fold jieba's dictionary and IDF table, then add the news and user dictionaries."""
        import jieba.analyse  # loads jieba's IDF table and stop words; only needed on a cache miss

        freq: Counter[str] = Counter()
        tag_freq: dict[str, int] = {}
        for line in _JIEBA_DICT.read_text(encoding="utf-8").splitlines():
            word, count, tag = line.split(" ")
            key = fold(word)
            freq[key] += int(count)
            if int(count) > tag_freq.get(key, -1):
                tag_freq[key] = int(count)
                self._tags[key] = tag
        total = sum(freq.values())
        prefixed: dict[str, int] = dict(freq)
        for word in freq:
            for end in range(1, len(word)):
                prefixed.setdefault(word[:end], 0)
        self._tokenizer.FREQ = prefixed
        self._tokenizer.total = total
        self._tokenizer.initialized = True
        idf: dict[str, float] = {}
        for word, value in jieba.analyse.default_tfidf.idf_freq.items():
            key = fold(word)
            idf[key] = min(value, idf.get(key, value))
        self._idf = idf
        self._median_idf = jieba.analyse.default_tfidf.median_idf
        self._stop_words = frozenset(fold(word) for word in jieba.analyse.default_tfidf.stop_words)
        for entry in (*self._news, *self._user):
            self._add_word(entry.word, entry.freq, entry.tag)

    def word_freq(self, word: str) -> int:
        """The frequency an added word gets: ``CONTEXT_MARGIN`` times what beats its own split, at least.

        jieba's ``suggest_freq`` gives the least frequency at which a word beats the split of its own
        characters; in running text a neighbour can still take one of its characters, so added words get a
        margin on top (measured on the corpus by ``tools/build_news_dict.py``).
        """
        key = fold(word)
        split = 1.0
        for piece, _ in self._cut_block(key, hmm=False, whole=False):
            split *= self._tokenizer.FREQ.get(piece, 1) / self._tokenizer.total
        return int(split * self._tokenizer.total * CONTEXT_MARGIN) + 1

    def _add_word(self, word: str, freq: int | None, tag: str | None) -> None:
        """Add a dictionary word (folded); its frequency never drops below what jieba already has or below
        ``word_freq``, so a low frequency given in a dictionary file never splits it."""
        key = fold(word)
        tokenizer = self._tokenizer
        count = max(freq or 0, tokenizer.FREQ.get(key, 0), self.word_freq(key))
        tokenizer.total += count - tokenizer.FREQ.get(key, 0)
        tokenizer.FREQ[key] = count
        for end in range(1, len(key)):
            tokenizer.FREQ.setdefault(key[:end], 0)
        self._tags[key] = tag or self._tags.get(key, "nz")

    def known(self, word: str) -> bool:
        """Whether `word` (any script, width or case) is a word of this segmenter's dictionaries."""
        return bool(self._tokenizer.FREQ.get(fold(word)))

    # -- segmentation -----------------------------------------------------------------------------------

    def tokens(self, text: str) -> list[Token]:
        """Fold and segment `text` (original text, any script); whitespace and punctuation are dropped."""
        folded = fold(text)
        tokens: list[Token] = []
        position = 0
        for match in _BLOCK_RE.finditer(folded):
            tokens.extend(self._pieces(folded[position : match.start()]))
            tokens.extend(Token(word, flag) for word, flag in self._cut_block(match.group(), self.hmm))
            position = match.end()
        tokens.extend(self._pieces(folded[position:]))
        return [token for token in tokens if _is_word(token.word)]

    def words(self, text: str) -> list[str]:
        """The words of `text`: the words-field value of a document and the words of a query."""
        return [token.word for token in self.tokens(text)]

    def _pieces(self, chars: str) -> Iterator[Token]:
        for piece in _PIECE_RE.findall(chars):
            if _NUMBER_RE.fullmatch(piece):
                yield Token(piece, "m")
            elif _LATIN_RE.fullmatch(piece):
                yield Token(piece, "eng")
            else:
                yield Token(piece, self._tags.get(piece, "x"))

    def _cut_block(self, block: str, hmm: bool, whole: bool = True) -> Iterator[tuple[str, str]]:
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
                yield word, self._tags.get(word, "x")
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
                    yield from ((token.word, token.flag) for token in self._pieces(part))
        else:
            yield from ((token.word, token.flag) for token in self._pieces(chars))

    # -- entities and keywords --------------------------------------------------------------------------

    def entities(self, tokens: Sequence[Token]) -> Entities:
        """Persons, places and organisations among `tokens` (two characters or more), most frequent first.

        jieba's dictionary tags many common words as person names (卫星, 乌克兰, 塔斯社), so a person-tagged
        word counts as a person only when the news or user dictionary says so, it holds ``·``, or the text
        itself shows it as one somewhere: after a title (``外长拉夫罗夫``) or before a verb such as ``说``.
        """
        confirmed = set(self._persons)
        for index, token in enumerate(tokens):
            if token.flag in PERSON_FLAGS and token.word not in confirmed:
                before = tokens[index - 1].word if index else ""
                after = tokens[index + 1].word if index + 1 < len(tokens) else ""
                if before in PERSON_TITLES or after in PERSON_VERBS or "·" in token.word:
                    confirmed.add(token.word)
        return Entities(
            persons=self._ranked(token.word for token in tokens if token.word in confirmed),
            places=self._ranked(token.word for token in tokens if token.flag in PLACE_FLAGS),
            orgs=self._ranked(token.word for token in tokens if token.flag in ORG_FLAGS),
        )

    def _ranked(self, words: Iterable[str]) -> tuple[str, ...]:
        counts = Counter(word for word in words if len(word) > 1)
        return tuple(word for word, _ in counts.most_common())

    def keywords(self, tokens: Sequence[Token], k: int = 10) -> tuple[str, ...]:
        """The `k` words of highest TF-IDF, by jieba.analyse's IDF table and stop words (as extract_tags
        does, without segmenting again); numbers, Latin-only words and single characters are left out."""
        counts = Counter(
            token.word
            for token in tokens
            if len(token.word) > 1 and token.flag not in _KEYWORD_SKIP_FLAGS and token.word not in self._stop_words
        )
        total = sum(counts.values())
        if not total:
            return ()
        weights = {word: count * self._idf.get(word, self._median_idf) / total for word, count in counts.items()}
        ranked = sorted(weights, key=lambda word: (-weights[word], word))
        return tuple(ranked[:k])


def _is_word(word: str) -> bool:
    return any(char.isalnum() for char in word)


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
