"""Reports per second into a real Redmine: the outbox + RedmineTracker vs. a minimal requests script.

    ./scripts/redmine-up && python bench/bench_redmine.py [--reports 200] [--env-file FILE]

Each report: a 300 KB screenshot and two logs. The outbox path is the product's whole send path
(SQLite outbox row, bundle read, attachment fitting, Textile description, 3 uploads + 1 create, the
bundle's `reported_to`, the row marked filed). The baseline does only the same HTTP calls with one
requests.Session. Both run in this process against the same server, interleaved in rounds so a
server that slows down as it fills up slows both alike. Goal: ratio >= 0.8.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import tempfile
import time
import zlib
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reporter_app.bundle import Bundle, BundleWriter  # noqa: E402
from reporter_app.clock import SystemClock  # noqa: E402
from reporter_app.model import Impact, Priority, Reach, Report, Reporter  # noqa: E402
from reporter_app.outbox import Outbox  # noqa: E402
from reporter_app.sender import OutboxSender, SendResult  # noqa: E402
from reporter_app.trackers.base import TrackerContext  # noqa: E402
from reporter_app.trackers.redmine import RedmineTracker  # noqa: E402

DEFAULT_ENV = Path(__file__).resolve().parents[1] / ".test-artifacts" / "redmine" / "redmine.env"
TIMEOUT = (10.0, 60.0)


def server_settings(env_file: Path | None) -> dict[str, str]:
    if os.environ.get("REDMINE_URL") and os.environ.get("REDMINE_API_KEY"):
        return {k: v for k, v in os.environ.items() if k.startswith("REDMINE_")}
    path = env_file or Path(os.environ.get("REDMINE_ENV_FILE") or DEFAULT_ENV)
    if not path.is_file():
        sys.exit(f"no Redmine: set REDMINE_URL/REDMINE_API_KEY or run ./scripts/redmine-up ({path} missing)")
    values = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip("'\"")
    return values


def screenshot(size: int, seed: int) -> bytes:
    """A valid PNG of about `size` bytes: noise stored uncompressed (what a busy screen costs)."""
    width = 256
    height = max(1, size // (width * 3 + 1))
    rows = b"".join(b"\0" + os.urandom(width * 3) for _ in range(height))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")


def make_bundles(reports_dir: Path, count: int, tag: str) -> list[Bundle]:
    log = b"".join(b"2026-01-05 09:00:00 INFO worker step %05d done\n" % i for i in range(800))  # ~40 KB
    bundles = []
    for i in range(count):
        report = Report(title=f"[bench {tag}] Save freezes the editor #{i}", description="Pressed save; froze.",
                        expected="Saved", steps="1. Open\n2. Save", impact=Impact.MAJOR, reach=Reach.MY_TEAM,
                        priority=Priority.P2, reporter=Reporter("Bench", "bench@example.com"),
                        fingerprint=f"brfp-bench{i:06d}")
        writer = BundleWriter(reports_dir, report)
        writer.add_bytes("screenshot.png", screenshot(300 * 1024, i), kind="screenshot", content_type="image/png")
        writer.add_bytes("logs/app.txt", log, kind="log", content_type="text/plain")
        writer.add_bytes("logs/system.txt", log[: len(log) // 2], kind="log", content_type="text/plain")
        bundles.append(writer.commit())
    return bundles


class Baseline:
    """The same HTTP calls, written as directly as requests allows (ids looked up once, like the tracker)."""

    def __init__(self, url: str, key: str, project: str) -> None:
        self.url, self.project = url, project
        self.session = requests.Session()
        self.session.headers["X-Redmine-API-Key"] = key
        fields = self.get(f"/projects/{project}.json?include=issue_custom_fields")["project"]
        self.project_id = fields["id"]
        self.cf = {f["name"]: f["id"] for f in fields["issue_custom_fields"]}
        self.priority = {p["name"]: p["id"] for p in self.get("/enumerations/issue_priorities.json")["issue_priorities"]}

    def get(self, path: str) -> dict:
        r = self.session.get(self.url + path, timeout=TIMEOUT)
        r.raise_for_status()
        return dict(r.json())

    def send(self, bundle: Bundle) -> None:
        report = bundle.report
        uploads = []
        for a in report.attachments:
            name = a.path.rsplit("/", 1)[-1]
            r = self.session.post(f"{self.url}/uploads.json", params={"filename": name},
                                  data=bundle.file(a).read_bytes(),
                                  headers={"Content-Type": "application/octet-stream"}, timeout=TIMEOUT)
            r.raise_for_status()
            uploads.append({"token": r.json()["upload"]["token"], "filename": name, "content_type": a.content_type})
        issue = {"project_id": self.project_id, "tracker_id": 1, "subject": report.title,
                 "description": report.description, "priority_id": self.priority["Urgent"], "uploads": uploads,
                 "custom_fields": [{"id": self.cf["idempotency_key"], "value": report.idempotency_key},
                                   {"id": self.cf["fingerprint"], "value": report.fingerprint}]}
        r = self.session.post(f"{self.url}/issues.json", json={"issue": issue}, timeout=TIMEOUT)
        r.raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4, help="interleaved rounds (baseline, outbox) per run")
    parser.add_argument("--env-file", type=Path)
    args = parser.parse_args()
    server = server_settings(args.env_file)
    url, key = server["REDMINE_URL"].rstrip("/"), server["REDMINE_API_KEY"]
    project = server.get("REDMINE_PROJECT", "bugreports")

    with tempfile.TemporaryDirectory(prefix="bench-redmine-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        ours = make_bundles(root / "reports", args.reports, "outbox")
        theirs = make_bundles(root / "baseline-reports", args.reports, "baseline")
        print(f"prepared 2 x {args.reports} bundles in {time.perf_counter() - t0:.1f} s "
              f"(screenshot {len(ours[0].file(ours[0].report.attachments[0]).read_bytes()) // 1024} KB + 2 logs)")

        clock = SystemClock()
        outbox = Outbox(root / "outbox.sqlite3", root / "reports", clock=clock)
        session = requests.Session()
        tracker = RedmineTracker(TrackerContext(settings={"url": url, "project": project, "timeout_seconds": 60},
                                                data_dir=root, token=key, session=session, clock=clock))
        sender = OutboxSender(outbox, lambda _name: tracker, clock=clock)
        baseline = Baseline(url, key, project)
        for bundle in ours:
            outbox.enqueue(bundle, "redmine")

        per_round = -(-args.reports // args.rounds)
        t_ours = t_theirs = 0.0
        filed = 0
        for start in range(0, args.reports, per_round):
            t = time.perf_counter()
            for bundle in theirs[start:start + per_round]:
                baseline.send(bundle)
            t_theirs += time.perf_counter() - t
            t = time.perf_counter()
            outcomes = sender.send_due(limit=per_round)
            t_ours += time.perf_counter() - t
            bad = [o for o in outcomes if o.result != SendResult.FILED]
            if bad:
                sys.exit(f"outbox send failed: {bad[0].result}: {bad[0].message}")
            filed += len(outcomes)

    rate_ours, rate_theirs = filed / t_ours, args.reports / t_theirs
    print(f"minimal requests script : {args.reports} reports in {t_theirs:6.2f} s = {rate_theirs:6.2f} reports/s")
    print(f"outbox + RedmineTracker : {filed} reports in {t_ours:6.2f} s = {rate_ours:6.2f} reports/s")
    print(f"ratio: {rate_ours / rate_theirs:.2f} (goal >= 0.8)")


if __name__ == "__main__":
    main()
