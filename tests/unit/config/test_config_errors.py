"""Every kind of config mistake gives one line naming file, line, key, problem and a way out."""

from __future__ import annotations

from pathlib import Path

import pytest

from reporter_app.config import ConfigError, load_config


def _error(paths, env=None, overrides=()) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={} if env is None else env, overrides=overrides)
    message = str(caught.value)
    assert "\n" not in message
    return caught.value


def test_unknown_key_suggests_the_closest(paths, user_file):
    user_file('[reporter]\nname = "Ada"\nemial = "ada@example.com"\n')
    assert str(_error(paths)) == f"{paths.user_config}:3: reporter.emial: unknown key; did you mean 'reporter.email'?"


def test_unknown_key_under_the_wrong_table_suggests_by_name(paths, user_file):
    user_file('[reporter]\nscreenshot = "none"\n')
    error = _error(paths)
    assert error.key == "reporter.screenshot"
    assert error.suggestion == "capture.screenshot"


def test_unknown_table_suggests_the_closest(paths, user_file):
    user_file('\n[trackr]\nurl = "x"\n')
    assert str(_error(paths)) == f"{paths.user_config}:2: trackr: unknown table; did you mean 'tracker'?"


def test_unknown_nested_table(paths, user_file):
    user_file('[sla.P5]\nresolution = "1d"\n')
    error = _error(paths)
    assert (error.where, error.key, error.problem) == (f"{paths.user_config}:1", "sla.P5", "unknown table")
    assert error.suggestion in {"sla.P1", "sla.P2", "sla.P3", "sla.P4"}


def test_wrong_type_says_what_was_expected_and_got(paths, user_file):
    user_file('[capture]\nactivity_events = "abc"\n')
    assert str(_error(paths)) == (
        f"{paths.user_config}:2: capture.activity_events: got string 'abc'; expected an integer from 0 to 1000"
    )


def test_boolean_is_not_an_integer_and_integer_is_not_a_boolean(paths, user_file):
    user_file("[capture]\nactivity_events = true\n[privacy]\nscrub_ips = 1\n")
    errors = _error(paths).all_errors
    assert [str(e) for e in errors] == [
        f"{paths.user_config}:2: capture.activity_events: got boolean true; expected an integer from 0 to 1000",
        f"{paths.user_config}:4: privacy.scrub_ips: got integer 1; expected true or false",
    ]


def test_list_of_strings_rejects_other_items(paths, user_file):
    user_file("[report]\ncomponents = ['UI', 3]\n")
    assert str(_error(paths)) == f"{paths.user_config}:2: report.components: got an array; expected a list of strings"


def test_bad_choice_lists_the_choices(paths, user_file):
    user_file('[capture]\nscreenshot = "all-monitor"\n')
    assert str(_error(paths)) == (
        f"{paths.user_config}:2: capture.screenshot: 'all-monitor' is not a valid choice; "
        "expected one of 'cursor-monitor', 'all-monitors', 'none'; did you mean 'all-monitors'?"
    )


def test_integer_out_of_range(paths, user_file):
    user_file("[status]\npoll_interval_seconds = 5\n")
    assert str(_error(paths)) == (
        f"{paths.user_config}:2: status.poll_interval_seconds: 5 is out of range; expected an integer from 30 to 86400"
    )


def test_table_where_a_value_belongs_and_the_reverse(paths, user_file):
    user_file('capture = "none"\n[tracker.url]\nhost = "x"\n')
    messages = [str(e) for e in _error(paths).all_errors]
    assert messages == [
        f"{paths.user_config}:1: capture: got string 'none'; expected a table [capture]",
        f"{paths.user_config}:2: tracker.url: got a table; expected a string",
    ]


def test_not_toml_reports_the_line(paths, user_file):
    user_file('[reporter]\nname = "Ada"\nrole = qa\n')
    error = _error(paths)
    assert error.where == f"{paths.user_config}:3"
    assert str(error).startswith(f"{paths.user_config}:3: not valid TOML: Invalid value (column 8)")


