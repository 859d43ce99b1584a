"""The frame store's deflate: ISA-L when installed, CPython's zlib otherwise, and either reads the other's frames."""

from __future__ import annotations

import zlib

import pytest

np = pytest.importorskip("numpy", reason="screen replay needs the 'replay' extra (numpy)")

from capture import replay  # noqa: E402 - after the importorskip


def _screen() -> object:
    rng = np.random.default_rng(7)
    image = np.full((120, 160, 4), 245, np.uint8)
    image[..., 3] = 255
    image[20:40, 10:150, :3] = rng.integers(0, 255, (20, 140, 3), dtype=np.uint8)  # "text"
    return image


def test_isal_frames_are_plain_zlib_and_zlib_frames_decode_with_isal(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("isal", reason="the replay extra's isal is not installed")
    image = _screen()
    assert replay.deflate_backend()[0] == "isal"
    by_isal = replay.encode_frame(0.0, image, None)
    assert zlib.decompress(by_isal.payload) == image.tobytes()  # type: ignore[attr-defined]

    monkeypatch.setattr(replay, "deflate_backend", lambda: ("zlib", zlib.compress, zlib.decompress))
    by_zlib = replay.encode_frame(0.0, image, None)
    monkeypatch.undo()
    assert np.array_equal(replay.apply_frame(by_zlib, None), image)  # read back through isal


def test_without_isal_the_store_falls_back_to_zlib(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    replay.deflate_backend.cache_clear()
    monkeypatch.setitem(sys.modules, "isal", None)  # as if the package were not installed
    try:
        assert replay.deflate_backend()[0] == "zlib"
        image = _screen()
        assert np.array_equal(replay.apply_frame(replay.encode_frame(0.0, image, None), None), image)
    finally:
        replay.deflate_backend.cache_clear()
