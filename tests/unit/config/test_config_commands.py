"""`reporter-app config show|check|init|path` as the functions the CLI calls."""

from __future__ import annotations

import io
import re
import tomllib

from reporter_app.config import load_config
from reporter_app.config.commands import config_check, config_init, config_path, config_show, default_template


def _run(func, *args, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    code = func(*args, out, err=err, **kwargs) if func is not config_path else func(*args, out)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ path


def test_path_lists_user_system_and_data(paths, user_file):
    user_file("")
    code, out, _ = _run(config_path, paths)
    assert code == 0
    assert out.splitlines() == [
        f"user config:   {paths.user_config}",
        f"system config: {paths.system_config}  (not present)",
        f"data dir:      {paths.data_dir}",
    ]


# ------------------------------------------------------------------ init


def test_init_writes_the_template_which_loads_cleanly(paths):
    code, out, err = _run(config_init, paths)
    assert (code, err) == (0, "")
    assert out == f"Wrote {paths.user_config}\n"
    assert paths.user_config.read_text(encoding="utf-8") == default_template()
    cfg = load_config(paths, env={})
    assert cfg.files == (paths.user_config,)
    assert not cfg.warnings
    assert [p.name for p in paths.config_dir.iterdir()] == ["config.toml"]  # no temp file left behind


def test_init_refuses_to_overwrite(paths, user_file):
    user_file('[reporter]\nname = "Ada"\n')
    code, out, err = _run(config_init, paths)
    assert (code, out) == (1, "")
    assert err == f"{paths.user_config} already exists; not overwritten (use --force to replace it)\n"
    assert 'name = "Ada"' in paths.user_config.read_text()


def test_init_force_replaces_and_keeps_a_backup(paths, user_file):
    user_file('[reporter]\nname = "Ada"\n')
    code, out, _ = _run(config_init, paths, force=True)
    assert code == 0
    backup = paths.user_config.with_name("config.toml.bak")
    assert out == f"Wrote {paths.user_config}\nThe previous file is kept as {backup}\n"
    assert backup.read_text() == '[reporter]\nname = "Ada"\n'
    assert paths.user_config.read_text(encoding="utf-8") == default_template()


def test_init_reports_an_unwritable_place(paths, tmp_path):
    blocker = tmp_path / "home"
    blocker.write_text("a file where the config directory should be")
    code, out, err = _run(config_init, paths)
    assert (code, out) == (1, "")
    assert err.startswith(f"cannot write {paths.user_config}: ")


# ------------------------------------------------------------------ check


def test_check_ok_names_the_files(paths, system_file, user_file):
    system_file('[tracker]\nurl = "https://corp"\n')
    user_file('[reporter]\nname = "Ada"\n')
    code, out, err = _run(config_check, paths, {})
    assert (code, err) == (0, "")
    assert out == f"OK: {paths.system_config}, {paths.user_config}\n"


def test_check_ok_without_files(paths):
    code, out, _ = _run(config_check, paths, {})
    assert code == 0
    assert out == (
        f"OK: no config files, defaults only (looked for {paths.system_config} and {paths.user_config})\n"
    )


def test_check_prints_every_error_and_fails(paths, user_file):
    user_file('[reporter]\nrole = "boss"\n[capture]\nscreenshot = "some"\n')
    code, out, err = _run(config_check, paths, {"REPORTER_APP_STATUS_NOTIFY": "perhaps"})
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"{paths.user_config}:2: reporter.role: 'boss' is not a valid choice")
    assert lines[1].startswith(f"{paths.user_config}:4: capture.screenshot:")
    assert lines[2].startswith("environment REPORTER_APP_STATUS_NOTIFY: status.notify:")


