"""Build ``indexer/data/news_dict.txt`` from evidence in the corpus, and report what it changes.

Evidence, all read from /work/shared/corpus (title and body text, HTML tags stripped):

1. a name followed by its Latin form in parentheses: ``佩斯科夫（Dmitry Peskov）``, ``世卫组织（WHO）``;
2. names joined with ``·`` (``安东尼·布林肯``), which jieba's own regexes always split;
3. Chinese personal names jieba lacks (``赵立坚``) that its HMM proposes, seen after a title or before a verb of
   saying (``发言人赵立坚``, ``赵立坚说``);
4. context: words jieba tags as a person but named or used like an organisation or place (``塔斯社``,
   ``抵达莫斯科``) or never used like a name (``卫星``), and places used like persons (``总统普京``).

A name's extent is found by segmenting the text before (or after) the parenthesis or dot with the segmenter
itself: the name is the run of characters next to it that jieba cannot read as common words. A candidate
enters the dictionary when it occurs at least ``--min-count`` times and the segmenter without the news
dictionary splits it or gives it another tag. Frequencies are left to the segmenter (``Segmenter.word_freq``).

Run: ``.venv/bin/python tools/build_news_dict.py`` (writes the dictionary, then prints the report).
"""

from __future__ import annotations

import argparse
import html
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from indexer.normalize import HAN, fold
from indexer.segment import (
    ORG_FLAGS,
    PERSON_FLAGS,
    PERSON_TITLES,
    PERSON_VERBS,
    PLACE_FLAGS,
    Segmenter,
    Token,
    fold_words,
)

CORPUS = Path("/work/shared/corpus")
OUT = Path(__file__).resolve().parent.parent / "indexer" / "data" / "news_dict.txt"

_TAG_RE = re.compile(r"<[^>]+>")
_TITLE_RE = re.compile(r"^\[(.*)\]\(.*\)$")
_LATIN_PAREN_RE = re.compile(f"([{HAN}·‧•∙・．﹒.]{{2,24}})[(（]([A-Za-z][A-Za-z .'’-]{{1,60}})[)）]")
_DOT_NAME_RE = re.compile(f"([{HAN}]+)((?:·[{HAN}]+)+)")
_ACRONYM_RE = re.compile(r"[A-Z]{2,8}")
_ORG_LATIN = re.compile(
    r"\b(?:party|ministry|council|bank|university|association|agency|corporation|corp|inc|ltd|group|"
    r"committee|organization|organisation|foundation|institute|news|times|post|company|league|union|"
    r"commission|court|office|department|army|force|forces|police|network|alliance|federation)\b",
    re.IGNORECASE,
)
_ORG_SUFFIXES = (
    "委员会",
    "组织",
    "公司",
    "集团",
    "银行",
    "大学",
    "协会",
    "基金会",
    "联盟",
    "党",
    "部",
    "局",
    "署",
    "社",
)
_NOT_NAME_ENDINGS = ("委", "办", "会", "院", "厅", "府", "军", "号", "家", "路")
"""Last characters of HMM guesses that are institutions or things rather than persons (``卫健委``)."""
_PLACE_SUFFIXES = ("省", "市", "县", "州", "岛", "区", "镇", "村", "湾", "港")
_PINYIN_SYLLABLE = (
    r"(?:[bpmfdtnlgkhjqxzcsryw]|zh|ch|sh)?(?:iang|iong|uang|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|"
    r"an|en|in|un|vn|ia|ie|iu|ua|uo|ui|ue|ve|er|a|o|e|i|u|v)(?:ng|n|r)?"
)
_PINYIN_WORD_RE = re.compile(f"(?:{_PINYIN_SYLLABLE})+", re.IGNORECASE)
_PINYIN_SYLLABLES_RE = re.compile(_PINYIN_SYLLABLE, re.IGNORECASE)


PLACE_BEFORE = fold_words("前往 抵达 访问 来自 位于 飞往 途经 驻 赴")
PLACE_AFTER = fold_words("市 省 州 郊区 当局 境内 机场 大使馆 市长 市民 居民 一带 市中心")
FUNCTION_CHARS = frozenset(fold(c) for c in "的了在和与及或是对将被向把给从为以由说称据而但也都又就还人长官者员相")


def article_text(raw: bytes) -> str:
    """Title and body text of one corpus file, tags stripped and entities decoded (a rough view for counts)."""
    lines = raw.decode("utf-8", errors="replace").split("\n")
    title = _TITLE_RE.match(lines[1]) if len(lines) > 1 else None
    body = _TAG_RE.sub("\n", "\n".join(lines[4:]))
    return html.unescape((title.group(1) if title else "") + "\n" + body)


