"""Layering: defaults < system file < user file < environment < command line, and typed access."""

from __future__ import annotations

from datetime import timedelta

import pytest

from reporter_app.config import SCHEMA, ConfigError, LogSource, load_config
from reporter_app.model import Priority


def test_defaults_without_any_file(paths):
    cfg = load_config(paths, env={})
    assert cfg.files == ()
    assert cfg.get("tracker.backend") == "local"
    assert cfg.get("hotkey.report") == "Ctrl+Alt+B"
    assert cfg.get("capture.activity_events") == 20
    assert cfg.get("privacy.scrub_home") is True
    assert cfg.get("outbox.base_backoff_seconds") == 5.0
    assert cfg.origin("tracker.url") == "default"
    assert cfg.logs == []
    assert cfg.paths is paths
    for key, option in SCHEMA.items():
        expected = list(option.default) if isinstance(option.default, tuple) else option.default
        assert cfg.get(key) == expected, key


@pytest.mark.parametrize(
    ("layers", "value", "origin"),
    [
        ((), "", "default"),
        (("system",), "https://system.example", "{system}:2"),
        (("system", "user"), "https://user.example", "{user}:2"),
        (("system", "user", "env"), "https://env.example", "environment REPORTER_APP_TRACKER_URL"),
        (("system", "user", "env", "cli"), "https://cli.example", "command line"),
        (("system", "cli"), "https://cli.example", "command line"),
        (("user", "env"), "https://env.example", "environment REPORTER_APP_TRACKER_URL"),
    ],
)
def test_each_layer_overrides_the_one_below(paths, system_file, user_file, layers, value, origin):
    if "system" in layers:
        system_file('[tracker]\nurl = "https://system.example"\n')
    if "user" in layers:
        user_file('[tracker]\nurl = "https://user.example"\n')
    env = {"REPORTER_APP_TRACKER_URL": "https://env.example"} if "env" in layers else {}
    overrides = ["tracker.url=https://cli.example"] if "cli" in layers else []
    cfg = load_config(paths, env=env, overrides=overrides)
    assert cfg.get("tracker.url") == value
    assert cfg.origin("tracker.url") == origin.format(system=paths.system_config, user=paths.user_config)


def test_origin_names_the_exact_line(paths, user_file):
    user_file('# my settings\n\n[reporter]\nname = "Ada"\n\n[capture]\n# one monitor\nscreenshot = "none"\n')
    cfg = load_config(paths, env={})
    assert cfg.origin("reporter.name") == f"{paths.user_config}:4"
    assert cfg.origin("capture.screenshot") == f"{paths.user_config}:8"
    assert cfg.origin("reporter.email") == "default"
    assert cfg.files == (paths.user_config,)


def test_dotted_keys_and_inline_tables_are_located(paths, user_file):
    user_file('reporter.name = "Ada"\ncapture = { screenshot = "none", activity_events = 3 }\n')
    cfg = load_config(paths, env={})
    assert (cfg.get("reporter.name"), cfg.get("capture.activity_events")) == ("Ada", 3)
    assert cfg.origin("reporter.name") == f"{paths.user_config}:1"
    assert cfg.origin("capture.activity_events") == f"{paths.user_config}:2"


