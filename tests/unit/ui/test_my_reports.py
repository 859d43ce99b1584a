"""My reports with a real AppContext and the local tracker: SLA column, comments with a "new" badge,
"Add information", "Look up a ticket" by key, outbox rows with their reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from reporter_app.app import AppContext, Draft
from reporter_app.collect import Evidence
from reporter_app.model import Impact
from ui.core_worker import CoreWorker
from ui.my_reports import MyReportsWindow
from ui.outbox_worker import OutboxWorker

pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support (propagateSizeHints|raise)\(\)")


def file_report(ctx: AppContext, title: str) -> None:
    ctx.submit(Draft(title=title, impact=Impact.BLOCKER), Evidence())
    ctx.send_pending()


@pytest.fixture
def ctx(reporter_home: Path) -> AppContext:
    (reporter_home / "config.toml").write_text('[reporter]\nname = "Ada"\nrole = "support"\n', encoding="utf-8")
    file_report(AppContext.load(), "Totals are wrong")
    # A fresh context for the window: the outbox's SQLite connection belongs to the thread that opens it.
    return AppContext.load()


@pytest.fixture
def window(qtbot: QtBot, ctx: AppContext) -> Iterator[MyReportsWindow]:
    core = CoreWorker()
    window = MyReportsWindow(ctx, core, OutboxWorker(ctx, core))
    qtbot.addWidget(window)
    window.show()
    yield window
    core.shutdown()


def loaded(qtbot: QtBot, window: MyReportsWindow) -> None:
    window.refresh()
    qtbot.waitUntil(lambda: window.refresh_button.isEnabled(), timeout=10_000)
    assert "Could not" not in window.state_label.text(), window.state_label.text()


def cell(window: MyReportsWindow, row: int, column: str) -> str:
    from ui.my_reports import COLUMNS

    item = window.table.item(row, COLUMNS.index(column))
    return item.text() if item else ""


def test_sla_column_and_new_comment_badge(qtbot: QtBot, window: MyReportsWindow, ctx: AppContext) -> None:
    loaded(qtbot, window)
    assert cell(window, 0, "Ticket") == "LOCAL-1"
    assert cell(window, 0, "SLA time left").startswith("response")  # P2: the first-response clock runs
    AppContext.load().tracker().update("LOCAL-1", comment="Can you send the export file?", author="Bo Engineer")  # type: ignore[attr-defined]
    loaded(qtbot, window)
    assert cell(window, 0, "Comments") == "💬 1 · 1 new"
    window.table.selectRow(0)
    assert "Can you send the export file?" in window.details.view.toPlainText()
    assert "Bo Engineer" in window.details.view.toPlainText()
    qtbot.waitUntil(lambda: (ctx.paths.data_dir / "my-reports-seen.json").is_file(), timeout=5000)
    loaded(qtbot, window)
    assert cell(window, 0, "Comments") == "💬 1"


def test_add_information_posts_a_comment_signed_by_the_reporter(qtbot: QtBot, window: MyReportsWindow,
                                                               ctx: AppContext) -> None:
    loaded(qtbot, window)
    window.table.selectRow(0)
    window.details.comment_edit.setPlainText("It also happens on Fridays.")
    with qtbot.waitSignal(window.details.comment_added, timeout=10_000):
        window.details.add_button.click()
    ticket = json.loads((ctx.paths.local_tracker_dir / "LOCAL-1" / "ticket.json").read_text(encoding="utf-8"))
    assert any(c["body"] == "It also happens on Fridays." and c["author"] == "Ada" for c in ticket["comments"])
    assert window.details.message.text() == "Added to LOCAL-1."


def test_look_up_a_ticket_filed_elsewhere_follows_it(qtbot: QtBot, window: MyReportsWindow, ctx: AppContext,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other-home"
    other.mkdir()
    (other / "config.toml").write_text(f'[tracker]\nfolder = "{ctx.paths.local_tracker_dir}"\n', encoding="utf-8")
    file_report(AppContext.load(home=str(other)), "Printer on fire")
    window.details.key_edit.setText("LOCAL-404")
    window.details.look_button.click()
    qtbot.waitUntil(lambda: window.details.look_button.isEnabled(), timeout=10_000)
    assert "LOCAL-404" in window.details.message.text()
    window.details.key_edit.setText("LOCAL-2")
    with qtbot.waitSignal(window.details.looked_up, timeout=10_000):
        window.details.look_button.click()
    qtbot.waitUntil(lambda: window.table.rowCount() == 2, timeout=10_000)
    assert cell(window, 1, "Ticket") == "LOCAL-2" and cell(window, 1, "Title") == "Printer on fire"
    assert window.table.currentRow() == 1


def test_outbox_rows_show_why_they_wait_and_offer_retry(qtbot: QtBot, reporter_home: Path) -> None:
    (reporter_home / "config.toml").write_text(
        '[tracker]\nbackend = "redmine"\nurl = "http://127.0.0.1:9"\nproject = "x"\n', encoding="utf-8")
    AppContext.load().submit(Draft(title="Queued one", impact=Impact.MINOR), Evidence())
    ctx = AppContext.load()
    core = CoreWorker()
    window = MyReportsWindow(ctx, core, OutboxWorker(ctx, core))
    qtbot.addWidget(window)
    try:
        loaded(qtbot, window)
        assert cell(window, 0, "Status") == "Waiting to be sent"
        window.table.selectRow(0)
        assert not window.retry_button.isEnabled()  # queued, not failed: nothing to retry yet
        assert "Not filed yet" in window.details.view.toPlainText()
    finally:
        core.shutdown()
