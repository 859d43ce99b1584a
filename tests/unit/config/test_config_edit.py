"""Round-trip editing of the user's config.toml (reporter_app/config/edit.py) and `reporter-app config set`:
comments, blank lines, key order and unknown sections survive; values are validated before the atomic write;
secrets never reach the file."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

import pytest

from reporter_app.cli import main
from reporter_app.config import ConfigError, edit, load_config
from reporter_app.config.commands import config_set
from reporter_app.paths import resolve_paths

COMMENTED = """\
# Ada's reporter settings: keep these notes!

[reporter]
name = "Ada"        # as on my badge
role = 'qa'         # literal string, single quotes

# The shortcut I use on every machine
[hotkey]
report = "Ctrl+Alt+B"

# my log files
[[logs]]
name = "app"        # the app under test
path = "~/app/*.log"
lines = 200

# system journal, for the daemon
[[logs]]
name = "daemon"
journal = "my-daemon"

# the last one
[[logs]]
name = "web"
path = "/var/log/web/*.log"

[[priority.rules]]   # not shown in Settings: must survive
money_lost = true
priority = "P1"
"""


def _comments(text: str) -> list[str]:
    return [line[line.index("#"):] for line in text.splitlines() if "#" in line]


@pytest.fixture
def paths(reporter_home: Path):  # type: ignore[no-untyped-def]
    (reporter_home / "config.toml").write_text(COMMENTED, encoding="utf-8")
    return resolve_paths(None)


def test_editing_a_commented_file_keeps_every_comment_blank_line_order_and_unknown_table() -> None:
    doc = edit.parse_document(COMMENTED)
    assert edit.set_value(doc, "reporter.name", "Ada Lovelace")
    assert edit.set_value(doc, "reporter.email", "ada@example.com")  # a new key in a table followed by a comment
    assert edit.set_value(doc, "sla.P1.first_response", "2h")  # a new nested table
    assert not edit.set_value(doc, "reporter.role", "qa")  # same value: untouched, quotes kept
    text = edit.render(doc)
    assert _comments(text) == _comments(COMMENTED)
    assert 'name = "Ada Lovelace"        # as on my badge\n' in text
    assert "role = 'qa'         # literal string" in text
    # the new key sits under the old ones, above the blank line and the next table's comment
    assert 'role = \'qa\'         # literal string, single quotes\nemail = "ada@example.com"\n\n# The shortcut' in text
    assert text.endswith('priority = "P1"\n\n[sla.P1]\nfirst_response = "2h"\n')
    assert tomllib.loads(text)["priority"] == {"rules": [{"money_lost": True, "priority": "P1"}]}
    # Nothing else moved: the original, line for line, with the two changes applied.
    assert text.replace('"Ada Lovelace"', '"Ada"').replace('email = "ada@example.com"\n', "") == \
        COMMENTED + '\n[sla.P1]\nfirst_response = "2h"\n'


def test_logs_entries_are_edited_in_place_added_and_removed_with_their_own_comment() -> None:
    doc = edit.parse_document(COMMENTED)
    changed = edit.set_table_array(doc, "logs", [
        {"name": "app", "path": "~/app/*.log", "lines": 1000},  # edited
        {"name": "web", "path": "/var/log/web/*.log"},  # kept as is
        {"name": "db", "path": "/var/log/db.log", "minutes": 30},  # new
    ])  # "daemon" removed
    text = edit.render(doc)
    assert changed
    assert tomllib.loads(text)["logs"] == [
        {"name": "app", "path": "~/app/*.log", "lines": 1000},
        {"name": "web", "path": "/var/log/web/*.log"},
        {"name": "db", "path": "/var/log/db.log", "minutes": 30},
    ]
    assert 'name = "app"        # the app under test' in text  # an edited entry keeps its comments
    assert "# the last one\n[[logs]]\nname = \"web\"" in text  # the comment above the next entry moved up with it
    assert "# system journal" not in text and "my-daemon" not in text  # the removed entry took its own comment
    assert _comments(text) == [c for c in _comments(COMMENTED) if c != "# system journal, for the daemon"]
    assert '[[logs]]\nname = "db"\npath = "/var/log/db.log"\nminutes = 30\n\n[[priority.rules]]' in text
    assert not edit.set_table_array(doc, "logs", tomllib.loads(text)["logs"])  # the same again: nothing to do


def test_removing_every_entry_drops_the_array_and_the_comment_above_it() -> None:
    doc = edit.parse_document(COMMENTED)
    assert edit.set_table_array(doc, "logs", [])
    text = edit.render(doc)
    assert "logs" not in tomllib.loads(text)
    assert "# my log files" not in text and "# The shortcut I use on every machine" in text


def test_a_value_of_the_wrong_type_is_refused_naming_the_key_and_the_file_is_unchanged(paths) -> None:  # type: ignore[no-untyped-def]
    doc = edit.read_document(paths.user_config)
    edit.set_value(doc, "capture.activity_events", "lots")
    with pytest.raises(ConfigError) as caught:
        edit.write_document(paths, doc, {})
    assert caught.value.key == "capture.activity_events"
    assert str(paths.user_config) in str(caught.value) and "expected an integer" in str(caught.value)
    assert paths.user_config.read_text(encoding="utf-8") == COMMENTED
    assert [p.name for p in paths.user_config.parent.iterdir() if p.is_file()] == ["config.toml"]  # no temp left


def test_a_valid_write_replaces_the_file_and_returns_the_loaded_config(paths) -> None:  # type: ignore[no-untyped-def]
    doc = edit.read_document(paths.user_config)
    edit.set_value(doc, "hotkey.report", "Ctrl+Alt+R")
    config = edit.write_document(paths, doc, {})
    assert config.get("hotkey.report") == "Ctrl+Alt+R"
    assert config.origin("hotkey.report").startswith(f"{paths.user_config}:")  # not the scratch copy's name
    assert paths.user_config.read_text(encoding="utf-8") == COMMENTED.replace('"Ctrl+Alt+B"', '"Ctrl+Alt+R"')


def test_secrets_are_refused_before_anything_is_written(paths, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    doc = edit.read_document(paths.user_config)
    with pytest.raises(ConfigError, match="secrets never live in config files"):
        edit.set_value(doc, "tracker.api_key", "s3cret")
    with pytest.raises(ConfigError, match="secrets never live"):
        edit.set_table_array(doc, "logs", [{"name": "x", "path": "/x", "password": "s3cret"}])
    writes: list[Path] = []
    monkeypatch.setattr("tempfile.TemporaryDirectory", lambda **_: writes.append(Path()) or pytest.fail("wrote"))
    with pytest.raises(ConfigError) as caught:
        edit.set_from_text(paths, [("tracker.backend", "redmine"), ("tracker.api_key", "s3cret")], {})
    assert "s3cret" not in str(caught.value) and caught.value.key == "tracker.api_key"
    assert paths.user_config.read_text(encoding="utf-8") == COMMENTED and not writes


def test_config_set_reads_values_as_set_does_and_keeps_the_comments(paths) -> None:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    code = config_set(paths, {}, ["capture.activity_events", "5", "privacy.scrub_ips", "yes",
                                  "report.components", "UI, Sync"], out, err=err)
    assert (code, err.getvalue()) == (0, "")
    assert "Set capture.activity_events, privacy.scrub_ips, report.components" in out.getvalue()
    text = paths.user_config.read_text(encoding="utf-8")
    assert _comments(text) == _comments(COMMENTED)
    config = load_config(paths, {})
    assert config.get("capture.activity_events") == 5 and config.get("privacy.scrub_ips") is True
    assert config.get("report.components") == ["UI", "Sync"]


@pytest.mark.parametrize(("pairs", "message"), [
    (["capture.activity_events", "lots"], "capture.activity_events: got string 'lots'; expected an integer"),
    (["privacy.scrub_ips", "maybe"], "privacy.scrub_ips: got 'maybe'; expected one of 1, 0, true"),
    (["capture.screenshot", "all-monitor"], "did you mean 'all-monitors'?"),
    (["reporter.emial", "a@b.c"], "reporter.emial: unknown key; did you mean 'reporter.email'?"),
    (["logs", "x"], "logs: arrays of tables are edited in the file itself or in Settings"),
    (["hotkey.report", "Ctrl+Alt+"], "hotkey.report"),
])
def test_config_set_refuses_a_bad_value_naming_the_key_and_keeps_the_file(
        paths, pairs: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    out, err = io.StringIO(), io.StringIO()
    assert config_set(paths, {}, pairs, out, err=err) == 1
    assert message in err.getvalue() and out.getvalue() == ""
    assert paths.user_config.read_text(encoding="utf-8") == COMMENTED


def test_config_set_refuses_a_locked_key(paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    system = tmp_path / "system.toml"
    system.write_text('[admin]\nlocked = ["hotkey"]\n', encoding="utf-8")
    monkeypatch.setenv("REPORTER_APP_SYSTEM_CONFIG", str(system))
    locked = resolve_paths(None)
    err = io.StringIO()
    assert config_set(locked, {}, ["hotkey.report", "Ctrl+Alt+R"], io.StringIO(), err=err) == 1
    assert f"hotkey.report: is locked by {system}; not written" in err.getvalue()


def test_config_set_switches_backend_with_its_settings_in_one_go_and_says_what_overrides_it(paths) -> None:  # type: ignore[no-untyped-def]
    # "remote" is this directory's fake backend (conftest.py): `space` is required, `retries` an integer.
    out, err = io.StringIO(), io.StringIO()
    assert config_set(paths, {}, ["tracker.backend", "remote"], out, err=err) == 1
    assert "tracker.space: required by the 'remote' tracker backend" in err.getvalue()
    env = {"REPORTER_APP_TRACKER_PROJECT": "from-env"}
    code = config_set(paths, env, ["tracker.backend", "remote", "tracker.space", "QA", "tracker.retries", "5",
                                   "tracker.project", "bugs"], out, err=err)
    assert code == 0, err.getvalue()
    assert "note: tracker.project is also set by environment REPORTER_APP_TRACKER_PROJECT" in out.getvalue()
    written = tomllib.loads(paths.user_config.read_text(encoding="utf-8"))["tracker"]
    assert written == {"backend": "remote", "space": "QA", "retries": 5, "project": "bugs"}
    assert config_set(paths, {}, ["tracker.api_key", "s3cret"], out, err=err) == 1  # declared secret


def test_the_cli_verb_and_its_exit_codes(paths, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    assert main(["config", "set", "hotkey.report", "Ctrl+Shift+F12"]) == 0
    assert "Set hotkey.report in" in capsys.readouterr().out
    assert main(["config", "set", "hotkey.report", "Ctrl+Shift+F12"]) == 0
    assert "Unchanged (already set so): hotkey.report" in capsys.readouterr().out
    assert main(["config", "set", "hotkey.report"]) == 2
    assert "KEY VALUE pairs" in capsys.readouterr().err
    assert main(["config", "set", "tracker.token", "abc"]) == 1
    err = capsys.readouterr().err
    assert "secrets never live in config files" in err and "abc" not in err
