"""Regional spellings (indexer.variants) with the real zhconv-rs tables: both directions, folding, variants files,
and a clear error when the optional extra is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from indexer import variants
from indexer.normalize import fold
from indexer.variants import (
    Link,
    VariantFile,
    VariantFileError,
    VariantsUnavailable,
    VariantTable,
    build_links,
    converter,
    load_links,
    load_table,
    parse_variant_file,
    table_words,
)

VOCABULARY = ["特朗普", "奥巴马", "悉尼", "新西兰", "北韩", "约翰逊", "撒切尔", "公尺", "公升", "閤"]


@pytest.fixture(scope="module")
def links() -> list[Link]:
    return build_links(VOCABULARY, converter())


def table(links: list[Link], *files: VariantFile) -> VariantTable:
    return VariantTable(links, converter(), files)


def variant_file(text: str, name: str = "mine.txt") -> VariantFile:
    return parse_variant_file(text.encode(), name)


def test_a_spelling_finds_the_other_regions_spelling_in_both_directions(links: list[Link]) -> None:
    spellings = table(links)
    trump = {variant.form: variant for variant in spellings.expand("特朗普")}
    assert trump["川普"].written_in == ("zh-tw",)
    # 川普 converts to nothing in any region: only the link built from 特朗普 leads back.
    assert converter()("川普", "zh-cn") == "川普"
    back = {variant.form: variant for variant in spellings.expand("川普")}
    assert set(back) == {"川普", "特朗普"}
    assert back["特朗普"].replaced_in == ("zh-tw",)
    assert back["川普"].term and not back["特朗普"].term
    assert spellings.spellings("悉尼") == ["悉尼", "雪梨"]
    assert spellings.spellings("雪梨") == ["雪梨", "悉尼"]


def test_traditional_keys_are_reached_from_simplified_words(links: list[Link]) -> None:
    """北韩 (jieba's Simplified word) converts to nothing; its Traditional form 北韓 is the zh-cn key for 朝鲜."""
    assert Link("北韩", "朝鲜", "zh-cn") in links
    assert table(links).spellings("朝鲜") == ["朝鲜", "北韩"]
    assert table(links).spellings("北韓") == ["北韩", "朝鲜"]


def test_spellings_are_folded_so_script_and_width_make_no_variant(links: list[Link]) -> None:
    spellings = table(links)
    obama = spellings.spellings("歐巴馬")
    assert obama == ["欧巴马", "奥巴马"]  # zh-hk's 奧巴馬 is 奥巴马 after folding: no third spelling
    assert spellings.spellings("奥巴马") == ["奥巴马", "欧巴马"]
    assert spellings.spellings("ＮＥＷ") == ["new"]
    for term in ("特朗普", "紐西蘭", "撒切尔", "戴卓爾"):
        forms = spellings.spellings(term)
        assert forms == [fold(form) for form in forms]
        assert len(set(forms)) == len(forms)
    thatcher = {variant.form: variant for variant in spellings.expand("撒切尔")}
    assert thatcher["柴契尔"].written_in == ("zh-tw",)
    assert thatcher["戴卓尔"].written_in == ("zh-hk",)


def test_a_term_outside_the_vocabulary_is_converted_on_the_spot() -> None:
    spellings = table([])
    assert spellings.spellings("特朗普政府") == ["特朗普政府", "川普政府"]
    assert spellings.spellings("沙乌地") == ["沙乌地", "沙特"]  # through its Traditional form 沙烏地
    assert spellings.spellings("新闻") == ["新闻"]


def test_one_character_links_are_left_out(links: list[Link]) -> None:
    """zh-cn writes 公尺 as 米 (also rice), 公升 as 升 (also rise), 閤 as 阁 (閤 folds to 合)."""
    assert converter()("公尺", "zh-cn") == "米"
    assert not [link for link in links if min(len(link.source), len(link.target)) < 2]
    assert table(links).spellings("米") == ["米"]
    assert table(links).spellings("公尺") == ["公尺"]


def test_a_variants_file_adds_equivalences_both_ways(links: list[Link]) -> None:
    spellings = table(links, variant_file("# Macron\n\n马克龙 = 馬克宏  # as cna writes it\n"))
    macron = spellings.expand("马克龙")
    assert [variant.form for variant in macron] == ["马克龙", "马克宏"]
    assert macron[1].files == ("mine.txt:3",)
    assert macron[1].describe() == "mine.txt:3"
    assert spellings.spellings("馬克宏") == ["马克宏", "马克龙"]


def test_every_spelling_of_a_line_becomes_a_variant_of_every_other(links: list[Link]) -> None:
    spellings = table(links, variant_file("普京 = 普丁, 蒲亭\n"))
    assert spellings.spellings("蒲亭") == ["蒲亭", "普丁", "普京"]
    assert spellings.spellings("普丁") == ["普丁", "普京", "蒲亭"]


def test_a_variants_file_removes_a_table_equivalence(links: list[Link]) -> None:
    assert "詹森" in table(links).spellings("约翰逊")
    spellings = table(links, variant_file("約翰遜 != 詹森\n"))
    assert spellings.spellings("约翰逊") == ["约翰逊"]
    assert spellings.spellings("詹森") == ["詹森"]
    assert spellings.spellings("特朗普") == ["特朗普", "川普"]


def test_a_later_file_decides_a_pair_an_earlier_one_decided(links: list[Link]) -> None:
    project = variant_file("普京 = 蒲亭\n约翰逊 != 詹森\n", "project.txt")
    user = variant_file("蒲亭 != 普京\n约翰逊 = 詹森\n", "user.txt")
    spellings = table(links, project, user)
    assert spellings.spellings("普京") == ["普京", "普丁"]  # 普丁: zh-tw, converted on the spot
    johnson = {variant.form: variant for variant in spellings.expand("约翰逊")}
    assert set(johnson) == {"约翰逊", "詹森"}
    assert johnson["詹森"].files == ("user.txt:2",)
    assert johnson["詹森"].describe() == "zh-tw table; user.txt:2"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("# ok\n马克龙 馬克宏\n", "mine.txt:2: expected 'word = variant, …' or 'word != variant, …'"),
        ("# ok\n = 馬克宏\n", "mine.txt:2: empty spelling"),
        ("# ok\n马克龙 = 馬克宏,\n", "mine.txt:2: empty spelling"),
        ("# ok\n马克龙 = 馬克 宏\n", "mine.txt:2: spelling '馬克 宏' holds whitespace"),
        ("# ok\n歐巴馬 = 欧巴马\n", "mine.txt:2: '歐巴馬 = 欧巴马' names one spelling twice"),
        ("普京 = 蒲亭\n蒲亭 != 普京\n", "mine.txt:2: 蒲亭 and 普京 are also paired the other way at mine.txt:1"),
    ],
)
def test_bad_lines_are_rejected_naming_the_file_and_line(text: str, problem: str) -> None:
    with pytest.raises(VariantFileError) as error:
        variant_file(text)
    assert str(error.value).startswith(problem)


