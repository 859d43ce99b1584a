"""System details for the report: OS, kernel, desktop, CPU, memory, disk, screens, locale, foreground app.

This runs on the critical path next to the screenshot, so nothing here may block:
no ``cpu_percent(interval=...)`` (100 ms), no ``process_iter``, no subprocess. What
can't change while the app runs (OS, CPU model) is read once per collector; the X
connection is kept open (opening one costs more than all the reads together).
Each section is guarded: a failure is recorded under ``errors`` and the rest stays.
"""

from __future__ import annotations

import fnmatch
import locale
import os
import platform
import shutil
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from capture.guard import guarded
from capture.scrub import Scrubber


def prime_cpu_percent() -> None:
    """Call once at startup: psutil's non-blocking ``cpu_percent(None)`` measures since the previous call."""
    import psutil

    psutil.cpu_percent(None)


def _os_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "system": platform.system(),
        "release": platform.release(),
        "version": platform.version(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }
    if sys.platform.startswith("linux"):
        try:
            release = platform.freedesktop_os_release()
            info["name"] = release.get("PRETTY_NAME") or release.get("NAME", "Linux")
            info["distro_id"] = release.get("ID", "")
            info["distro_version"] = release.get("VERSION_ID", "")
            info["build"] = release.get("BUILD_ID", "")
        except OSError:
            info["name"] = "Linux"
        info["kernel"] = platform.release()
    elif sys.platform == "win32":
        release, version, _csd, _ptype = platform.win32_ver()
        info.update(name=f"Windows {release}", build=version, edition=platform.win32_edition())
        info["kernel"] = version
    elif sys.platform == "darwin":
        mac_version, _, _ = platform.mac_ver()
        info.update(name=f"macOS {mac_version}", build=mac_version, kernel=f"Darwin {platform.release()}")
    return info


def _cpu_model() -> str:
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if line.startswith(("model name", "Hardware", "Processor")):
                        return line.partition(":")[2].strip()
        except OSError:
            pass
    return platform.processor() or platform.machine()


def _timezone_name() -> str:
    if os.environ.get("TZ"):
        return os.environ["TZ"]
    try:
        target = os.readlink("/etc/localtime")  # .../zoneinfo/Europe/Paris
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    except OSError:
        pass
    return time.tzname[time.daylight and time.localtime().tm_isdst > 0]


def _desktop() -> dict[str, Any]:
    env = os.environ
    session = env.get("XDG_SESSION_TYPE", "")
    if not session:
        if sys.platform == "win32":
            session = "windows"
        elif sys.platform == "darwin":
            session = "quartz"
        elif env.get("WAYLAND_DISPLAY"):
            session = "wayland"
        elif env.get("DISPLAY"):
            session = "x11"
        else:
            session = "none"
    return {
        "desktop": env.get("XDG_CURRENT_DESKTOP", ""),
        "session": env.get("DESKTOP_SESSION", ""),
        "session_type": session,
        "display": env.get("DISPLAY", ""),
        "wayland_display": env.get("WAYLAND_DISPLAY", ""),
    }


