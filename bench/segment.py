"""Measure normalization and segmentation on a corpus sample; prints tables (numbers go to docs/segmentation.md).

    .venv/bin/python -m bench.segment speed       # chars/s of fold, offsets, char tokens, tokens(); start-up
    .venv/bin/python -m bench.segment agreement   # native engine against the reference: tokens, paragraphs, classes
    .venv/bin/python -m bench.segment gold        # word F1 on the SIGHAN 2005 PKU and MSR gold sets, both engines
    .venv/bin/python -m bench.segment script      # what jieba should read: folded text or OpenCC t2s
    .venv/bin/python -m bench.segment hmm         # HMM on/off: speed and the person names it adds
    .venv/bin/python -m bench.segment precision   # extra matches that merging script classes costs

One process, one core. The sample is every n-th corpus file (``--articles``), text from a rough tag strip;
``agreement`` reads the paragraphs the parser gives (``--articles 0``: the whole corpus).
"""

from __future__ import annotations

import argparse
import difflib
import json
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

import jieba
import jieba.posseg
import opencc
from rich.console import Console
from rich.table import Table

from indexer.normalize import char_tokens, fold, fold_with_offsets, script_of
from indexer.segment import PERSON_FLAGS, Segmenter
from tests.agreement import corpus_paragraphs, measure_agreement
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
        cold = _seconds(lambda: Segmenter(cache_dir=cache))
        warm = _seconds(lambda: Segmenter(cache_dir=cache))
        segmenter = Segmenter(cache_dir=cache)
        query = _seconds(lambda: segmenter.words("朝鲜领导人金正恩会见俄罗斯外长拉夫罗夫"))
        full = _seconds(segmenter.load)
        reference_warm = _seconds(lambda: Segmenter(native=False, cache_dir=cache))
        reference = Segmenter(native=False, cache_dir=cache)
        reference.load()
        hmm = Segmenter(hmm=True, native=False, cache_dir=cache)
    process = _process_seconds("from indexer.segment import Segmenter; Segmenter().words('金正恩会见拉夫罗夫')")
    bare = _process_seconds("import indexer.normalize")
    plain = jieba.Tokenizer()
    plain.initialize()
    pos = jieba.posseg.POSTokenizer(plain)
    folded = [fold(text) for text in texts]
    rows = [
        ("fold", rate(fold, texts, 3)),
        ("fold_with_offsets", rate(fold_with_offsets, texts, 3)),
        ("char_tokens", rate(char_tokens, texts, 3)),
        ("script_of", rate(script_of, texts, 3)),
        ("Segmenter.tokens, native (used)", rate(segmenter.tokens, texts, 3)),
        ("Segmenter.words, native (query side)", rate(segmenter.words, texts, 3)),
        ("tokens + entities + keywords, native", rate(lambda t: _analyse(segmenter, t), texts, 3)),
        ("Segmenter.tokens, reference engine", rate(reference.tokens, texts)),
        ("tokens + entities + keywords, reference", rate(lambda t: _analyse(reference, t), texts)),
        ("Segmenter.tokens, reference with HMM", rate(hmm.tokens, texts)),
        ("jieba.lcut HMM=False (plain jieba)", rate(lambda t: plain.lcut(t, HMM=False), folded)),
        ("jieba.posseg HMM=False (plain jieba)", rate(lambda t: pos.lcut(t, HMM=False), folded)),
    ]
    chars = sum(map(len, texts))
    show(f"speed, one core, {len(texts)} articles, {chars:,} chars", ["function", "chars/s"], rows)
    show(
        "segmenter start-up",
        ["case", "ms"],
        [
            ("cold: builds the dictionary file (first use of a dictionary set)", cold * 1000),
            ("warm: Segmenter() opens the dictionary file", warm * 1000),
            ("first words() of a query (looks its words up)", query * 1000),
            ("load(): the whole dictionary and IDF table (bulk indexing)", full * 1000),
            ("reference engine, warm (jieba's prefix dictionary)", reference_warm * 1000),
            ("new process: import + Segmenter() + words() of a query", process * 1000),
            ("new process: import indexer.normalize only", bare * 1000),
        ],
    )


