"""Segmentation: folded input, dictionaries (news, user), dotted names, entities, keywords, versioning, and the
native engine (jieba-rs) against the reference (jieba's Python code) on real text."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.engines import ENGINE_DOT, LOOKUP_CHARS
from indexer.normalize import fold
from indexer.segment import DictionaryError, Segmenter, Token, parse_dictionary
from tests.agreement import FLAG_CLASS, corpus_paragraphs, measure_agreement

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "dw-67150547.md"
NEWS_DICT = ROOT / "indexer" / "data" / "news_dict.txt"


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("segmenter-cache")


@pytest.fixture(scope="module")
def segmenter(cache_dir: Path) -> Segmenter:
    return Segmenter(cache_dir=cache_dir)


@pytest.fixture(scope="module")
def reference(cache_dir: Path) -> Segmenter:
    """The reference engine: jieba's own Python get_DAG/calc over the same dictionary."""
    return Segmenter(native=False, cache_dir=cache_dir)


@pytest.fixture(scope="module", params=["native", "reference"])
def any_engine(request: pytest.FixtureRequest, segmenter: Segmenter, reference: Segmenter) -> Segmenter:
    return segmenter if request.param == "native" else reference


@pytest.fixture(scope="module")
def plain(cache_dir: Path) -> Segmenter:
    """The segmenter without the news dictionary: jieba's dictionary only."""
    return Segmenter(news_dict=False, cache_dir=cache_dir)


def reference_text() -> str:
    raw = REFERENCE.read_text(encoding="utf-8").split("\n")
    title = re.sub(r"^\[(.*)\]\(.*\)$", r"\1", raw[1])
    return html.unescape(title + "\n" + re.sub(r"<[^>]+>", "\n", "\n".join(raw[4:])))


def news_entries() -> dict[str, str]:
    return {entry.word: entry.tag or "" for entry in parse_dictionary(NEWS_DICT.read_bytes(), NEWS_DICT)}


def test_tokens_are_words_of_folded_text(any_engine: Segmenter) -> None:
    tokens = any_engine.tokens("俄羅斯外交部長拉夫羅夫，２０２０年")
    assert all(isinstance(token, Token) for token in tokens)
    assert any_engine.words("俄羅斯外交部長拉夫羅夫，２０２０年") == any_engine.words("俄罗斯外交部长拉夫罗夫,2020年")
    assert "2020" in any_engine.words("２０２０年")


def test_whitespace_and_punctuation_are_dropped(any_engine: Segmenter) -> None:
    words = any_engine.words("“中国”，  美国！\n（日本）· …")
    assert words == ["中国", "美国", "日本"]


def test_traditional_and_simplified_segment_alike(any_engine: Segmenter) -> None:
    traditional = "中華人民共和國外交部發言人汪文斌表示，隨著疫情發展，臺灣問題的計畫"
    simplified = "中华人民共和国外交部发言人汪文斌表示，随着疫情发展，台湾问题的计划"
    assert any_engine.words(traditional) == any_engine.words(simplified)


def test_latin_is_lower_cased_and_kept_whole(any_engine: Segmenter) -> None:
    assert any_engine.words("Dmitry Peskov说COVID") == ["dmitry", "peskov", "说", "covid"]


@pytest.mark.parametrize("text", ["", "   ", "\n\t\u3000", "😀👍🏽", "\ud800", "\udfff\ufffd", "\x00", "·.·"])
def test_tokens_of_empty_and_odd_text(any_engine: Segmenter, text: str) -> None:
    assert any_engine.tokens(text) == []


@settings(max_examples=200, deadline=None)
@given(st.text(st.one_of(st.characters(codec=None), st.characters(categories=["Cs"]), st.sampled_from("中國·‧.拉夫"))))
def test_tokens_never_raise(segmenter: Segmenter, text: str) -> None:
    for token in segmenter.tokens(text):
        assert token.word and not token.word.isspace()


def test_news_dictionary_names_stay_whole(segmenter: Segmenter, plain: Segmenter) -> None:
    assert "蓬佩奥" not in plain.words("国务卿蓬佩奥会见拉夫罗夫")
    assert segmenter.tokens("国务卿蓬佩奥会见拉夫罗夫")[1] == Token("蓬佩奥", "nr")
    names = [word for word, tag in news_entries().items() if tag in ("nr", "ns", "nt")]
    split_before = [name for name in names if len(plain.words(name)) > 1]
    assert len(split_before) > 100
    split_after = [name for name in split_before if name not in segmenter.words(f"据报道，{name}周三表示")]
    assert split_after == []


