import sqlite3
from datetime import timedelta

import pytest

from reporter_app.bundle import BundleWriter
from reporter_app.clock import FakeClock
from reporter_app.model import Report
from reporter_app.outbox import Outbox, OutboxError, OutboxState


@pytest.fixture
def clock():
    return FakeClock()


def queue(outbox, title="t"):
    bundle = BundleWriter(outbox.reports_dir, Report(title=title)).commit()
    return outbox.enqueue(bundle, "local")


def make_outbox(tmp_path, clock):
    return Outbox(tmp_path / "outbox.sqlite3", tmp_path / "reports", clock=clock)


def test_uses_wal_and_keeps_fifo_order(tmp_path, clock):
    outbox = make_outbox(tmp_path, clock)
    first, second = queue(outbox, "a"), queue(outbox, "b")
    mode = sqlite3.connect(outbox.db_path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    claimed = outbox.claim_next()
    assert claimed.id == first.id and claimed.state == OutboxState.SENDING and claimed.attempts == 1
    assert outbox.claim_next().id == second.id
    assert outbox.claim_next() is None


def test_waiting_retry_is_not_due_before_its_time(tmp_path, clock):
    outbox = make_outbox(tmp_path, clock)
    entry = queue(outbox)
    outbox.claim_next()
    outbox.mark_waiting_retry(entry.id, "503 Service Unavailable", 30)
    assert outbox.get(entry.id).next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(29)
    assert outbox.claim_next() is None
    clock.advance(1)
    assert outbox.claim_next().id == entry.id


def test_needs_attention_waits_for_the_user_then_retry_makes_it_due(tmp_path, clock):
    outbox = make_outbox(tmp_path, clock)
    entry = queue(outbox)
    outbox.claim_next()
    outbox.mark_needs_attention(entry.id, "401 Unauthorized")
    clock.advance(10**6)
    assert outbox.claim_next() is None
    assert outbox.get(entry.id).last_error == "401 Unauthorized"
    assert outbox.retry(entry.id[:6]) == 1
    assert outbox.claim_next().attempts == 2


def test_interrupted_send_is_recovered(tmp_path, clock):
    outbox = make_outbox(tmp_path, clock)
    entry = queue(outbox)
    outbox.claim_next()
    reopened = make_outbox(tmp_path, clock)  # as after a crash
    assert reopened.get(entry.id).state == OutboxState.SENDING
    assert reopened.recover_interrupted() == 1
    assert reopened.claim_next().attempts == 2


def test_drop_removes_the_row_but_keeps_the_files(tmp_path, clock):
    outbox = make_outbox(tmp_path, clock)
    entry = queue(outbox)
    outbox.drop(entry.id)
    assert outbox.entries() == []
    assert (entry.bundle_path / "report.json").is_file()
    with pytest.raises(OutboxError, match="no report"):
        outbox.drop(entry.id)


@pytest.mark.expect_log_warning(match="is corrupt", logger="reporter_app.outbox")
def test_corrupt_database_is_set_aside_and_rebuilt_from_bundles(tmp_path, clock):
    outbox = make_outbox(tmp_path, clock)
    pending = queue(outbox, "pending")
    filed = queue(outbox, "filed")
    from reporter_app.bundle import read_bundle

    read_bundle(filed.bundle_path).record_reported_to("local: LOCAL-7 file:///t/LOCAL-7")
    outbox.close()
    for suffix in ("-wal", "-shm"):
        p = tmp_path / f"outbox.sqlite3{suffix}"
        if p.exists():
            p.unlink()
    (tmp_path / "outbox.sqlite3").write_bytes(b"this is not a database" * 100)

    rebuilt = make_outbox(tmp_path, clock)
    assert rebuilt.recovered_from is not None and rebuilt.recovered_from.exists()
    states = {e.title: (e.state, e.ticket_key, e.attempts) for e in rebuilt.entries()}
    # attempts=1 so the sender asks the tracker before filing: it may have been mid-send.
    assert states == {"pending": (OutboxState.QUEUED, "", 1), "filed": (OutboxState.FILED, "LOCAL-7", 1)}
    assert pending.id in {e.id for e in rebuilt.entries()}


def test_read_only_data_dir_gives_a_clear_error(tmp_path, clock):
    import os

    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions; covered by the read-only mount test")
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro").chmod(0o500)
    with pytest.raises(OutboxError, match="ro"):
        Outbox(tmp_path / "ro" / "sub" / "outbox.sqlite3", tmp_path / "reports", clock=clock)
