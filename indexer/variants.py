"""Regional spellings of a term (特朗普/川普, 悉尼/雪梨, 朝鲜/北韩), in both directions, as folded forms.

The spellings come from the zh-cn, zh-tw and zh-hk conversion tables of MediaWiki as zhconv-rs ships them,
corrected by the project's variants file (``data/variants.txt``: names the tables lack, false friends they
make) and a user file in the same format (docs/variants.md). zhconv-rs is GPL-2.0-or-later while this
project is MIT, so it is an optional extra (``pip install 'news-indexer[variants]'``); without it
:func:`load_table` raises :class:`VariantsUnavailable`.

zhconv-rs converts text one way per region and cannot list its tables, so a table of links is built once
(and cached): every word of a vocabulary (jieba's dictionary, the news dictionary, words a caller adds, for
example :func:`table_words` of an archive) is converted to each region, and so are the forms it converts
to, twice over. Each conversion that changes the folded form links the two forms. A term's variants are the
forms linked to it either way, plus its own conversions made on the spot. Links don't chain: 乒乓球→桌球
(zh-tw) and 台球→桌球 (zh-hk) make both variants of 桌球, not of each other.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path

from indexer.normalize import HAN, NORMALIZATION_VERSION, fold
from indexer.segment import parse_dictionary

REGIONS: tuple[str, ...] = ("zh-cn", "zh-tw", "zh-hk")
"""The tables used. zhconv-rs gives zh-sg and zh-my the zh-cn table and zh-mo the zh-hk one (checked: they
convert jieba's dictionary identically), so they add nothing."""
_DEPTH = 2
"""Rounds of converting the forms a vocabulary converts to. One round reaches Traditional keys from Simplified
words (北韩 → 北韓 → 朝鲜); more add nothing but runaway forms (贝克汉姆 → 碧咸 → 贝克汉姆姆 → …)."""
_RULES = "2"
"""Bump when a change in this module changes the links built from the same tables and vocabulary."""
_NEWS_DICT = "data/news_dict.txt"
_PROJECT_FILE = "data/variants.txt"
_MIN_LENGTH = 2
"""Both forms of a link have at least this many characters. One-character links are mostly character variants
(幷/并) but some are false friends that would flood a search: 米→公尺 (metre; 米 is also rice), 升→公升 (litre),
合→閤 (8,110 corpus articles say 合; see docs/variants.md)."""
_HAN_RUN_RE = re.compile(f"[{HAN}·]+")
_SPAN_MARGIN = 8
"""How far :func:`table_words` looks around a changed span for the shortest run that changes by itself."""
INSTALL_HINT = "pip install 'news-indexer[variants]'"

Converter = Callable[[str, str], str]
"""``convert(text, region)``: zhconv-rs's conversion of `text` to `region`."""


class VariantsUnavailable(RuntimeError):
    """Regional spellings were asked for, but the optional zhconv-rs package is not installed."""

    def __init__(self) -> None:
        super().__init__(f"regional spellings need the optional zhconv-rs package (GPL-2.0-or-later): {INSTALL_HINT}")


class VariantFileError(ValueError):
    """A variants file that cannot be used; the message names the file, the line and the problem."""


@dataclass(frozen=True, slots=True)
class Link:
    """One conversion that changes a folded form: the `region` table writes `source` as `target`."""

    source: str
    target: str
    region: str


@dataclass(frozen=True, slots=True)
class Variant:
    """One spelling to search for a term, folded (as documents are), with where it came from."""

    form: str
    term: bool = False
    """The searched term itself."""
    written_in: tuple[str, ...] = ()
    """Regions whose table writes the term this way (``zh-tw`` for 川普 when the term is 特朗普)."""
    replaced_in: tuple[str, ...] = ()
    """Regions whose table writes this spelling as the term (``zh-tw`` for 特朗普 when the term is 川普)."""
    files: tuple[str, ...] = ()
    """Variants-file lines (``path:line``) that make it a variant of the term."""

    def describe(self) -> str:
        """Where the spelling came from, for a table or a JSON field: ``zh-tw table``, ``my.txt:3`` …"""
        if self.term:
            return "searched term"
        parts = [f"{', '.join(self.written_in)} table" if self.written_in else ""]
        parts.append(f"replaced in {', '.join(self.replaced_in)} table" if self.replaced_in else "")
        parts.extend(self.files)
        return "; ".join(part for part in parts if part)


@dataclass(frozen=True, slots=True)
class VariantFile:
    """What a variants file says: pairs of folded forms it makes variants or not, each with its ``path:line``."""

    name: str
    digest: str
    """A hash of the file's bytes, for :attr:`VariantTable.version`."""
    added: dict[tuple[str, str], str] = field(default_factory=dict)
    removed: dict[tuple[str, str], str] = field(default_factory=dict)


def converter() -> Converter:
    """zhconv-rs's conversion (MediaWiki's markup in the text left alone); raises VariantsUnavailable without it."""
    try:
        from zhconv_rs import zhconv
    except ImportError:
        raise VariantsUnavailable() from None

    def convert(text: str, region: str) -> str:
        return zhconv(text, region, False)  # type: ignore[arg-type]  # regions come from REGIONS, all zhconv names

    return convert


def tables_version() -> str:
    """The zhconv-rs release whose tables are used (``zhconv-rs 0.4.2``); raises VariantsUnavailable."""
    converter()
    return f"zhconv-rs {metadata.version('zhconv-rs')}"


def _vocabulary(extra_words: list[str]) -> list[str]:
    words = {line.split(" ", 1)[0] for line in _jieba_dictionary().decode("utf-8").splitlines() if line}
    words.update(entry.word for entry in parse_dictionary(_package_data(_NEWS_DICT), _NEWS_DICT))
    words.update(extra_words)
    return sorted(words)


def _jieba_dictionary() -> bytes:
    import jieba  # its import costs ~90 ms (pkg_resources): only a table build needs it

    with jieba.get_dict_file() as handle:
        return handle.read()


def _package_data(name: str) -> bytes:
    return resources.files("indexer").joinpath(name).read_bytes()


def build_links(words: Iterable[str], convert: Converter) -> list[Link]:
    """The links a vocabulary gives: each word and, for ``_DEPTH`` rounds, each form it converts to,
    converted to every region; a conversion that changes the folded form is a link. Sorted, no repeats."""
    links: set[Link] = set()
    frontier = list(dict.fromkeys(words))
    seen = set(frontier)
    for _ in range(_DEPTH + 1):
        following: list[str] = []
        for word in frontier:
            source = fold(word)
            for region in REGIONS:
                converted = convert(word, region)
                target = fold(converted)
                if _is_link(source, target):
                    links.add(Link(source, target, region))
                if converted not in seen:
                    seen.add(converted)
                    following.append(converted)
        frontier = following
    return sorted(links, key=lambda link: (link.source, link.target, link.region))


def _is_link(source: str, target: str) -> bool:
    """Whether a conversion of folded `source` to folded `target` links them (see ``_MIN_LENGTH``)."""
    return source != target and min(len(source), len(target)) >= _MIN_LENGTH


def table_words(texts: Iterable[str]) -> set[str]:
    """Words in `texts` that a regional table rewrites (沙烏地, 帛琉 …), for the vocabulary of a table.

    Finds what jieba's Simplified dictionary can't lead to: Traditional-only keys. Each changed span of a
    run of Han characters is narrowed to the shortest part of the run around it that changes by itself; a
    word whose change a shorter changing part explains (晶片的: 晶片) is left out.
    """
    convert = converter()
    found: set[tuple[str, str]] = set()
    for text in texts:
        for run in _HAN_RUN_RE.findall(text):
            folded = fold(run)
            if len(folded) != len(run):
                continue
            for region in REGIONS:
                converted = fold(convert(run, region))
                if converted == folded:
                    continue
                matcher = difflib.SequenceMatcher(None, folded, converted, autojunk=False)
                for tag, start, end, _, _ in matcher.get_opcodes():
                    if tag != "equal":
                        word = _changing_part(run, start, max(end, start + 1), region, convert)
                        if word:
                            found.add((word, region))
    return {word for word, region in found if not _explained_by_part(word, region, convert)}


def _changes(text: str, region: str, convert: Converter) -> bool:
    return fold(convert(text, region)) != fold(text)


def _changing_part(run: str, start: int, end: int, region: str, convert: Converter) -> str | None:
    """The shortest ``run[s:e]`` with ``s <= start`` and ``e >= end`` that `region` changes by itself."""
    for length in range(end - start, end - start + _SPAN_MARGIN + 1):
        for begin in range(max(0, end - length), min(start, len(run) - length) + 1):
            if _changes(run[begin : begin + length], region, convert):
                return run[begin : begin + length]
    return None


def _explained_by_part(word: str, region: str, convert: Converter) -> bool:
    whole = fold(convert(word, region))
    for length in range(1, len(word)):
        for begin in range(len(word) - length + 1):
            part = word[begin : begin + length]
            if _changes(part, region, convert) and fold(word.replace(part, convert(part, region))) == whole:
                return True
    return False


def parse_variant_file(data: bytes, source: str | os.PathLike[str]) -> VariantFile:
    """Parse a variants file (format in docs/variants.md): ``word = variant, …`` makes the spellings of a line
    variants of each other, ``word != variant, …`` makes each listed spelling no variant of the first, ``#``
    starts a comment. Raises VariantFileError naming `source` and the line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise VariantFileError(f"{source}: not UTF-8 ({error})") from None
    added: dict[tuple[str, str], str] = {}
    removed: dict[tuple[str, str], str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{number}"
        head, operator, rest = line.partition("!=")
        if not operator:
            head, operator, rest = line.partition("=")
        if not operator:
            raise VariantFileError(f"{where}: expected 'word = variant, …' or 'word != variant, …', got {line!r}")
        forms = [_file_form(spelling, where) for spelling in [head, *rest.split(",")]]
        if len(set(forms)) < len(forms):
            raise VariantFileError(f"{where}: {line!r} names one spelling twice (after folding script and width)")
        if operator == "=":
            pairs = [(a, b) for a in forms for b in forms if a != b]
        else:
            pairs = [pair for other in forms[1:] for pair in ((forms[0], other), (other, forms[0]))]
        target, opposite = (added, removed) if operator == "=" else (removed, added)
        for pair in pairs:
            if pair in opposite:
                raise VariantFileError(
                    f"{where}: {pair[0]} and {pair[1]} are also paired the other way at {opposite[pair]}"
                )
            target.setdefault(pair, where)
    return VariantFile(Path(source).name, hashlib.sha256(data).hexdigest()[:10], added, removed)


def _file_form(spelling: str, where: str) -> str:
    spelling = spelling.strip()
    if not spelling:
        raise VariantFileError(f"{where}: empty spelling")
    if any(char.isspace() for char in spelling):
        raise VariantFileError(f"{where}: spelling {spelling!r} holds whitespace; write one word per spelling")
    return fold(spelling)


class VariantTable:
    """The links of the regional tables with variants files on top; :meth:`expand` gives a term's spellings."""

    def __init__(self, links: Iterable[Link], convert: Converter, files: Iterable[VariantFile] = ()) -> None:
        """`files` apply in order: a pair a later file adds or removes is decided by that file."""
        self._convert = convert
        self._links: dict[str, list[Link]] = defaultdict(list)
        digest = hashlib.sha256()
        for link in links:
            self._links[link.source].append(link)
            self._links[link.target].append(link)
            digest.update(f"{link.source}\t{link.target}\t{link.region}\n".encode())
        self._added: dict[str, dict[str, str]] = defaultdict(dict)
        self._removed: dict[str, dict[str, str]] = defaultdict(dict)
        parts = [tables_version(), f"links {digest.hexdigest()[:10]}"]
        for file in files:
            for pairs, into, out_of in (
                (file.added, self._added, self._removed),
                (file.removed, self._removed, self._added),
            ):
                for (form, other), where in pairs.items():
                    into[form][other] = where
                    out_of[form].pop(other, None)
            parts.append(f"{file.name} {file.digest}")
        self.version: str = "; ".join(parts)
        """Cite this with results: the zhconv-rs release, a hash of the links built, and of each variants file."""

    def forms(self) -> set[str]:
        """The forms the tables or the variants files give a variant (other forms may get one on the spot)."""
        return set(self._links) | {form for form, others in self._added.items() if others}

    def _term_links(self, term: str, form: str) -> list[Link]:
        """The table's links of `form`, and the links the term's own conversions give (as in the build)."""
        links = list(self._links.get(form, ()))
        for source in {term, form, *(self._convert(term, region) for region in REGIONS)}:
            folded = fold(source)
            for region in REGIONS:
                target = fold(self._convert(source, region))
                if _is_link(folded, target) and form in (folded, target):
                    links.append(Link(folded, target, region))
        return links

    def expand(self, term: str) -> list[Variant]:
        """The term's spellings, folded: the term first, then its variants by form. Never empty."""
        form = fold(term.strip())
        written: dict[str, set[str]] = defaultdict(set)
        replaced: dict[str, set[str]] = defaultdict(set)
        for link in self._term_links(term.strip(), form):
            if link.source == form:
                written[link.target].add(link.region)
            else:
                replaced[link.source].add(link.region)
        added = self._added.get(form, {})
        others = (set(written) | set(replaced) | set(added)) - set(self._removed.get(form, ()))
        variants = [Variant(form, term=True)]
        for other in sorted(others):
            variants.append(
                Variant(
                    other,
                    written_in=_in_region_order(written[other]),
                    replaced_in=_in_region_order(replaced[other]),
                    files=(added[other],) if other in added else (),
                )
            )
        return variants

    def spellings(self, term: str) -> list[str]:
        """The folded forms of :meth:`expand`, the term first."""
        return [variant.form for variant in self.expand(term)]


def _in_region_order(regions: set[str]) -> tuple[str, ...]:
    return tuple(region for region in REGIONS if region in regions)


def _cache_key(extra_words: list[str]) -> str:
    """A hash of everything the links depend on: the tables, the rules here, folding and the vocabulary."""
    digest = hashlib.sha256()
    digest.update(f"{tables_version()} {_RULES} {_DEPTH} {REGIONS} {NORMALIZATION_VERSION}\n".encode())
    for part in (_jieba_dictionary(), _package_data(_NEWS_DICT), "\n".join(extra_words).encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:12]


def load_links(cache_dir: str | os.PathLike[str], extra_words: Iterable[str] = ()) -> list[Link]:
    """The links of the default vocabulary plus `extra_words`: read from `cache_dir`, or built and cached
    there (atomically; a cache that can't be written only costs the next call another build)."""
    extra = sorted({word.strip() for word in extra_words if word.strip()})
    cache_file = Path(cache_dir) / f"variants-{_cache_key(extra)}.json"
    try:
        return [Link(*row) for row in json.loads(cache_file.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        pass
    links = build_links(_vocabulary(extra), converter())
    _write_atomically(
        cache_file, json.dumps([[link.source, link.target, link.region] for link in links], ensure_ascii=False)
    )
    return links


def _write_atomically(path: Path, text: str) -> None:
    """Write a cache file whole or not at all (parallel processes may race); failing costs the next build."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)


def load_table(
    cache_dir: str | os.PathLike[str],
    user_file: str | os.PathLike[str] | None = None,
    extra_words: Iterable[str] = (),
    project_file: bool = True,
) -> VariantTable:
    """The variant table: links from the cache (built on first use, see :func:`load_links`), then the project's
    variants file (unless `project_file` is false), then the user file.

    Raises VariantsUnavailable without the zhconv-rs extra, VariantFileError for a bad variants file, OSError
    when the user file can't be read.
    """
    convert = converter()
    files = [parse_variant_file(_package_data(_PROJECT_FILE), _PROJECT_FILE)] if project_file else []
    if user_file is not None:
        files.append(parse_variant_file(Path(user_file).read_bytes(), user_file))
    return VariantTable(load_links(cache_dir, extra_words), convert, files)