def _seconds(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def _process_seconds(code: str, repeat: int = 5) -> float:
    """Median wall time of a fresh interpreter running `code` (warm file cache)."""
    times = [_seconds(lambda: subprocess.run([sys.executable, "-c", code], check=True)) for _ in range(repeat)]
    return statistics.median(times)


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
    segmenter.load()
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
        segmenter = Segmenter(hmm=hmm, native=False)
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


def bench_agreement(texts: list[str]) -> None:
    native, reference = Segmenter(), Segmenter(native=False)
    result = measure_agreement(texts, native, reference)
    show(
        f"native engine against the reference, {result.paragraphs:,} paragraphs",
        ["measure", "identical", "of", "share"],
        [
            (
                "paragraphs: tokens and flags",
                result.same_paragraphs,
                result.paragraphs,
                _share(result.same_paragraphs, result.paragraphs),
            ),
            (
                "paragraphs: words",
                result.same_word_paragraphs,
                result.paragraphs,
                _share(result.same_word_paragraphs, result.paragraphs),
            ),
            ("tokens: word and flag", result.same_tokens, result.tokens, _share(result.same_tokens, result.tokens)),
            ("tokens: word", result.same_words, result.tokens, _share(result.same_words, result.tokens)),
        ],
    )
    show(
        "difference classes (aligned by word)",
        ["class", "count", "examples (reference / native)"],
        [(name, count, " | ".join(result.examples[name])) for name, count in result.classes.most_common()],
    )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.5%}" if whole else "-"


GOLD = Path("/work/shared/seg-gold")


def gold_f1(
    words: Callable[[str], list[str]], corpus: str, normalize: Callable[[str], str] = fold
) -> tuple[float, float, float]:
    """Precision, recall and F1 of `words` on a SIGHAN 2005 test set, as the bakeoff scores: word spans.

    Both sides are normalized, by default folded (full-width digits and letters become ASCII, as the
    segmenter reads them); characters the segmenter drops (punctuation) count as one-character words, as
    jieba emits them."""
    raw = (GOLD / f"{corpus}_test.utf8").read_text(encoding="utf-8").splitlines()
    gold = (GOLD / f"{corpus}_test_gold.utf8").read_text(encoding="utf-8").splitlines()
    correct = predicted = expected = 0
    for line, gold_line in zip(raw, gold, strict=True):
        text = normalize("".join(line.split()))
        mine = _spans(text, words(text))
        theirs = _spans(text, [normalize(word) for word in gold_line.split()])
        correct += len(mine & theirs)
        predicted += len(mine)
        expected += len(theirs)
    precision, recall = correct / predicted, correct / expected
    return precision, recall, 2 * precision * recall / (precision + recall)


def _spans(text: str, words: Sequence[str]) -> set[tuple[int, int]]:
    """(start, end) of `words` in `text`, in order; characters no word covers are words of their own."""
    spans: set[tuple[int, int]] = set()
    position = 0
    for word in words:
        start = text.find(word, position)
        if start < 0:
            continue
        spans.update((index, index + 1) for index in range(position, start))
        spans.add((start, start + len(word)))
        position = start + len(word)
    spans.update((index, index + 1) for index in range(position, len(text)))
    return spans


def bench_gold() -> None:
    native, reference = Segmenter(), Segmenter(native=False)
    plain = jieba.Tokenizer()
    plain.initialize()
    engines = {
        "Segmenter, native engine (used)": native.words,
        "Segmenter, reference engine": reference.words,
        "plain jieba 0.42.1, HMM off (its own dictionary)": lambda text: plain.lcut(text, HMM=False),
    }
    rows = []
    for name, words in engines.items():
        scores = [gold_f1(words, corpus) for corpus in ("pku", "msr")]
        rows.append((name, *(f"{value:.4f}" for score in scores for value in score)))
    raw = [gold_f1(lambda text: plain.lcut(text, HMM=False), corpus, str) for corpus in ("pku", "msr")]
    rows.append(("plain jieba, HMM off, raw text (the gold README's setting)", *(f"{v:.4f}" for s in raw for v in s)))
    show(
        "SIGHAN 2005 word segmentation, test sets",
        ["segmenter", "PKU P", "PKU R", "PKU F1", "MSR P", "MSR R", "MSR F1"],
        rows,
    )
    same = []
    for corpus in ("pku", "msr"):
        lines = [fold("".join(line.split())) for line in (GOLD / f"{corpus}_test.utf8").read_text("utf-8").splitlines()]
        agreeing = sum(native.words(line) == reference.words(line) for line in lines)
        same.append((corpus.upper(), agreeing, len(lines), _share(agreeing, len(lines))))
    show("test lines the two engines segment alike", ["set", "identical", "of", "share"], same)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["speed", "agreement", "gold", "script", "hmm", "precision"])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--words", type=int, default=300)
    args = parser.parse_args()
    if args.what == "speed":
        bench_speed(sample(args.articles))
    elif args.what == "agreement":
        files = len(list(CORPUS.glob("*/*/*.md")))
        bench_agreement(corpus_paragraphs(CORPUS, max(1, files // args.articles) if args.articles else 1))
    elif args.what == "gold":
        bench_gold()
    elif args.what == "script":
        simplified = sample(args.articles, ["dw", "bbc", "voa", "rfi", "zaobao"])
        bench_script(sample(args.articles, ["cna", "rti"]), simplified)
    elif args.what == "hmm":
        bench_hmm(sample(args.articles))
    else:
        bench_precision(list(corpus_texts(CORPUS)), args.words)


if __name__ == "__main__":
    main()