def test_dotted_names_stay_whole_in_any_dot_variant(segmenter: Segmenter, plain: Segmenter) -> None:
    dotted = [word for word in news_entries() if "·" in word]
    assert dotted
    name = dotted[0]
    assert name not in plain.words(name)
    for dot in ("·", "‧", "•", "・", "．"):
        assert name in segmenter.words("美国的" + name.replace("·", dot) + "说"), dot


def test_entities_and_keywords_of_reference_article(any_engine: Segmenter) -> None:
    tokens = any_engine.tokens(reference_text())
    entities = any_engine.entities(tokens)
    assert {"拉夫罗夫", "金正恩", "普京"} <= set(entities.persons)
    assert {"朝鲜", "俄罗斯"} <= set(entities.places)
    assert entities.persons[0] == "拉夫罗夫"
    assert not {"莫斯科", "乌克兰", "塔斯社", "白宫"} & set(entities.persons)
    keywords = any_engine.keywords(tokens, k=5)
    assert len(keywords) == 5
    assert {"拉夫罗夫", "朝鲜"} <= set(keywords)
    assert any_engine.keywords([]) == ()


def test_user_dictionary_adds_words_in_any_script(tmp_path: Path, cache_dir: Path, plain: Segmenter) -> None:
    word = "蓝鲸计算所"
    assert plain.words(f"他在{word}工作") != ["他", "在", word, "工作"]
    user_dict = tmp_path / "user.txt"
    user_dict.write_text(f"{word} 1 nt\n", encoding="utf-8")
    segmenter = Segmenter(user_dict, cache_dir=cache_dir)
    assert segmenter.words(f"他在{word}工作") == ["他", "在", word, "工作"]
    assert segmenter.words("他在藍鯨計算所工作") == ["他", "在", word, "工作"]
    assert segmenter.entities(segmenter.tokens(f"{word}和{word}")).orgs == (word,)


@pytest.mark.slow
def test_version_follows_the_user_dictionary_and_the_engine(
    tmp_path: Path, cache_dir: Path, segmenter: Segmenter, reference: Segmenter
) -> None:
    user_dict = tmp_path / "user.txt"
    user_dict.write_text("蓝鲸计算所 nt\n", encoding="utf-8")
    first = Segmenter(user_dict, cache_dir=cache_dir).version
    assert Segmenter(user_dict, cache_dir=cache_dir).version == first
    assert first != segmenter.version
    user_dict.write_text("蓝鲸计算所 nt\n白鹭研究院 nt\n", encoding="utf-8")
    assert Segmenter(user_dict, cache_dir=cache_dir).version != first
    assert reference.version != segmenter.version
    assert Segmenter(hmm=True, native=False, cache_dir=cache_dir).version != reference.version


def test_hmm_needs_the_reference_engine(cache_dir: Path) -> None:
    with pytest.raises(ValueError, match="native=False"):
        Segmenter(hmm=True, cache_dir=cache_dir)


def test_restarts_from_the_dictionary_file(cache_dir: Path, segmenter: Segmenter) -> None:
    files = list(cache_dir.glob("lexicon-*.sqlite"))
    assert files
    stamps = {path: path.stat().st_mtime_ns for path in files}
    again = Segmenter(cache_dir=cache_dir)
    text = reference_text()
    assert again.tokens(text) == segmenter.tokens(text)
    assert {path: path.stat().st_mtime_ns for path in files} == stamps


@pytest.mark.slow
def test_a_broken_dictionary_file_is_rebuilt(tmp_path: Path, segmenter: Segmenter) -> None:
    Segmenter(cache_dir=tmp_path)
    (broken,) = tmp_path.glob("lexicon-*.sqlite")
    broken.write_bytes(b"not a database" * 100)
    rebuilt = Segmenter(cache_dir=tmp_path)
    assert rebuilt.tokens(reference_text()) == segmenter.tokens(reference_text())


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe\x00bad", "not UTF-8"),
        ("好词 12 nr extra\n".encode(), ":1: expected 'word [frequency] [tag]'"),
        ("好词\nCOVID-19 5 nz\n".encode(), ":2: 'COVID-19' can never match"),
    ],
)
def test_bad_user_dictionary_names_file_and_problem(tmp_path: Path, content: bytes, problem: str) -> None:
    user_dict = tmp_path / "bad.txt"
    user_dict.write_bytes(content)
    with pytest.raises(DictionaryError) as error:
        Segmenter(user_dict, cache_dir=tmp_path)
    assert str(user_dict) in str(error.value)
    assert problem in str(error.value)