def corpus_texts(root: Path = CORPUS, outlets: Iterable[str] = (), limit: int | None = None) -> Iterator[str]:
    """The text of the corpus files under `root` (all outlets, or those named), in path order."""
    wanted = set(outlets)
    paths = sorted(root.glob("*/*/*.md"))
    chosen = [path for path in paths if not wanted or path.parts[-3] in wanted]
    for path in chosen[:limit]:
        yield article_text(path.read_bytes())


class NameFinder:
    """Finds a name's extent beside a parenthesis or dot: the characters jieba cannot read as common words."""

    def __init__(self, segmenter: Segmenter, common: dict[str, int]) -> None:
        self.segmenter = segmenter
        self.common = common

    def _is_name_part(self, token: Token) -> bool:
        """Single characters other than function words, and words jieba knows only as person names or
        hardly at all; never a title (``首相``, ``英国首相``) or a place."""
        if len(token.word) == 1:
            return token.word not in FUNCTION_CHARS
        if token.word.endswith(tuple(PERSON_TITLES)) or token.flag in PLACE_FLAGS:
            return False
        return token.flag in PERSON_FLAGS or token.flag == "x" or self.common.get(token.word, 0) < 50

    def trailing(self, run: str) -> str:
        """The name at the end of `run` (text before a parenthesis or a dot)."""
        parts: list[str] = []
        for token in reversed(self.segmenter.tokens(run)):
            if not self._is_name_part(token):
                break
            parts.append(token.word)
        return "".join(reversed(parts))

    def leading(self, run: str) -> str:
        """The name at the start of `run` (text after a dot)."""
        parts: list[str] = []
        for token in self.segmenter.tokens(run):
            if not self._is_name_part(token):
                break
            parts.append(token.word)
        return "".join(parts)


def pinyin_syllables(latin: str) -> int | None:
    """How many syllables a Latin name has if every word of it is Hanyu Pinyin (``Wang Wenbin`` → 3)."""
    words = latin.replace("-", " ").split()
    if not words or not all(_PINYIN_WORD_RE.fullmatch(word) for word in words):
        return None
    return sum(len(_PINYIN_SYLLABLES_RE.findall(word)) for word in words)


def latin_tag(name: str, latin: str) -> str:
    """``nt``/``ns`` by the name's suffix, ``nr`` for a Latin first and last name, else ``nz`` (brands ...)."""
    if name.endswith(_ORG_SUFFIXES) and (_ACRONYM_RE.fullmatch(latin.strip()) or _ORG_LATIN.search(latin)):
        return "nt"
    if name.endswith(_PLACE_SUFFIXES):
        return "ns"
    words = latin.split()
    if "·" in name or (2 <= len(words) <= 4 and all(word[:1].isupper() for word in words)):
        return "nr"
    return "nz"


def evidence(texts: Sequence[str], finder: NameFinder) -> dict[str, Counter[str]]:
    """Candidate names (folded) with the tags the evidence gives them, counted."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for text in texts:
        for match in _LATIN_PAREN_RE.finditer(text):
            run, latin = fold(match.group(1)), match.group(2).strip()
            syllables = pinyin_syllables(latin) if len(latin.split()) in (2, 3) else None
            if syllables and 2 <= syllables <= 3:
                name = run[-syllables:]
            else:
                name = finder.trailing(run) if "·" not in run else _dotted_tail(run, finder)
            if 2 <= len(name) <= 16 and re.fullmatch(f"[{HAN}·]+", name):
                found[name][latin_tag(name, latin)] += 1
        folded = fold(text)
        for match in _DOT_NAME_RE.finditer(folded):
            first = finder.trailing(match.group(1))
            parts = match.group(2).split("·")[1:]
            last = finder.leading(parts[-1])
            if first and last and len(first) <= 6:
                found["·".join([first, *parts[:-1], last])]["nr"] += 1
    return found


def hmm_person_names(token_lists: Sequence[Sequence[Token]], base: Segmenter) -> dict[str, Counter[str]]:
    """Chinese personal names that jieba's HMM proposes (``赵立坚``, ``华春莹``) and that the text shows as
    persons: after a title or before a verb of saying, at least twice. The HMM itself stays off at run time."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for tokens in token_lists:
        for index, token in enumerate(tokens):
            if token.flag != "nr" or not 2 <= len(token.word) <= 4 or base.known(token.word):
                continue
            if token.word.endswith(_ORG_SUFFIXES + _PLACE_SUFFIXES + _NOT_NAME_ENDINGS):
                continue
            before = tokens[index - 1].word if index else ""
            after = tokens[index + 1].word if index + 1 < len(tokens) else ""
            if before in PERSON_TITLES or after in PERSON_VERBS:
                found[token.word]["nr"] += 1
    return found


