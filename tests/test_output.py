"""Rendering: text from articles can't act on the terminal or the spreadsheet; JSON keeps it as stored."""

from __future__ import annotations

import csv
import io
import json

from rich.console import Console, RenderableType

from indexer import output
from indexer.highlight import Fragment
from indexer.search import Hit, Page, StoredArticle, TermCounts

HOSTILE = "\x1b]0;pwned\x07标题\x1b[2J\x1b[31m红\x1b[0m\x9b1m\x07\x08\r尾"
"""A window-title OSC, clear screen, colours, an 8-bit CSI, BEL, backspace and CR around real text."""


def _render(renderable: RenderableType) -> str:
    console = Console(file=io.StringIO(), width=200, color_system=None, legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _no_controls(text: str) -> bool:
    return not any((ord(ch) < 32 and ch not in "\n") or 0x7F <= ord(ch) <= 0x9F for ch in text)


def _hit(title: str = HOSTILE) -> Hit:
    body = Fragment("body", f"正文{HOSTILE}金正恩", ((len(f"正文{HOSTILE}"), len(f"正文{HOSTILE}") + 3),))
    return Hit("dw:a-1", "https://x.org/1", title, "dw\x1b[8m", "2020-09-13T12:26:40+00:00", 1.5, (body,))


def test_terminal_safe_removes_escape_sequences_and_controls_but_keeps_the_text() -> None:
    assert output.terminal_safe(HOSTILE) == "标题红尾"
    assert output.terminal_safe("tab\tand\nnewline") == "tab\tand\nnewline"
    assert output.terminal_safe("\x1b]8;;https://evil\x1b\\链接\x1b]8;;\x1b\\") == "链接"
    assert output.terminal_safe("未结束\x1b]0;标题") == "未结束0;标题", "an unterminated OSC loses only ESC ]"


def test_the_search_table_shows_no_control_characters_from_articles() -> None:
    rendered = _render(output.hits_table(Page(1, [_hit()]), "UTC"))
    assert _no_controls(rendered) and "标题红尾" in rendered and "金正恩" in rendered and "pwned" not in rendered


def test_show_and_the_terms_table_show_no_control_characters() -> None:
    source = {
        "title": HOSTILE,
        "url": "https://x.org/\x1b[2J",
        "outlet": "dw",
        "persons": [HOSTILE],
        "body": [HOSTILE, "正常段落"],
        "links": [{"text": HOSTILE, "url": "https://x.org/2"}],
        "source": {"path": "/archive/\x1b[2Jname.md"},
    }
    shown = _render(output.article_view(StoredArticle("dw:a-1", "news-m4", source), "UTC"))
    assert _no_controls(shown) and shown.count("标题红尾") == 4 and "正常段落" in shown
    terms = _render(output.terms_table(TermCounts("person", 3, [(HOSTILE, 3)])))
    assert _no_controls(terms) and "标题红尾" in terms


def test_json_keeps_the_text_exactly_as_stored() -> None:
    out = io.StringIO()
    output.write_jsonl([_hit()], out)
    assert json.loads(out.getvalue())["title"] == HOSTILE
    assert json.loads(output.article_json(StoredArticle("dw:a-1", "i", {"title": HOSTILE})))["title"] == HOSTILE


def test_csv_cells_that_would_start_a_formula_are_neutralised() -> None:
    formulas = ['=HYPERLINK("https://evil","点击")', "+1+2", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
    out = io.StringIO()
    output.write_csv([_hit(title) for title in [*formulas, "普通标题", "a=b"]], out)
    titles = [row["title"] for row in csv.DictReader(io.StringIO(out.getvalue()))]
    assert titles == [f"'{title}" for title in formulas] + ["普通标题", "a=b"]
    terms = io.StringIO()
    output.write_terms_csv(TermCounts("person", 2, [("=cmd|' /C calc'!A0", 2)]), terms)
    assert list(csv.reader(io.StringIO(terms.getvalue())))[1] == ["'=cmd|' /C calc'!A0", "2"]
