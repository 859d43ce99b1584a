"""Contract tier: the SaaS backends against loopback fakes that check every request against the vendor's description.

Each fake fixture asserts at teardown that no request broke the contract (`fake.violations == []`).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from reporter_app.bundle import Bundle, BundleWriter
from reporter_app.clock import FakeClock
from reporter_app.model import Impact, Priority, Reach, Report, Reporter
from tests.integration.contract.fake_github import FakeGitHub
from tests.integration.contract.fake_gitlab import FakeGitLab
from tests.integration.contract.fake_jira import FakeJira

MakeBundle = Callable[..., Bundle]


def make_png(width: int = 8, height: int = 6) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes((x * 30 % 256, y * 40 % 256, 128)[i] for x in range(width) for i in range(3))
                    for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b"")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def make_bundle(tmp_path: Path, clock: FakeClock) -> MakeBundle:
    def make(title: str = "Save button does nothing", *, log_lines: int = 120, screenshot: bytes | None = None,
             fingerprint: str = "brfp-1a2b3c4d5e6f", **fields: Any) -> Bundle:
        report = Report(title=title, description=fields.pop("description", "I pressed Save and nothing happened."),
                        expected="The file is saved.", steps="1. Open a file\n2. Press Save",
                        impact=Impact.MAJOR, reach=Reach.MY_TEAM, priority=Priority.P2, fingerprint=fingerprint,
                        reporter=Reporter(name="Ada Tester", email="ada@example.com"), created_at=clock.now(),
                        system={"app_version": "1.4.2"}, **fields)
        writer = BundleWriter(tmp_path / "reports", report)
        writer.add_bytes("screenshot.png", screenshot if screenshot is not None else make_png(),
                         kind="screenshot", content_type="image/png")
        log = "".join(f"2026-01-05 09:00:{i % 60:02d} INFO line {i} `tick`\n" for i in range(log_lines))
        writer.add_bytes("logs/app.txt", log.encode(), kind="log", content_type="text/plain")
        return writer.commit()

    return make


def _fake(fake: Any) -> Iterator[Any]:
    try:
        yield fake
    finally:
        fake.close()
    assert fake.violations == [], "requests that break the vendor's contract:\n" + "\n".join(fake.violations)


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    fake = FakeGitHub()
    fake.add_repo("acme/app")
    fake.add_repo("acme/evidence", branches={"main", "reporter-app-attachments"})
    yield from _fake(fake)


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    fake = FakeGitLab()
    fake.add_project(7, "acme/app")
    yield from _fake(fake)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    fake = FakeJira(flavor="cloud")
    yield from _fake(fake)


@pytest.fixture
def jira_dc() -> Iterator[FakeJira]:
    fake = FakeJira(flavor="datacenter")
    yield from _fake(fake)
