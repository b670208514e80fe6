"""Measure the story clustering: precision and recall on labelled pairs, corpus statistics, edits, speed.

Usage: ``.venv/bin/python bench/stories.py [CORPUS_DIR] [--pairs bench/data/story_pairs.tsv]``

A labelled pair counts as found when clustering the whole corpus gives both articles one story. Times are the
process's CPU time (the machine is shared). The library comparison needs datasketch (``pip install -e
'.[bench]'``) and is skipped without it.
"""

from __future__ import annotations

import argparse
import random
import struct
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path
from typing import TypeVar

import opencc
from rensa import RMinHash

from indexer.article import Article
from indexer.document import document_id
from indexer.parser import ParseError, parse_file
from indexer.stories import (
    NUM_PERM,
    SEED,
    THRESHOLD,
    WINDOW,
    Entry,
    Measure,
    Signature,
    assign,
    containment,
    is_copy,
    jaccard,
    shingles,
    signature,
    story_text,
)

PAIRS = Path(__file__).parent / "data" / "story_pairs.tsv"
NO_WINDOW = timedelta(days=100_000)
RULES: tuple[tuple[str, Measure, float, timedelta], ...] = (
    ("containment", containment, 0.5, WINDOW),
    ("containment", containment, THRESHOLD, WINDOW),
    ("containment", containment, 0.7, WINDOW),
    ("containment", containment, THRESHOLD, NO_WINDOW),
    ("jaccard", jaccard, 0.2, WINDOW),
    ("jaccard", jaccard, 0.3, WINDOW),
    ("jaccard", jaccard, 0.4, WINDOW),
)
CREDITS = ("（路透社）", "（中央社）", "（法新社）")
_PUNCTUATION = [chr(code) for code in range(0x21, 0x7F) if not chr(code).isalnum()]
_WIDTH_SWAP = str.maketrans(
    {
        **{char: chr(ord(char) + 0xFEE0) for char in _PUNCTUATION},
        **{chr(ord(char) + 0xFEE0): char for char in _PUNCTUATION},
    }
)
"""Half-width punctuation to full-width and back (，→, and ,→，)."""
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Pair:
    a: str
    b: str
    copy: bool
    stratum: str


def load(corpus: Path) -> list[Article]:
    articles = []
    for path in sorted(corpus.rglob("*.md")):
        if path.name != "README.md":
            try:
                articles.append(parse_file(path))
            except ParseError as err:
                print(f"skipped {err}")
    return articles


def read_pairs(path: Path) -> list[Pair]:
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [Pair(a, b, label == "copy", stratum) for a, b, label, stratum, _ in (line.split("\t") for line in lines)]


def cpu(function: Callable[[], T]) -> tuple[T, float]:
    start = time.process_time()
    result = function()
    return result, time.process_time() - start


def score(stories: dict[str, str], pairs: Sequence[Pair]) -> tuple[int, int, int]:
    """True positives, false positives, false negatives of "same story" against the labels."""
    same = [(stories[pair.a] == stories[pair.b], pair.copy) for pair in pairs]
    return (
        sum(found and copy for found, copy in same),
        sum(found and not copy for found, copy in same),
        sum(copy and not found for found, copy in same),
    )


def print_scores(entries: list[Entry], pairs: Sequence[Pair]) -> None:
    print(f"\nLabelled pairs: {len(pairs)} ({sum(p.copy for p in pairs)} copies), clustering the whole corpus")
    print(
        f"{'measure':<12}{'threshold':>10}{'window':>8}{'precision':>11}{'recall':>8}{'F1':>7}"
        f"{'TP':>5}{'FP':>5}{'FN':>5}{'stories':>9}"
    )
    for name, measure, threshold, window in RULES:
        stories = assign(entries, threshold=threshold, window=window, measure=measure)
        tp, fp, fn = score(stories, pairs)
        precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
        f1 = 2 * precision * recall / max(1e-9, precision + recall)
        chosen = " *" if (measure, threshold, window) == (containment, THRESHOLD, WINDOW) else ""
        days = "none" if window == NO_WINDOW else f"{window.days}d"
        print(
            f"{name:<12}{threshold:>10.2f}{days:>8}{precision:>11.3f}{recall:>8.3f}{f1:>7.3f}"
            f"{tp:>5}{fp:>5}{fn:>5}{len(set(stories.values())):>9,}{chosen}"
        )
    kinds = Counter((pair.stratum.split("-")[1].rstrip("2"), pair.copy) for pair in pairs)
    print(
        "pairs by kind (copies/distinct): "
        + ", ".join(f"{kind} {kinds[(kind, True)]}/{kinds[(kind, False)]}" for kind in ("same", "cross", "trad"))
    )


