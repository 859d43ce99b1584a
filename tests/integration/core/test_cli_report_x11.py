"""`reporter-app report` on a real X screen: the report carries the screenshot, system details with the screens,
scrubbed logs and the window in front, all written before the ticket is filed in the local tracker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.support.display import XServer

WINDOW = """
import sys, time
from Xlib import X, display
d = display.Display()
s = d.screen()
w = s.root.create_window(0, 0, 800, 600, 0, s.root_depth, background_pixel=s.black_pixel)
w.set_wm_name(sys.argv[1])
w.change_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"), 8, sys.argv[1].encode())
w.set_wm_class("shopapp", "ShopApp")
w.map()
d.sync()
print("mapped", flush=True)
time.sleep(120)
"""


def test_cli_report_carries_screenshot_system_scrubbed_logs_and_activity(openbox: XServer, tmp_path: Path) -> None:
    home = tmp_path / "home"
    logs = tmp_path / "logs"
    logs.mkdir()
    secret = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    (logs / "shop.log").write_text(f"INFO start\nERROR checkout failed token={secret}\n", encoding="utf-8")
    home.mkdir()
    (home / "config.toml").write_text(f'[[logs]]\nname = "shop"\npath = "{logs}/*.log"\n', encoding="utf-8")
    env = {**openbox.env, "REPORTER_APP_HOME": str(home)}
    window = subprocess.Popen([sys.executable, "-c", WINDOW, "Shop - checkout"], env=env, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert window.stdout is not None and window.stdout.readline().strip() == "mapped"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # openbox activates new windows; wait until it has
            found = openbox.run("xdotool", "getactivewindow", "getwindowname", check=False)
            if found.stdout.strip() == "Shop - checkout":
                break
            time.sleep(0.1)
        result = subprocess.run([sys.executable, "-m", "reporter_app.cli", "report", "--title", "Checkout broken"],
                                env=env, capture_output=True, text=True, timeout=60)
    finally:
        window.kill()
        window.wait()
        if window.stdout is not None:
            window.stdout.close()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "LOCAL-1"

    [bundle] = [p for p in (home / "data" / "reports").iterdir() if not p.name.startswith(".")]
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    kinds = {a["path"]: a["kind"] for a in report["attachments"]}
    assert kinds == {"screenshot.png": "screenshot", "logs/shop.txt": "log"}
    assert (bundle / "screenshot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert report["system"]["screens"] and report["system"]["os"]["system"] == "Linux"
    assert report["activity"][0]["title"] == "Shop - checkout"
    log = (bundle / "logs" / "shop.txt").read_text(encoding="utf-8")
    assert "[REDACTED:github-token]" in log and secret not in log
    assert report["redactions"]["github-token"] == 1
    assert "screenshot" not in report["collector_errors"]
    ticket = home / "data" / "local-tracker" / "LOCAL-1"
    assert (ticket / "attachments" / "screenshot.png").is_file()
    assert not any(secret in p.read_text(errors="replace") for p in home.rglob("*") if p.is_file()
                   and p.suffix in (".json", ".txt"))
