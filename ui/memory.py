"""Keeping the idle tray small (issue 4: idle RSS under 100 MiB).

Two measured leftovers, each with its fix (figures in docs/ui.md, "Performance"):

- PySide6's import hook (shibokensupport/feature.py, `feature_imported`) reads the whole source of every module
  imported after PySide6 (`inspect.getsource`, to look for the word "PySide6"), and `linecache` keeps every line:
  ~5.5 MiB of strings for the ~130 modules of the tray. We drop each file's lines right after the hook has read
  them; the hook itself runs unchanged, so PySide6's feature switching is untouched.
- glibc keeps freed memory in its arenas after a report (the screenshot buffers); `malloc_trim(0)` gives it back.
"""

from __future__ import annotations

import linecache
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)
_WRAPPED_MARK = "_reporter_app_drops_lines"


def forget_sources_read_by_pyside() -> bool:
    """Wrap PySide6's per-import source scan so the lines it reads are not cached. True when installed.

    Call it right after the first PySide6 import: modules imported before that were never scanned. If a PySide6
    release renames the private hook, this does nothing (the tray is then ~5 MiB bigger, nothing breaks).
    """
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "feature_imported", None)
    if feature is None or not callable(original):
        log.debug("PySide6 import hook not found: source lines stay cached")
        return False
    if getattr(original, _WRAPPED_MARK, False):
        return True

    def feature_imported(module: Any) -> None:
        try:
            original(module)
        finally:
            # Only the file just scanned: a traceback being formatted elsewhere keeps its own lines.
            filename = getattr(module, "__file__", None)
            if filename:
                linecache.cache.pop(filename, None)

    setattr(feature_imported, _WRAPPED_MARK, True)
    feature.feature_imported = feature_imported  # type: ignore[attr-defined]
    linecache.clearcache()  # what the hook read for the modules imported between PySide6 and this call
    return True


def release_free_memory() -> None:
    """glibc only: malloc_trim returns freed arena memory to the OS (a few ms, when idle)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # musl or another libc: nothing to trim
        pass
