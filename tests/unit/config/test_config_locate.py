"""The key locator: line numbers for what tomllib parsed, without being fooled by values."""

from __future__ import annotations

import tomllib

from reporter_app.config.locate import KeyLocator

TEXT = '''\
# comment with key = "value"
title = "top"
[tracker]   # trailing comment
url = "https://x"   # url = "not this"
"quoted.key" = 1
site.owner.name = "dotted"

[capture]
env_allowlist = [
  "LANG",
  "fake = 1",
]
note = """
multi = "line"
[not.a.table]
"""
after = 'literal \\'
raw = \'\'\'
inside = 1\'\'\'
last = 2

[[logs]]
name = "a"

[[logs]]
name = "b"
[logs.extra]
deep = 1

[[privacy.rules]]
name = "r1"
[[privacy.rules]]
name = "r2"

[priority]
rules = [ { priority = "P1" },
  { priority = "P2" }, { priority = "P3" },
]
'''


def test_text_is_valid_toml():
    tomllib.loads(TEXT)  # the locator only ever sees parsed text


def test_locates_headers_keys_and_entries():
    lines = KeyLocator(TEXT)
    assert lines.line_of(("title",)) == 2
    assert lines.line_of(("tracker",)) == 3
    assert lines.line_of(("tracker", "url")) == 4
    assert lines.line_of(("tracker", "quoted.key")) == 5
    assert lines.line_of(("tracker", "site", "owner", "name")) == 6
    assert lines.line_of(("tracker", "site")) == 6
    assert lines.line_of(("capture", "env_allowlist")) == 9
    assert lines.line_of(("capture", "note")) == 13
    assert lines.line_of(("capture", "after")) == 17
    assert lines.line_of(("capture", "raw")) == 18
    assert lines.line_of(("capture", "last")) == 20


def test_values_are_never_taken_for_keys():
    lines = KeyLocator(TEXT)
    assert ("capture", "multi") not in lines.lines
    assert ("not", "a", "table") not in lines.lines
    assert ("capture", "inside") not in lines.lines
    assert ("fake = 1",) not in lines.lines


def test_arrays_of_tables_are_indexed():
    lines = KeyLocator(TEXT)
    assert lines.line_of(("logs",)) == 22
    assert lines.line_of(("logs", 0)) == 22
    assert lines.line_of(("logs", 0, "name")) == 23
    assert lines.line_of(("logs", 1, "name")) == 26
    assert lines.line_of(("logs", 1, "extra", "deep")) == 28
    assert lines.line_of(("privacy", "rules", 1, "name")) == 33


def test_inline_array_of_tables_entries():
    lines = KeyLocator(TEXT)
    assert lines.line_of(("priority", "rules", 0, "priority")) == 36
    assert lines.line_of(("priority", "rules", 1)) == 37
    assert lines.line_of(("priority", "rules", 2)) == 37


def test_unknown_path_falls_back_to_its_parent_or_none():
    lines = KeyLocator(TEXT)
    assert lines.line_of(("tracker", "missing")) == 3
    assert lines.line_of(("nowhere",)) is None


def test_nested_arrays_restart_per_parent_entry():
    text = "[[a]]\n[[a.b]]\nx = 1\n[[a.b]]\nx = 2\n[[a]]\n[[a.b]]\nx = 3\n"
    tomllib.loads(text)
    lines = KeyLocator(text)
    assert lines.line_of(("a", 0, "b", 1, "x")) == 5
    assert lines.line_of(("a", 1, "b", 0, "x")) == 8
