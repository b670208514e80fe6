"""The lines in front of an article's body: where its time comment, title link, rule, date line and body are.

The archiver writes ``<!--epoch-ms-->``, ``[title](url)``, ``------``, an empty line, then the body. Its older
layouts and hand-edited or converted files vary this: no time comment (the title link comes first), a
``日期：<RFC 822 date>`` line after the rule, a title broken over several lines inside the brackets, blank lines in
front, a YAML front matter block (a blog post), CRLF or bare CR line ends, a rule with spaces around it, a title set
as a Markdown heading. :func:`read_header` finds each part where a lenient reader of hand-made Markdown would, and
adds a warning for everything that differs from the archiver's layout. It locates, it does not interpret (times,
URLs and the title's entities are the parser's business) and it never rejects a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

CANONICAL_RULE = "------"
MAX_TITLE_LINES = 8
"""A title link may span at most this many lines (a feed title with line breaks, even blank lines, inside the
brackets); the rule ends it, and the ``](url)`` must be on its last line."""
MAX_FRONT_MATTER_LINES = 60
"""A YAML front matter block must close within this many lines, or the ``---`` is not one."""

_LINE_END = re.compile(r"\r\n|\n|\r")
_COMMENT = re.compile(r"\s*<!--(.*)-->\s*")
_RULE = re.compile(r"\s*(?:-{3,}|={3,})\s*")
_DATE_LINE = re.compile(r"\s*(?:日期|date)\s*[：:]\s*(.*?)\s*", re.IGNORECASE)
_HEADING = re.compile(r" {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*")
_FIELD = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)")
_FRONT_MATTER_END = ("---", "...")
_WRAPPED_BODY = re.compile(r"<div>(?:\r\n|\n|\r)(.*)(?:\r\n|\n|\r)</div>\s*", re.DOTALL)
"""A blog post's body line wrapped as ``<div>`` newline, body, newline, ``</div>``."""


@dataclass(frozen=True, slots=True)
class Header:
    """Where the parts of one file are; every text as written (entities and whitespace untouched)."""

    comment: str | None = None
    """Text inside the time comment ``<!--…-->``; None when the file has no comment."""
    title: str = ""
    """Title text: inside the link's brackets, or a heading's text when there is no link."""
    url: str = ""
    """The link's target as written (may be empty, relative or carry a Markdown link title)."""
    link_line: int = 0
    """Line number of the ``[title](url)`` link; 0 when the file has none."""
    date_line: str | None = None
    """The date of a ``日期：<date>`` line after the rule (older layout); None when there is none."""
    front_matter: dict[str, str] = field(default_factory=dict)
    """``key: value`` fields of a YAML front matter block (keys lower-cased, lists joined by ``, ``)."""
    body: str | None = None
    """The rest of the file after the header (None when the file ends before it)."""


class _Lines:
    """A cursor over the file's lines, split at the file's own line end (the first one found: LF, CRLF or a bare
    CR). In an LF or CRLF file a bare CR is not a line end (RFA bodies hold stray ones)."""

    def __init__(self, text: str) -> None:
        first = _LINE_END.search(text)
        self.line_end = first.group() if first else "\n"
        self._separator = "\r" if self.line_end == "\r" else "\n"
        self._text = text
        self._position = 0
        self.number = 1
        """Line number of the current line."""

    def peek(self, ahead: int = 0) -> str | None:
        """The line `ahead` lines after the current one (without its line end), None past the end."""
        position = self._position
        for _ in range(ahead):
            end = self._text.find(self._separator, position)
            if end < 0:
                return None
            position = end + 1
        if position >= len(self._text):
            return None
        end = self._text.find(self._separator, position)
        line = self._text[position : end if end >= 0 else len(self._text)]
        return line.removesuffix("\r") if self._separator == "\n" else line

    def skip(self, count: int = 1) -> None:
        for _ in range(count):
            end = self._text.find(self._separator, self._position)
            self._position = len(self._text) if end < 0 else end + 1
            self.number += 1

    def skip_blank(self) -> int:
        """Skip blank lines; how many there were."""
        skipped = 0
        while (line := self.peek()) is not None and not line.strip():
            self.skip()
            skipped += 1
        return skipped

    def rest(self) -> str | None:
        """The text from the current line to the end, without the file's final line end; None at the end."""
        if self._position >= len(self._text):
            return None
        rest = self._text[self._position :]
        return rest.removesuffix("\n").removesuffix("\r")