def print_clusters(articles: list[Article], entries: list[Entry], stories: dict[str, str]) -> None:
    outlet = {document_id(article): article.outlet for article in articles}
    title = {document_id(article): article.title for article in articles}
    members: dict[str, list[str]] = defaultdict(list)
    for doc_id, story in stories.items():
        members[story].append(doc_id)
    shared = {story: ids for story, ids in members.items() if len(ids) > 1}
    cross = [ids for ids in shared.values() if len({outlet[i] for i in ids}) > 1]
    print(f"\nCorpus at containment >= {THRESHOLD}, window {WINDOW.days} days")
    print(f"{'articles':<36}{len(entries):>8,}")
    print(f"{'  without a signature (too short)':<36}{sum(e.signature is None for e in entries):>8,}")
    print(f"{'stories':<36}{len(members):>8,}")
    print(f"{'stories of 2+ articles':<36}{len(shared):>8,}")
    print(f"{'  articles in them':<36}{sum(map(len, shared.values())):>8,}")
    print(f"{'  across outlets':<36}{len(cross):>8,}")
    print(f"{'  within one outlet':<36}{len(shared) - len(cross):>8,}")
    pairs = Counter(tuple(sorted({outlet[i] for i in ids})) for ids in cross)
    print("most common outlet sets: " + ", ".join(f"{'+'.join(k)} {v}" for k, v in pairs.most_common(6)))
    print("largest stories:")
    for story, ids in sorted(shared.items(), key=lambda item: (-len(item[1]), item[0]))[:5]:
        print(f"  {len(ids):>3}  {','.join(sorted({outlet[i] for i in ids})):<24} {title[story][:40]}")