def test_env_values_are_parsed_by_type(paths):
    env = {
        "REPORTER_APP_CAPTURE_ACTIVITY_EVENTS": " 42 ",
        "REPORTER_APP_PRIVACY_SCRUB_IPS": "Yes",
        "REPORTER_APP_PRIVACY_SCRUB_HOME": "0",
        "REPORTER_APP_STATUS_NOTIFY": "off",
        "REPORTER_APP_CAPTURE_ENV_ALLOWLIST": "LANG, DISPLAY,,TZ",
        "REPORTER_APP_OUTBOX_BASE_BACKOFF_SECONDS": "2.5",
        "REPORTER_APP_REPORT_COMPONENTS": '["Login, SSO", "Billing"]',
        "REPORTER_APP_REPORTER_NAME": "Ada Tester",
        "REPORTER_APP_SLA_P1_FIRST_RESPONSE": "30m",
    }
    cfg = load_config(paths, env=env)
    assert cfg.get("capture.activity_events") == 42
    assert cfg.get("privacy.scrub_ips") is True
    assert cfg.get("privacy.scrub_home") is False
    assert cfg.get("status.notify") is False
    assert cfg.get("capture.env_allowlist") == ["LANG", "DISPLAY", "TZ"]
    assert cfg.get("outbox.base_backoff_seconds") == 2.5
    assert cfg.get("report.components") == ["Login, SSO", "Billing"]
    assert cfg.get("reporter.name") == "Ada Tester"
    assert cfg.sla("P1").first_response.delta == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REPORTER_APP_PRIVACY_SCRUB_IPS", "maybe", "got 'maybe'; expected one of 1, 0, true, false, yes, no, on, off"),
        ("REPORTER_APP_CAPTURE_ACTIVITY_EVENTS", "many", "got string 'many'; expected an integer from 0 to 1000"),
        ("REPORTER_APP_CAPTURE_SCREENSHOT", "cursor", "'cursor' is not a valid choice"),
    ],
)
def test_bad_env_value_names_the_variable(paths, name, value, message):
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={name: value})
    text = str(caught.value)
    assert text.startswith(f"environment {name}: ")
    assert message in text


def test_unknown_env_setting_is_an_error_with_suggestion(paths):
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={"REPORTER_APP_TRACKER_URLL": "x"})
    assert str(caught.value) == (
        "environment REPORTER_APP_TRACKER_URLL: tracker.urll: unknown key for the 'local' backend; "
        "did you mean 'REPORTER_APP_TRACKER_URL'?"
    )


def test_env_with_misspelt_table_is_an_error(paths):
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={"REPORTER_APP_CAPTRE_SCREENSHOT": "none"})
    assert str(caught.value) == (
        "environment REPORTER_APP_CAPTRE_SCREENSHOT: unknown setting; did you mean 'REPORTER_APP_CAPTURE_SCREENSHOT'?"
    )


def test_non_config_env_variables_are_ignored(paths):
    env = {
        "REPORTER_APP_HOME": "/somewhere",
        "REPORTER_APP_SYSTEM_CONFIG": "/etc/x.toml",
        "REPORTER_APP_TRACKER_TOKEN": "s3cret",
        "REPORTER_APP_TESTS_REQUIRE_ALL": "1",  # the test harness's own switch
        "PATH": "/usr/bin",
    }
    cfg = load_config(paths, env=env)
    assert "token" not in cfg.section("tracker")
    assert "s3cret" not in cfg.as_toml()


def test_command_line_override_wins_and_is_typed(paths, user_file):
    user_file("[capture]\nactivity_events = 7\n")
    cfg = load_config(
        paths,
        env={"REPORTER_APP_CAPTURE_ACTIVITY_EVENTS": "8"},
        overrides=["capture.activity_events=9", "report.components=UI,Sync", "reporter.name=Ada = QA"],
    )
    assert cfg.get("capture.activity_events") == 9
    assert cfg.origin("capture.activity_events") == "command line"
    assert cfg.get("report.components") == ["UI", "Sync"]
    assert cfg.get("reporter.name") == "Ada = QA"  # only the first '=' separates


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("capture.screenshot", "command line: --set 'capture.screenshot' has no '='; expected section.key=value"),
        (
            "tracker.urll=x",
            "command line: tracker.urll: unknown key for the 'local' backend; did you mean 'tracker.url'?",
        ),
        ("logs=x", "command line: logs: arrays of tables can't be set on the command line; use a config file"),
        ("status.poll_interval_seconds=5", "command line: status.poll_interval_seconds: 5 is out of range"),
    ],
)
def test_bad_command_line_override(paths, override, message):
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={}, overrides=[override])
    assert str(caught.value).startswith(message)


