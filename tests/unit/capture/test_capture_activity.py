from __future__ import annotations

import sys

import pytest

from capture.activity import ActivityRecorder, foreground_window


@pytest.mark.skipif(sys.platform != "linux", reason="checks the X11 guard")
def test_without_display(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    assert foreground_window() is None
    recorder = ActivityRecorder()
    assert recorder.start() is False
    assert recorder.unavailable and "DISPLAY" in recorder.unavailable
    assert recorder.fileno() == -1 and recorder.poll() == 0 and recorder.snapshot() == []
