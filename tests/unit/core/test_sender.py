import random

import pytest

from reporter_app.bundle import BundleWriter
from reporter_app.clock import FakeClock
from reporter_app.model import Report
from reporter_app.outbox import Outbox, OutboxState
from reporter_app.sender import BackoffPolicy, OutboxSender, SendResult
from reporter_app.trackers.base import CredentialsError, RefusedError, TransientError, TrackerContext
from reporter_app.trackers.local import LocalTracker


class FlakyTracker(LocalTracker):
    """The real local tracker with scripted failures in front of create()."""

    def __init__(self, context, failures):
        super().__init__(context)
        self.failures = list(failures)
        self.creates = 0
        self.finds = 0

    def create(self, report, bundle):
        if self.failures:
            raise self.failures.pop(0)
        self.creates += 1
        return super().create(report, bundle)

    def find(self, key):
        self.finds += 1
        return super().find(key)


@pytest.fixture
def setup(tmp_path):
    clock = FakeClock()
    outbox = Outbox(tmp_path / "outbox.sqlite3", tmp_path / "reports", clock=clock)

    def make(failures=(), **sender_kw):
        tracker = FlakyTracker(TrackerContext(settings={}, data_dir=tmp_path, clock=clock), failures)
        sender = OutboxSender(outbox, lambda _b: tracker, clock=clock, rng=random.Random(1), **sender_kw)
        return tracker, sender

    def queue(title="t"):
        return outbox.enqueue(BundleWriter(outbox.reports_dir, Report(title=title)).commit(), "local")

    return clock, outbox, make, queue


def test_files_in_order(setup):
    clock, outbox, make, queue = setup
    tracker, sender = make()
    a, b = queue("a"), queue("b")
    outcomes = sender.send_due()
    assert [(o.entry.id, o.result, o.ticket.key) for o in outcomes] == [
        (a.id, SendResult.FILED, "LOCAL-1"), (b.id, SendResult.FILED, "LOCAL-2")]
    assert outbox.get(a.id).state == OutboxState.FILED and outbox.get(a.id).ticket_key == "LOCAL-1"
    assert tracker.finds == 0  # first attempts do not pay for a lookup


def test_retry_after_is_honoured_exactly(setup):
    clock, outbox, make, queue = setup
    tracker, sender = make([TransientError("429 Too Many Requests", retry_after=120)])
    entry = queue()
    [outcome] = sender.send_due()
    assert outcome.result == SendResult.WAITING_RETRY
    clock.advance(119)
    assert sender.send_due() == []
    clock.advance(1)
    [outcome] = sender.send_due()
    assert outcome.result == SendResult.FILED and tracker.creates == 1
    assert tracker.finds == 1  # the second attempt looks first


def test_exponential_backoff_with_jitter_is_bounded():
    policy = BackoffPolicy(base_seconds=5, max_seconds=60)
    rng = random.Random(7)
    delays = [policy.delay(n, None, rng) for n in range(1, 8)]
    for n, d in enumerate(delays, start=1):
        ceiling = min(60, 5 * 2 ** (n - 1))
        assert ceiling / 2 <= d <= ceiling
    assert policy.delay(3, 7.5, rng) == 7.5


def test_refusal_and_credentials_need_attention_and_keep_the_report(setup):
    clock, outbox, make, queue = setup
    tracker, sender = make([RefusedError("Subject cannot be blank"), CredentialsError("401 Unauthorized")])
    a, b = queue("a"), queue("b")
    outcomes = sender.send_due()
    assert [(o.result, o.message) for o in outcomes] == [
        (SendResult.NEEDS_ATTENTION, "Subject cannot be blank"), (SendResult.NEEDS_ATTENTION, "401 Unauthorized")]
    clock.advance(10**6)
    assert sender.send_due() == []
    assert outbox.retry() == 2
    assert [o.result for o in sender.send_due()] == [SendResult.FILED, SendResult.FILED]


def test_crash_after_create_is_found_not_filed_twice(setup):
    clock, outbox, make, queue = setup
    tracker, _ = make()

    class Crash(BaseException):
        pass

    def crash(point, entry):
        if point == "after_create":
            raise Crash()

    crashing = OutboxSender(outbox, lambda _b: tracker, clock=clock, crash_point=crash)
    entry = queue()
    with pytest.raises(Crash):
        crashing.send_due()
    assert outbox.get(entry.id).state == OutboxState.SENDING
    outbox.recover_interrupted()
    _, sender = make()
    sender.tracker_for = lambda _b: tracker
    [outcome] = sender.send_due()
    assert outcome.result == SendResult.FOUND and outcome.ticket.key == "LOCAL-1"
    assert tracker.creates == 1


def test_unreadable_bundle_needs_attention(setup):
    clock, outbox, make, queue = setup
    _, sender = make()
    entry = queue()
    (entry.bundle_path / "report.json").write_text("{")
    [outcome] = sender.send_due()
    assert outcome.result == SendResult.NEEDS_ATTENTION and "report.json" in outcome.message
    assert entry.bundle_path.exists()


def test_same_fingerprint_becomes_an_occurrence_of_the_first_ticket(setup, tmp_path):
    from reporter_app.detect.dedup import FingerprintMap

    clock, outbox, make, _queue = setup
    tracker, sender = make(fingerprints=FingerprintMap.in_data_dir(tmp_path / "fp"))

    def queue_fp(title, merge=True):
        report = Report(title=title, fingerprint="brfp-0123456789ab", merge_duplicates=merge)
        return outbox.enqueue(BundleWriter(outbox.reports_dir, report).commit(), "local")

    queue_fp("first")
    queue_fp("again")
    queue_fp("again, but the reporter wants a new ticket", merge=False)
    outcomes = sender.send_due()
    assert [(o.result, o.ticket.key) for o in outcomes] == [
        (SendResult.FILED, "LOCAL-1"), (SendResult.OCCURRENCE, "LOCAL-1"), (SendResult.FILED, "LOCAL-2")]
    assert tracker.creates == 2
    assert tracker.statuses([outcomes[0].ticket])["LOCAL-1"].occurrences == 2


def test_fingerprint_known_only_to_the_tracker_is_merged_too(setup, tmp_path):
    from reporter_app.detect.dedup import FingerprintMap

    clock, outbox, make, _queue = setup
    tracker, _ = make()
    first = BundleWriter(outbox.reports_dir, Report(title="filed elsewhere", fingerprint="brfp-feedfacecafe")).commit()
    ref = tracker.create(first.report, first)
    _, sender = make(fingerprints=FingerprintMap.in_data_dir(tmp_path / "fp2"))
    sender.tracker_for = lambda _b: tracker
    outbox.enqueue(BundleWriter(outbox.reports_dir, Report(title="dup", fingerprint="brfp-feedfacecafe")).commit(),
                   "local")
    [outcome] = sender.send_due()
    assert (outcome.result, outcome.ticket) == (SendResult.OCCURRENCE, ref)
