"""`reporter-app fingerprint [--lines] FILE` output."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from reporter_app.detect.commands import fingerprint_file


def test_events_mode_prints_fingerprint_and_first_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text("INFO start\nTraceback (most recent call last):\n  File \"a.py\", line 1, in f\n    f()\n"
                   "ValueError: x\nERROR disk full\nINFO ok\n")
    out = io.StringIO()
    assert fingerprint_file(log, per_line=False, out=out) == 0
    rows = [line.split("\t") for line in out.getvalue().splitlines()]
    assert [r[1] for r in rows] == ["Traceback (most recent call last):", "ERROR disk full"]
    assert all(r[0].startswith("brfp-") for r in rows)


def test_lines_mode_one_per_line(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_bytes(b"user 1 in\nuser 2 in\n\xff broken byte\n")
    out = io.StringIO()
    assert fingerprint_file(log, per_line=True, out=out) == 0
    prints = out.getvalue().splitlines()
    assert len(prints) == 3 and prints[0] == prints[1] != prints[2]


def test_missing_file_is_exit_1_with_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fingerprint_file(tmp_path / "nope.log", per_line=False, out=io.StringIO()) == 1
    assert "cannot read" in capsys.readouterr().err