def read_header(text: str, warnings: list[str]) -> Header:
    """Locate the time comment, title link, rule, date line and body of `text`; oddities go to `warnings`."""
    lines = _Lines(text)
    if lines.line_end != "\n":
        warnings.append("CRLF line ends (Windows)" if lines.line_end == "\r\n" else "bare CR line ends (old Mac)")
    blank = lines.skip_blank()
    if blank:
        warnings.append(f"{blank} blank line(s) before the first line: skipped")
    front_matter = _front_matter(lines, warnings)
    comment = None
    if (first := lines.peek()) is not None and (match := _COMMENT.fullmatch(first)):
        comment = match.group(1)
        lines.skip()
        lines.skip_blank()
    else:
        warnings.append('no time comment "<!--epoch-ms-->" before the title')
    title, url, link_line = _title(lines, warnings)
    date_line: str | None = None
    line = lines.peek()
    if line is not None and _RULE.fullmatch(line):
        if line != CANONICAL_RULE:
            warnings.append(f'the rule on line {lines.number} is {line!r}, not "{CANONICAL_RULE}"')
        lines.skip()
        date_line = _date_line(lines)
        line = lines.peek()
        if line is not None and line.strip():
            warnings.append(f"line {lines.number} is not empty: read the body from line {lines.number}")
        elif line is not None:
            lines.skip()
    elif line is not None and (title or link_line):
        number = lines.number
        warnings.append(f'line {number} is not the "{CANONICAL_RULE}" rule: read the body from line {number}')
    body = lines.rest()
    if body is None:
        warnings.append("file ends before the body line (truncated): title only")
    elif not text.endswith(("\n", "\r")):
        warnings.append("no newline at the end of the file: it may be cut off (truncated)")
    if front_matter and body is not None and (wrapped := _WRAPPED_BODY.fullmatch(body)):
        body = wrapped.group(1)
    return Header(comment, title, url, link_line, date_line, front_matter, body)


def _front_matter(lines: _Lines, warnings: list[str]) -> dict[str, str]:
    """The fields of a YAML front matter block at the cursor (skipped), or {} when there is none."""
    if (lines.peek() or "").strip() != "---":
        return {}
    fields: dict[str, str] = {}
    for ahead in range(1, MAX_FRONT_MATTER_LINES):
        line = lines.peek(ahead)
        if line is None:
            break
        if line.strip() in _FRONT_MATTER_END:
            warnings.append(f"YAML front matter on lines {lines.number}-{lines.number + ahead} (a blog post)")
            lines.skip(ahead + 1)
            lines.skip_blank()
            return fields
        if match := _FIELD.fullmatch(line):
            fields.setdefault(match.group(1).lower(), _scalar(match.group(2)))
    return {}


def _scalar(value: str) -> str:
    """A YAML scalar as text: quotes removed (escapes undone), a flow list ``[ a, b ]`` joined by ``, ``."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if value.startswith("[") and value.endswith("]"):
        return ", ".join(_scalar(item) for item in value[1:-1].split(",") if item.strip())
    return value


def _title(lines: _Lines, warnings: list[str]) -> tuple[str, str, int]:
    """Title, link target and link line number at the cursor (consumed); a heading when there is no link."""
    number = lines.number
    parts: list[str] = []
    for ahead in range(MAX_TITLE_LINES):
        line = lines.peek(ahead)
        if line is None or (ahead and _RULE.fullmatch(line)):
            break
        parts.append(line.strip())
        joined = "\n".join(parts)
        cut = joined.rfind("](")
        if joined.startswith("[") and joined.endswith(")") and cut > 0 and "\n" not in joined[cut:]:
            if ahead:
                warnings.append(f"the title spans lines {number}-{number + ahead} (line breaks inside the brackets)")
            lines.skip(ahead + 1)
            return joined[1:cut], joined[cut + 2 : -1], number
    line = lines.peek()
    if line is None or not line.strip() or _RULE.fullmatch(line):
        warnings.append(f'no "[title](url)" line (line {number}): no title line')
        return "", "", 0
    heading = _HEADING.fullmatch(line)
    following = lines.peek(1)
    if heading is None and not (following is not None and _RULE.fullmatch(following) and line.lstrip()[:1] != "<"):
        warnings.append(f'no "[title](url)" line (line {number}): no title, the body starts there')
        return "", "", 0
    warnings.append(f'no "[title](url)" line: the title is the heading on line {number}, without a URL')
    lines.skip()
    return (heading.group(1) if heading else line.strip()), "", 0


def _date_line(lines: _Lines) -> str | None:
    """The date of a ``日期：…`` line right after the rule (a blank line between is allowed), consumed."""
    for ahead in (0, 1):
        line = lines.peek(ahead)
        if line is None or (ahead == 0 and not line.strip()):
            continue
        match = _DATE_LINE.fullmatch(line)
        if match is None:
            return None
        lines.skip(ahead + 1)
        return match.group(1)
    return None
