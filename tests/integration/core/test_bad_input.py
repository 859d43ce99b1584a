"""Bad input gets a clear one-line error naming the file, nothing is lost, and the app still starts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REPORTER_APP_HOME": str(home)}
    env.pop("DISPLAY", None)
    return subprocess.run([sys.executable, "-m", "reporter_app.cli", *args], env=env, text=True,
                          capture_output=True, timeout=60)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_config_that_is_not_toml_names_file_and_line(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text('[tracker]\nbackend = "local"\nurl = \n')
    for verb in (("status",), ("report", "--title", "x", "--no-screenshot"), ("config", "check")):
        result = run(home, *verb)
        if verb[0] == "config":
            assert result.returncode == 1 and f"{home / 'config.toml'}:3" in result.stdout + result.stderr
            continue
        assert f"{home / 'config.toml'}:3" in one_line_error(result)


def test_missing_attachment_is_refused_before_anything_is_queued(tmp_path):
    home = tmp_path / "home"
    line = one_line_error(run(home, "report", "--title", "x", "--no-screenshot", "--attach", str(tmp_path / "nope.log")))
    assert line == f"reporter-app: attachment not found: {tmp_path / 'nope.log'}"
    assert json.loads(run(home, "outbox", "list", "--json").stdout) == []


def test_corrupt_report_json_needs_attention_and_others_still_go_out(tmp_path):
    home = tmp_path / "home"
    for title in ("broken", "fine"):
        assert run(home, "report", "--title", title, "--no-screenshot", "--no-send").returncode == 0
    entries = json.loads(run(home, "outbox", "list", "--json").stdout)
    broken = Path(entries[0]["bundle"]) / "report.json"
    broken.write_text('{"title": ')
    assert run(home, "outbox", "retry").returncode == 0
    after = {e["title"]: e for e in json.loads(run(home, "outbox", "list", "--json").stdout)}
    assert after["fine"]["state"] == "filed"
    assert after["broken"]["state"] == "needs_attention"
    assert str(broken) in after["broken"]["last_error"]
    assert broken.exists()  # nothing deleted


def test_corrupt_outbox_database_is_rebuilt_and_the_app_still_starts(tmp_path):
    home = tmp_path / "home"
    assert run(home, "report", "--title", "queued before", "--no-screenshot", "--no-send").returncode == 0
    db = home / "data" / "outbox.sqlite3"
    for extra in db.parent.glob("outbox.sqlite3-*"):
        extra.unlink()
    db.write_bytes(b"\x00garbage" * 512)
    status = run(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert [r["title"] for r in json.loads(status.stdout)] == ["queued before"]
    doctor = run(home, "doctor")
    assert "set aside" in doctor.stdout
    assert run(home, "outbox", "retry").returncode == 0
    assert json.loads(run(home, "status", "--json").stdout)[0]["ticket"] == "LOCAL-1"


@pytest.fixture
def small_mount(tmp_path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    target = tmp_path / "mnt"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(target)], check=True)
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_full_disk_gives_a_clear_error_and_keeps_queued_reports(tmp_path, small_mount):
    home = small_mount / "home"
    assert run(home, "report", "--title", "fits", "--no-screenshot", "--no-send").returncode == 0
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(600_000))
    line = one_line_error(run(home, "report", "--title", "too big", "--no-screenshot", "--attach", str(big)))
    assert "No space left on device" in line and str(home) in line
    # The half-written bundle was cleaned up and the earlier report is intact and still goes out.
    assert not [p for p in (home / "data" / "reports").iterdir() if p.name.startswith(".tmp-")]
    assert run(home, "outbox", "retry").returncode == 0
    assert [e["state"] for e in json.loads(run(home, "outbox", "list", "--json").stdout)] == ["filed"]


def test_read_only_data_dir_gives_a_clear_error_and_status_still_works(tmp_path, small_mount):
    home = small_mount / "home"
    assert run(home, "report", "--title", "before", "--no-screenshot").returncode == 0
    subprocess.run(["mount", "-o", "remount,ro", str(small_mount)], check=True)
    line = one_line_error(run(home, "report", "--title", "after", "--no-screenshot"))
    assert "Read-only file system" in line or "readonly" in line
    status = run(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    assert [r["ticket"] for r in json.loads(status.stdout)] == ["LOCAL-1"]