def test_section_includes_backend_settings_with_defaults(paths, user_file):
    user_file('[tracker]\nurl = "https://t.example"\nkey_prefix = "QA"\n')
    cfg = load_config(paths, env={})
    assert cfg.section("tracker") == {
        "backend": "local",
        "url": "https://t.example",
        "project": "",
        "timeout_seconds": 30.0,
        "folder": "",
        "key_prefix": "QA",
    }
    assert cfg.origin("tracker.key_prefix") == f"{paths.user_config}:3"


def test_selected_backend_decides_the_tracker_keys(paths, user_file):
    user_file('[tracker]\nbackend = "remote"\nspace = "QA"\nretries = 5\n')
    cfg = load_config(paths, env={})
    assert cfg.section("tracker") == {
        "backend": "remote",
        "url": "",
        "project": "",
        "timeout_seconds": 30.0,
        "space": "QA",
        "retries": 5,
    }
    with pytest.raises(KeyError, match="secret"):
        cfg.get("tracker.api_key")


def test_backend_chosen_in_env_selects_its_settings(paths, user_file):
    user_file('[tracker]\nspace = "QA"\n')
    cfg = load_config(paths, env={"REPORTER_APP_TRACKER_BACKEND": "remote"})
    assert cfg.get("tracker.space") == "QA"


