"""The real program under Xvfb + openbox with error detection on: a trace written three times into a watched
log gives one prompt; answering it opens the pre-filled form; sending it makes one ticket in the real Redmine,
and the two repeats (held while the prompt was open) become two "+1" occurrence notes on that ticket.

No tray host here, so the prompt is the app's "Error detected" window (ui/error_watch.py), and the
fallback "Reporter" window shows the same message. The app's `trace` lines say when each step happened.
`occurrence_interval_minutes` is 3 s here (10 min by default) so that the second repeat, written right
after the first, gets the note that closes its window within the test instead of ten minutes later.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from reporter_app.credentials import TOKEN_ENV
from tests.support.display import XServer
from tests.support.redmine import Redmine
from tests.system.support_ui import (
    RunningApp,
    save_screenshot,
    start_app,
    wait_window,
    xdotool,
)

TRACE = """\
2026-01-05 09:00:00,120 ERROR shop.views: checkout failed
Traceback (most recent call last):
  File "/srv/shop/app/views.py", line 12, in checkout
    pay(order)
  File "/srv/shop/app/payments.py", line 40, in pay
    raise PaymentError(f"card declined for order {order.id}")
app.errors.PaymentError: card declined for order 4242
2026-01-05 09:00:01,000 INFO shop.views: next request
"""
TITLE = "app.errors.PaymentError: card declined for order 4242"
INTERVAL_S = 3.0


@pytest.fixture
def log_file(reporter_home: Path) -> Path:
    path = reporter_home / "shop.log"
    path.write_text("2026-01-05 08:59:00,000 INFO shop: started\n", encoding="utf-8")
    return path


@pytest.fixture
def app(openbox: XServer, reporter_home: Path, log_file: Path, redmine: Redmine) -> Iterator[RunningApp]:
    (reporter_home / "config.toml").write_text(
        '[reporter]\nname = "Ada Tester"\nrole = "qa"\n\n'
        f'[tracker]\nbackend = "redmine"\nurl = "{redmine.url}"\nproject = "{redmine.project}"\n\n'
        '[capture]\nactivity_events = 0\n\n'
        f'[[logs]]\nname = "shop"\npath = "{log_file}"\n\n[detect]\nenabled = true\n'
        f'occurrence_interval_minutes = {INTERVAL_S / 60}\n', encoding="utf-8")
    token = redmine.reporter_api_key or redmine.api_key
    running = start_app(openbox, reporter_home, extra_env={"REPORTER_APP_NO_TRAY": "1", TOKEN_ENV: token})
    try:
        running.wait_trace("ready")
        running.wait_trace("error-watch-ready")
        yield running
    finally:
        running.stop()


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def _occurrence_notes(redmine: Redmine, issue_id: int) -> list[str]:
    """The "+1" journal notes of the issue, read back through Redmine's REST API (include=journals)."""
    journals = redmine.get_json(f"/issues/{issue_id}.json", include="journals")["issue"].get("journals") or []
    return [str(j["notes"]) for j in journals if str(j.get("notes") or "").startswith("+1 occurrence")]


def test_three_traces_one_prompt_one_redmine_ticket_two_occurrence_notes(
        app: RunningApp, openbox: XServer, log_file: Path, redmine: Redmine) -> None:
    _append(log_file, TRACE)
    written = time.monotonic()
    prompted = app.wait_trace("error-prompt")
    assert prompted - written < 5.0
    _append(log_file, TRACE)
    _append(log_file, TRACE)
    time.sleep(2.0)  # the repeats are read and counted within ~0.1 s; give them ample time to (not) prompt

    prompt = wait_window(openbox, "^Error detected$")
    save_screenshot(openbox, "error-prompt.png")
    xdotool(openbox, "windowactivate", "--sync", prompt)
    xdotool(openbox, "key", "--delay", "0", "Return")  # "Report it…" is the default button
    app.wait_trace("error-form")
    app.wait_trace("form-exposed")
    form = wait_window(openbox, "^Report a problem$")
    time.sleep(0.5)  # the logs (with the detected trace) fill in on a worker
    save_screenshot(openbox, "error-form.png")
    assert xdotool(openbox, "getactivewindow") == form
    # The impact is pre-chosen for a crash only; a caught error asks the reporter, as any report does.
    xdotool(openbox, "key", "--delay", "0", "alt+2")
    xdotool(openbox, "key", "--delay", "0", "ctrl+Return")

    deadline = time.monotonic() + 30
    issues: list[dict] = []  # type: ignore[type-arg]
    while time.monotonic() < deadline and not issues:
        issues = redmine.issues()
        time.sleep(0.3)
    assert [issue["subject"] for issue in issues] == [TITLE]
    fields = {f["name"]: f.get("value") for f in issues[0].get("custom_fields", [])}
    assert (fields.get("fingerprint") or "").startswith("brfp-")
    attachments = [a["filename"] for a in redmine.issue(issues[0]["id"])["attachments"]]
    assert any(name.startswith("detected-shop") for name in attachments), attachments

    # The two repeats, held while the prompt was open, go to that ticket once it exists: one note each
    # (the second closes the 3 s window the first opened), each naming the counts, never a second ticket.
    issue_id = int(issues[0]["id"])
    fingerprint = fields["fingerprint"]
    deadline = time.monotonic() + 30
    notes: list[str] = []
    while time.monotonic() < deadline and len(notes) < 2:
        notes = _occurrence_notes(redmine, issue_id)
        time.sleep(0.3)
    time.sleep(INTERVAL_S + 1.0)  # nothing more may follow: no third note, no duplicate from a retry
    notes = _occurrence_notes(redmine, issue_id)
    assert len(notes) == 2, notes
    for note, total in zip(notes, (2, 3), strict=True):
        assert f"Seen again (fingerprint {fingerprint})." in note, note
        assert "New since the last report: 1 occurrence, at " in note, note
        assert f"Occurrences on this installation: {total}, first " in note, note
        assert "Installation: " in note and "reporter-app: " in note, note
    assert [issue["id"] for issue in redmine.issues()] == [issue_id]

    # One prompt for the three traces: the repeats were counted, not announced. (Reading up to the app's
    # "+1 queued" line also takes in every line printed before it.)
    app.wait_trace("error-repeats-queued", timeout=5)
    prompts = [line for line in app.output if line.startswith("trace error-prompt ")]
    detected = [line for line in app.output if line.startswith("trace error-detected ")]
    assert len(prompts) == 1 and len(detected) == 1, app.output
