"""A report on disk: one self-describing directory, written whole or not at all.

    <reports_dir>/<report id>/
        report.json         schema-versioned Report (docs/report-format.md)
        screenshot.png      already redacted
        logs/<source>.txt   already scrubbed
        attachments/<name>  files the reporter attached
        reported_to         one line per ticket it was filed as (written after filing)

The directory is assembled under a temporary name in the same parent and renamed into place,
so a crash leaves either a complete bundle or a `.tmp-*` directory that is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from reporter_app.fsutil import atomic_write_text, fsync_dir
from reporter_app.model import Attachment, Report

REPORT_FILE = "report.json"
REPORTED_TO_FILE = "reported_to"


class BundleError(Exception):
    """A bundle that cannot be written or read; the message names the file."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    report: Report

    def file(self, attachment: Attachment) -> Path:
        return self.path / attachment.path

    def missing_attachments(self) -> list[Attachment]:
        return [a for a in self.report.attachments if not self.file(a).is_file()]

    def reported_to(self) -> list[str]:
        try:
            text = (self.path / REPORTED_TO_FILE).read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        return [line for line in text.splitlines() if line.strip()]

    def record_reported_to(self, line: str) -> None:
        """apport's `reported_to`: lets the outbox be rebuilt from bundles if its database is lost."""
        lines = self.reported_to()
        if line not in lines:
            atomic_write_text(self.path / REPORTED_TO_FILE, "\n".join([*lines, line]) + "\n")


def _safe_relative(name: str) -> str:
    rel = PurePosixPath(name)
    if rel.is_absolute() or ".." in rel.parts or not rel.parts:
        raise BundleError(f"attachment name {name!r} must be a relative path inside the bundle")
    return rel.as_posix()


class BundleWriter:
    """Collects files under a temporary directory, then `commit()` renames it into place."""

    def __init__(self, reports_dir: Path, report: Report) -> None:
        self.reports_dir = reports_dir
        self.report = report
        self._attachments: list[Attachment] = []
        try:
            reports_dir.mkdir(parents=True, exist_ok=True)
            self.tmp = reports_dir / f".tmp-{report.id}-{uuid.uuid4().hex[:8]}"
            self.tmp.mkdir()
        except OSError as exc:
            raise BundleError(f"{reports_dir}: cannot create the report folder: {exc.strerror or exc}") from exc

    def add_bytes(self, name: str, data: bytes, *, kind: str, content_type: str, note: str = "") -> Attachment:
        rel = _safe_relative(name)
        target = self.tmp / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            self.abort()
            raise BundleError(f"{target}: cannot write: {exc.strerror or exc}") from exc
        attachment = Attachment(
            path=rel, kind=kind, content_type=content_type, size=len(data),
            sha256=hashlib.sha256(data).hexdigest(), note=note,
        )
        self._attachments.append(attachment)
        return attachment

    def add_file(self, name: str, source: Path, *, kind: str, content_type: str) -> Attachment:
        try:
            data = source.read_bytes()
        except OSError as exc:
            self.abort()
            raise BundleError(f"{source}: cannot read the attachment: {exc.strerror or exc}") from exc
        return self.add_bytes(name, data, kind=kind, content_type=content_type)

    def commit(self) -> Bundle:
        self.report.attachments = list(self._attachments)
        final = self.reports_dir / self.report.id
        try:
            payload = json.dumps(self.report.to_json(), indent=2, ensure_ascii=False, sort_keys=True)
            with open(self.tmp / REPORT_FILE, "w", encoding="utf-8") as handle:
                handle.write(payload + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            fsync_dir(self.tmp)
            os.rename(self.tmp, final)
            fsync_dir(self.reports_dir)
        except OSError as exc:
            self.abort()
            raise BundleError(f"{final}: cannot write the report: {exc.strerror or exc}") from exc
        return Bundle(path=final, report=self.report)

    def abort(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def read_bundle(path: Path) -> Bundle:
    report_file = path / REPORT_FILE
    try:
        data = json.loads(report_file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise BundleError(f"{report_file}: missing") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"{report_file}: cannot read: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise BundleError(f"{report_file}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise BundleError(f"{report_file}: expected a JSON object")
    try:
        report = Report.from_json(data)
    except (KeyError, ValueError, TypeError) as exc:
        raise BundleError(f"{report_file}: not a valid report: {exc}") from exc
    return Bundle(path=path, report=report)


def iter_bundle_dirs(reports_dir: Path) -> list[Path]:
    """Complete bundles only (temporary `.tmp-*` directories of interrupted writes are skipped)."""
    if not reports_dir.is_dir():
        return []
    return sorted(p for p in reports_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
