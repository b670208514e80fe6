"""Build ``indexer/data/fold_table.json``, the per-character fold table behind ``indexer.normalize``.

Every code point is folded on its own, context-free: NFKC, lower-casing, Traditional/Simplified class
representative, middle-dot variants to ``·``; format and non-whitespace control characters and variation
selectors are deleted. Script classes are the connected components of OpenCC's character tables
(TSCharacters, STCharacters and the Taiwan/Hong Kong variant tables), so every spelling of a character in
either script folds to one representative: a Simplified member, the one used most in Simplified text (by
jieba's dictionary frequencies), so folding leaves ordinary Simplified text as unchanged as it can.

Run: ``.venv/bin/python tools/build_fold_table.py`` (writes the table and prints the multi-member classes).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import jieba
import opencc

OUT = Path(__file__).resolve().parent.parent / "indexer" / "data" / "fold_table.json"
OPENCC_DIR = Path(opencc.__file__).parent / "clib"
JIEBA_DICT = Path(jieba.__file__).parent / "dict.txt"
CHARACTER_TABLES = (
    "TSCharacters",
    "STCharacters",
    "TWVariants",
    "TWVariantsRev",
    "HKVariants",
    "HKVariantsRev",
)
MIDDLE_DOTS = "\u00b7\u0387\u2022\u2027\u2219\u22c5\u2e31\u30fb\uff65"
VARIATION_SELECTORS = (range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0), range(0x180B, 0x1810))
SURROGATES = range(0xD800, 0xE000)

CharTable = dict[str, list[str]]


def read_opencc_table(name: str, workdir: Path) -> CharTable:
    """Dump one of OpenCC's binary ``.ocd2`` dictionaries to text with its ``opencc_dict`` tool and parse it."""
    text_file = workdir / f"{name}.txt"
    subprocess.run(
        [
            str(OPENCC_DIR / "bin" / "opencc_dict"),
            "-i",
            str(OPENCC_DIR / "share" / "opencc" / f"{name}.ocd2"),
            "-o",
            str(text_file),
            "-f",
            "ocd2",
            "-t",
            "text",
        ],
        check=True,
        capture_output=True,
    )
    table: CharTable = {}
    for line in text_file.read_text(encoding="utf-8").splitlines():
        key, values = line.split("\t")
        targets = values.split(" ")
        if len(key) != 1 or any(len(target) != 1 for target in targets):
            raise ValueError(f"{name}: not a character entry: {line!r}")
        table[key] = targets
    return table


def script_classes(tables: dict[str, CharTable]) -> list[set[str]]:
    """Connected components of the graph whose edges are all (character, conversion candidate) pairs."""
    parent: dict[str, str] = {}

    def root(char: str) -> str:
        while parent.get(char, char) != char:
            parent[char] = parent.get(parent[char], parent[char])
            char = parent[char]
        return char

    for table in tables.values():
        for key, targets in table.items():
            for target in targets:
                a, b = root(key), root(target)
                if a != b:
                    parent[a] = b
    members: dict[str, set[str]] = defaultdict(set)
    for table in tables.values():
        for key, targets in table.items():
            for char in (key, *targets):
                members[root(char)].add(char)
    return [chars for chars in members.values() if len(chars) > 1]


def char_frequencies() -> Counter[str]:
    """How often each character is used in Simplified text: summed frequencies of jieba's words holding it."""
    counts: Counter[str] = Counter()
    for line in JIEBA_DICT.read_text(encoding="utf-8").splitlines():
        word, freq, _ = line.split(" ")
        for char in word:
            counts[char] += int(freq)
    return counts


def representative(chars: set[str], ts: CharTable, st: CharTable, usage: Counter[str]) -> str:
    """The Simplified member of a class: in the BMP, with Traditional forms (an STCharacters key) and not
    itself converted (no TSCharacters key); among several, the one used most, then the lowest code point."""
    return min(chars, key=lambda c: (ord(c) > 0xFFFF, c not in st, c in ts, -usage[c], ord(c)))


