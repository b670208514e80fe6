"""Measure regional spellings on a corpus: what a plain search misses and what ``~TERM`` (indexer.variants) finds.

For each name below (its mainland spelling first, then spellings other regions use), the script counts the
articles each spelling occurs in (title, body, headings, captions, gallery: the searchable fields), and
compares three searches for the mainland spelling and for the Taiwan spelling:

- plain: the spelling alone, as a phrase on the chars view (a folded substring within one field text);
- ~: any spelling :meth:`VariantTable.expand` gives, for each of ``TABLES``.

It also lists, for each spelling a variant search adds, a few lines around its occurrences, to check for
false friends by reading. No index is needed: the files are parsed with the project's parser.

Run: ``.venv/bin/python -m tools.measure_variants [--markdown] [--additions N] [--json FILE] [--contexts FILE]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from indexer.document import field_texts
from indexer.normalize import compact, fold
from indexer.parser import ParseError, parse_file
from indexer.variants import VariantTable, load_table, table_words
from indexer.walk import Candidate, walk

CORPUS = Path("/work/shared/corpus")
TAIWAN_OUTLETS = frozenset({"cna", "rti"})

NAMES: tuple[tuple[str, str], ...] = (
    ("Trump", "特朗普 川普"),
    ("Putin", "普京 普丁 蒲亭"),
    ("Obama", "奥巴马 歐巴馬"),
    ("Sydney", "悉尼 雪梨"),
    ("New Zealand", "新西兰 紐西蘭"),
    ("North Korea", "朝鲜 北韓"),
    ("South Korea", "韩国 南韓"),
    ("Italy", "意大利 義大利"),
    ("Saudi Arabia", "沙特 沙烏地"),
    ("Qatar", "卡塔尔 卡達"),
    ("Boris Johnson", "约翰逊 強生"),
    ("Hillary", "希拉里 希拉蕊 希拉莉"),
    ("Clinton", "克林顿 柯林頓"),
    ("Zelensky", "泽连斯基 澤倫斯基"),
    ("Nigeria", "尼日利亚 奈及利亞"),
    ("Kenya", "肯尼亚 肯亞 肯雅"),
    ("Tanzania", "坦桑尼亚 坦尚尼亞"),
    ("Somalia", "索马里 索馬利亞"),
    ("Yemen", "也门 葉門"),
    ("Laos", "老挝 寮國"),
    ("Zimbabwe", "津巴布韦 辛巴威"),
    ("Guatemala", "危地马拉 瓜地馬拉"),
    ("Costa Rica", "哥斯达黎加 哥斯大黎加"),
    ("Honduras", "洪都拉斯 宏都拉斯"),
    ("Georgia (country)", "格鲁吉亚 喬治亞"),
    ("Azerbaijan", "阿塞拜疆 亞塞拜然"),
    ("Croatia", "克罗地亚 克羅埃西亞"),
    ("Rwanda", "卢旺达 盧安達"),
    ("Brunei", "文莱 汶萊"),
    ("Mauritius", "毛里求斯 模里西斯 毛里裘斯"),
    ("Maldives", "马尔代夫 馬爾地夫"),
    ("Gorbachev", "戈尔巴乔夫 戈巴契夫"),
    ("Stalin", "斯大林 史達林 史太林"),
    ("Thatcher", "撒切尔 柴契爾 戴卓爾"),
    ("Bin Laden", "本·拉登 賓拉登"),
    ("Steve Jobs", "乔布斯 賈伯斯"),
    ("Pelosi", "佩洛西 裴洛西"),
    ("Aung San Suu Kyi", "昂山素季 翁山蘇姬 昂山素姬"),
    ("Bolsonaro", "博索纳罗 波索納洛"),
    ("Silicon Valley", "硅谷 矽谷"),
    ("Dubai", "迪拜 杜拜"),
    ("San Francisco", "旧金山 三藩市"),
    ("Wales", "威尔士 威爾斯"),
    ("UAE", "阿联酋 阿聯"),
    ("Merkel", "默克尔 梅克爾"),
    ("Macron", "马克龙 馬克宏"),
    ("Netanyahu", "内塔尼亚胡 尼坦雅胡"),
    ("Erdogan", "埃尔多安 艾爾段"),
    ("Trudeau", "特鲁多 杜魯道"),
    ("Zuckerberg", "扎克伯格 祖克柏"),
    ("Maduro", "马杜罗 馬杜洛"),
    ("Kissinger", "基辛格 季辛吉"),
    ("Houston", "休斯敦 休士頓"),
    ("Gaza", "加沙 加薩"),
)
"""English name, then spellings: mainland first, Taiwan second, then others (Hong Kong, other outlets). Spellings
that fold alike are one (Hong Kong's 約翰遜 is 约翰逊, its 奧巴馬 is 奥巴马)."""


@dataclass(frozen=True, slots=True)
class Document:
    key: str
    outlet: str
    texts: tuple[str, ...]
    """The field texts as displayed."""
    text: str
    """The chars view of each field text, joined by NUL (a phrase never crosses two texts)."""


def load_corpus(root: Path) -> list[Document]:
    """Every article file of `root`, parsed; files the parser rejects are left out (and counted)."""
    documents: list[Document] = []
    rejected = 0
    for item in walk([root]):
        if not isinstance(item, Candidate):
            continue
        try:
            article = parse_file(item.path)
        except ParseError:
            rejected += 1
            continue
        texts = tuple(text for values in field_texts(article).values() for text in values)
        documents.append(Document(item.key, article.outlet, texts, "\0".join(compact(fold(text)) for text in texts)))
    Console(stderr=True).print(f"{len(documents)} articles parsed, {rejected} rejected")
    return documents


def matching(documents: Sequence[Document], forms: Iterable[str]) -> set[str]:
    """Keys of the documents whose chars view holds any of the folded `forms`."""
    forms = [compact(form) for form in forms]
    return {doc.key for doc in documents if any(form in doc.text for form in forms)}


def contexts(documents: Sequence[Document], form: str, without: Iterable[str], limit: int = 6) -> list[str]:
    """Up to `limit` snippets of `form` from documents that hold none of `without` (what expansion adds)."""
    without = list(without)
    snippets: list[str] = []
    for doc in documents:
        if form in doc.text and not any(other in doc.text for other in without):
            at = doc.text.index(form)
            snippets.append(f"{doc.outlet}: {doc.text[max(0, at - 20) : at + len(form) + 20].replace(chr(0), ' | ')}")
            if len(snippets) >= limit:
                break
    return snippets


TABLES = ("table", "project", "corpus")
"""The ~ searches compared: the tables alone; with the project's variants file (the default); with that and
the words :func:`table_words` finds in the corpus added to the vocabulary."""


def measure(documents: Sequence[Document], tables: dict[str, VariantTable]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for english, spellings in NAMES:
        names = spellings.split()
        counts = {}
        for name in names:
            keys = matching(documents, [fold(name)])
            taiwan = sum(1 for doc in documents if doc.key in keys and doc.outlet in TAIWAN_OUTLETS)
            counts[name] = {"articles": len(keys), "taiwan_outlets": taiwan}
        every = matching(documents, [fold(name) for name in names])
        row: dict[str, object] = {"name": english, "spellings": counts, "any_spelling": len(every)}
        for side, name in (("mainland", names[0]), ("taiwan", names[1])):
            row[f"plain:{side}:articles"] = len(matching(documents, [fold(name)]))
            for label, table in tables.items():
                expanded = table.spellings(name)
                row[f"{label}:{side}:spellings"] = expanded
                row[f"{label}:{side}:articles"] = len(matching(documents, expanded))
        rows.append(row)
    return rows


def additions(documents: Sequence[Document], table: VariantTable, limit: int) -> list[tuple[str, str, int]]:
    """For every form with a variant that occurs in the corpus: (form, variant, articles ~form adds through
    that variant), the largest `limit` first. Reading these is how false friends were found."""
    forms = sorted(table.forms())
    present = {form for form in forms if any(form in doc.text for doc in documents)}
    holding: dict[str, set[str]] = {form: set() for form in present}
    for doc in documents:
        for form in present:
            if form in doc.text:
                holding[form].add(doc.key)
    found: list[tuple[str, str, int]] = []
    for form in present:
        for other in table.spellings(form)[1:]:
            added = len(holding.get(other, set()) - holding[form])
            if added:
                found.append((form, other, added))
    return sorted(found, key=lambda item: -item[2])[:limit]


def print_table(rows: Sequence[dict[str, object]], markdown: bool) -> None:
    columns = ["name", "spellings: articles (in cna, rti)", "any"]
    for side in ("mainland", "Taiwan"):
        columns += [f"{side}: plain", "~ table", "~ +project", "~ +corpus"]
    lines: list[list[str]] = []
    for row in rows:
        counts = row["spellings"]
        assert isinstance(counts, dict)
        cells = [
            str(row["name"]),
            " ".join(f"{name} {c['articles']} ({c['taiwan_outlets']})" for name, c in counts.items()),
            str(row["any_spelling"]),
        ]
        for side in ("mainland", "taiwan"):
            cells.append(str(row[f"plain:{side}:articles"]))
            cells.extend(str(row[f"{label}:{side}:articles"]) for label in TABLES)
        lines.append(cells)
    totals = ["articles ~ adds to plain, all names", "", ""]
    for side in ("mainland", "taiwan"):
        totals.append("")
        totals.extend(
            str(sum(int(row[f"{label}:{side}:articles"]) - int(row[f"plain:{side}:articles"]) for row in rows))  # type: ignore[call-overload]
            for label in TABLES
        )
    lines.append(totals)
    if markdown:
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for cells in lines:
            print("| " + " | ".join(cells) + " |")
        return
    table = Table(title="Articles found for each name: plain search and ~ searches")
    for column in columns:
        table.add_column(column)
    for cells in lines:
        table.add_row(*cells)
    Console(width=250).print(table)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--json", type=Path, help="write the numbers here")
    parser.add_argument("--contexts", type=Path, help="write snippets of what each expansion adds here")
    parser.add_argument("--additions", type=int, default=0, help="print the N largest additions of any table form")
    args = parser.parse_args(argv)
    console = Console(stderr=True)
    started = time.perf_counter()
    documents = load_corpus(args.corpus)
    console.print(f"parsed in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    words = table_words(text for doc in documents for text in doc.texts)
    console.print(f"table_words: {len(words)} words in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as cache:
        tables = {
            "table": load_table(cache, project_file=False),
            "project": load_table(cache),
            "corpus": load_table(cache, extra_words=words),
        }
    rows = measure(documents, tables)
    print_table(rows, args.markdown)
    for label, table in tables.items():
        console.print(f"{label}: {table.version}, {len(table.forms())} forms with variants")
    if args.additions:
        print("\n| ~form | adds | articles |\n|---|---|---|")
        for form, other, added in additions(documents, tables["table"], args.additions):
            print(f"| {form} | {other} | {added} |")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.contexts:
        lines: list[str] = []
        for row in rows:
            for side in ("mainland", "taiwan"):
                expanded = row[f"corpus:{side}:spellings"]
                assert isinstance(expanded, list)
                for form in expanded[1:]:
                    lines.append(f"## {row['name']}: ~{expanded[0]} adds {form}")
                    lines.extend(contexts(documents, form, [expanded[0]]))
        args.contexts.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
