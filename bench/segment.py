"""Measure normalization and segmentation on a corpus sample; prints tables (numbers go to docs/segmentation.md).

    .venv/bin/python -m bench.segment speed       # chars/s of fold, offsets, char tokens, tokens(); start-up
    .venv/bin/python -m bench.segment script      # what jieba should read: folded text or OpenCC t2s
    .venv/bin/python -m bench.segment hmm         # HMM on/off: speed and the person names it adds
    .venv/bin/python -m bench.segment precision   # extra matches that merging script classes costs

One process, one core. The sample is every n-th corpus file (``--articles``), text from a rough tag strip.
"""

from __future__ import annotations

import argparse
import difflib
import json
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from importlib import resources

import jieba
import jieba.posseg
import opencc
from rich.console import Console
from rich.table import Table

from indexer.normalize import char_tokens, fold, fold_with_offsets, script_of
from indexer.segment import PERSON_FLAGS, Segmenter
from tools.build_news_dict import CORPUS, corpus_texts

console = Console(width=150)


def sample(articles: int, outlets: Sequence[str] = ()) -> list[str]:
    texts = list(corpus_texts(CORPUS, outlets))
    step = max(1, len(texts) // articles)
    return texts[::step][:articles]


def rate(function: Callable[[str], object], texts: Sequence[str], repeat: int = 1) -> float:
    """Characters per second of `function` over `texts` (best of `repeat` runs)."""
    chars = sum(map(len, texts))
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for text in texts:
            function(text)
        best = min(best, time.perf_counter() - started)
    return chars / best


def show(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column != columns[0] else "left")
    for row in rows:
        table.add_row(*(f"{cell:,.0f}" if isinstance(cell, float) else str(cell) for cell in row))
    console.print(table)


def bench_speed(texts: list[str]) -> None:
    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        Segmenter(cache_dir=cache)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        segmenter = Segmenter(cache_dir=cache)
        warm = time.perf_counter() - started
    plain = jieba.Tokenizer()
    plain.initialize()
    pos = jieba.posseg.POSTokenizer(plain)
    folded = [fold(text) for text in texts]
    rows = [
        ("fold", rate(fold, texts, 3)),
        ("fold_with_offsets", rate(fold_with_offsets, texts, 3)),
        ("char_tokens", rate(char_tokens, texts, 3)),
        ("script_of", rate(script_of, texts, 3)),
        ("Segmenter.tokens (HMM off, used)", rate(segmenter.tokens, texts)),
        ("Segmenter.tokens (HMM on)", rate(Segmenter(hmm=True).tokens, texts)),
        ("tokens + entities + keywords", rate(lambda t: _analyse(segmenter, t), texts)),
        ("jieba.lcut HMM=False (reference)", rate(lambda t: plain.lcut(t, HMM=False), folded)),
        ("jieba.posseg HMM=False (reference)", rate(lambda t: pos.lcut(t, HMM=False), folded)),
        ("jieba.posseg HMM=True (reference)", rate(lambda t: pos.lcut(t, HMM=True), folded)),
    ]
    chars = sum(map(len, texts))
    show(f"speed, one core, {len(texts)} articles, {chars:,} chars", ["function", "chars/s"], rows)
    show("segmenter start-up", ["case", "seconds"], [("cold (builds cache)", f"{cold:.2f}"), ("warm", f"{warm:.2f}")])


def _analyse(segmenter: Segmenter, text: str) -> None:
    tokens = segmenter.tokens(text)
    segmenter.entities(tokens)
    segmenter.keywords(tokens)


def _agreement(a: Sequence[str], b: Sequence[str]) -> tuple[int, int]:
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()), max(len(a), len(b))


def bench_script(traditional: list[str], simplified: list[str]) -> None:
    """Compare what jieba reads: (A) folded text with the folded dictionary, as Segmenter does; (B) OpenCC's
    phrase-level t2s with jieba's own dictionary, words folded afterwards; (N) folded text with jieba's own
    dictionary."""
    segmenter = Segmenter()
    plain = jieba.posseg.POSTokenizer(jieba.Tokenizer())
    plain.tokenizer.initialize()
    t2s = opencc.OpenCC("t2s")
    s2t = opencc.OpenCC("s2t")

    def nfkc_lower(text: str) -> str:
        return unicodedata.normalize("NFKC", text).lower()

    def words_b(text: str) -> list[str]:
        return [fold(p.word) for p in plain.lcut(nfkc_lower(t2s.convert(text)), HMM=False) if p.word.isalnum()]

    def words_n(text: str) -> list[str]:
        return [p.word for p in plain.lcut(fold(text), HMM=False) if p.word.isalnum()]

    variants = {"A folded+folded dict": segmenter.words, "B t2s+jieba dict": words_b, "N folded+jieba dict": words_n}
    converted = [s2t.convert(text) for text in simplified]
    rows = []
    for name, words in variants.items():
        started = time.perf_counter()
        tokens = [words(text) for text in traditional]
        speed = sum(map(len, traditional)) / (time.perf_counter() - started)
        flat = [word for text in tokens for word in text]
        singles = sum(1 for word in flat if len(word) == 1 and "\u4e00" <= word <= "\u9fff")
        matched = total = 0
        for original, other in zip(simplified, converted, strict=True):
            same, size = _agreement(words(original), words(other))
            matched, total = matched + same, total + size
        single_simplified = sum(1 for text in simplified for word in words(text) if len(word) == 1)
        rows.append((name, speed, f"{singles / len(flat):.2%}", single_simplified, f"{matched / total:.3%}", len(flat)))
    show(
        f"script handling: {len(traditional)} cna/rti articles, {len(simplified)} Simplified articles",
        ["variant", "cna/rti chars/s", "cna/rti 1-char Han tokens", "Simpl. 1-char tokens", "S vs s2t(S)", "tokens"],
        rows,
    )