def test_missing_user_dictionary_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        Segmenter(tmp_path / "missing.txt", cache_dir=tmp_path)


def test_news_dictionary_evidence_rules(plain: Segmenter) -> None:
    from tools.build_news_dict import NameFinder, latin_tag, pinyin_syllables

    assert pinyin_syllables("Wang Wenbin") == 3
    assert pinyin_syllables("Zhao Lijian") == 3
    assert pinyin_syllables("Dmitry Peskov") is None
    assert latin_tag("佩斯科夫", "Dmitry Peskov") == "nr"
    assert latin_tag("推特", "Twitter") == "nz"
    assert latin_tag("罗伯特·科赫研究所", "Robert Koch Institute") == "nr"
    finder = NameFinder(plain, {"发言人": 5000, "总统": 50000, "表示": 30000})
    assert finder.trailing("俄罗斯总统发言人佩斯科夫") == "佩斯科夫"
    assert finder.leading("拜登表示") == "拜登"


# -- the native engine against the reference ------------------------------------------------------------


TRICKY = [
    "价格上涨3.5%，达到1.2.3版和0.5元",
    "5g网络、2px和10t08:00的g20峰会",
    "covid-19疫苗和mrna-1273",
    "café和서울、москва、ｓａｍｓｕｎｇ",
    "约翰·克里说，美国国务卿约翰．克里和本·拉登",
    "AT&T和C++以及c#，2020年10月1日",
    "·中国·，..3.，a.b，3.a",
]


@pytest.mark.parametrize("text", TRICKY)
def test_native_tokens_equal_the_reference_on_tricky_text(
    segmenter: Segmenter, reference: Segmenter, text: str
) -> None:
    assert segmenter.tokens(text) == reference.tokens(text)
    assert segmenter.words(text) == reference.words(text)


def test_numbers_and_latin_group_as_the_reference_does(segmenter: Segmenter) -> None:
    """jieba-rs alone would read 3 . 5 and 5g; the reference's pieces are 3.5 and 5, g."""
    assert Token("3.5", "m") in segmenter.tokens("上涨3.5%")
    assert segmenter.words("5g网络") == ["5", "g", "网络"]


MEASURED_FLAGS = 0.99997
"""Share of tokens whose flag agrees too, over the whole corpus (every 40th file: all of them)."""
ALPHABET = "中国人民大学生发展的了在和说美国" + "0123456789" + "abgxz" + "·.-%+# ，é서"


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(ALPHABET), max_size=40))
def test_native_tokens_equal_the_reference_on_random_text(
    segmenter: Segmenter, reference: Segmenter, text: str
) -> None:
    assert segmenter.tokens(text) == reference.tokens(text)


def test_engine_dot_never_occurs_in_folded_text() -> None:
    assert fold(ENGINE_DOT) != ENGINE_DOT
    assert fold("\uf900") != "\uf900"


@pytest.mark.slow
def test_native_agrees_with_the_reference_on_the_corpus(
    corpus: Path, segmenter: Segmenter, reference: Segmenter
) -> None:
    """Every 40th corpus file, every paragraph. Measured on the whole corpus (docs/segmentation.md): the words
    of all 254,253 paragraphs identical; 3 of 9,093,620 flags differ, all of one class: a single character
    not in the dictionary, which the reference tags ``x`` and jieba-rs tags by its HMM's guess."""
    texts = corpus_paragraphs(corpus, 40)
    agreement = measure_agreement(texts, segmenter, reference)
    assert agreement.paragraphs > 4000
    assert agreement.same_word_paragraphs == agreement.paragraphs, dict(agreement.examples)
    assert agreement.same_tokens / agreement.tokens >= MEASURED_FLAGS, dict(agreement.examples)
    assert set(agreement.classes) <= {FLAG_CLASS}


def test_words_looked_up_equal_the_whole_dictionary(corpus: Path, cache_dir: Path, segmenter: Segmenter) -> None:
    """A fresh segmenter looks up only the words of its texts; it segments as the loaded one does."""
    segmenter.load()
    fresh = Segmenter(cache_dir=cache_dir)
    texts = [*TRICKY, *corpus_paragraphs(corpus, 400)]
    seen = 0
    for text in texts:
        seen += len(fold(text))
        assert fresh.words(text) == segmenter.words(text)
        assert fresh.loaded == (seen > LOOKUP_CHARS)
        assert fresh.tokens(text) == segmenter.tokens(text)
        seen += len(fold(text))
    assert fresh.loaded
