from __future__ import annotations

import zlib

import pytest

from capture.screenshot import Screenshot, ScreenshotUnavailable, display_kind, encode_png, grab, png_size, xft_scale


def test_display_kind() -> None:
    assert display_kind({"DISPLAY": ":1"}, "linux") == "x11"
    assert display_kind({"WAYLAND_DISPLAY": "wayland-0"}, "linux") == "wayland"
    assert display_kind({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w", "XDG_SESSION_TYPE": "wayland"}, "linux") == "wayland"
    assert display_kind({"DISPLAY": ":0", "WAYLAND_DISPLAY": "w", "XDG_SESSION_TYPE": "x11"}, "linux") == "x11"
    assert display_kind({}, "win32") == "windows"
    with pytest.raises(ScreenshotUnavailable, match="no display: DISPLAY and WAYLAND_DISPLAY are unset"):
        display_kind({}, "linux")


def test_grab_without_display(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ScreenshotUnavailable) as info:
        grab()
    assert info.value.reason == "no display: DISPLAY and WAYLAND_DISPLAY are unset"


def test_encode_png_roundtrip() -> None:
    # 2x1 BGRA: a red pixel and a blue one.
    raw = bytes([0, 0, 255, 255, 255, 0, 0, 255])
    shot = Screenshot(width=2, height=1, raw=raw, left=0, top=0, monitor_index=1, scale=1.0, mode="cursor-monitor")
    png = encode_png(shot)
    assert png_size(png) == (2, 1)
    idat_start = png.index(b"IDAT") + 4
    length = int.from_bytes(png[idat_start - 8 : idat_start - 4], "big")
    assert zlib.decompress(png[idat_start : idat_start + length]) == b"\x00" + bytes([255, 0, 0, 0, 0, 255])


def test_encode_png_passes_portal_png_through() -> None:
    shot = Screenshot(1, 1, b"", 0, 0, 0, 1.0, "all-monitors", png=b"PNGDATA")
    assert encode_png(shot) == b"PNGDATA"


class _Prop:
    def __init__(self, value: bytes) -> None:
        self.value = value


def test_xft_scale() -> None:
    assert xft_scale(_Prop(b"Xft.antialias:\t1\nXft.dpi:\t192\n")) == 2.0
    assert xft_scale(_Prop(b"Xft.dpi: oops\n")) == 1.0
    assert xft_scale(None) == 1.0
