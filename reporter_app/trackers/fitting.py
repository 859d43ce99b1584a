"""Make a bundle's files fit a tracker's attachment limit, and say what was changed.

Users complain most about attachments that silently vanish at a size limit (see the peers notes),
so nothing here is silent: every change or omission comes back as a sentence for the ticket.

    screenshot  PNG recompressed losslessly, then (with Qt's image codecs) downscaled and/or JPEG
    log / text  trimmed from the oldest end at a line boundary, with a marker line at the top
    other       attached whole when it fits, else left out (and the ticket says so)
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from reporter_app.bundle import Bundle
from reporter_app.model import Attachment

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Tried in order until one fits: scale factor, format, JPEG quality. PNG first keeps text crisp.
SHRINK_STEPS: tuple[tuple[float, str, int], ...] = (
    (1.0, "JPEG", 85), (0.75, "PNG", -1), (0.75, "JPEG", 80), (0.5, "PNG", -1), (0.5, "JPEG", 75),
    (0.35, "JPEG", 70), (0.25, "JPEG", 60), (0.15, "JPEG", 50),
)


@dataclass(frozen=True)
class Upload:
    attachment: Attachment
    filename: str  # the name the tracker shows (unique within one ticket)
    data: bytes
    content_type: str
    note: str = ""  # why it differs from the bundle's file; "" when sent as captured


@dataclass
class Fitted:
    uploads: list[Upload] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # one sentence per change or omission, for the ticket


def human_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size} bytes"


def fit_attachments(bundle: Bundle, max_bytes: int | None, limit_name: str = "the tracker's") -> Fitted:
    """Every attachment of the bundle as an Upload within `max_bytes` (None: no limit), plus notes."""
    fitted = Fitted()
    names = unique_filenames(a.path for a in bundle.report.attachments)
    limit_text = f"{limit_name} {human_size(max_bytes)} attachment limit" if max_bytes else ""
    for attachment in bundle.report.attachments:
        try:
            data = bundle.file(attachment).read_bytes()
        except OSError as exc:
            fitted.notes.append(f"{attachment.path}: could not be read from the report on disk "
                                f"({exc.strerror or exc}), not attached")
            continue
        upload: Upload | None = Upload(attachment, names[attachment.path], data, attachment.content_type)
        if max_bytes is not None and len(data) > max_bytes:
            upload = _shrink(Upload(attachment, names[attachment.path], data, attachment.content_type),
                             max_bytes, limit_text, fitted.notes)
        if upload is not None:
            fitted.uploads.append(upload)
    return fitted


def unique_filenames(paths: Iterable[str]) -> dict[str, str]:
    """Bundle path -> a flat file name; "logs/app.txt" stays "app.txt" unless another file has that name."""
    paths = list(paths)
    counts: dict[str, int] = {}
    for path in paths:
        counts[PurePosixPath(path).name] = counts.get(PurePosixPath(path).name, 0) + 1
    return {p: PurePosixPath(p).name if counts[PurePosixPath(p).name] == 1 else p.replace("/", "_") for p in paths}


def _shrink(upload: Upload, max_bytes: int, limit_text: str, notes: list[str]) -> Upload | None:
    attachment, size = upload.attachment, len(upload.data)
    if attachment.kind == "screenshot" or upload.content_type.startswith("image/"):
        shrunk = shrink_image(upload.data, max_bytes)
        if shrunk is None:
            notes.append(f"{attachment.path} ({human_size(size)}) could not be made smaller than the "
                         f"{limit_text}: not attached")
            return None
        data, content_type, how = shrunk
        filename = upload.filename
        if content_type == "image/jpeg" and not filename.lower().endswith((".jpg", ".jpeg")):
            filename = str(PurePosixPath(filename).with_suffix(".jpg"))
        note = f"{attachment.path} ({human_size(size)}) was {how} to fit the {limit_text}"
        notes.append(note)
        return Upload(attachment, filename, data, content_type, note)
    if attachment.kind == "log" or upload.content_type.startswith("text/"):
        data, dropped_lines = trim_log(upload.data, max_bytes, limit_text)
        note = (f"{attachment.path}: the oldest {dropped_lines} lines ({human_size(size - len(data))}) were "
                f"left out to fit the {limit_text}; the newest part is attached")
        notes.append(note)
        return Upload(attachment, upload.filename, data, upload.content_type, note)
    notes.append(f"{attachment.path} ({human_size(size)}) is larger than the {limit_text}: not attached")
    return None


def trim_log(data: bytes, max_bytes: int, limit_text: str = "the attachment limit") -> tuple[bytes, int]:
    """The newest part of a log that fits in max_bytes, starting at a line boundary, with a marker line.

    Returns (trimmed bytes, number of dropped lines). The marker is part of the budget, so the
    result is never larger than max_bytes.
    """
    if len(data) <= max_bytes:
        return data, 0
    # Size the marker with the largest numbers it can hold, so the real one is never longer.
    template = "[reporter-app: {lines} older lines ({size}) trimmed here to fit {limit}]\n"
    worst = template.format(lines=data.count(b"\n") + 1, size="9999.9 MB", limit=limit_text).encode()
    budget = max_bytes - len(worst)
    if budget <= 0:
        return worst[:max_bytes], data.count(b"\n") + 1
    tail_start = len(data) - budget
    newline = data.find(b"\n", tail_start - 1)
    if newline != -1 and newline + 1 < len(data):
        tail_start = newline + 1  # the first whole line inside the budget
    else:  # one giant line: cut inside it, but never in the middle of a UTF-8 sequence
        while tail_start < len(data) and 0x80 <= data[tail_start] <= 0xBF:
            tail_start += 1
    dropped = data[:tail_start]
    lines = dropped.count(b"\n") + (0 if dropped.endswith(b"\n") else 1)
    marker = template.format(lines=lines, size=human_size(len(dropped)), limit=limit_text).encode()
    return marker + data[tail_start:], lines


def shrink_image(data: bytes, max_bytes: int) -> tuple[bytes, str, str] | None:
    """(bytes, content type, what was done) within max_bytes, or None when nothing fits."""
    if data.startswith(PNG_SIGNATURE):
        try:
            smaller = recompress_png(data)
        except (ValueError, zlib.error):
            smaller = data
        if len(smaller) <= max_bytes:
            return smaller, "image/png", "recompressed (lossless)"
    return _shrink_with_qt(data, max_bytes)


def recompress_png(data: bytes, level: int = 9) -> bytes:
    """The same image with its pixel data deflated at `level` (captures use level 1 for speed)."""
    chunks = list(_png_chunks(data))
    idat = b"".join(body for kind, body in chunks if kind == b"IDAT")
    if not idat:
        raise ValueError("PNG without image data")
    packed = zlib.compress(zlib.decompress(idat), level)
    out = [PNG_SIGNATURE]
    written = False
    for kind, body in chunks:
        if kind == b"IDAT":
            if not written:
                out.append(_png_chunk(b"IDAT", packed))
                written = True
            continue
        out.append(_png_chunk(kind, body))
    return b"".join(out)


def _png_chunks(data: bytes) -> Iterable[tuple[bytes, bytes]]:
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("not a PNG")
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError("truncated PNG")
        yield kind, body
        pos += 12 + length
        if kind == b"IEND":
            return


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _shrink_with_qt(data: bytes, max_bytes: int) -> tuple[bytes, str, str] | None:
    # QtGui's image codecs (no widgets, no display needed); imported here so the core does not pay
    # for Qt unless an oversized screenshot actually has to be shrunk.
    try:
        from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
        from PySide6.QtGui import QImage
    except ImportError:
        return None
    image = QImage.fromData(data)
    if image.isNull():
        return None
    if image.hasAlphaChannel():
        image = image.convertToFormat(QImage.Format.Format_RGB32)  # JPEG has no alpha
    width, height = image.width(), image.height()
    for scale, fmt, quality in SHRINK_STEPS:
        scaled = image
        if scale < 1.0:
            scaled = image.scaled(max(1, int(width * scale)), max(1, int(height * scale)),
                                  Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        array = QByteArray()
        buffer = QBuffer(array)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        # PySide6 wants the format as str at run time; its stubs say bytes.
        if not scaled.save(buffer, fmt, quality):  # type: ignore[call-overload]
            continue
        buffer.close()
        encoded = bytes(array.data())
        if len(encoded) <= max_bytes:
            parts = []
            if scale < 1.0:
                parts.append(f"downscaled from {width}x{height} to {scaled.width()}x{scaled.height()}")
            parts.append(f"saved as JPEG (quality {quality})" if fmt == "JPEG" else "saved as PNG")
            return encoded, "image/jpeg" if fmt == "JPEG" else "image/png", " and ".join(parts)
    return None
