"""A mock org.freedesktop.portal.Screenshot for tests, and a client that calls capture.portal against it.

Run as ``dbus-run-session -- python mock_portal.py client OUT_DIR [cancel]``: starts the mock service on that
private session bus, takes a screenshot through ``capture.portal`` and prints the result as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zlib
from pathlib import Path


def tiny_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    rows = b"".join(b"\x00" + b"\x00\x80\xff" * width for _ in range(height))
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def serve(out_dir: str, response: int) -> None:
    from jeepney import DBusAddress, HeaderFields, MessageType, new_method_return, new_signal
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    conn = open_dbus_connection(bus="SESSION")
    Proxy(message_bus, conn).RequestName("org.freedesktop.portal.Desktop")
    print("ready", flush=True)
    while True:
        msg = conn.receive()
        fields = msg.header.fields
        if msg.header.message_type != MessageType.method_call or fields.get(HeaderFields.member) != "Screenshot":
            continue
        _parent, options = msg.body
        sender = fields[HeaderFields.sender].lstrip(":").replace(".", "_")
        path = f"/org/freedesktop/portal/desktop/request/{sender}/{options['handle_token'][1]}"
        conn.send(new_method_return(msg, "o", (path,)))
        png = Path(out_dir) / "Screenshot from mock portal.png"
        png.write_bytes(tiny_png(64, 48))
        results = {"uri": ("s", "file://" + str(png).replace(" ", "%20"))} if response == 0 else {}
        address = DBusAddress(path, interface="org.freedesktop.portal.Request")
        conn.send(new_signal(address, "Response", "ua{sv}", (response, results)))


def client(out_dir: str, response: int) -> None:
    server = subprocess.Popen([sys.executable, __file__, "serve", out_dir, str(response)], stdout=subprocess.PIPE)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == b"ready"
        from capture.portal import screenshot
        from capture.screenshot import ScreenshotUnavailable

        try:
            shot = screenshot("cursor-monitor", timeout=5)
            result = {"width": shot.width, "height": shot.height, "png": len(shot.png or b""),
                      "file_left": os.path.exists(Path(out_dir) / "Screenshot from mock portal.png")}
        except ScreenshotUnavailable as exc:
            result = {"unavailable": exc.reason}
        print(json.dumps(result), flush=True)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    role, directory = sys.argv[1], sys.argv[2]
    code = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    (serve if role == "serve" else client)(directory, code)
