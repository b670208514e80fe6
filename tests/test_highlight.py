"""Client-side highlighting: spans are exact on the original text, across width, case, script and whitespace."""

from __future__ import annotations

import re

import opencc
from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.highlight import FRAGMENT_CHARS, Fragment, find_matches, fragments, needle
from indexer.mapping import TEXT_FIELDS
from indexer.normalize import char_tokens

TO_TRADITIONAL = opencc.OpenCC("s2t")
ALL = TEXT_FIELDS


def _compact_fold(text: str) -> str:
    return char_tokens(text).replace(" ", "")


def test_simplified_query_marks_traditional_text_exactly() -> None:
    text = "（中央社）俄羅斯外交部長拉夫羅夫拜會了朝鮮領導人金正恩。"
    (match,) = find_matches(text, [needle("拉夫罗夫", ALL)], "body")
    assert text[match.start : match.end] == "拉夫羅夫"


def test_width_case_and_whitespace_are_folded_but_spans_cover_the_original() -> None:
    text = "美國ＣＯＶＩＤ－１９疫苗，B - 52 與 b-52，拉夫罗夫 拜会"
    needles = [needle("covid-19", ALL), needle("B-52", ALL), needle("拉夫罗夫拜会", ALL)]
    spans = {text[m.start : m.end] for m in find_matches(text, needles, "body")}
    assert spans == {"ＣＯＶＩＤ－１９", "b-52", "拉夫罗夫 拜会"}


def test_whitespace_between_latin_letters_digits_or_punctuation_is_a_word_boundary() -> None:
    text = "Published Jul 23, 2020: B - 52"
    assert find_matches(text, [needle("l2", ALL), needle("b-52", ALL), needle("2020:b", ALL)], "body") == []
    spans = [
        text[m.start : m.end] for m in find_matches(text, [needle("jul  23", ALL), needle("B -\n52", ALL)], "body")
    ]
    assert spans == ["Jul 23", "B - 52"]
    (fragment,) = fragments({"body": ["无关的段落", text]}, [needle("jul 23", ALL)], count=1)
    assert fragment.marked() == "Published <em>Jul 23</em>, 2020: B - 52"


def test_a_character_that_folds_to_several_is_marked_whole() -> None:
    text = "面积 3㎢ 左右"
    (match,) = find_matches(text, [needle("km", ALL)], "body")
    assert text[match.start : match.end] == "㎢"


def test_terms_are_only_marked_in_their_fields() -> None:
    needles = [needle("普京", ("title",))]
    assert find_matches("普京访问朝鲜", needles, "body") == []
    assert len(find_matches("普京访问朝鲜", needles, "title")) == 1


def test_fragments_prefer_more_distinct_terms_and_mark_every_occurrence() -> None:
    filler = "这是一段没有关键词的文字。" * 12
    texts = {
        "title": ["无关标题"],
        "body": [filler + "金正恩会见了来访者。" + filler, filler + "拉夫罗夫拜会金正恩，金正恩表示欢迎。" + filler],
    }
    best, *rest = fragments(texts, [needle("拉夫罗夫", ALL), needle("金正恩", ALL)], count=2)
    assert best.marked().count("<em>金正恩</em>") == 2
    assert "<em>拉夫罗夫</em>" in best.marked()
    assert best.cut_before and best.cut_after
    assert len(best.text) <= FRAGMENT_CHARS + len("拉夫罗夫")
    assert [f.marked().count("<em>") for f in rest] == [1]


def test_marked_escapes_html_and_plain_rendering_does_not() -> None:
    fragment = Fragment("body", 'a<b>&"拉夫罗夫', ((6, 10),))
    assert fragment.marked() == 'a&lt;b&gt;&amp;"<em>拉夫罗夫</em>'
    assert fragment.marked("[", "]", escape=False) == 'a<b>&"[拉夫罗夫]'


def test_no_match_no_fragment() -> None:
    assert fragments({"body": ["朝鲜半岛"]}, [needle("拉夫罗夫", ALL)]) == []


HAN = st.sampled_from(list("中国台湾台灣朝鲜朝鮮发展發展银行銀行的了是在，。　 "))
LATIN = st.sampled_from(list("abcABCＡＢＣ-－ 0１9"))


@settings(max_examples=300, deadline=None)
@given(
    before=st.text(st.one_of(HAN, LATIN), max_size=150),
    after=st.text(st.one_of(HAN, LATIN), max_size=150),
    term=st.text(st.one_of(HAN, LATIN), min_size=1, max_size=6).filter(lambda t: _compact_fold(t) != ""),
    traditional=st.booleans(),
)
def test_every_marked_span_folds_to_the_term_and_every_occurrence_is_marked(
    before: str, after: str, term: str, traditional: bool
) -> None:
    shown = TO_TRADITIONAL.convert(term) if traditional else term
    text = before + shown + after
    target = _compact_fold(term)
    matches = find_matches(text, [needle(term, ALL)], "body")
    assert matches, "the inserted term must be found"
    for match in matches:
        assert _compact_fold(text[match.start : match.end]) == target
    folded = _compact_fold(text)
    assert len(matches) == len(re.findall(f"(?={re.escape(target)})", folded))
    for fragment in fragments({"body": [text]}, [needle(term, ALL)], count=3):
        assert fragment.text in text
        for start, end in fragment.spans:
            assert target in _compact_fold(fragment.text[start:end])
