"""Detection against the real Redmine: one root cause is one ticket, repeats are "+1" notes on it.

A real log file followed by the real watcher (inotify when available), the real outbox and sender,
and the throw-away Redmine of ``tests.support.redmine``. The policy's clock is injected so the
cooldown and the repeats don't need real minutes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reporter_app.app import AppContext
from reporter_app.clock import FakeClock
from reporter_app.credentials import TOKEN_ENV
from reporter_app.detect.service import Detection, DetectionService, Resolution
from reporter_app.sender import SendResult
from tests.support.redmine import Redmine

TRACE = """\
2026-01-05 09:00:00,120 ERROR shop.views: checkout failed
Traceback (most recent call last):
  File "/srv/shop/app/views.py", line 12, in checkout
    pay(order)
  File "/srv/shop/app/payments.py", line 40, in pay
    raise PaymentError(f"card declined for order {order.id}")
app.errors.PaymentError: card declined for order {n}
2026-01-05 09:00:01,000 INFO shop.views: next request
"""


class Machine:
    """One installation: its own home (config, outbox, fingerprint map), the shared Redmine, a watched log."""

    def __init__(self, home: Path, redmine: Redmine, detect: str) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.log = home / "shop.log"
        self.log.write_text("2026-01-05 08:59:00,000 INFO shop: started\n", encoding="utf-8")
        (home / "config.toml").write_text(
            f'[reporter]\nname = "Ada Tester"\n\n'
            f'[tracker]\nbackend = "redmine"\nurl = "{redmine.url}"\nproject = "{redmine.project}"\n\n'
            f'[[logs]]\nname = "shop"\npath = "{self.log}"\n\n[detect]\nenabled = true\n{detect}',
            encoding="utf-8")
        self.clock = FakeClock(current=datetime.now(UTC).replace(microsecond=0))
        token = redmine.reporter_api_key or redmine.api_key
        self.ctx = AppContext.load(home=str(home), env={TOKEN_ENV: token}, clock=self.clock)
        self.service = DetectionService(self.ctx)
        self.written = 0

    def write_trace(self) -> None:
        self.written += 1
        with self.log.open("a", encoding="utf-8") as fh:
            fh.write(TRACE.replace("{n}", str(1000 + self.written)))

    def detect_until_quiet(self) -> list[Detection]:
        """What the watcher finds in what was just written (the write is complete: one read sees it all)."""
        found = self.service.detect()
        time.sleep(self.service.watcher.idle_flush)  # anything held at the end of the file is flushed by then
        return found + self.service.detect()

    def close(self) -> None:
        self.service.close()


@pytest.fixture
def machines(tmp_path: Path) -> Iterator[list[Machine]]:
    made: list[Machine] = []
    yield made
    for machine in made:
        machine.close()


def _occurrence_notes(issue: dict) -> list[str]:  # type: ignore[type-arg]
    return [j["notes"] for j in issue.get("journals", []) if (j.get("notes") or "").startswith("+1 occurrence")]


def test_auto_three_repeats_one_ticket_two_occurrence_notes(redmine: Redmine, tmp_path: Path,
                                                            machines: list[Machine]) -> None:
    machine = Machine(tmp_path / "ada", redmine, "auto = true\ncooldown_minutes = 0\n")
    machines.append(machine)
    resolutions: list[Resolution] = []
    for _ in range(3):
        machine.write_trace()
        detections = machine.detect_until_quiet()
        assert len(detections) == 1
        resolutions += [machine.service.resolve(d) for d in detections]
        machine.clock.current += timedelta(minutes=1)
    assert all(r.filed for r in resolutions)
    fingerprint = resolutions[0].detection.fingerprint
    assert {r.detection.fingerprint for r in resolutions} == {fingerprint}  # the order number is not in it

    outcomes = machine.ctx.send_pending()
    assert outcomes is not None
    assert [o.result for o in outcomes] == [SendResult.FILED, SendResult.OCCURRENCE, SendResult.OCCURRENCE]

    [issue] = redmine.issues()
    assert issue["subject"] == "app.errors.PaymentError: card declined for order 1001"
    fields = {f["name"]: f.get("value") for f in issue.get("custom_fields", [])}
    assert fields.get("fingerprint") == fingerprint
    notes = _occurrence_notes(redmine.issue(issue["id"]))
    assert len(notes) == 2
    # The "+1" leads with the counts on this installation (dedup.occurrence_comment).
    assert all(f"Seen again (fingerprint {fingerprint})" in note for note in notes)
    assert "Occurrences on this installation: 3" in notes[-1]
    attachments = [a["filename"] for a in redmine.issue(issue["id"])["attachments"]]
    assert any(name.startswith("detected-shop") for name in attachments), attachments


def test_prompt_three_repeats_one_prompt_then_the_tracker_knows_it_everywhere(
        redmine: Redmine, tmp_path: Path, machines: list[Machine]) -> None:
    ada = Machine(tmp_path / "ada", redmine, "")
    machines.append(ada)
    prompts: list[Detection] = []
    for _ in range(3):
        ada.write_trace()
        prompts += ada.detect_until_quiet()
        ada.clock.current += timedelta(minutes=1)
    assert len(prompts) == 1  # one prompt, not three: the cooldown holds the repeats
    [prompt] = prompts
    resolution = ada.service.resolve(prompt)
    assert not resolution.filed and not resolution.dedup.duplicate
    # The reporter accepts the pre-filled form.
    ada.ctx.submit(prompt.draft, prompt.evidence)
    outcomes = ada.ctx.send_pending()
    assert outcomes is not None and [o.result for o in outcomes] == [SendResult.FILED]
    [issue] = redmine.issues()

    # Another installation sees the same error: the tracker's find knows the ticket, the offer names it.
    bob = Machine(tmp_path / "bob", redmine, "")
    machines.append(bob)
    bob.write_trace()
    [seen] = bob.detect_until_quiet()
    assert seen.fingerprint == prompt.fingerprint
    offer = bob.service.resolve(seen).dedup
    assert offer.found_in == "tracker" and offer.existing is not None
    assert offer.existing.key.lstrip("#") == str(issue["id"])
    assert offer.message.startswith(f"Already reported as {offer.existing.key} (")
    assert offer.message.endswith("): add my occurrence and follow it")
    # Accepting the offer: the sender adds a "+1" to that ticket instead of a new one.
    bob.ctx.submit(seen.draft, seen.evidence)
    outcomes = bob.ctx.send_pending()
    assert outcomes is not None and [o.result for o in outcomes] == [SendResult.OCCURRENCE]
    assert len(redmine.issues()) == 1
    assert len(_occurrence_notes(redmine.issue(issue["id"]))) == 1
