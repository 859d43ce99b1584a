"""Every report carries its data dir's installation id (app.AppContext.build_report); a data dir that cannot keep
one costs the count, never the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reporter_app.app import AppContext, Draft
from reporter_app.collect import Evidence
from reporter_app.detect.dedup import INSTALLATION_ID_FILE


def test_reports_carry_the_installation_id_made_once_per_data_dir(reporter_home: Path) -> None:
    ctx = AppContext.load()
    first, _ = ctx.submit(Draft(title="One"), Evidence())
    second, _ = AppContext.load().submit(Draft(title="Two"), Evidence())
    stored = (ctx.paths.data_dir / INSTALLATION_ID_FILE).read_text(encoding="utf-8").strip()
    assert len(stored) == 32 and first.report.installation_id == second.report.installation_id == stored
    on_disk = json.loads((first.path / "report.json").read_text(encoding="utf-8"))
    assert on_disk["installation_id"] == stored


@pytest.mark.expect_log_warning(match="no installation id", logger="reporter_app.app")
def test_an_id_that_cannot_be_kept_leaves_it_empty_and_the_report_goes_out(reporter_home: Path) -> None:
    ctx = AppContext.load()
    (ctx.paths.data_dir / INSTALLATION_ID_FILE).mkdir(parents=True)  # neither readable nor replaceable as a file
    bundle, entry = ctx.submit(Draft(title="Still filed"), Evidence())
    assert bundle.report.installation_id == "" and entry.id == bundle.report.id
