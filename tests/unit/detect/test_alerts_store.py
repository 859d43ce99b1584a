"""Snoozes and mutes outlive a restart: silenced.json in a real data dir, a fake clock, the real CLI."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reporter_app import cli
from reporter_app.clock import FakeClock, utc_iso
from reporter_app.detect.alerts import (
    SILENCES_FILE,
    AlertAction,
    AlertPolicy,
    AlertRule,
    Silence,
    SilenceKind,
    SilenceStore,
)
from reporter_app.detect.events import ErrorEvent

LINE = ErrorEvent(kind="line", lines=("ERROR db timeout",), line_number=1)
OTHER = ErrorEvent(kind="line", lines=("ERROR disk full",), line_number=1)
FP1 = "brfp-0123456789ab"
FP2 = "brfp-ba9876543210"
NO_COOLDOWN = AlertRule("default", cooldown_minutes=0)


def _policy(data_dir: Path, clock: FakeClock) -> AlertPolicy:
    """A policy as the app builds it at start (a restart is a new one on the same directory)."""
    return AlertPolicy(clock, default=NO_COOLDOWN, store=SilenceStore.in_data_dir(data_dir, clock))


def test_mute_and_snooze_survive_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    first = _policy(tmp_path, clock)
    assert first.observe(LINE, FP1).notify and first.observe(OTHER, FP2).notify
    first.mute(FP1)
    until = first.snooze(FP2, minutes=60)
    first.sync()

    clock.advance(5 * 60)
    restarted = _policy(tmp_path, clock)
    assert restarted.is_muted(FP1)
    assert restarted.observe(LINE, FP1).reason == "muted"
    snoozed = restarted.observe(OTHER, FP2)
    assert snoozed.action is AlertAction.NONE and "snoozed" in snoozed.reason
    [muted, snooze] = restarted.silences()
    # The error's line is kept with the choice, so a list of silenced fingerprints means something.
    assert (muted.fingerprint, muted.kind, muted.until, muted.title) == (FP1, SilenceKind.MUTE, None,
                                                                          "ERROR db timeout")
    assert (snooze.fingerprint, snooze.kind, snooze.until, snooze.title) == (FP2, SilenceKind.SNOOZE, until,
                                                                              "ERROR disk full")


def test_an_ended_snooze_is_dropped_at_start_and_from_the_file(tmp_path: Path) -> None:
    clock = FakeClock()
    first = _policy(tmp_path, clock)
    first.snooze(FP1, minutes=10)
    first.mute(FP2)
    first.sync()
    clock.advance(11 * 60)
    restarted = _policy(tmp_path, clock)
    assert [s.fingerprint for s in restarted.silences()] == [FP2]
    assert restarted.observe(LINE, FP1).notify
    restarted.unmute(FP2)
    restarted.sync()
    assert json.loads((tmp_path / SILENCES_FILE).read_text())["silenced"] == []


def test_choices_are_written_by_sync_not_when_made(tmp_path: Path) -> None:
    # snooze()/mute() run on the GUI thread: memory only; the watching thread's sync() writes.
    clock = FakeClock()
    policy = _policy(tmp_path, clock)
    policy.mute(FP1)
    assert not (tmp_path / SILENCES_FILE).exists()
    assert policy.observe(LINE, FP1).reason == "muted"
    policy.sync()
    document = json.loads((tmp_path / SILENCES_FILE).read_text(encoding="utf-8"))
    assert document["version"] == 1
    assert document["silenced"] == [{"fingerprint": FP1, "kind": "mute", "since": "2026-01-05T09:00:00Z",
                                     "until": None, "title": ""}]
    assert not list(tmp_path.glob(f".{SILENCES_FILE}.*.tmp"))  # written atomically: no temp file left


@pytest.mark.expect_log_warning(match=r"unreadable .* set aside as silenced\.json\.corrupt-20260105T090000Z",
                                logger="reporter_app.detect.alerts")
def test_a_corrupt_file_is_set_aside_and_the_app_still_starts(tmp_path: Path) -> None:
    path = tmp_path / SILENCES_FILE
    path.write_text('{"version": 1, "silenced": [{"fingerprint": "brfp-0123', encoding="utf-8")
    clock = FakeClock()
    policy = _policy(tmp_path, clock)
    assert policy.silences() == []
    assert policy.observe(LINE, FP1).notify
    aside = tmp_path / f"{SILENCES_FILE}.corrupt-20260105T090000Z"
    assert aside.read_text(encoding="utf-8").startswith('{"version": 1')  # kept for a person to look at
    assert not path.exists()
    policy.mute(FP1)
    policy.sync()
    assert list(SilenceStore(path, clock).load()) == [FP1]


@pytest.mark.parametrize("document", [
    '["not", "an", "object"]',
    '{"version": 99, "silenced": []}',
    '{"version": 1, "silenced": [{"fingerprint": "brfp-0123456789ab", "kind": "snooze", '
    '"since": "2026-01-05T09:00:00Z", "until": null}]}',
    '{"version": 1, "silenced": [{"fingerprint": "x", "kind": "forget", "since": "2026-01-05T09:00:00Z"}]}',
    '{"version": 1, "silenced": [{"fingerprint": "x", "kind": "mute", "since": "yesterday"}]}',
])
@pytest.mark.expect_log_warning(match="set aside", logger="reporter_app.detect.alerts")
def test_what_we_did_not_write_is_set_aside(tmp_path: Path, document: str) -> None:
    (tmp_path / SILENCES_FILE).write_text(document, encoding="utf-8")
    assert SilenceStore.in_data_dir(tmp_path, FakeClock()).load() == {}
    assert len(list(tmp_path.glob(f"{SILENCES_FILE}.corrupt-*"))) == 1


def test_another_process_unmuting_is_picked_up_and_choices_merge(tmp_path: Path) -> None:
    clock = FakeClock()
    app = _policy(tmp_path, clock)
    app.mute(FP1)
    app.sync()
    assert app.observe(LINE, FP1).reason == "muted"

    # `reporter-app fingerprint --unmute` meanwhile, while the app mutes another error (not yet written).
    cli_store = SilenceStore.in_data_dir(tmp_path, clock)
    cli_store.update(lambda silences: silences.pop(FP1))
    app.mute(FP2)
    app.sync()
    assert app.observe(LINE, FP1).notify  # the CLI's unmute holds
    assert list(cli_store.load()) == [FP2]  # and the app's mute was not lost


def test_nothing_is_read_again_while_the_file_is_unchanged(tmp_path: Path) -> None:
    clock = FakeClock()
    store = SilenceStore.in_data_dir(tmp_path, clock)
    policy = AlertPolicy(clock, store=store)
    policy.mute(FP1)
    policy.sync()
    assert not store.changed()
    (tmp_path / SILENCES_FILE).write_text('{"version": 1, "silenced": []}\n', encoding="utf-8")
    assert store.changed()
    policy.sync()
    assert not store.changed() and not policy.is_muted(FP1)


def test_a_failed_write_is_logged_once_and_the_choice_holds(tmp_path: Path, log_guard: Any) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be", encoding="utf-8")
    clock = FakeClock()
    policy = AlertPolicy(clock, store=SilenceStore.in_data_dir(blocker, clock))
    policy.mute(FP1)
    with log_guard.expected(match="snoozes and mutes not saved", logger="reporter_app.detect.alerts") as records:
        policy.sync()
        policy.sync()
    assert policy.is_muted(FP1)
    assert len(records) == 1 and records[0].levelno == logging.ERROR
    blocker.unlink()
    policy.sync()  # the disk is back: the choice is written
    assert list(SilenceStore.in_data_dir(blocker, clock).load()) == [FP1]


def test_policy_without_store_is_memory_only(tmp_path: Path) -> None:
    policy = AlertPolicy(FakeClock(), default=NO_COOLDOWN)
    policy.mute(FP1)
    policy.sync()
    assert policy.is_muted(FP1) and list(tmp_path.iterdir()) == []


def test_silence_json_round_trip() -> None:
    clock = FakeClock()
    silence = Silence(FP1, SilenceKind.SNOOZE, clock.now(), clock.now(), "ERROR x — déjà")
    assert Silence.from_json(json.loads(json.dumps(silence.to_json()))) == silence


# ---------------------------------------------------------------- reporter-app fingerprint --muted / --unmute


SNOOZE_MINUTES = 60 * 24 * 365 * 50  # the CLI runs on the real clock: this snooze is still on then


def _seed(home: Path) -> None:
    clock = FakeClock()
    policy = AlertPolicy(clock, store=SilenceStore.in_data_dir(home / "data", clock))
    policy.observe(LINE, FP1)
    policy.mute(FP1)
    policy.snooze(FP2, minutes=SNOOZE_MINUTES, title="KeyError: 'currency'")
    policy.sync()


def test_cli_lists_and_unmutes(reporter_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fingerprint", "--muted"]) == 0
    assert capsys.readouterr().out == "No error is muted or snoozed.\n"
    _seed(reporter_home)
    assert cli.main(["fingerprint", "--muted"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"{FP1}\tmuted since 2026-01-05T09:00:00Z\tERROR db timeout",
                     f"{FP2}\tsnoozed until {utc_iso(FakeClock().now() + timedelta(minutes=SNOOZE_MINUTES))}"
                     "\tKeyError: 'currency'"]

    assert cli.main(["fingerprint", "--unmute", FP1]) == 0
    assert capsys.readouterr().out == f"unmuted {FP1}\n"
    assert cli.main(["fingerprint", "--unmute", FP2]) == 0
    assert capsys.readouterr().out == f"unsnoozed {FP2}\n"
    assert cli.main(["--home", str(reporter_home), "fingerprint", "--muted"]) == 0
    assert capsys.readouterr().out == "No error is muted or snoozed.\n"

    assert cli.main(["fingerprint", "--unmute", FP1]) == 1
    assert capsys.readouterr().err == f"reporter-app: {FP1} is neither muted nor snoozed\n"


@pytest.mark.parametrize(("argv", "message"), [
    (["fingerprint", "--unmute", "brfp-XYZ"], "'brfp-XYZ' is not a fingerprint"),
    (["fingerprint"], "fingerprint needs a FILE"),
    (["fingerprint", "app.log", "--muted"], "a FILE, or --muted, or --unmute FP"),
])
def test_cli_usage_errors(reporter_home: Path, capsys: pytest.CaptureFixture[str], argv: list[str],
                          message: str) -> None:
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err and captured.out == ""
    assert not (reporter_home / "data").exists()  # a usage error creates nothing


def test_cli_works_with_a_broken_config(reporter_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (reporter_home / "config.toml").write_text("[tracker\n", encoding="utf-8")
    _seed(reporter_home)
    assert cli.main(["fingerprint", "--unmute", FP1]) == 0
    assert capsys.readouterr().out == f"unmuted {FP1}\n"


# ---------------------------------------------------------------- the service: a mute from the tray outlives a restart


def test_a_mute_chosen_in_the_app_holds_after_a_restart(reporter_home: Path) -> None:
    from reporter_app.app import AppContext
    from reporter_app.detect.service import DetectionService
    from reporter_app.detect.watch import LogWatcher

    log_file = reporter_home / "shop.log"
    log_file.write_text("", encoding="utf-8")
    (reporter_home / "config.toml").write_text(
        f'[[logs]]\nname = "shop"\npath = "{log_file}"\n\n[detect]\nenabled = true\n', encoding="utf-8")
    clock = FakeClock()

    def service() -> DetectionService:
        ctx = AppContext.load(home=str(reporter_home), env={}, clock=clock)
        return DetectionService(ctx, watcher=LogWatcher([str(log_file)], use_inotify=False, coalesce=0))

    first = service()
    try:
        with open(log_file, "a", encoding="utf-8") as fh:
            fh.write("2026-01-05 09:00:00 ERROR shop.db: connection refused\n")
        first.watcher.idle_flush = 0
        [detection] = first.detect()
        first.mute(detection.fingerprint)  # what the prompt's "Don't ask about this error" does, on the GUI thread
        started = time.monotonic()
        first.wait()  # mute() woke the watcher: its thread saves the choice at once
        assert time.monotonic() - started < 0.5
        first.detect()
        saved = json.loads((reporter_home / "data" / SILENCES_FILE).read_text(encoding="utf-8"))["silenced"]
        assert [(s["fingerprint"], s["kind"], s["title"]) for s in saved] == [
            (detection.fingerprint, "mute", "connection refused")]
    finally:
        first.close()
    again = service()
    try:
        assert again.policy.is_muted(detection.fingerprint)
    finally:
        again.close()