SURNAMES = frozenset(
    fold(c)
    for c in "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付傅方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤柯"
    "赖洪游翁连庄简詹温童施倪颜欧涂岳卓吕褚卫蒋沈尤许何吕施张孔曹严华金魏陶姜谢邹喻柏水窦章云苏潘葛奚范彭郎鲁韦"
    "昌马苗凤花方俞任袁柳鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常乐于时傅皮卞齐康伍余元卜顾孟平黄穆萧尹姚邵湛汪祁"
    "毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡"
    "凌霍虞万支柯管卢莫房裘缪干解应宗丁宣邓郁单杭洪包诸左石崔吉龚程嵇邢滑裴陆荣翁荀羊甄曲家封储靳段富巫乌焦巴弓"
    "牧隗山谷车侯宓蓬全郗班仰秋仲伊宫宁仇栾暴甘厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰从鄂索咸籍赖卓蔺"
    "屠蒙池乔阴胥能苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍却璩桑桂濮牛寿通边扈燕冀郏浦尚农温别庄晏柴瞿阎充慕连茹习"
    "宦艾鱼容向古易慎戈廖庾终暨居衡步都耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩厍聂晁勾敖融冷訾辛阚那简饶空曾"
    "毋沙乜养鞠须丰巢关蒯相查后荆红游竺权逯盖益桓公"
)
"""Common Chinese family names (folded), for names jieba splits into known words."""


def split_person_names(token_lists: Sequence[Sequence[Token]], base: Segmenter) -> dict[str, Counter[str]]:
    """Chinese personal names jieba splits into known words (``蔡|英文``, ``韩国|瑜``, ``柯文|哲``): a family name
    and one to three more characters, across two to four tokens, seen after a title (``总统蔡英文``) or before a
    verb of saying (``蔡英文表示``). The HMM can't propose these, since it only joins single characters. A name
    seen at least as often without its first or last character is that shorter name plus a neighbour
    (``夏小华|摄``, a photo credit)."""
    found: dict[str, Counter[str]] = defaultdict(Counter)
    for tokens in token_lists:
        words = [token.word for token in tokens]
        for index, word in enumerate(words):
            if word not in PERSON_TITLES and word not in PERSON_VERBS:
                continue
            after_title = word in PERSON_TITLES
            for size in (2, 3, 4):
                parts = words[index + 1 : index + 1 + size] if after_title else words[max(0, index - size) : index]
                name = "".join(parts)
                if len(parts) != size or not 3 <= len(name) <= 4 or name[0] not in SURNAMES:
                    continue
                if re.fullmatch(f"[{HAN}]+", name) and _split_like_a_name(base.tokens(name)):
                    found[name]["nr"] += 1
    seen = {name: sum(tags.values()) for name, tags in found.items()}
    return {
        name: found[name]
        for name, count in seen.items()
        if count >= 3 and not any(seen.get(part, 0) >= count for part in (name[:-1], name[1:]) if len(part) >= 3)
    }


_LOCATIVES = frozenset(fold(c) for c in "中上下里内外后前时间")
_END_CHARS = FUNCTION_CHARS | frozenset(fold(c) for c in "则亦并共他她其们")
_NOT_NAME_FLAGS = ("v", "a", "d", "t", "b", "f", "p", "c", "u", "r")
"""Part-of-speech flags (prefixes) of words that are not pieces of a name: verbs, adjectives, adverbs, times ..."""
_CONTEXT_WORDS = PERSON_TITLES | PERSON_VERBS | fold_words("报道 报导 采访 综合 摄 医生 会面")