def select_env(allowlist: Sequence[str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """Only the variables named in ``allowlist`` (shell-style patterns like ``LC_*`` allowed)."""
    environ = dict(os.environ) if environ is None else environ
    chosen: dict[str, str] = {}
    for pattern in allowlist:
        if any(c in pattern for c in "*?["):
            for key in fnmatch.filter(environ, pattern):
                chosen[key] = environ[key]
        elif pattern in environ:
            chosen[pattern] = environ[pattern]
    return dict(sorted(chosen.items()))


class SystemCollector:
    """Collects system details; keeps static facts and the X connection between reports (one thread)."""

    def __init__(self, scrubber: Scrubber | None = None, display: str | None = None) -> None:
        self._scrubber = scrubber or Scrubber()
        self._display_name = display if display is not None else os.environ.get("DISPLAY", "")
        self._static: dict[str, Any] | None = None
        self._x11: Any = None
        self._atom_names: dict[int, str] = {}
        self._screens: list[dict[str, Any]] | None = None
        self._resource_manager = 0
        self._x_error: Exception | None = None
        self._env_cache: tuple[tuple[tuple[str, str], ...], dict[str, str]] | None = None

    def close(self) -> None:
        if self._x11 is not None:
            self._x11.close()
            self._x11 = None

    def _x(self) -> Any:
        if self._x11 is None and self._display_name and sys.platform.startswith("linux"):
            from Xlib import X
            from Xlib.ext import randr

            from capture.activity import _X11

            if self._x_error is not None:
                # Don't retry every report: python-xlib leaks a socket per failed connect.
                raise self._x_error
            try:
                x11 = _X11(self._display_name)
            except Exception as exc:
                self._x_error = exc
                raise
            # Screens are cached and re-read only when the server says they changed
            # (RandR change, or a new RESOURCE_MANAGER carrying Xft.dpi): two round trips saved.
            x11.root.xrandr_select_input(randr.RRScreenChangeNotifyMask)
            x11.root.change_attributes(event_mask=X.PropertyChangeMask)
            x11.display.flush()
            self._resource_manager = x11.display.intern_atom("RESOURCE_MANAGER")
            self._x11 = x11
        return self._x11

    def _screens_changed(self, x11: Any) -> bool:
        changed = False
        resource_manager = self._resource_manager
        while x11.display.pending_events():
            event = x11.display.next_event()
            if event.type == x11.X.PropertyNotify:
                changed = changed or event.atom == resource_manager
            else:
                changed = True  # RandR screen change / notify
        return changed

    def _static_info(self, errors: dict[str, str]) -> dict[str, Any]:
        if self._static is None:
            import psutil

            self._static = {
                "os": guarded("system.os", _os_info, errors, {}),
                "cpu": {
                    "model": guarded("system.cpu_model", _cpu_model, errors, ""),
                    "cores_logical": psutil.cpu_count(logical=True),
                    "cores_physical": psutil.cpu_count(logical=False),
                },
                "boot_time": psutil.boot_time(),
            }
        return self._static

    def screens(self) -> list[dict[str, Any]]:
        """Every monitor (RandR 1.5 monitors, so ``xrandr --setmonitor`` splits count) with DPI and scale."""
        x11 = self._x()
        if x11 is None:
            return []
        if self._screens_changed(x11) or self._screens is None:
            self._screens = self._read_screens(x11)
        return [dict(screen) for screen in self._screens]

    def _read_screens(self, x11: Any) -> list[dict[str, Any]]:
        from capture.screenshot import xft_scale

        root = x11.root
        scale = xft_scale(root.get_full_property(self._resource_manager, 0))
        reply = root.xrandr_get_monitors(is_active=True)
        screens = []
        for mon in reply.monitors:
            name = self._atom_names.get(mon.name)
            if name is None:
                name = self._atom_names[mon.name] = x11.display.get_atom_name(mon.name)
            dpi = round(mon.width_in_pixels * 25.4 / mon.width_in_millimeters, 1) if mon.width_in_millimeters else None
            screens.append(
                {
                    "name": name,
                    "primary": bool(mon.primary),
                    "left": mon.x,
                    "top": mon.y,
                    "width": mon.width_in_pixels,
                    "height": mon.height_in_pixels,
                    "width_mm": mon.width_in_millimeters,
                    "height_mm": mon.height_in_millimeters,
                    "dpi": dpi,
                    "scale": scale,
                }
            )
        return screens

    def foreground(self) -> dict[str, Any] | None:
        x11 = self._x()
        if x11 is not None:
            info = x11.describe(x11.active_window_id())
        else:
            from capture.activity import foreground_window

            info = foreground_window() if sys.platform == "win32" else None
        if info is None:
            return None
        info["title"] = self._scrubber.scrub(info.get("title", "")).text
        info["version"] = _exe_version(info.get("exe", ""))
        return info

    def collect(self, data_dir: Path, env_allowlist: Sequence[str], app_version: str = "") -> dict[str, Any]:
        import psutil

        errors: dict[str, str] = {}
        static = self._static_info(errors)

        def cpu() -> dict[str, Any]:
            load = os.getloadavg() if hasattr(os, "getloadavg") else None
            return dict(static["cpu"], load=list(load) if load else None, percent=psutil.cpu_percent(None))

        def memory() -> dict[str, Any]:
            # No swap_memory(): it reads /proc/vmstat too and costs twice virtual_memory().
            vm = psutil.virtual_memory()
            return {"total": vm.total, "available": vm.available, "percent": vm.percent}

        def disk() -> dict[str, Any]:
            target = Path(data_dir)
            # The data dir may not exist yet on first run: measure the disk it will live on.
            while not target.exists() and target != target.parent:
                target = target.parent
            usage = shutil.disk_usage(target)
            return {"path": str(data_dir), "free": usage.free, "total": usage.total}

        def locale_info() -> dict[str, Any]:
            lang, encoding = locale.getlocale()
            return {"locale": lang or os.environ.get("LANG", ""), "encoding": encoding or "",
                    "timezone": _timezone_name(), "utc_offset_minutes": -time.timezone // 60
                    if not time.localtime().tm_isdst else -time.altzone // 60}

        def environment() -> dict[str, str]:
            selected = select_env(env_allowlist)
            key = tuple(selected.items())
            # The environment rarely changes in a running app: scrub each distinct one once.
            if self._env_cache is None or self._env_cache[0] != key:
                self._env_cache = (key, self._scrubber.scrub_mapping(selected)[0])
            return dict(self._env_cache[1])

        return {
            "app_version": app_version,
            "os": static["os"],
            "desktop": guarded("system.desktop", _desktop, errors, {}),
            "cpu": guarded("system.cpu", cpu, errors, {}),
            "memory": guarded("system.memory", memory, errors, {}),
            "disk": guarded("system.disk", disk, errors, {}),
            "screens": guarded("system.screens", self.screens, errors, []),
            "locale": guarded("system.locale", locale_info, errors, {}),
            "uptime_seconds": round(time.time() - static["boot_time"]),
            "foreground": guarded("system.foreground", self.foreground, errors, None),
            "environment": guarded("system.environment", environment, errors, {}),
            "errors": errors,
        }


def _exe_version(exe: str) -> str | None:
    """The executable's file version, where the platform records one (Windows); None elsewhere."""
    if not exe or sys.platform != "win32":
        return None
    import ctypes

    size = ctypes.windll.version.GetFileVersionInfoSizeW(exe, None)
    if not size:
        return None
    buffer = ctypes.create_string_buffer(size)
    if not ctypes.windll.version.GetFileVersionInfoW(exe, 0, size, buffer):
        return None
    value = ctypes.c_void_p()
    length = ctypes.c_uint()
    if not ctypes.windll.version.VerQueryValueW(
        buffer, "\\", ctypes.byref(value), ctypes.byref(length)
    ):
        return None
    words = ctypes.cast(value, ctypes.POINTER(ctypes.c_uint32 * 13)).contents
    ms, ls = words[2], words[3]
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


_local = threading.local()


def collect_system(
    data_dir: Path,
    env_allowlist: Sequence[str],
    app_version: str = "",
    *,
    scrubber: Scrubber | None = None,
) -> dict[str, Any]:
    """JSON-able system details. Never blocks; a failing section is recorded under ``errors``.

    Environment values and the foreground title go through ``scrubber`` (default rules if None).
    One collector is kept per thread so the X connection and static facts are reused.
    """
    display = os.environ.get("DISPLAY", "")
    collector: SystemCollector | None = getattr(_local, "collector", None)
    key = (display, id(scrubber) if scrubber is not None else None)
    if collector is None or getattr(_local, "key", None) != key:
        if collector is not None:
            collector.close()
        collector = SystemCollector(scrubber=scrubber, display=display)
        _local.collector = collector
        _local.key = key
    return collector.collect(data_dir, env_allowlist, app_version)
