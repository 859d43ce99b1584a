"""Attachments made to fit a limit: logs lose their oldest lines, screenshots shrink, nothing goes silently."""

from __future__ import annotations

import struct
import zlib

from reporter_app.bundle import BundleWriter
from reporter_app.model import Report
from reporter_app.trackers.fitting import fit_attachments, recompress_png, trim_log, unique_filenames


def noisy_png(width: int, height: int, noisy: bool = True) -> bytes:
    rows, state = bytearray(), 1
    for y in range(height):
        rows.append(0)
        for x in range(width * 3):
            state = (state * 1103515245 + 12345) & 0x7FFFFFFF
            rows.append(state >> 16 & 0xFF if noisy else (x + y) & 0xFF)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows), 0)) + chunk(b"IEND", b""))


def test_trim_keeps_the_newest_whole_lines_and_says_so():
    log = b"".join(b"line %04d\n" % i for i in range(1000))  # 10 bytes per line
    trimmed, dropped = trim_log(log, 2000, "Redmine's 2 KB attachment limit")
    assert len(trimmed) <= 2000
    marker, _, rest = trimmed.partition(b"\n")
    assert marker == b"[reporter-app: %d older lines (%d KB) trimmed here to fit Redmine's 2 KB attachment limit]" % (
        dropped, round((len(log) - len(rest)) / 1024))
    assert rest.endswith(b"line 0999\n") and rest.startswith(b"line ") and log.endswith(rest)
    assert dropped == 1000 - rest.count(b"\n")


def test_trim_leaves_a_fitting_log_alone_and_cuts_a_giant_line_on_a_character():
    assert trim_log(b"short\n", 100) == (b"short\n", 0)
    giant = "é".encode() * 5000  # one line, two bytes per character
    trimmed, _ = trim_log(giant, 1001)
    tail = trimmed.partition(b"]\n")[2]
    tail.decode("utf-8")  # no half character at the cut
    assert len(trimmed) <= 1001


def test_recompress_png_is_lossless():
    png = noisy_png(40, 30, noisy=False)  # stored uncompressed, like a level-0 capture
    smaller = recompress_png(png)
    assert smaller.startswith(b"\x89PNG") and len(smaller) < len(png)

    def pixels(data: bytes) -> bytes:
        pos, idat = 8, b""
        while pos < len(data):
            (length,) = struct.unpack(">I", data[pos:pos + 4])
            if data[pos + 4:pos + 8] == b"IDAT":
                idat += data[pos + 8:pos + 8 + length]
            pos += 12 + length
        return zlib.decompress(idat)

    assert pixels(smaller) == pixels(png)


def test_fit_attachments_shrinks_trims_and_names_every_change(tmp_path):
    writer = BundleWriter(tmp_path, Report(title="t"))
    writer.add_bytes("screenshot.png", noisy_png(300, 200), kind="screenshot", content_type="image/png")
    writer.add_bytes("logs/app.txt", b"x" * 99 + b"\n" + b"y" * 99 + b"\n" * 50_000, kind="log",
                     content_type="text/plain")
    writer.add_bytes("attachments/core.bin", b"\0" * 60_000, kind="file", content_type="application/octet-stream")
    writer.add_bytes("attachments/small.bin", b"\0" * 10, kind="file", content_type="application/octet-stream")
    bundle = writer.commit()

    fitted = fit_attachments(bundle, 40_000, "Redmine's")

    by_path = {u.attachment.path: u for u in fitted.uploads}
    assert set(by_path) == {"screenshot.png", "logs/app.txt", "attachments/small.bin"}
    assert all(len(u.data) <= 40_000 for u in fitted.uploads)
    shot = by_path["screenshot.png"]
    assert shot.note and "to fit the Redmine's 39 KB attachment limit" in shot.note
    assert shot.filename.endswith(".jpg") == (shot.content_type == "image/jpeg")
    assert by_path["attachments/small.bin"].note == ""
    assert len(fitted.notes) == 3
    assert any(n.startswith("attachments/core.bin (59 KB) is larger than") and n.endswith("not attached")
               for n in fitted.notes)
    assert any(n.startswith("logs/app.txt: the oldest") for n in fitted.notes)


def test_unreadable_files_are_named_and_names_stay_unique(tmp_path):
    writer = BundleWriter(tmp_path, Report(title="t"))
    writer.add_bytes("logs/app.txt", b"a", kind="log", content_type="text/plain")
    bundle = writer.commit()
    (bundle.path / "logs" / "app.txt").unlink()
    fitted = fit_attachments(bundle, None)
    assert fitted.uploads == [] and fitted.notes[0].startswith("logs/app.txt: could not be read")
    assert unique_filenames(["logs/app.txt", "attachments/app.txt", "screenshot.png"]) == {
        "logs/app.txt": "logs_app.txt", "attachments/app.txt": "attachments_app.txt",
        "screenshot.png": "screenshot.png"}