def script_map(tables: dict[str, CharTable], usage: Counter[str]) -> dict[str, str]:
    """Map every member of every multi-member script class to its representative."""
    ts, st = tables["TSCharacters"], tables["STCharacters"]
    mapping: dict[str, str] = {}
    for chars in script_classes(tables):
        rep = representative(chars, ts, st, usage)
        mapping.update({char: rep for char in chars if char != rep})
    return mapping


def is_deleted(char: str) -> bool:
    """Format characters, variation selectors and control characters other than whitespace."""
    code = ord(char)
    category = unicodedata.category(char)
    return (
        category == "Cf"
        or (category == "Cc" and not char.isspace())
        or any(code in selectors for selectors in VARIATION_SELECTORS)
    )


def fold_char(char: str, scripts: dict[str, str]) -> str:
    """One folding step for one character; repeated by ``fold_table`` until it reaches a fixed point."""
    if is_deleted(char):
        return ""
    if char in MIDDLE_DOTS:
        return "·"
    out = []
    for c in unicodedata.normalize("NFKC", char).lower():
        c = scripts.get(c, c)
        out.append("·" if c in MIDDLE_DOTS else c)
    return "".join(out)


def fold_string(text: str, scripts: dict[str, str]) -> str:
    return "".join(fold_char(c, scripts) for c in text)


def fold_table(scripts: dict[str, str]) -> dict[str, str]:
    """Every code point whose fold differs from itself, with its (idempotent) fold."""
    table: dict[str, str] = {}
    for code in range(sys.maxunicode + 1):
        if code in SURROGATES:
            continue
        char = chr(code)
        folded = fold_string(char, scripts)
        for _ in range(8):
            again = fold_string(folded, scripts)
            if again == folded:
                break
            folded = again
        else:
            raise ValueError(f"fold of U+{code:04X} does not settle")
        if folded != char:
            table[char] = folded
    return table


def script_sets(tables: dict[str, CharTable]) -> tuple[str, str]:
    """Characters written only in Traditional and only in Simplified text (by TSCharacters/STCharacters)."""
    ts, st = tables["TSCharacters"], tables["STCharacters"]
    traditional = set(ts) | {c for targets in st.values() for c in targets}
    simplified = set(st) | {c for targets in ts.values() for c in targets}
    return "".join(sorted(traditional - simplified)), "".join(sorted(simplified - traditional))


def describe(classes: Iterable[set[str]], scripts: dict[str, str]) -> str:
    """One line per class: its representative, then the members that fold to it."""
    lines = []
    for chars in sorted(classes, key=lambda c: (-len(c), min(c))):
        rep = next(c for c in chars if c not in scripts)
        lines.append(f"{rep} ← {''.join(sorted(chars - {rep}))}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--show-classes", type=int, default=3, help="print classes with at least N members")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        tables = {name: read_opencc_table(name, Path(workdir)) for name in CHARACTER_TABLES}
    scripts = script_map(tables, char_frequencies())
    classes = script_classes(tables)
    table = fold_table(scripts)
    traditional_only, simplified_only = script_sets(tables)
    document = {
        "unicode": unicodedata.unidata_version,
        "opencc": opencc.__version__,
        "jieba": jieba.__version__,
        "traditional_only": traditional_only,
        "simplified_only": simplified_only,
        "fold": table,
    }
    args.out.write_text(json.dumps(document, ensure_ascii=False, indent=0, sort_keys=True) + "\n", "utf-8")
    big = [chars for chars in classes if len(chars) >= args.show_classes]
    print(describe(big, scripts))
    print(
        f"{len(table)} folded code points, {len(classes)} script classes "
        f"({sum(len(c) for c in classes)} characters), {len(traditional_only)} Traditional-only and "
        f"{len(simplified_only)} Simplified-only characters -> {args.out}"
    )


if __name__ == "__main__":
    main()
