"""Render resources/icons/reporter-app.svg into the Windows .ico and the macOS .icns the spec embeds.

    python installer/make_icons.py OUT_DIR      -> OUT_DIR/reporter-app.ico, OUT_DIR/reporter-app.icns

Runs with the build's PySide6 (QtSvg renders, PNG-compressed entries in both containers), on any OS; installer/reporter-app.spec calls
it when the build needs an icon, so no binary icon is kept in the repository.
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SVG = REPO / "resources" / "icons" / "reporter-app.svg"
ICO_SIZES = (16, 20, 24, 32, 40, 48, 64, 128, 256)  # Explorer, taskbar, tray (100-250% scaling), installer pages
# ICNS element types holding PNG data, by pixel size (the @2x ones reuse the bigger renderings).
ICNS_TYPES = ((b"icp4", 16), (b"icp5", 32), (b"ic11", 32), (b"icp6", 64), (b"ic12", 64), (b"ic07", 128),
              (b"ic08", 256), (b"ic13", 256), (b"ic09", 512), (b"ic14", 512), (b"ic10", 1024))


def _png(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(SVG)).render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise SystemExit(f"make_icons: cannot encode a {size}px PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(sizes: tuple[int, ...] = ICO_SIZES) -> bytes:
    """An ICO with one PNG-compressed image per size (Windows Vista and later read PNG entries)."""
    images = [(size, _png(size)) for size in sizes]
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, blobs = b"", b""
    for size, png in images:
        dim = 0 if size >= 256 else size  # 0 means 256 in the directory entry
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        blobs += png
        offset += len(png)
    return header + entries + blobs


def icns_bytes() -> bytes:
    """An ICNS whose elements are PNGs (macOS 10.7 and later)."""
    cache: dict[int, bytes] = {}
    body = b""
    for kind, size in ICNS_TYPES:
        png = cache.setdefault(size, _png(size))
        body += kind + struct.pack(">I", 8 + len(png)) + png
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main(out_dir: str) -> None:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(["make_icons", "-platform", "offscreen"])  # noqa: F841
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "reporter-app.ico").write_bytes(ico_bytes())
    (out / "reporter-app.icns").write_bytes(icns_bytes())
    print(f"make_icons: wrote {out / 'reporter-app.ico'} and {out / 'reporter-app.icns'}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(REPO / "build" / "icons"))