def test_table_declared_twice_says_where_the_first_is(paths, user_file):
    user_file('[capture]\n# screenshot = "all-monitors"\n\n[reporter]\nname = "Ada"\n[capture]\nscreenshot = "none"\n')
    assert str(_error(paths)) == (
        f"{paths.user_config}:6: not valid TOML: Cannot declare [capture] twice (column 9); first declared on line 1"
    )


def test_duplicate_key_is_a_toml_error(paths, system_file):
    system_file('[reporter]\nname = "a"\nname = "b"\n')
    assert _error(paths).where == f"{paths.system_config}:3"


def test_not_utf8_reports_the_line(paths):
    paths.config_dir.mkdir(parents=True)
    paths.user_config.write_bytes(b'[reporter]\nname = "caf\xe9"\n')
    assert str(_error(paths)) == f"{paths.user_config}:2: not UTF-8 text; expected a UTF-8 encoded TOML file"


def test_byte_order_mark_is_accepted(paths):
    paths.config_dir.mkdir(parents=True)
    paths.user_config.write_bytes('\ufeff[reporter]\nname = "Ada"\n'.encode())
    assert load_config(paths, env={}).get("reporter.name") == "Ada"


def test_unreadable_file(paths, monkeypatch):
    paths.config_dir.mkdir(parents=True)
    paths.user_config.write_text("")
    real = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self == paths.user_config:
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    assert str(_error(paths)) == f"{paths.user_config}: cannot read the user file: Permission denied"


def test_config_path_is_a_directory(paths):
    paths.user_config.mkdir(parents=True)
    error = _error(paths)
    assert error.where == str(paths.user_config)
    assert error.problem.startswith("cannot read the user file: ")


def test_bad_regex(paths, user_file):
    user_file("[[privacy.rules]]\nname = \"ticket\"\npattern = 'T-[0-9'\n")
    assert str(_error(paths)) == (
        f"{paths.user_config}:3: privacy.rules[ticket].pattern: bad regular expression: "
        "unterminated character set at position 2; expected a Python regular expression"
    )


@pytest.mark.parametrize("value", ["3 days", "1h30", "0h", "2bd4h", "h"])
def test_bad_duration(paths, user_file, value):
    user_file(f'[sla.P2]\nresolution = "{value}"\n')
    error = _error(paths)
    assert (error.where, error.key) == (f"{paths.user_config}:2", "sla.P2.resolution")
    assert "'2bd' (business days)" in error.expected


def test_logs_entry_without_name(paths, user_file):
    user_file('[[logs]]\npath = "~/a.log"\n')
    assert str(_error(paths)) == (
        f"{paths.user_config}:1: logs[#1]: missing required key 'name'; expected a string"
    )


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ('name = "app"\n', "needs exactly one of 'path' or 'journal'"),
        ('name = "app"\npath = "a.log"\njournal = "app"\n', "needs exactly one of 'path' or 'journal'"),
        ('name = "app"\njournal = "pid:42"\n', "has a bad 'journal': journal source must be unit:NAME, "
                                               "identifier:NAME or a unit name, not 'pid:42'"),
        ('name = "app"\njournal = "unit:"\n', "has a bad 'journal': journal source must be unit:NAME, "
                                              "identifier:NAME or a unit name, not 'unit:'"),
    ],
)
def test_logs_entry_needs_path_or_journal(paths, user_file, body, problem):
    user_file("[[logs]]\n" + body)
    error = _error(paths)
    assert (error.where, error.key, error.problem) == (f"{paths.user_config}:1", "logs[app]", problem)


def test_logs_name_cannot_escape_the_bundle(paths, user_file):
    user_file('[[logs]]\nname = "../../etc/passwd"\npath = "x"\n')
    error = _error(paths)
    assert (error.where, error.key) == (f"{paths.user_config}:2", "logs[../../etc/passwd].name")
    assert "not a usable name" in error.problem