def bench_hmm(texts: list[str]) -> None:
    """HMM on/off: speed, person names per article, and the person names only the HMM finds."""
    rows = []
    persons: dict[bool, Counter[str]] = {}
    for hmm in (False, True):
        segmenter = Segmenter(hmm=hmm)
        started = time.perf_counter()
        tokens = [segmenter.tokens(text) for text in texts]
        speed = sum(map(len, texts)) / (time.perf_counter() - started)
        persons[hmm] = Counter(t.word for ts in tokens for t in ts if t.flag in PERSON_FLAGS and len(t.word) > 1)
        known = sum(1 for word in persons[hmm] if segmenter.known(word))
        rows.append((f"HMM {'on' if hmm else 'off'}", speed, sum(persons[hmm].values()), len(persons[hmm]), known))
    show(
        f"HMM, {len(texts)} articles",
        ["setting", "chars/s", "person tokens", "distinct persons", "distinct in dictionary"],
        rows,
    )
    only = persons[True] - persons[False]
    console.print("persons only with HMM (most frequent 60):", " ".join(w for w, _ in only.most_common(60)))


def bench_precision(texts: list[str], words: int) -> None:
    """Extra matches of words with characters from merged classes (two Simplified members, e.g. 划/画, 着/著):
    occurrences of fold(word) in fold(corpus) against OpenCC t2s(word) in t2s(corpus), and against no
    script folding at all."""
    table = json.loads(resources.files("indexer").joinpath("data/fold_table.json").read_bytes())
    traditional_only = set(table["traditional_only"])
    members: dict[str, set[str]] = defaultdict(set)
    for char, folded in table["fold"].items():
        if len(folded) == 1 and "\u4e00" <= folded <= "\u9fff" and "\u4e00" <= char <= "\u9fff":
            members[folded].update((char, folded))
    merged = {c for chars in members.values() if len(chars - traditional_only) > 1 for c in chars - traditional_only}
    t2s = opencc.OpenCC("t2s")

    def nfkc_lower(text: str) -> str:
        return unicodedata.normalize("NFKC", text).lower()

    plain = jieba.Tokenizer()
    counts = Counter(w for text in texts for w in plain.lcut(nfkc_lower(text), HMM=False) if len(w) > 1)
    chosen = [w for w, _ in counts.most_common() if set(w) & merged and t2s.convert(w) == w][:words]

    folded_corpus = "\n".join(fold(text) for text in texts)
    t2s_corpus = "\n".join(nfkc_lower(t2s.convert(text)) for text in texts)
    raw_corpus = "\n".join(nfkc_lower(text) for text in texts)
    rows = []
    totals = Counter()
    for word in chosen:
        exact = raw_corpus.count(word)
        phrase = t2s_corpus.count(nfkc_lower(t2s.convert(word)))
        classes = folded_corpus.count(fold(word))
        totals.update(exact=exact, phrase=phrase, classes=classes)
        rows.append((word, exact, phrase, classes, classes - phrase))
    rows.sort(key=lambda row: -row[4])
    show(
        f"class merging cost: {len(chosen)} frequent words with merged-class characters, {len(texts)} articles",
        ["word", "as written", "t2s both sides", "class fold", "extra"],
        [
            *rows[:25],
            ("TOTAL", totals["exact"], totals["phrase"], totals["classes"], totals["classes"] - totals["phrase"]),
        ],
    )
    console.print(f"merged-class characters: {''.join(sorted(merged))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["speed", "script", "hmm", "precision"])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--words", type=int, default=300)
    args = parser.parse_args()
    if args.what == "speed":
        bench_speed(sample(args.articles))
    elif args.what == "script":
        simplified = sample(args.articles, ["dw", "bbc", "voa", "rfi", "zaobao"])
        bench_script(sample(args.articles, ["cna", "rti"]), simplified)
    elif args.what == "hmm":
        bench_hmm(sample(args.articles))
    else:
        bench_precision(list(corpus_texts(CORPUS)), args.words)


if __name__ == "__main__":
    main()
