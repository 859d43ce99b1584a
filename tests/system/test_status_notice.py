"""The real app under Xvfb + openbox follows a ticket and announces an engineer's burst of changes once.

Timeline (docs/ui.md, "Status notices"): the app syncs the outbox at least every LOCAL_SYNC_S (15 s), so a
report filed by `reporter-app report` in another process is followed within 15 s; a freshly followed ticket
is due at once, so that same round looks at it. The next look comes one cadence interval later:
`[status] poll_interval_seconds = 30`, the schema's minimum. So this test takes about 30-50 s.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reporter_app.trackers.base import TrackerContext
from reporter_app.trackers.local import LocalTracker
from tests.support.display import XServer
from tests.system.support_ui import RunningApp, save_screenshot, start_app, wait_window

TITLE = "Totals are wrong"
CONFIG = '[reporter]\nname = "Ada Tester"\nrole = "qa"\n\n[status]\npoll_interval_seconds = 30\n'


@pytest.fixture
def app(openbox: XServer, reporter_home: Path) -> Iterator[RunningApp]:
    (reporter_home / "config.toml").write_text(CONFIG, encoding="utf-8")
    running = start_app(openbox, reporter_home)
    try:
        running.wait_trace("ready")
        running.wait_trace("status-poll", timeout=10)  # the first round, a moment after the tray is up
        yield running
    finally:
        running.stop()


def _poll_detail(app: RunningApp) -> dict[str, int]:
    """The last `trace status-poll <t> looked=N changes=M next=S` line read, as numbers."""
    detail = app.details("status-poll")[-1]
    return {k: int(v) for k, v in (part.split("=") for part in detail.split())}


def test_an_engineers_burst_is_one_notice_and_the_next_look_is_quiet(
        app: RunningApp, openbox: XServer, reporter_home: Path) -> None:
    env = openbox.env
    env.update(REPORTER_APP_HOME=str(reporter_home))
    subprocess.run([sys.executable, "-m", "reporter_app.cli", "report", "--title", TITLE, "--impact", "major",
                    "--no-screenshot"], env=env, check=True, timeout=30)
    # The engineer, in one go: moves the ticket and comments (same data dir: the default local tracker folder).
    engineer = LocalTracker(TrackerContext(settings={}, data_dir=reporter_home / "data"))
    engineer.update("LOCAL-1", status="In Progress", comment="On it", author="eng")

    # Followed within LOCAL_SYNC_S; if that round raced the engineer, the next look (30 s) has the burst.
    app.wait_trace("status-notice", timeout=60)
    titles = app.details("status-notice")
    assert titles == [f"LOCAL-1: {TITLE}"], app.output
    window = wait_window(openbox, "^Reporter$")  # no tray host: the notice is the small window's message line
    assert window
    time.sleep(0.3)
    save_screenshot(openbox, "status-notice.png")

    # The next round that looks at LOCAL-1 again (one interval later) finds nothing new: no second notice.
    deadline = time.monotonic() + 50
    while True:
        app.wait_trace("status-poll", timeout=max(1.0, deadline - time.monotonic()))
        seen = _poll_detail(app)
        if seen["looked"] >= 1:
            break
    assert seen["changes"] == 0, app.output
    assert app.details("status-notice") == titles, "the burst was announced again"