def edits(article: Article, other: Article, index: int) -> dict[str, tuple[str, ...]]:
    """Edited body paragraphs, as outlets edit copies (the title is not part of a signature)."""
    body = article.paragraphs
    script = opencc.OpenCC("t2s" if article.outlet in {"cna", "rti"} else "s2twp")
    credit = (CREDITS[index % len(CREDITS)] + body[0], *body[1:])
    return {
        "credit line added": credit,
        "last paragraph dropped": body[:-1],
        "paragraph added": (*body, other.paragraphs[0]),
        "punctuation width": tuple(p.translate(_WIDTH_SWAP) for p in body),
        "other script (OpenCC)": tuple(script.convert(p) for p in body),
        "all of the above": tuple(
            script.convert(p).translate(_WIDTH_SWAP) for p in (*credit[:-1], other.paragraphs[0])
        ),
        "first half only": body[: len(body) // 2],
    }


def print_edits(articles: list[Article], entries: list[Entry]) -> None:
    rng = random.Random(1)
    usable = [(a, e) for a, e in zip(articles, entries, strict=True) if len(a.paragraphs) >= 6 and e.signature]
    sample = rng.sample(usable, 300)
    values: dict[str, list[tuple[float, float, bool, bool]]] = defaultdict(list)
    for index, (article, entry) in enumerate(sample):
        other = sample[(index + 1) % len(sample)][0]
        for name, paragraphs in edits(article, other, index).items():
            copy = replace(
                entry, doc_id=entry.doc_id + "~", signature=signature(replace(article, paragraphs=paragraphs))
            )
            if copy.signature is None or entry.signature is None:
                continue
            values[name].append(
                (
                    jaccard(entry.signature, copy.signature),
                    containment(entry.signature, copy.signature),
                    is_copy(entry, copy),
                    is_copy(entry, copy, measure=jaccard, threshold=0.3),
                )
            )
    print(f"\nEdited copies of {len(sample)} corpus articles of 6+ paragraphs (mean / lowest; share found)")
    print(f"{'edit':<26}{'jaccard':>14}{'containment':>14}{f'found C>={THRESHOLD}':>14}{'found J>=0.3':>13}")
    for name, rows in values.items():
        js, cs, fc, fj = zip(*rows, strict=True)
        print(
            f"{name:<26}{sum(js) / len(js):>8.2f} / {min(js):.2f}{sum(cs) / len(cs):>8.2f} / {min(cs):.2f}"
            f"{sum(fc) / len(fc):>14.0%}{sum(fj) / len(fj):>13.0%}"
        )


def print_libraries(articles: list[Article], entries: list[Entry], pairs: Sequence[Pair], seconds: float) -> None:
    try:
        import datasketch
    except ImportError:
        print("\nLibrary comparison skipped: datasketch is not installed (pip install -e '.[bench]')")
        return
    sets = [shingles(story_text(article)) for article in articles]

    def datasketch_signatures() -> list[Signature | None]:
        result: list[Signature | None] = []
        for grams, entry in zip(sets, entries, strict=True):
            if entry.signature is None:
                result.append(None)
                continue
            minhash = datasketch.MinHash(num_perm=NUM_PERM, seed=1)
            minhash.update_batch([gram.encode() for gram in grams])
            digest = struct.pack(f"<{NUM_PERM}I", *minhash.hashvalues.tolist())
            result.append(Signature(digest, len(grams), entry.signature.numbers))
        return result

    other, other_seconds = cpu(datasketch_signatures)
    index = {document_id(article): n for n, article in enumerate(articles)}
    print(f"\nMinHash libraries ({NUM_PERM} permutations, same shingles, rule and threshold)")
    print(f"{'library':<26}{'ms/1000 articles':>17}{'precision':>11}{'recall':>8}{'|C est - C|':>13}")
    for name, signatures, spent in (
        (f"rensa {version('rensa')}", [e.signature for e in entries], seconds),
        (f"datasketch {datasketch.__version__}", other, other_seconds),
    ):
        chosen = [replace(e, signature=s) for e, s in zip(entries, signatures, strict=True)]
        tp, fp, fn = score(assign(chosen), pairs)
        errors = []
        for pair in pairs:
            i, j = index[pair.a], index[pair.b]
            a, b = chosen[i].signature, chosen[j].signature
            if a and b:
                exact = len(sets[i] & sets[j]) / min(len(sets[i]), len(sets[j]))
                errors.append(abs(containment(a, b) - exact))
        print(
            f"{name:<26}{1e6 * spent / len(entries):>17.0f}{tp / max(1, tp + fp):>11.3f}"
            f"{tp / max(1, tp + fn):>8.3f}{sum(errors) / len(errors):>13.3f}"
        )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("corpus", nargs="?", default="/work/shared/corpus", type=Path)
    options.add_argument("--pairs", default=PAIRS, type=Path)
    args = options.parse_args()
    articles = load(args.corpus)
    if not articles:
        raise SystemExit(f"no article files under {args.corpus}")
    index = {document_id(article) for article in articles}
    pairs = [pair for pair in read_pairs(args.pairs) if pair.a in index and pair.b in index]

    def signatures() -> list[Signature | None]:
        return [signature(article) for article in articles]

    computed, signing = cpu(signatures)
    entries = [
        Entry(document_id(article), article.published_at, sig) for article, sig in zip(articles, computed, strict=True)
    ]
    stories, assigning = cpu(lambda: assign(entries))
    print(
        f"{len(articles):,} articles; per 1,000 articles: signatures {1e6 * signing / len(articles):.0f} ms "
        f"(fold, shingles, MinHash), story ids {1e6 * assigning / len(articles):.0f} ms (LSH, verify, ids)"
    )
    print_scores(entries, pairs)
    print_clusters(articles, entries, stories)
    print_edits(articles, entries)
    print_libraries(articles, entries, pairs, minhash_seconds(articles))


def minhash_seconds(articles: list[Article]) -> float:
    """CPU time of rensa's MinHash alone over the articles' shingle sets (for the library comparison)."""
    sets = [sorted(shingles(story_text(article))) for article in articles]
    start = time.process_time()
    for grams in sets:
        minhash = RMinHash(num_perm=NUM_PERM, seed=SEED)
        minhash.update(grams)
        minhash.digest()
    return time.process_time() - start


if __name__ == "__main__":
    main()
