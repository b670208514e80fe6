"""`sample`, `collocates`, `keyness` and provenance against a real Elasticsearch, on a tiny corpus written here.

The collocation and keyness answers are computed by hand from the words of four articles (the segmentation
they rest on is asserted first); the sample is checked against its definition (the smallest SHA-256 keys).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from indexer.collocation import WordFilter, collocates, keyness
from indexer.config import Settings
from indexer.errors import IndexerError
from indexer.ingest import IngestOptions, ingest
from indexer.provenance import provenance
from indexer.sampling import draw, sample, sample_key
from indexer.search import Searcher
from tests.nodes import run_cli

INDEXER = str(Path(sys.executable).with_name("indexer"))

HAND = {
    "a1": ("a.example", ["政府推动疫苗接种", "接种疫苗很安全"]),
    "a2": ("a.example", ["2021年政府推动疫苗接种"]),
    "b1": ("b.example", ["政府推动经济增长", "经济增长"]),
    "b2": ("b.example", ["美国经济的增长", "疫苗安全"]),
}
"""Article name → (host, paragraphs); every title is 新闻."""
FILLERS = 36
"""Articles about the weather (天气), for the sample tests."""


def _article(host: str, name: str, paragraphs: list[str], day: int) -> str:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    return f"<!--{1600000000000 + day * 86_400_000}-->\n[新闻](https://{host}/news/{name})\n------\n\n{body}\n"


def _tiny(es: Elasticsearch, es_settings: Settings, folder: Path, alias: str) -> Iterator[str]:
    for day, (name, (host, paragraphs)) in enumerate(HAND.items()):
        (folder / f"{name}.md").write_text(_article(host, name, paragraphs, day), encoding="utf-8")
    for number in range(FILLERS):
        text = [f"第{number}期天气预报"]
        (folder / f"w{number}.md").write_text(_article("c.example", f"w{number}", text, number), encoding="utf-8")
    summary = ingest(es_settings, [folder], IngestOptions(workers=1), alias=alias)
    assert summary.indexed == len(HAND) + FILLERS and summary.complete
    yield alias
    es.indices.delete(index=",".join(es.indices.get(index=f"{alias}-*")))


@pytest.fixture(scope="module")
def tiny(es: Elasticsearch, es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _tiny(es, es_settings, tmp_path_factory.mktemp("tiny"), f"test-analysis-{os.getpid()}")


STORIES = 6


@pytest.fixture(scope="module")
def storied(es: Elasticsearch, es_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    """The tiny corpus again, with a ``story`` keyword field: filler w<k> is in story s<k mod 6>.

    The field is added and set by hand (a partial update; the derived views, outside ``_source``, are lost, so
    the tests query the outlet keyword)."""
    for alias in _tiny(es, es_settings, tmp_path_factory.mktemp("storied"), f"test-analysis-story-{os.getpid()}"):
        [index] = es.indices.get(index=f"{alias}-*")
        es.indices.put_mapping(index=index, properties={"story": {"type": "keyword"}})
        searcher = Searcher(es_settings, index=alias)
        for doc_id, _ in list(searcher.ids(searcher.parse("outlet:c.example"))):
            url = searcher.hits([doc_id])[0].url
            es.update(index=index, id=doc_id, doc={"story": f"s{int(url.rsplit('/w', 1)[1]) % STORIES}"})
        es.indices.refresh(index=index)
        yield searcher


@pytest.fixture(scope="module")
def searcher(es_settings: Settings, tiny: str) -> Searcher:
    return Searcher(es_settings, index=tiny)


def test_the_hand_computation_rests_on_this_segmentation(searcher: Searcher) -> None:
    words = searcher.segmenter.words
    assert words("政府推动疫苗接种") == ["政府", "推动", "疫苗", "接种"]
    assert words("接种疫苗很安全") == ["接种", "疫苗", "很", "安全"]
    assert words("2021年政府推动疫苗接种") == ["2021", "年", "政府", "推动", "疫苗", "接种"]
    assert words("政府推动经济增长") == ["政府", "推动", "经济", "增长"]
    assert words("美国经济的增长") == ["美国", "经济", "的", "增长"]
    assert words("疫苗安全") == ["疫苗", "安全"]
    assert words("新闻") == ["新闻"]
    dropped = WordFilter()
    assert [word for word in ("很", "的", "年", "2021", "三百", "疫苗") if dropped.counts(word)] == ["疫苗"]


# Counted words of the articles matching 疫苗 (a1, a2, b2; 很 的 年 2021 dropped), window ±2:
#   a1: 新闻 | 政府 推动 [疫苗] 接种 | 接种 [疫苗] (很) 安全      a2: 新闻 | (2021 年) 政府 推动 [疫苗] 接种
#   b2: 新闻 | 美国 经济 (的) 增长 | [疫苗] 安全
# N = 19, f(x) = 4 nodes, W = 9 counted words in windows.
# f(x,y): 接种 3, 政府 2, 推动 2, 安全 2; f(y): 接种 3, 政府 2, 推动 2, 安全 2; docs: 2 each.
# logDice(接种) = 14 + log2(2·3/(4+3)) = 14 + log2(6/7); the others 14 + log2(4/6).
LOGDICE = [
    ("接种", 3, 2, 3, 14 + math.log2(6 / 7)),
    ("安全", 2, 2, 2, 14 + math.log2(4 / 6)),
    ("推动", 2, 2, 2, 14 + math.log2(4 / 6)),
    ("政府", 2, 2, 2, 14 + math.log2(4 / 6)),
]


def test_collocates_logdice_match_the_hand_computation(searcher: Searcher) -> None:
    found = collocates(searcher, searcher.parse("疫苗"), window=2, min_freq=1)
    assert (found.analysed.articles, found.analysed.matching, found.analysed.sampled) == (3, 3, False)
    [group] = found.groups
    assert (group.group, group.articles, group.nodes, group.words) == (None, 3, 4, 19)
    got = [(c.word, c.freq, c.docs, c.word_freq, c.score) for c in group.collocates]
    assert [row[:4] for row in got] == [row[:4] for row in LOGDICE]
    assert [row[4] for row in got] == pytest.approx([row[4] for row in LOGDICE])


def test_collocates_ll_and_mi_match_the_hand_computation(searcher: Searcher) -> None:
    # 接种: in windows 3 of W = 9, elsewhere 0 of N - W = 10; G² = 2·Σ O·ln(O·N / (row·column)).
    ll = 2 * (3 * math.log(3 * 19 / (9 * 3)) + 6 * math.log(6 * 19 / (9 * 16)) + 10 * math.log(10 * 19 / (10 * 16)))
    found = collocates(searcher, searcher.parse("疫苗"), window=2, measure="ll", min_freq=3)
    assert [(c.word, c.score) for c in found.groups[0].collocates] == [("接种", pytest.approx(ll))]
    mi = collocates(searcher, searcher.parse("疫苗"), window=2, measure="mi", min_freq=1)
    # MI = log2(f(x,y)·N / (f(x)·f(y))) = log2(3·19 / (4·3)) = log2(2·19 / (4·2)) for all four.
    assert [c.score for c in mi.groups[0].collocates] == pytest.approx([math.log2(19 / 4)] * 4)


def test_collocates_by_outlet_count_each_group_on_its_own(searcher: Searcher) -> None:
    found = collocates(searcher, searcher.parse("疫苗"), window=2, min_freq=1, by="outlet")
    by_group = {group.group: group for group in found.groups}
    assert set(by_group) == {"a.example", "b.example"}
    a, b = by_group["a.example"], by_group["b.example"]
    assert (a.articles, a.nodes, a.words, b.articles, b.nodes, b.words) == (2, 3, 13, 1, 1, 6)
    # a: 接种 3 of f(y) 3 → 14 + log2(6/6); 政府/推动 2 of 2 with 3 nodes → 14 + log2(4/5); 安全 1 of 1.
    assert [(c.word, c.score) for c in a.collocates] == [
        ("接种", pytest.approx(14.0)),
        ("推动", pytest.approx(14 + math.log2(4 / 5))),
        ("政府", pytest.approx(14 + math.log2(4 / 5))),
        ("安全", pytest.approx(14 + math.log2(2 / 4))),
    ]
    assert [(c.word, c.score) for c in b.collocates] == [("安全", pytest.approx(14.0))]


def test_collocates_sample_beyond_the_limit_and_say_so(searcher: Searcher) -> None:
    query = searcher.parse("疫苗")
    found = collocates(searcher, query, window=2, min_freq=1, max_articles=2, seed=3)
    assert (found.analysed.articles, found.analysed.matching, found.analysed.sampled) == (2, 3, True)
    assert found.groups[0].articles == 2
    words = {"a1": 8, "a2": 5, "b2": 6}
    drawn = searcher.hits(sample(searcher, query, 2, 3).ids)
    assert found.groups[0].words == sum(words[hit.url.rsplit("/", 1)[-1]] for hit in drawn)


def test_collocates_without_a_text_term_is_an_error(searcher: Searcher) -> None:
    with pytest.raises(IndexerError, match="text term"):
        collocates(searcher, searcher.parse("outlet:a.example"))


# Keyness of 疫苗 (a1 a2 b2: c = 19 counted words) against 推动经济 (b1: 新闻 政府 推动 经济 增长 经济 增长, d = 7).
# More frequent per word in the focus: 疫苗 4/0, 接种 3/0, 安全 2/0, 美国 1/0, 新闻 3/1 (3/19 > 1/7).
# b = 0: LL = 2·a·ln(a / (19·a/26)) = 2·a·ln(26/19). 新闻: E1 = 19·4/26, E2 = 7·4/26.
def _ll(a: int, b: int) -> float:
    e1, e2 = 19 * (a + b) / 26, 7 * (a + b) / 26
    return 2 * (a * math.log(a / e1) + (b * math.log(b / e2) if b else 0))


KEYS = [
    ("疫苗", 4, 0, 3, 0, 8 * math.log(26 / 19), None),
    ("接种", 3, 0, 2, 0, 6 * math.log(26 / 19), None),
    ("安全", 2, 0, 2, 0, 4 * math.log(26 / 19), None),
    ("美国", 1, 0, 1, 0, 2 * math.log(26 / 19), None),
    ("新闻", 3, 1, 3, 1, _ll(3, 1), 100 * (3 / 19 - 1 / 7) / (1 / 7)),
]


def test_keyness_matches_the_hand_computation(searcher: Searcher) -> None:
    found = keyness(searcher, searcher.parse("疫苗"), searcher.parse("推动经济"), min_freq=1)
    assert (found.focus.matching, found.reference.matching, found.focus_words, found.reference_words) == (3, 1, 19, 7)
    got = [
        (k.word, k.focus_freq, k.reference_freq, k.focus_docs, k.reference_docs, k.log_likelihood, k.percent_diff)
        for k in found.keys
    ]
    assert [row[:5] for row in got] == [row[:5] for row in KEYS]
    assert [row[5] for row in got] == pytest.approx([row[5] for row in KEYS])
    assert got[-1][6] == pytest.approx(KEYS[-1][6])
    assert all(row[6] is None for row in got[:-1])
    assert found.keys[0].focus_per_million == pytest.approx(4e6 / 19)
    assert found.keys[-1].reference_per_million == pytest.approx(1e6 / 7)


def test_keyness_min_freq_and_stop_words_are_applied(searcher: Searcher) -> None:
    found = keyness(searcher, searcher.parse("疫苗"), searcher.parse("推动经济"), min_freq=3)
    assert [key.word for key in found.keys] == ["疫苗", "接种", "新闻"]
    kept = keyness(searcher, searcher.parse("疫苗"), searcher.parse("推动经济"), 1, words=WordFilter(frozenset()))
    assert kept.focus_words == 19 + 3  # 很 的 年 count now; 2021 stays out (a number)
    assert "很" in {key.word for key in kept.keys}


# --- sample --------------------------------------------------------------------------------------------------


def test_sample_is_the_smallest_keys_reproducible_by_seed(searcher: Searcher) -> None:
    query = searcher.parse("天气")
    matching = [doc_id for doc_id, _ in searcher.ids(query)]
    assert len(matching) == FILLERS
    first = sample(searcher, query, 10, seed=7)
    assert first.population == FILLERS
    assert first.ids == sorted(matching, key=lambda doc_id: sample_key(7, doc_id))[:10]
    assert sample(searcher, query, 10, seed=7).ids == first.ids
    other = sample(searcher, query, 10, seed=8)
    assert set(other.ids) != set(first.ids)
    assert sample(searcher, query, 4, seed=7).ids == first.ids[:4]
    assert sorted(sample(searcher, query, 100, seed=7).ids) == sorted(matching)


def test_draw_is_uniform() -> None:
    """Each of 10 items is in a draw of 3 with probability 0.3: over 3,000 seeds, within 5 standard deviations."""
    items = [f"doc-{number}" for number in range(10)]
    counts = Counter(doc_id for seed in range(3000) for doc_id in draw(items, 3, seed))
    spread = 5 * math.sqrt(3000 * 0.3 * 0.7)
    assert all(abs(counts[doc_id] - 900) < spread for doc_id in items), counts


def test_unique_draws_one_article_per_story(storied: Searcher) -> None:
    query = storied.parse("outlet:c.example")
    stories = {doc_id: values["story"] for doc_id, values in storied.ids(query, ("story",))}
    assert len(stories) == FILLERS and len(set(stories.values())) == STORIES
    found = sample(storied, query, 4, seed=5, unique=True)
    assert (found.population, found.unique) == (STORIES, True)
    members: dict[str, list[str]] = {}
    for doc_id, story in stories.items():
        members.setdefault(story, []).append(doc_id)
    drawn = sorted(members, key=lambda story: sample_key(5, story))[:4]
    assert found.ids == [min(members[story], key=lambda doc_id: sample_key(5, doc_id)) for story in drawn]
    assert sample(storied, query, 4, seed=5, unique=True).ids == found.ids
    assert len(sample(storied, query, 10, seed=5, unique=True).ids) == STORIES


# --- the commands and provenance ------------------------------------------------------------------------------


def test_sample_command_and_its_provenance(searcher: Searcher, tmp_path: Path) -> None:
    record = tmp_path / "sample.provenance.json"
    result = run_cli(
        "sample", "天气", "--index", searcher.index, "--n", "5", "--seed", "7", "--jsonl", "--provenance", str(record)
    )
    assert result.returncode == 0, result.stderr
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert ids == sample(searcher, searcher.parse("天气"), 5, 7).ids
    assert f"5 drawn of {FILLERS} matching articles (seed 7)" in result.stderr
    written = json.loads(record.read_text(encoding="utf-8"))
    assert written["command"].startswith("indexer sample '天气' --index")
    assert (written["query"], written["parameters"]["seed"], written["parameters"]["n"]) == ("天气", 7, 5)
    assert written["articles"] == len(HAND) + FILLERS and written["alias"] == searcher.index
    [index] = written["indices"]
    assert index["name"].startswith(searcher.index + "-m") and index["analysis_version"] == searcher.segmenter.version


def test_collocates_and_keyness_commands_print_csv_and_json(searcher: Searcher) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(
                run_cli(
                    "collocates", "疫苗", "--index", searcher.index, "--window", "2", "--min-freq", "1", "--csv"
                ).stdout
            )
        )
    )
    assert [(row["word"], row["freq"]) for row in rows] == [(word, str(freq)) for word, freq, *_ in LOGDICE]
    answer = run_cli(
        "keyness", "疫苗", "--reference", "推动经济", "--index", searcher.index, "--min-freq", "1", "--json"
    )
    assert answer.returncode == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert [key["word"] for key in data["keys"]] == [row[0] for row in KEYS]
    assert data["focus"] == {"articles": 3, "matching": 3, "seed": 0}
    table = run_cli("keyness", "疫苗", "--reference", "推动经济", "--index", searcher.index, "--min-freq", "1")
    assert "疫苗" in table.stdout and "∞" in table.stdout and "focus: all 3 articles" in table.stderr


def test_search_all_writes_provenance_and_refuses_it_without_all(searcher: Searcher, tmp_path: Path) -> None:
    record = tmp_path / "p.json"
    result = run_cli(
        "search", "天气", "--index", searcher.index, "--all", "--outlet", "c.example", "--provenance", str(record)
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == FILLERS
    written = json.loads(record.read_text(encoding="utf-8"))
    assert written["filters"] == {"outlet": ["c.example"], "from": None, "to": None}
    refused = run_cli("search", "天气", "--index", searcher.index, "--provenance", str(tmp_path / "q.json"))
    assert refused.returncode != 0 and "--all" in refused.stderr


def test_provenance_names_the_searcher_versions(searcher: Searcher) -> None:
    record = provenance(searcher, "indexer x", "天气", {}, {"seed": 1})
    assert record["searcher"]["analysis_version"] == searcher.segmenter.version
    assert record["time"].endswith("+00:00")


@pytest.mark.parametrize(
    ("command", "query"),
    [(["kwic", "天气", "--csv"], "天气"), (["compare", "天气", "疫苗", "--json"], "天气 | 疫苗")],
    ids=["kwic", "compare"],
)
def test_kwic_and_compare_write_provenance(searcher: Searcher, tmp_path: Path, command: list[str], query: str) -> None:
    record = tmp_path / "p.json"
    result = run_cli(*command, "--index", searcher.index, "--provenance", str(record))
    assert result.returncode == 0, result.stderr
    written = json.loads(record.read_text(encoding="utf-8"))
    assert written["command"].startswith(f"indexer {command[0]} ") and written["query"] == query
    assert written["alias"] == searcher.index and written["articles"] == len(HAND) + FILLERS