def test_a_file_that_is_not_utf8_is_rejected_naming_it() -> None:
    with pytest.raises(VariantFileError, match=r"^mine\.txt: not UTF-8"):
        parse_variant_file("普京 = 蒲亭\n".encode("gbk"), "mine.txt")


def test_a_bom_and_comments_are_accepted() -> None:
    parsed = parse_variant_file("\ufeff# names\n普京 = 蒲亭 # CNA\n\n".encode(), "mine.txt")
    assert parsed.added == {("普京", "蒲亭"): "mine.txt:2", ("蒲亭", "普京"): "mine.txt:2"}
    assert parsed.removed == {}


def test_the_project_file_parses() -> None:
    """The file shipped in the package is read with every table (a bad line would stop every ~ search)."""
    project = variants.parse_variant_file(variants._package_data(variants._PROJECT_FILE), variants._PROJECT_FILE)
    assert ("约翰逊", "詹森") in project.removed
    assert ("默克尔", "梅克尔") in project.added


def test_the_version_names_the_tables_and_changes_with_a_file(links: list[Link]) -> None:
    plain = table(links)
    assert plain.version.startswith("zhconv-rs 0.4.")
    assert table(links).version == plain.version
    one = table(links, variant_file("普京 = 蒲亭\n"))
    other = table(links, variant_file("普京 = 普亭\n"))
    assert one.version.startswith(plain.version + "; mine.txt ")
    assert one.version != other.version
    assert table(links[1:]).version != plain.version


def test_table_words_finds_traditional_keys_and_narrows_them_to_the_changing_part() -> None:
    words = table_words(["沙烏地阿拉伯和帛琉的晶片的供應，「北韓」說", "川普和特朗普"])
    assert {"沙烏地", "帛琉", "晶片", "北韓", "特朗普"} <= words
    assert not {"晶片的", "「北韓」", "川普"} & words
    assert table([], variant_file("")).spellings("沙特") == ["沙特"]
    learned = table(build_links(words, converter()))
    assert learned.spellings("沙特") == ["沙特", "沙乌地"]


@pytest.mark.slow
def test_links_are_built_once_and_read_from_the_cache(tmp_path: Path) -> None:
    built = load_links(tmp_path)
    (cache_file,) = tmp_path.glob("variants-*.json")
    stamp = cache_file.stat().st_mtime_ns
    assert load_links(tmp_path) == built
    assert cache_file.stat().st_mtime_ns == stamp
    assert Link("特朗普", "川普", "zh-tw") in built
    cache_file.write_text("[[", encoding="utf-8")
    assert load_links(tmp_path) == built
    with_words = load_links(tmp_path, ["沙烏地"])
    assert Link("沙乌地", "沙特", "zh-cn") in with_words
    assert len(list(tmp_path.glob("variants-*.json"))) == 2
    spellings = load_table(tmp_path)
    assert spellings.spellings("梅克爾") == ["梅克尔", "默克尔"]
    assert "詹森" not in spellings.spellings("约翰逊")
    assert "詹森" in load_table(tmp_path, project_file=False).spellings("约翰逊")


def test_a_missing_user_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_table(tmp_path, user_file=tmp_path / "missing.txt")


def test_without_the_extra_every_entry_point_raises_variants_unavailable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "zhconv_rs", None)  # `import zhconv_rs` now raises ImportError
    for call in (converter, variants.tables_version, lambda: load_table(tmp_path), lambda: table_words(["川普"])):
        with pytest.raises(VariantsUnavailable) as error:
            call()
        assert str(error.value) == (
            "regional spellings need the optional zhconv-rs package (GPL-2.0-or-later): "
            "pip install 'news-indexer[variants]'"
        )
    assert not list(tmp_path.iterdir())


def test_the_module_imports_without_the_extra() -> None:
    """The MIT package never imports zhconv-rs until spellings are asked for."""
    code = (
        "import sys; sys.modules['zhconv_rs'] = None\n"
        "import indexer.variants as v\n"
        "try:\n    v.load_table('/nonexistent')\nexcept v.VariantsUnavailable as e:\n    print(type(e).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "VariantsUnavailable\n"