def test_check_warns_about_ignored_locked_values(paths, system_file, user_file):
    system_file('[admin]\nlocked = ["tracker.url"]\n[tracker]\nurl = "https://corp"\n')
    user_file('[tracker]\nurl = "https://mine"\n')
    code, out, _ = _run(config_check, paths, {})
    assert code == 0
    assert out.splitlines() == [
        f"warning: tracker.url is locked by {paths.system_config}; your value in {paths.user_config}:2 is ignored",
        f"OK: {paths.system_config}, {paths.user_config}",
    ]


def test_check_applies_command_line_overrides(paths):
    code, _, err = _run(config_check, paths, {}, overrides=["capture.activity_events=-3"])
    assert code == 1
    assert err.startswith("command line: capture.activity_events: -3 is out of range")


def test_check_system_only_ignores_the_user_file_and_environment(paths, system_file, user_file):
    system_file('[admin]\nlocked = ["tracker.url", "privacy"]\n')
    user_file("this is not toml\n")
    code, out, err = _run(config_check, paths, {"REPORTER_APP_NONSENSE_X": "1", "REPORTER_APP_TRACKER_URLL": "x"},
                          system_only=True)
    assert (code, err) == (0, "")
    assert out == f"OK: {paths.system_config} (locks: tracker.url, privacy)\n"


def test_check_system_only_finds_system_errors(paths, system_file):
    system_file('[admin]\nlockd = ["tracker.url"]\n')
    code, _, err = _run(config_check, paths, {}, system_only=True)
    assert code == 1
    assert err == f"{paths.system_config}:2: admin.lockd: unknown key; did you mean 'admin.locked'?\n"


def test_check_system_only_without_a_system_file_fails(paths):
    code, out, err = _run(config_check, paths, {}, system_only=True)
    assert (code, out) == (1, "")
    assert err == f"{paths.system_config}: no system config file to check\n"


# ------------------------------------------------------------------ show


def test_show_renders_valid_toml_with_origins_and_locks(paths, system_file, user_file):
    system_file('[admin]\nlocked = ["tracker.url"]\n[tracker]\nurl = "https://corp"\n')
    user_file('[reporter]\nname = "Ada \\"QA\\" Lovelace"\n\n[[logs]]\nname = "app"\npath = "~/app.log"\n')
    cfg = load_config(paths, env={"REPORTER_APP_STATUS_NOTIFY": "no"}, overrides=["capture.screenshot=none"])
    out = io.StringIO()
    assert config_show(cfg, out) == 0
    text = out.getvalue()
    lines = text.splitlines()
    assert f'name = "Ada \\"QA\\" Lovelace"  # {paths.user_config}:2' in lines
    assert f'url = "https://corp"  # {paths.system_config}:4, locked by {paths.system_config}' in lines
    assert "notify = false  # environment REPORTER_APP_STATUS_NOTIFY" in lines
    assert 'screenshot = "none"  # command line' in lines
    assert 'email = ""  # default' in lines
    assert f"[[logs]]  # {paths.user_config}:4" in lines
    parsed = tomllib.loads(text)
    assert parsed["reporter"]["name"] == 'Ada "QA" Lovelace'
    assert parsed["logs"] == cfg.get("logs")
    assert parsed["priority"]["rules"] == cfg.get("priority.rules")
    assert parsed["sla"]["P3"] == {"first_response": "2bd", "resolution": "14d"}


def test_show_round_trips_every_value(paths):
    cfg = load_config(paths, env={})
    out = io.StringIO()
    config_show(cfg, out)
    parsed = tomllib.loads(out.getvalue())
    for key in cfg.options:
        if cfg.options[key].secret:
            continue
        node = parsed
        for part in key.split("."):
            node = node[part]
        assert node == cfg.get(key), key


def test_show_prints_warnings_as_comments(paths, system_file, user_file):
    system_file('[admin]\nlocked = ["hotkey"]\n')
    user_file('[hotkey]\nreport = "Ctrl+B"\n')
    out = io.StringIO()
    config_show(load_config(paths, env={}), out)
    first = out.getvalue().splitlines()[0]
    assert re.fullmatch(r"# warning: hotkey\.report is locked by .*; your value in .*:2 is ignored", first)
