"""A long-lived sender (the tray app's outbox worker: one AppContext, send_pending again and again) while its data
dir fills up or turns read-only. It must keep running (only OutboxError, the project's clear error, may reach the
caller, as the GUI's worker catches it), refuse new reports with a clear message, lose no queued report, and file
each one exactly once when space (or write access) returns.

tests/integration/core/test_bad_input.py covers one-shot CLI runs on a full / read-only disk and a corrupt DB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from reporter_app.app import AppContext, Draft
from reporter_app.bundle import BundleError
from reporter_app.outbox import OutboxError, OutboxState
from tests.integration.reliability.faultproxy import Fault, FaultProxy
from tests.integration.reliability.harness import (
    drive,
    evidence,
    load_context,
    queue_reports,
    record,
    redmine_keys,
    tally,
    write_config,
)
from tests.support.redmine import Redmine

# The sender's own log lines when it cannot write: expected here, not a test failure.
DISK_LOGS = pytest.mark.expect_log_warning(strict=False)


@pytest.fixture
def small_mount(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    target = tmp_path / "mnt"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def _fill(mount: Path) -> Path:
    """Fill the file system to the last block (what a runaway log does to a real disk)."""
    filler = mount / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (65536, 512):  # big writes first, then the last partial blocks
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def _keep_sending(ctx: AppContext, seconds: float, errors: Counter[str]) -> None:
    """The worker's loop while the disk is broken: anything but OutboxError escaping is a crash of the app."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            ctx.send_pending()
        except OutboxError as exc:
            errors[_reason(str(exc))] += 1
        time.sleep(0.1)


def _reason(message: str) -> str:
    lowered = message.lower()
    for marker in ("disk is full", "no space left", "read-only", "readonly"):
        if marker in lowered:
            return marker
    return message  # an unexpected wording shows up in the assertion


def _submit_refused(ctx: AppContext) -> str:
    """A new report while the disk is broken: a clear error, never a half-written bundle."""
    with pytest.raises((OSError, BundleError, OutboxError)) as caught:
        ctx.submit(Draft(title="written while the disk is broken"), evidence(99))
    return str(caught.value)


@DISK_LOGS
def test_sender_survives_a_full_disk_and_loses_nothing(redmine: Redmine, proxy: FaultProxy, key_field: int,
                                                       small_mount: Path) -> None:
    home = small_mount / "home"
    write_config(home, proxy.url, redmine.project)
    ctx = load_context(home, redmine.reporter_api_key)
    keys = queue_reports(ctx, 3, "before the disk fills")
    drive(ctx, deadline_seconds=30)
    # Tracker down for a while: these stay queued, then the disk fills up under them.
    proxy.add(Fault("status", status=503, retry_after="1"))
    keys += queue_reports(ctx, 5, "queued, disk then full")
    ctx.send_pending()
    filler = _fill(small_mount)
    proxy.clear()  # the tracker is back while the disk is still full: sends happen, bookkeeping cannot

    message = _submit_refused(ctx)
    assert "No space left on device" in message or "disk is full" in message, message
    errors: Counter[str] = Counter()
    _keep_sending(ctx, 4.0, errors)
    assert set(errors) <= {"disk is full", "no space left"}, errors

    filler.unlink()  # space returns; the same context goes on
    drive(ctx, deadline_seconds=60)
    keys += queue_reports(ctx, 2, "after space returned")
    drive(ctx, deadline_seconds=30)

    entries = ctx.outbox.entries()
    assert [e.state for e in entries] == [OutboxState.FILED] * len(keys), [(e.state, e.last_error) for e in entries]
    assert not [p for p in (home / "data" / "reports").iterdir() if p.name.startswith(".tmp-")]
    row = tally("disk full while sending", keys, redmine_keys(redmine.session, redmine.url, redmine.project,
                                                               key_field))
    record(row)
    assert row.perfect, row
    ctx.outbox.close()


@DISK_LOGS
def test_app_on_a_read_only_data_dir_keeps_running_and_loses_nothing(redmine: Redmine, proxy: FaultProxy,
                                                                     key_field: int, small_mount: Path) -> None:
    """The data dir is read-only when the app starts (a remount under a running process is refused by the kernel
    while SQLite holds its database open for writing, so the realistic case is the next start)."""
    home = small_mount / "home"
    write_config(home, proxy.url, redmine.project)
    ctx = load_context(home, redmine.reporter_api_key)
    proxy.add(Fault("status", status=503, retry_after="1"))
    keys = queue_reports(ctx, 5, "queued, then read-only")
    ctx.send_pending()
    ctx.outbox.close()
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    proxy.clear()
    try:
        ctx = load_context(home, redmine.reporter_api_key)
        assert len(ctx.outbox.entries()) == 5  # the queue is still shown
        message = _submit_refused(ctx)
        assert "Read-only file system" in message or "readonly" in message, message
        errors: Counter[str] = Counter()
        _keep_sending(ctx, 2.0, errors)
        assert set(errors) <= {"read-only", "readonly"}, errors
        ctx.outbox.close()
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_mount)], check=True)

    ctx = load_context(home, redmine.reporter_api_key)  # the next start, on a writable disk
    drive(ctx, deadline_seconds=60)
    entries = ctx.outbox.entries()
    assert [e.state for e in entries] == [OutboxState.FILED] * len(keys), [(e.state, e.last_error) for e in entries]
    row = tally("read-only data dir, then writable", keys,
                redmine_keys(redmine.session, redmine.url, redmine.project, key_field))
    record(row)
    assert row.perfect, row
    ctx.outbox.close()
