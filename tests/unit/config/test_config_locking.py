"""`[admin] locked` in the system file: locked keys keep the admin's value; other layers are ignored with a warning."""

from __future__ import annotations

import pytest

from reporter_app.config import ConfigError, load_config


def test_locked_key_keeps_the_system_value_and_warns(paths, system_file, user_file):
    system_file('[admin]\nlocked = ["tracker.url"]\n\n[tracker]\nurl = "https://corp.example"\n')
    user_file('[tracker]\nurl = "https://mine.example"\nproject = "mine"\n')
    cfg = load_config(paths, env={})
    assert cfg.get("tracker.url") == "https://corp.example"
    assert cfg.origin("tracker.url") == f"{paths.system_config}:5"
    assert cfg.get("tracker.project") == "mine"  # not locked
    assert cfg.is_locked("tracker.url") and not cfg.is_locked("tracker.project")
    assert cfg.warnings == (
        f"tracker.url is locked by {paths.system_config}; your value in {paths.user_config}:2 is ignored",
    )


def test_locked_key_unset_in_the_system_file_keeps_the_default(paths, system_file, user_file):
    system_file('[admin]\nlocked = ["capture.screenshot"]\n')
    user_file('[capture]\nscreenshot = "none"\n')
    cfg = load_config(paths, env={})
    assert cfg.get("capture.screenshot") == "cursor-monitor"
    assert cfg.origin("capture.screenshot") == "default"


def test_environment_and_command_line_cannot_change_a_locked_key(paths, system_file):
    system_file('[admin]\nlocked = ["privacy.scrub_emails"]\n')
    cfg = load_config(paths, env={"REPORTER_APP_PRIVACY_SCRUB_EMAILS": "0"}, overrides=["privacy.scrub_emails=false"])
    assert cfg.get("privacy.scrub_emails") is True
    assert cfg.warnings == (
        f"privacy.scrub_emails is locked by {paths.system_config}; "
        "your value in environment REPORTER_APP_PRIVACY_SCRUB_EMAILS is ignored",
        f"privacy.scrub_emails is locked by {paths.system_config}; your value on the command line is ignored",
    )


def test_locking_a_table_locks_all_its_keys_and_arrays(paths, system_file, user_file):
    system_file('[admin]\nlocked = ["privacy", "logs"]\n\n[[logs]]\nname = "app"\npath = "/var/log/app.log"\n')
    user_file('[privacy]\nscrub_ips = true\n\n[[privacy.rules]]\nname = "x"\npattern = "x"\n\n'
              '[[logs]]\nname = "mine"\npath = "~/mine.log"\n')
    cfg = load_config(paths, env={})
    assert cfg.get("privacy.scrub_ips") is False
    assert cfg.get("privacy.rules") == []
    assert [source.name for source in cfg.logs] == ["app"]
    assert cfg.is_locked("privacy.rules") and cfg.is_locked("privacy.scrub_home")
    assert len(cfg.warnings) == 3


def test_locked_backend_decides_which_tracker_keys_exist(paths, system_file, user_file):
    system_file('[admin]\nlocked = ["tracker.backend"]\n[tracker]\nbackend = "remote"\nspace = "CORP"\n')
    user_file('[tracker]\nbackend = "local"\nretries = 1\n')
    cfg = load_config(paths, env={"REPORTER_APP_TRACKER_BACKEND": "local"})
    assert cfg.get("tracker.backend") == "remote"
    assert cfg.get("tracker.retries") == 1


def test_user_file_admin_table_is_rejected(paths, user_file):
    user_file('[admin]\nlocked = ["tracker.url"]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={})
    assert str(caught.value) == (
        f"{paths.user_config}:1: admin: [admin] is honoured only in the system file ({paths.system_config})"
    )


@pytest.mark.parametrize(
    ("env", "overrides"),
    [({"REPORTER_APP_ADMIN_LOCKED": "tracker.url"}, []), ({}, ["admin.locked=tracker.url"])],
)
def test_admin_cannot_be_set_from_environment_or_command_line(paths, env, overrides):
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env=env, overrides=overrides)
    assert caught.value.key == "admin.locked"
    assert "honoured only in the system file" in caught.value.problem


def test_unknown_locked_key_is_an_error_with_suggestion(paths, system_file):
    system_file('[admin]\nlocked = [\n  "tracker.url",\n  "capture.screenshots",\n]\n')
    with pytest.raises(ConfigError) as caught:
        load_config(paths, env={})
    assert str(caught.value) == (
        f"{paths.system_config}:2: admin.locked: unknown key 'capture.screenshots'; "
        "expected keys or tables; did you mean 'capture.screenshot'?"
    )


def test_another_backends_key_may_be_locked(paths, system_file):
    """The admin may lock a remote backend's settings before switching everyone to it."""
    system_file('[admin]\nlocked = ["tracker.space"]\n')
    cfg = load_config(paths, env={})
    assert cfg.get("tracker.backend") == "local"
    assert cfg.is_locked("tracker.space")


def test_locked_backend_setting_from_the_system_file_wins(paths, system_file):
    system_file('[admin]\nlocked = ["tracker.space"]\n[tracker]\nbackend = "remote"\nspace = "CORP"\n')
    cfg = load_config(paths, env={"REPORTER_APP_TRACKER_SPACE": "MINE"})
    assert cfg.get("tracker.space") == "CORP"
    assert cfg.warnings == (
        f"tracker.space is locked by {paths.system_config}; your value in environment REPORTER_APP_TRACKER_SPACE "
        "is ignored",
    )


def test_check_of_a_locked_value_in_the_user_file_is_skipped(paths, system_file, user_file):
    """A value that can't take effect is not worth refusing to start over."""
    system_file('[admin]\nlocked = ["capture.activity_events"]\n')
    user_file("[capture]\nactivity_events = \"lots\"\n")
    cfg = load_config(paths, env={})
    assert cfg.get("capture.activity_events") == 20
    assert len(cfg.warnings) == 1