def _split_like_a_name(tokens: Sequence[Token]) -> bool:
    """Whether `tokens` look like the pieces of one 3–4 character name, as jieba splits it: single characters
    (``黎|智|英``) and at most one noun-like word (``蔡|英文``, ``韩国|瑜``); never a word of three characters or
    more (``习近平|的``), a verb, adverb or time (``曾|公开``, ``时中|今天``), a title or verb of saying
    (``蔡|总统``, ``王毅|访问``), a function word at either end (``向|媒体``, ``华为|则``) or a place at the end
    (``张谦|香港``, a dateline). A locative at the end (``陈|时|中``) is accepted only when every piece is a single
    character (not ``文章|中``)."""
    words = [token for token in tokens if len(token.word) > 1]
    if len(tokens) < 2 or len(words) > 1 or any(len(token.word) >= 3 for token in tokens):
        return False
    if any(token.flag.startswith(_NOT_NAME_FLAGS) or token.word in _CONTEXT_WORDS for token in words):
        return False
    first, last = tokens[0], tokens[-1]
    if first.word in _END_CHARS | _LOCATIVES or first.flag.startswith(("d", "p", "c", "u", "r")):
        return False
    if len(last.word) > 1 and last.flag in PLACE_FLAGS:
        return False
    if last.word in _END_CHARS or last.word in _LOCATIVES:
        return not words and last.word in _LOCATIVES - _END_CHARS
    return True


def _dotted_tail(run: str, finder: NameFinder) -> str:
    head, _, tail = run.rpartition("·")
    first = finder.trailing(head.split("·")[0]) if head else ""
    middle = head.split("·")[1:]
    return "·".join([first, *middle, tail]) if first else ""


def context_tags(
    token_lists: Sequence[Sequence[Token]], common: dict[str, int], min_count: int
) -> tuple[dict[str, str], dict[str, Counter[str]]]:
    """Entity-tagged words whose contexts contradict their jieba tag, with the tag the contexts give.

    A word jieba tags as a person but named like an organisation or place (``塔斯社``) gets that tag; one seen
    where places stand (``抵达莫斯科``, ``莫斯科市``) more often than after a title becomes ``ns``;
    one tagged as a place but seen after titles (and before verbs of saying) becomes ``nr``;
    a frequent common word (jieba frequency 300 and more) tagged as a person but seen in neither context
    (``卫星``, ``许可``) loses the person tag.
    """
    seen: Counter[str] = Counter()
    tags: dict[str, Counter[str]] = defaultdict(Counter)
    contexts: dict[str, Counter[str]] = defaultdict(Counter)
    titled: Counter[str] = Counter()
    for tokens in token_lists:
        for index, token in enumerate(tokens):
            if token.flag not in PERSON_FLAGS | PLACE_FLAGS | ORG_FLAGS or len(token.word) < 2:
                continue
            seen[token.word] += 1
            tags[token.word][token.flag] += 1
            before = tokens[index - 1].word if index else ""
            after = tokens[index + 1].word if index + 1 < len(tokens) else ""
            if before in PERSON_TITLES or after in PERSON_VERBS:
                contexts[token.word]["person"] += 1
            if before in PERSON_TITLES:
                titled[token.word] += 1
            if before in PLACE_BEFORE or after in PLACE_AFTER:
                contexts[token.word]["place"] += 1
    changes: dict[str, str] = {}
    for word, count in seen.items():
        flag = tags[word].most_common(1)[0][0]
        if flag in PERSON_FLAGS and count >= 2 and len(word) > 2 and word.endswith(_ORG_SUFFIXES):
            changes[word] = "nt"
        if flag in PERSON_FLAGS and count >= 2 and len(word) > 2 and word.endswith(_PLACE_SUFFIXES):
            changes[word] = "ns"
        if count < min_count or word in changes:
            continue
        person, place = contexts[word]["person"] / count, contexts[word]["place"] / count
        title = titled[word] / count
        if flag in PERSON_FLAGS and place >= 0.03 and place > 3 * title:
            changes[word] = "ns"
        elif (
            flag in PERSON_FLAGS
            and person < 0.01
            and place < 0.01
            and count >= 3 * min_count
            and common.get(word, 0) >= 300
        ):
            changes[word] = "n"
        elif flag in PLACE_FLAGS and title >= 0.05 and person > 3 * place:
            changes[word] = "nr"
    return changes, contexts