def test_backend_setting_is_type_checked(paths, user_file):
    user_file('[tracker]\nbackend = "remote"\nspace = "QA"\nretries = "many"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={})
    assert str(caught.value) == (
        f"{paths.user_config}:4: tracker.retries: got string 'many'; expected an integer from 0 to 10"
    )


def test_required_backend_setting_missing(paths, user_file):
    user_file('[tracker]\nbackend = "remote"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={})
    assert str(caught.value) == (
        f"{paths.user_config}:2: tracker.space: required by the 'remote' tracker backend; expected a string"
    )


def test_another_backends_setting_is_ignored_with_a_warning(paths, user_file):
    user_file('[tracker]\nbackend = "local"\nspace = "QA"\n')
    cfg = load_config(paths, env={})
    assert "space" not in cfg.section("tracker")
    assert cfg.warnings == (
        f"{paths.user_config}:3: tracker.space is a setting of the 'remote' backend, not of 'local'; ignored",
    )


def test_unloadable_backend_keeps_its_settings_unchecked(paths, user_file):
    user_file('[tracker]\nbackend = "broken"\nanything = 3\n')
    cfg = load_config(paths, env={})
    assert cfg.get("tracker.backend") == "broken"
    assert cfg.section("tracker")["anything"] == 3
    assert len(cfg.warnings) == 1
    assert cfg.warnings[0].startswith("tracker backend 'broken' could not be loaded (No module named")


def test_unknown_backend_lists_the_choices(paths, user_file):
    user_file('[tracker]\nbackend = "remot"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={})
    assert str(caught.value) == (
        f"{paths.user_config}:2: tracker.backend: 'remot' is not a valid choice; "
        "expected one of 'broken', 'local', 'remote'; did you mean 'remote'?"
    )


def test_logs_are_typed_and_defaulted(paths, user_file):
    user_file(
        '[[logs]]\nname = "app"\npath = "~/app/*.log"\nlines = 50\n\n'
        '[[logs]]\nname = "svc"\njournal = "svc.service"\n'
    )
    cfg = load_config(paths, env={})
    assert cfg.logs == [
        LogSource(name="app", path="~/app/*.log", lines=50),
        LogSource(name="svc", journal="svc.service"),
    ]
    assert cfg.get("logs")[1] == {
        "name": "svc",
        "path": "",
        "journal": "svc.service",
        "journal_file": "",
        "lines": 500,
        "minutes": 0,
        "max_bytes": 1_048_576,
        "max_line_length": 4096,
    }
    assert cfg.origin("logs") == f"{paths.user_config}:1"


def test_journal_file_goes_with_a_journal(paths, user_file):
    user_file('[[logs]]\nname = "c"\njournal = "identifier:db"\njournal_file = "/mnt/c/var/log/journal"\n')
    assert load_config(paths, env={}).logs[0].journal_file == "/mnt/c/var/log/journal"
    user_file('[[logs]]\nname = "c"\npath = "/tmp/x.log"\njournal_file = "/mnt/c/var/log/journal"\n')
    with pytest.raises(ConfigError, match="has 'journal_file' without 'journal'"):
        load_config(paths, env={})


def test_logs_merge_by_name_across_layers(paths, system_file, user_file):
    system_file('[[logs]]\nname = "app"\npath = "/var/log/app.log"\n\n[[logs]]\nname = "db"\njournal = "db"\n')
    user_file('[[logs]]\nname = "app"\npath = "~/app.log"\n\n[[logs]]\nname = "mine"\npath = "~/mine.log"\n')
    cfg = load_config(paths, env={})
    merged = [(source.name, source.path or source.journal) for source in cfg.logs]
    assert merged == [("app", "~/app.log"), ("db", "db"), ("mine", "~/mine.log")]


def test_priority_rules_are_replaced_as_a_whole(paths, system_file, user_file):
    system_file('[[priority.rules]]\nimpact = "blocker"\npriority = "P1"\nreason = "admin"\n')
    user_file('[[priority.rules]]\npriority = "P3"\nreason = "mine"\n')
    cfg = load_config(paths, env={})
    assert cfg.get("priority.rules") == [{"priority": "P3", "reason": "mine"}]


def test_default_priority_rules_match_the_severity_module(paths):
    severity = pytest.importorskip("reporter_app.severity")
    cfg = load_config(paths, env={})
    assert severity.rules_from_config(cfg.get("priority.rules")) == severity.DEFAULT_RULES
    assert severity.suggest_priority(
        severity.Impact.BLOCKER, severity.Reach.MANY_USERS, rules=severity.rules_from_config(cfg.get("priority.rules"))
    ).priority == Priority.P1


def test_privacy_rules_come_as_plain_tables(paths, user_file):
    user_file("[[privacy.rules]]\nname = \"ticket\"\npattern = 'T-\\d+'\n")
    cfg = load_config(paths, env={})
    assert cfg.get("privacy.rules") == [{"name": "ticket", "pattern": r"T-\d+"}]
    assert cfg.section("privacy")["rules"] == [{"name": "ticket", "pattern": r"T-\d+"}]


def test_sla_targets_are_parsed(paths, user_file):
    user_file('[sla.P4]\nresolution = "1w"\n')
    cfg = load_config(paths, env={})
    assert cfg.sla(Priority.P1).first_response.delta == timedelta(hours=1)
    assert cfg.sla("P3").first_response.business_days == 2
    assert cfg.sla("P4").first_response is None
    assert cfg.sla("P4").resolution.delta == timedelta(weeks=1)
    assert cfg.section("sla")["P2"] == {"first_response": "4h", "resolution": "3d"}


def test_get_returns_copies_and_rejects_unknown_keys(paths):
    cfg = load_config(paths, env={})
    cfg.get("capture.env_allowlist").append("HOME")
    assert "HOME" not in cfg.get("capture.env_allowlist")
    with pytest.raises(KeyError, match="did you mean 'tracker.url'"):
        cfg.get("tracker.urll")
    with pytest.raises(KeyError):
        cfg.section("nothing")


def test_missing_files_are_fine(paths):
    assert not paths.user_config.exists() and not paths.system_config.exists()
    assert load_config(paths, env={}).files == ()


def test_real_local_backend_joins_the_tracker_section(paths, real_backends):
    """The real registry, not the fakes: skipped until the local backend exists."""
    import reporter_app.trackers as trackers

    pytest.importorskip("reporter_app.trackers.local")
    cfg = load_config(paths, env={})
    declared = {option.key for option in trackers.load_backend("local").options}
    assert declared
    assert declared <= set(cfg.section("tracker"))
