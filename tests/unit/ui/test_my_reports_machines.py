"""My reports says how widely a ticket is seen: "3 occurrences on 2 machines", from two real homes (two data
dirs, so two installation ids) sharing one local tracker folder, through the real outbox and sender."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from reporter_app.app import AppContext, Draft
from reporter_app.collect import Evidence
from reporter_app.model import Impact
from ui.core_worker import CoreWorker
from ui.my_reports import MyReportsWindow
from ui.my_reports_data import load_rows
from ui.outbox_worker import OutboxWorker

FINGERPRINT = "brfp-00aa11bb22cc"


def file_report(ctx: AppContext, title: str) -> None:
    ctx.submit(Draft(title=title, impact=Impact.MAJOR, fingerprint=FINGERPRINT), Evidence())
    ctx.send_pending()


def test_details_show_occurrences_and_distinct_machines(qtbot: QtBot, reporter_home: Path, tmp_path: Path) -> None:
    (reporter_home / "config.toml").write_text('[reporter]\nname = "Ada"\n', encoding="utf-8")
    ada = AppContext.load()
    other = tmp_path / "bob-home"
    other.mkdir()
    (other / "config.toml").write_text(f'[tracker]\nfolder = "{ada.paths.local_tracker_dir}"\n', encoding="utf-8")
    file_report(ada, "Totals are blank")
    file_report(AppContext.load(home=str(other)), "Totals are blank here too")  # Bob: a "+1" on LOCAL-1
    file_report(AppContext.load(), "Blank again")  # Ada again: a third occurrence, still two machines

    rows = load_rows(AppContext.load())
    assert {(r.key, r.spread) for r in rows} == {("LOCAL-1", "3 occurrences on 2 machines")}

    ctx = AppContext.load()  # the window's own context: the outbox connection belongs to its thread
    core = CoreWorker()
    window = MyReportsWindow(ctx, core, OutboxWorker(ctx, core))
    qtbot.addWidget(window)
    try:
        window.refresh()
        qtbot.waitUntil(lambda: window.refresh_button.isEnabled() and window.table.rowCount() == 2, timeout=10_000)
        window.table.selectRow(0)
        assert "3 occurrences on 2 machines" in window.details.view.toPlainText()
    finally:
        core.shutdown()