def jieba_frequencies() -> dict[str, int]:
    """Folded jieba dictionary words and their frequencies (for telling common words from name parts)."""
    import jieba

    freq: Counter[str] = Counter()
    for line in (Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8").splitlines():
        word, count, _ = line.split(" ")
        freq[fold(word)] += int(count)
    return dict(freq)


def choose(found: dict[str, Counter[str]], corpus: str, base: Segmenter, min_count: int) -> dict[str, tuple[str, int]]:
    """New words: candidates that occur often enough and that the segmenter without the news dictionary
    splits, made of name-like pieces (not common words)."""
    chosen: dict[str, tuple[str, int]] = {}
    for name, tags in found.items():
        if sum(tags.values()) < 2 or len(name.replace("·", "")) > 12:
            continue
        tokens = base.tokens(name)
        if len(tokens) < 2:
            continue
        occurrences = corpus.count(name)
        if occurrences >= min_count:
            chosen[name] = (tags.most_common(1)[0][0], occurrences)
    return {name: entry for name, entry in chosen.items() if not _part_of_longer(name, entry[1], chosen)}


def _part_of_longer(name: str, count: int, chosen: dict[str, tuple[str, int]]) -> bool:
    """Whether most occurrences of `name` are inside a longer chosen name (``乔·拜`` in ``乔·拜登``)."""
    return any(
        name in other and other != name and other_count >= 0.8 * count for other, (_, other_count) in chosen.items()
    )


def whole_rate(names: Iterable[str], token_lists: Sequence[Sequence[Token]], corpus: str) -> tuple[int, int]:
    """How many occurrences of `names` in the corpus text are one token: (whole, all)."""
    wanted = set(names)
    whole = sum(1 for tokens in token_lists for token in tokens if token.word in wanted)
    return whole, sum(corpus.count(name) for name in wanted)


def entity_sample(segmenter: Segmenter, texts: Sequence[str]) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for text in texts:
        entities = segmenter.entities(segmenter.tokens(text))
        for kind in ("persons", "places", "orgs"):
            counts.update((kind, name) for name in getattr(entities, kind))
    return counts


def report(
    entries: dict[str, tuple[str, int]], texts: Sequence[str], corpus: str, before: list[list[Token]], seconds: float
) -> None:
    after_segmenter = Segmenter()
    started = time.perf_counter()
    after = [after_segmenter.tokens(text) for text in texts]
    after_seconds = time.perf_counter() - started
    chars = sum(map(len, texts))
    names = [name for name, (tag, _) in entries.items() if tag in ("nr", "ns", "nt")]
    dotted = [name for name in names if "·" in name]
    for label, subset in (("all entries", names), ("dotted names", dotted)):
        old_whole, total = whole_rate(subset, before, corpus)
        new_whole, _ = whole_rate(subset, after, corpus)
        print(f"{label}: {len(subset)} names, {total} occurrences; one token: {old_whole} before -> {new_whole} after")
    print(f"segmentation speed: {chars / seconds:,.0f} chars/s before, {chars / after_seconds:,.0f} chars/s after")
    sample = texts[:: max(1, len(texts) // 500)]
    old = entity_sample(Segmenter(news_dict=False), sample)
    new = entity_sample(after_segmenter, sample)
    for kind in ("persons", "places", "orgs"):
        gained = [name for (k, name), _ in (new - old).most_common() if k == kind][:15]
        lost = [name for (k, name), _ in (old - new).most_common() if k == kind][:15]
        print(f"{kind} on {len(sample)} articles: +{' '.join(gained)}\n    -{' '.join(lost)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--min-count", type=int, default=5, help="least occurrences in the corpus text")
    parser.add_argument("--hmm-every", type=int, default=3, help="read every n-th article with the HMM (slow)")
    args = parser.parse_args()
    texts = list(corpus_texts(args.corpus))
    corpus = "\n".join(fold(text) for text in texts)
    base = Segmenter(news_dict=False)
    started = time.perf_counter()
    before = [base.tokens(text) for text in texts]
    seconds = time.perf_counter() - started
    finder = NameFinder(base, jieba_frequencies())
    found = evidence(texts, finder)
    guesser = Segmenter(hmm=True, native=False, news_dict=False)
    for name, tags in hmm_person_names([guesser.tokens(text) for text in texts[:: args.hmm_every]], base).items():
        found[name].update(tags)
    for name, tags in split_person_names(before, base).items():
        found[name].update(tags)
    entries = choose(found, corpus, base, args.min_count)
    retags, _ = context_tags(before, finder.common, args.min_count * 4)
    for word, tag in retags.items():
        entries.setdefault(word, (tag, corpus.count(word)))
    ranked = sorted(entries.items(), key=lambda item: (-item[1][1], item[0]))
    known = finder.common
    lines = [f"{word} {max(base.word_freq(word), known.get(word, 0))} {tag}" for word, (tag, _) in ranked]
    header = "# Generated by tools/build_news_dict.py from corpus evidence: word frequency tag\n"
    args.out.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    tags = Counter(tag for tag, _ in entries.values())
    print(f"{len(entries)} entries ({', '.join(f'{t} {n}' for t, n in tags.most_common())}) -> {args.out}")
    report(entries, texts, corpus, before, seconds)


if __name__ == "__main__":
    main()
