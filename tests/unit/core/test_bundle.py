import json

import pytest

from reporter_app.bundle import BundleError, BundleWriter, iter_bundle_dirs, read_bundle
from reporter_app.model import Impact, Report


def make_report(**kw):
    return Report(title=kw.pop("title", "Save button does nothing"), impact=Impact.MAJOR, **kw)


def test_commit_writes_complete_bundle_with_checksums(tmp_path):
    writer = BundleWriter(tmp_path, make_report())
    writer.add_bytes("screenshot.png", b"\x89PNG fake", kind="screenshot", content_type="image/png")
    writer.add_bytes("logs/app.txt", b"line 1\nline 2\n", kind="log", content_type="text/plain")
    bundle = writer.commit()

    assert bundle.path == tmp_path / bundle.report.id
    assert [p.name for p in tmp_path.iterdir()] == [bundle.report.id]  # no temp dir left
    again = read_bundle(bundle.path)
    assert again.report.title == "Save button does nothing"
    assert again.report.impact is Impact.MAJOR
    assert [(a.path, a.size) for a in again.report.attachments] == [("screenshot.png", 9), ("logs/app.txt", 14)]
    assert again.report.attachments[1].sha256 == __import__("hashlib").sha256(b"line 1\nline 2\n").hexdigest()
    assert json.loads((bundle.path / "report.json").read_text())["schema_version"] == 1


def test_interrupted_write_is_never_read_as_a_bundle(tmp_path):
    writer = BundleWriter(tmp_path, make_report())
    writer.add_bytes("screenshot.png", b"x", kind="screenshot", content_type="image/png")
    # no commit: as if the process died here
    assert iter_bundle_dirs(tmp_path) == []


def test_attachment_names_cannot_escape_the_bundle(tmp_path):
    writer = BundleWriter(tmp_path, make_report())
    with pytest.raises(BundleError, match="relative path"):
        writer.add_bytes("../evil", b"x", kind="file", content_type="text/plain")


def test_corrupt_report_json_names_the_file_and_line(tmp_path):
    bundle = BundleWriter(tmp_path, make_report()).commit()
    (bundle.path / "report.json").write_text('{"title": "x",\n  oops}')
    with pytest.raises(BundleError) as info:
        read_bundle(bundle.path)
    assert str(bundle.path / "report.json") + ":2: not valid JSON" in str(info.value)


def test_report_json_with_wrong_schema_is_refused_clearly(tmp_path):
    bundle = BundleWriter(tmp_path, make_report()).commit()
    data = json.loads((bundle.path / "report.json").read_text())
    data["schema_version"] = 99
    (bundle.path / "report.json").write_text(json.dumps(data))
    with pytest.raises(BundleError, match="unsupported schema_version 99"):
        read_bundle(bundle.path)


def test_reported_to_is_recorded_once(tmp_path):
    bundle = BundleWriter(tmp_path, make_report()).commit()
    bundle.record_reported_to("local: LOCAL-1 file:///x")
    bundle.record_reported_to("local: LOCAL-1 file:///x")
    assert bundle.reported_to() == ["local: LOCAL-1 file:///x"]


def test_report_round_trips_every_field(tmp_path):
    from datetime import datetime, timezone

    from reporter_app.model import Priority, Reach, Reporter, Role

    report = Report(title="t", description="d", expected="e", steps="s", impact=Impact.BLOCKER,
                    reach=Reach.MANY_USERS, priority=Priority.P1, priority_reason="r", component="billing",
                    reporter=Reporter("Ada", "ada@example.com", Role.STAKEHOLDER), fingerprint="fp",
                    created_at=datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc), system={"os": "Linux"},
                    activity=[{"title": "x"}], redactions={"jwt": 2}, collector_errors={"screenshot": "none"})
    again = Report.from_json(json.loads(json.dumps(report.to_json())))
    assert again == report