def test_logs_unknown_field_and_duplicate_name(paths, user_file):
    user_file('[[logs]]\nname = "a"\npath = "x"\nlins = 5\n\n[[logs]]\nname = "b"\npath = "y"\n\n'
              '[[logs]]\nname = "b"\njournal = "z"\n')
    messages = [str(e) for e in _error(paths).all_errors]
    assert messages == [
        f"{paths.user_config}:4: logs[a].lins: unknown key; did you mean 'logs.lines'?",
        f"{paths.user_config}:10: logs[b]: duplicate name, first at {paths.user_config}:6",
    ]


def test_priority_rule_checks_its_fields(paths, user_file):
    user_file('[[priority.rules]]\nimpact = "blocking"\npriority = "P0"\nmin_users = -1\n')
    messages = [str(e) for e in _error(paths).all_errors]
    assert messages == [
        f"{paths.user_config}:2: priority.rules[#1].impact: 'blocking' is not a valid choice; "
        "expected one of 'blocker', 'major', 'minor', 'cosmetic'; did you mean 'blocker'?",
        f"{paths.user_config}:3: priority.rules[#1].priority: 'P0' is not a valid choice; "
        "expected one of 'P1', 'P2', 'P3', 'P4'",
        f"{paths.user_config}:4: priority.rules[#1].min_users: -1 is out of range; expected an integer of at least 0",
    ]


def test_inline_array_of_tables_entries_are_located(paths, user_file):
    user_file('[priority]\nrules = [\n  { priority = "P1" },\n  { priority = "P9" },\n]\n')
    assert _error(paths).where == f"{paths.user_config}:4"


def test_secret_declared_by_the_backend_is_refused_in_a_file(paths, user_file):
    user_file('[tracker]\nbackend = "remote"\nspace = "QA"\napi_key = "hunter2"\n')
    message = str(_error(paths))
    assert message == (
        f"{paths.user_config}:4: tracker.api_key: secrets never live in config files; "
        "use `reporter-app login` or REPORTER_APP_TRACKER_TOKEN"
    )
    assert "hunter2" not in message


@pytest.mark.parametrize("name", ["token", "password", "private_token"])
def test_secret_looking_key_is_refused_even_if_undeclared(paths, system_file, name):
    system_file(f'[tracker]\n{name} = "hunter2"\n')
    error = _error(paths)
    assert (error.where, error.key) == (f"{paths.system_config}:2", f"tracker.{name}")
    assert error.problem.startswith("secrets never live in config files")


def test_secret_in_the_environment_is_not_a_config_value(paths):
    error = _error(paths, env={"REPORTER_APP_TRACKER_BACKEND": "remote", "REPORTER_APP_TRACKER_SPACE": "QA",
                               "REPORTER_APP_TRACKER_API_KEY": "hunter2"})
    assert str(error) == (
        "environment REPORTER_APP_TRACKER_API_KEY: tracker.api_key: a secret is never a config value; "
        "use `reporter-app login` or REPORTER_APP_TRACKER_TOKEN"
    )


def test_all_errors_are_collected_in_file_order(paths, system_file, user_file):
    system_file("[capture]\nactivity_events = -1\n")
    user_file('[reporter]\nrole = "boss"\n')
    error = _error(paths, env={"REPORTER_APP_STATUS_NOTIFY": "sometimes"})
    assert [e.where for e in error.all_errors] == [
        f"{paths.system_config}:2",
        f"{paths.user_config}:2",
        "environment REPORTER_APP_STATUS_NOTIFY",
    ]
    assert error is error.all_errors[0]


def test_error_message_format():
    error = ConfigError("unknown key", where="/x/config.toml:3", key="tracker.urll", expected="a key",
                        suggestion="tracker.url")
    assert str(error) == "/x/config.toml:3: tracker.urll: unknown key; expected a key; did you mean 'tracker.url'?"
    assert str(ConfigError("not UTF-8 text")) == "not UTF-8 text"


def test_secret_is_refused_even_when_the_backend_cannot_be_loaded(paths, user_file):
    user_file('[tracker]\nbackend = "broken"\npassword = "hunter2"\n')
    error = _error(paths)
    assert (error.where, error.key) == (f"{paths.user_config}:3", "tracker.password")
    assert "hunter2" not in str(error)
