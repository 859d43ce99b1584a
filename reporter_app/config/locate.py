"""Find the line a key was written on: tomllib parses values but forgets positions.

Not a TOML parser: the text has already been parsed by tomllib, so it is valid, and we only
scan for table headers (`[a.b]`, `[[logs]]`) and `key =` lines, stepping over multi-line
strings and arrays so their contents are never mistaken for keys. Paths use the parsed
structure's shape: ("tracker", "url"), ("logs", 0, "name"). An entry of an inline array of
tables (`rules = [{...}, {...}]`) is found on the line its `{` opens.
"""

from __future__ import annotations

import re
import tomllib

Path_ = tuple[str | int, ...]

_BARE = r"[A-Za-z0-9_-]+"
_PART = rf'(?:{_BARE}|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
_DOTTED = rf"{_PART}(?:\s*\.\s*{_PART})*"
_ARRAY_HEADER = re.compile(rf"\s*\[\[\s*({_DOTTED})\s*\]\]")
_HEADER = re.compile(rf"\s*\[\s*({_DOTTED})\s*\]")
_KEY = re.compile(rf"\s*({_DOTTED})\s*=")


def _parts(dotted: str) -> list[str]:
    parts = []
    for match in re.finditer(_PART, dotted):
        text = match.group(0)
        # Quoted keys may hold escapes; let tomllib decode them rather than reimplementing it.
        parts.append(next(iter(tomllib.loads(f"{text} = 0"))) if text[0] in "\"'" else text)
    return parts


class KeyLocator:
    """Line numbers (1-based) of every header, key and inline-array entry in a TOML text."""

    def __init__(self, text: str) -> None:
        self.lines: dict[Path_, int] = {}
        self._array_index: dict[tuple[str, ...], int] = {}  # [[a.b]] -> index of its current entry
        self._table: Path_ = ()
        self._open: list[str] = []  # brackets of a value still open at the end of a line
        self._string_end = ""  # closing quotes of an open multi-line string
        self._value_path: Path_ = ()
        self._value_items = 0
        for number, line in enumerate(text.splitlines(), start=1):
            self._line(number, line)

    def line_of(self, path: Path_) -> int | None:
        """The line of `path`, or of its nearest located parent (a key inside an inline table)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return None

    def _line(self, number: int, line: str) -> None:
        if self._open or self._string_end:
            self._scan(number, line)
            return
        if match := _ARRAY_HEADER.match(line):
            self._table = self._enter_array(_parts(match.group(1)))
            self.lines.setdefault(self._table[:-1], number)  # the array itself starts at its first entry
            self.lines.setdefault(self._table, number)
        elif match := _HEADER.match(line):
            self._table = self._indexed(_parts(match.group(1)))
            self.lines.setdefault(self._table, number)
        elif match := _KEY.match(line):
            path = self._table + tuple(_parts(match.group(1)))
            for end in range(len(self._table) + 1, len(path) + 1):
                self.lines.setdefault(path[:end], number)
            self._value_path, self._value_items = path, 0
            self._scan(number, line[match.end() :])

    def _indexed(self, parts: list[str]) -> Path_:
        """Header parts with the current entry index after each array of tables: logs.x -> logs, 3, x."""
        path: list[str | int] = []
        for end, part in enumerate(parts, start=1):
            path.append(part)
            index = self._array_index.get(tuple(parts[:end]))
            if index is not None:
                path.append(index)
        return tuple(path)

    def _enter_array(self, parts: list[str]) -> Path_:
        key = tuple(parts)
        index = self._array_index.get(key, -1) + 1
        # A new entry starts its own nested arrays from zero.
        for nested in [k for k in self._array_index if len(k) > len(key) and k[: len(key)] == key]:
            del self._array_index[nested]
        self._array_index[key] = index
        return self._indexed(parts[:-1]) + (parts[-1], index)

    def _scan(self, number: int, text: str) -> None:
        """Track brackets and quotes through a value so the next line is read in the right state."""
        i = 0
        while i < len(text):
            if self._string_end:
                end = self._find_close(text, i, self._string_end)
                if end < 0:
                    return
                i, self._string_end = end + 3, ""
                continue
            char = text[i]
            if char == "#":
                return
            if text.startswith('"""', i) or text.startswith("'''", i):
                self._string_end = text[i : i + 3]
                i += 3
            elif char in "\"'":
                end = self._find_close(text, i + 1, char)
                i = len(text) if end < 0 else end + 1
            elif char in "[{":
                if char == "{" and self._open == ["["]:  # an entry of an inline array of tables
                    self.lines.setdefault(self._value_path + (self._value_items,), number)
                    self._value_items += 1
                self._open.append(char)
                i += 1
            elif char in "]}":
                self._open.pop()
                i += 1
            else:
                i += 1

    @staticmethod
    def _find_close(text: str, start: int, quote: str) -> int:
        i = start
        while True:
            i = text.find(quote, i)
            if i < 0:
                return -1
            if quote[0] == '"':  # basic strings have escapes; literal strings do not
                backslashes = len(text[:i]) - len(text[:i].rstrip("\\"))
                if backslashes % 2:
                    i += 1
                    continue
            # Up to two extra quotes may close a multi-line string: """a"""" ends after the 4th.
            if len(quote) == 3:
                while text.startswith(quote[0], i + 3):
                    i += 1
            return i
