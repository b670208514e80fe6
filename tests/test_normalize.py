"""Folding: width, case, Traditional/Simplified classes, middle dots, offsets, char tokens, script detection."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from indexer.normalize import (
    NORMALIZATION_VERSION,
    WORD_BREAK,
    char_tokens,
    compact,
    compact_with_positions,
    fold,
    fold_with_offsets,
    script_of,
)

TRICKY = (
    "中國臺灣乾幹干著着髮發於後裡隻計劃为了·‧•・．﹒.ＡＢ２０ß㎢ﬁ\u200b\ufeff\ufffd\x00\x7f\n\u3000\U000e0100\U0002f800"
)
any_text = st.text(
    st.one_of(
        st.characters(codec=None),
        st.characters(categories=["Cs"]),
        st.sampled_from(TRICKY),
    ),
    max_size=60,
)


def test_width_folding() -> None:
    assert fold("２０２０年") == "2020年"
    assert fold("ＡＢＣ") == "abc"
    assert fold("（中央社台北３日電）") == "(中央社台北3日电)"
    assert fold("\u3000") == " "


def test_lower_casing() -> None:
    assert fold("Dmitry PESKOV") == "dmitry peskov"
    assert fold("COVID-19") == "covid-19"


@pytest.mark.parametrize(
    ("traditional", "simplified"),
    [
        ("中國", "中国"),
        ("臺灣", "台湾"),
        ("台灣", "台湾"),
        ("頭髮", "头发"),
        ("發展", "发展"),
        ("乾淨", "干净"),
        ("幹部", "干部"),
        ("颱風", "台风"),
        ("隨著", "随着"),
        ("關於", "关于"),
        ("之後", "之后"),
        ("這裡", "这里"),
        ("這裏", "这里"),
        ("一隻", "一只"),
        ("計畫", "计划"),
        ("項鍊", "项链"),
    ],
)
def test_cross_script_words_fold_alike(traditional: str, simplified: str) -> None:
    assert fold(traditional) == fold(simplified)


@pytest.mark.parametrize("group", ["乾幹干", "髮發发", "著着", "臺台颱", "於于", "後后", "裡裏里", "隻只"])
def test_one_to_many_characters_share_one_fold(group: str) -> None:
    assert len({fold(char) for char in group}) == 1


def test_common_simplified_text_is_left_as_written() -> None:
    text = "为了落实计划，他们在这里干了一个后来著名的项目，发展了台风预警。"
    assert fold(text) == text.replace("，", ",").replace("著", "着")


@pytest.mark.parametrize("dot", ["·", "‧", "•", "・", "∙", "．", "﹒", "."])
def test_middle_dot_variants_become_one_dot(dot: str) -> None:
    assert fold(f"約翰{dot}克里") == "约翰·克里"


def test_full_stop_outside_names_is_kept() -> None:
    assert fold("3.5%") == "3.5%"
    assert fold("dw.com") == "dw.com"
    assert fold("结束。.") == "结束。."


def test_invisible_characters_are_deleted() -> None:
    assert fold("习近\u200b平") == "习近平"
    assert fold("\ufeff中国\u200e") == "中国"
    assert fold("葛\U000e0100城") == "葛城"


@pytest.mark.parametrize("text", ["", "\ud800", "\udfff中", "\ufffd", "\x00\x01", "a\ud83d", "😀👍🏽", "\U0010ffff"])
def test_never_raises_on_odd_strings(text: str) -> None:
    folded = fold(text)
    folded.encode("utf-8")
    assert fold_with_offsets(text)[0] == folded


@given(any_text)
def test_fold_is_idempotent_and_encodable(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    folded.encode("utf-8")


@given(any_text)
def test_offsets_point_back_into_the_original(text: str) -> None:
    folded, offsets = fold_with_offsets(text)
    assert folded == fold(text)
    assert len(offsets) == len(folded)
    assert offsets == sorted(offsets)
    for index, origin in enumerate(offsets):
        assert folded[index] == "·" or folded[index] in fold(text[origin])


@given(any_text, st.data())
def test_offsets_give_a_span_that_folds_to_the_match(text: str, data: st.DataObject) -> None:
    folded, offsets = fold_with_offsets(text)
    if not folded:
        return
    start = data.draw(st.integers(0, len(folded) - 1))
    end = data.draw(st.integers(start + 1, len(folded)))
    span = text[offsets[start] : offsets[end - 1] + 1]
    assert folded[start:end].replace("·", ".") in fold(span).replace("·", ".")


@given(any_text)
def test_compact_positions_point_at_the_characters_and_the_whitespace_they_stand_for(text: str) -> None:
    folded = fold(text)
    view, positions = compact_with_positions(folded)
    assert view == compact(folded) and len(positions) == len(view) and positions == sorted(positions)
    assert WORD_BREAK not in folded and not view.startswith(WORD_BREAK) and not view.endswith(WORD_BREAK)
    for char, position in zip(view, positions, strict=True):
        assert folded[position] == char or (char == WORD_BREAK and folded[position].isspace())


def test_offsets_of_expanding_and_deleted_characters() -> None:
    folded, offsets = fold_with_offsets("㎢\u200b臺")
    assert folded == "km2台"
    assert offsets == [0, 0, 0, 2]


def test_char_tokens() -> None:
    assert char_tokens("中國 ＡＢ\n1") == f"中 国 a b {WORD_BREAK} 1"
    assert char_tokens("Jul 23") == f"j u l {WORD_BREAK} 2 3"
    assert char_tokens("\tB -  52 轰炸机 ") == f"b {WORD_BREAK} - {WORD_BREAK} 5 2 轰 炸 机"
    assert char_tokens("") == ""
    assert char_tokens(" \t\u3000\n") == ""
    assert char_tokens("拉夫罗夫（Lavrov）") == "拉 夫 罗 夫 ( l a v r o v )"


def test_char_tokens_make_traditional_and_simplified_substrings_equal() -> None:
    document = char_tokens("美國總統拜登在臺灣問題上表態")
    assert char_tokens("台湾问题") in document
    assert char_tokens("美国 总统") in document


@pytest.mark.parametrize(
    ("snippet", "script"),
    [
        ("（中央社台北3日電）台北外匯市場新台幣兌美元匯率今天以29.51元開盤，貶0.8分。", "traditional"),
        ("俄罗斯外交部周四表示，俄罗斯外交部长拉夫罗夫拜会了朝鲜领导人金正恩，两国建立了更紧密的关系。", "simplified"),
        ("COVID-19 2020", "none"),
        ("", "none"),
        ("台灣民眾有機會瞭解 这是简体中文的一段话", "mixed"),
        ("\U00030b38\U00030c28 and \U00030000", "simplified"),  # Simplified-only characters above U+30000
    ],
)
def test_script_of(snippet: str, script: str) -> None:
    assert script_of(snippet) == script


def test_version_names_the_table() -> None:
    rules, digest = NORMALIZATION_VERSION.split(".")
    assert rules and len(digest) == 10
