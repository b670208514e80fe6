"""``~TERM`` in searches on the real node: every spelling the table gives is searched, in both directions, with
phrases, field scopes and NEAR; output says which spellings were searched; highlights mark whichever matched; a
user variants file changes the spellings; without the extra, one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from indexer.config import Settings
from indexer.errors import ConfigError
from indexer.normalize import fold
from indexer.query import Query, Text
from indexer.search import Searcher
from tests.conftest import ids
from tests.nodes import assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def searcher(es_settings: Settings, mention_alias: str) -> Searcher:
    return Searcher(es_settings, index=mention_alias)


def union(searcher: Searcher, template: str, forms: list[str]) -> set[str]:
    return set().union(*(ids(searcher, template.format(f'"{form}"')) for form in forms))


def test_tilde_searches_every_spelling_in_both_directions(searcher: Searcher) -> None:
    mainland, taiwan = searcher.variant_table().spellings("普京"), searcher.variant_table().spellings("蒲亭")
    assert "蒲亭" in mainland and "普京" in taiwan
    found = ids(searcher, "~普京")
    assert found == union(searcher, "{}", mainland)
    assert ids(searcher, "普京") < found and ids(searcher, "蒲亭") < found
    assert ids(searcher, "~蒲亭") == union(searcher, "{}", taiwan)


def test_tilde_with_phrases_scopes_near_and_exclusion(searcher: Searcher) -> None:
    forms = searcher.variant_table().spellings("普京")
    assert ids(searcher, "title:~普京") == union(searcher, "title:{}", forms)
    assert ids(searcher, '~"普京"') == ids(searcher, "~普京")
    assert ids(searcher, "~普京 NEAR/10 金正恩") == union(searcher, "{} NEAR/10 金正恩", forms)
    assert ids(searcher, "金正恩 -~普京") == ids(searcher, "金正恩") - ids(searcher, "~普京")
    assert ids(searcher, "(~普京 俄罗斯) OR ~川普") == (ids(searcher, "~普京") & ids(searcher, "俄罗斯")) | ids(
        searcher, "~川普"
    )


def test_highlights_mark_whichever_spelling_matched(searcher: Searcher) -> None:
    forms = set(searcher.variant_table().spellings("普京"))
    only_taiwan = ids(searcher, "蒲亭 -普京")
    assert only_taiwan
    marked: set[str] = set()
    for hit in searcher.stream(searcher.parse("~普京")):
        for fragment in hit.fragments:
            marked |= {fold(fragment.text[start:end]) for start, end in fragment.spans}
        if hit.id in only_taiwan:
            assert any(fragment.spans for fragment in hit.fragments), hit.id
    assert "蒲亭" in marked and "普京" in marked and marked <= forms


def test_a_user_file_adds_and_removes_spellings(es_settings: Settings, mention_alias: str, tmp_path: Path) -> None:
    rules = tmp_path / "variants.txt"
    rules.write_text("普京 != 蒲亭\n普京 = 普金大帝\n", encoding="utf-8")
    searcher = Searcher(es_settings.with_overrides(variants_file=str(rules)), index=mention_alias)
    spellings = searcher.variant_table().spellings("普京")
    assert "蒲亭" not in spellings and "普金大帝" in spellings
    assert searcher.parse("~普京").text_terms()[0].spellings == tuple(spellings)
    rules.write_text("普京 = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"variants\.txt:1"):
        Searcher(es_settings.with_overrides(variants_file=str(rules)), index=mention_alias).parse("~普京")


def test_search_output_says_which_spellings_were_searched(searcher: Searcher) -> None:
    forms = searcher.variant_table().spellings("普京")
    result = run_cli("search", "--index", searcher.index, "~普京", "--json", "--limit", "3")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["spellings"] == {"~普京": forms} and data["total"] == len(ids(searcher, "~普京"))
    table = run_cli("search", "--index", searcher.index, "~普京", "--limit", "1")
    assert f"~普京 searched {', '.join(forms)}" in table.stdout
    counted = run_cli("search", "--index", searcher.index, "~普京", "--count")
    assert counted.stdout.strip() == str(data["total"]) and "~普京 searched" in counted.stderr
    plain = run_cli("search", "--index", searcher.index, "普京", "--json", "--limit", "1")
    assert "spellings" not in json.loads(plain.stdout)


def test_variants_command_counts_each_spelling(searcher: Searcher) -> None:
    result = run_cli("variants", "--index", searcher.index, "普京", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    rows = {row["spelling"]: row["articles"] for row in data["spellings"]}
    assert list(rows) == searcher.variant_table().spellings("普京")
    assert data["spellings"][0]["source"] == "searched term"
    for form, count in rows.items():
        assert count == searcher.count(Query(((Text(form),),)))
    assert data["articles"] == len(ids(searcher, "~普京")) and data["version"].startswith("zhconv-rs ")
    table = run_cli("variants", "--index", searcher.index, "普京")
    assert "蒲亭" in table.stdout and f"{data['articles']:,} articles hold one" in table.stdout


def test_without_the_extra_tilde_is_one_clear_line(searcher: Searcher) -> None:
    blocked = (
        "import sys; sys.modules['zhconv_rs'] = None; from indexer.cli import main; sys.argv[0] = 'indexer'; main()"
    )
    for args in (["search", "~川普"], ["variants", "川普"]):
        result = subprocess.run(
            [sys.executable, "-c", blocked, *args, "--index", searcher.index],
            capture_output=True,
            text=True,
            env={**os.environ, "COLUMNS": "200"},
            timeout=120,
        )
        assert_one_line_error(result, "zhconv-rs", "pip install 'news-indexer[variants]'")
