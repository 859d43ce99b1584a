"""The flow from open to queued report, with a real AppContext on a temporary home (local tracker, offscreen)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reporter_app.app import AppContext
from ui.core_worker import CoreWorker
from ui.outbox_worker import OutboxWorker
from ui.report_flow import ReportFlow

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")


@pytest.fixture
def flow(qtbot: QtBot, reporter_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReportFlow]:
    monkeypatch.delenv("DISPLAY", raising=False)  # no screen to grab: the report says why and still goes out
    (reporter_home / "config.toml").write_text('[capture]\nactivity_events = 0\n', encoding="utf-8")
    ctx = AppContext.load()
    core = CoreWorker()
    flow = ReportFlow(ctx, core)
    qtbot.addWidget(flow.form)
    yield flow
    flow.shutdown()
    core.shutdown()


def test_open_fill_submit_queues_a_bundle_then_the_worker_files_it(qtbot: QtBot, flow: ReportFlow) -> None:
    with qtbot.waitSignal(flow.form_will_show):
        flow.open_form()
    assert flow.form.isVisible()
    flow.form.title_edit.setText("Export hangs")
    flow.form.impact_group.buttons()[0].click()
    with qtbot.waitSignal(flow.report_queued, timeout=10_000) as queued:
        flow.form.request_submit()
    assert not flow.form.isVisible()
    assert flow.form.title_edit.text() == ""  # ready for the next report
    report_id, title = queued.args
    assert title == "Export hangs"

    outbox = OutboxWorker(flow.ctx, flow.core)
    with qtbot.waitSignal(outbox.report_filed, timeout=10_000) as filed:
        outbox.kick()
    assert filed.args[0] == "LOCAL-1"
    ticket = json.loads((flow.ctx.paths.local_tracker_dir / "LOCAL-1" / "ticket.json").read_text(encoding="utf-8"))
    assert ticket["title"] == "Export hangs"
    assert not flow.drafts.path.exists()


def test_cancel_hides_and_clears(qtbot: QtBot, flow: ReportFlow) -> None:
    flow.open_form()
    flow.form.request_cancel()
    assert not flow.form.isVisible()


def test_a_second_open_while_visible_only_raises(qtbot: QtBot, flow: ReportFlow) -> None:
    flow.open_form()
    with qtbot.assertNotEmitted(flow.form_will_show):
        flow.open_form()
