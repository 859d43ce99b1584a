"""Real top-level X11 windows owned by a test: EWMH title (_NET_WM_NAME), WM_CLASS and our pid (_NET_WM_PID).

Used by the activity recorder's and the replay recorder's tests, which follow the window in front.
"""

from __future__ import annotations

import os
from typing import Any

from tests.support.display import XServer


class OwnedWindows:
    def __init__(self, server: XServer, geometry: tuple[int, int, int, int] = (100, 100, 300, 200)) -> None:
        from Xlib import display

        self.server = server
        self.geometry = geometry
        self.conn: Any = display.Display(server.display)
        self.windows: list[Any] = []

    def create(self, title: str, wm_class: str) -> Any:
        screen = self.conn.screen()
        x, y, width, height = self.geometry
        window = screen.root.create_window(x, y, width, height, 0, screen.root_depth,
                                           background_pixel=screen.white_pixel)
        self.set_title(window, title)
        window.set_wm_class(wm_class.lower(), wm_class)
        window.change_property(self.conn.intern_atom("_NET_WM_PID"), self.conn.intern_atom("CARDINAL"), 32,
                               [os.getpid()])
        window.map()
        self.conn.sync()
        self.windows.append(window)
        return window

    def set_title(self, window: Any, title: str) -> None:
        window.change_property(self.conn.intern_atom("_NET_WM_NAME"), self.conn.intern_atom("UTF8_STRING"), 8,
                               title.encode())
        self.conn.sync()

    def focus(self, window: Any) -> None:
        """Through the window manager, as a user's click would (waits until it has the focus)."""
        self.server.run("xdotool", "windowactivate", "--sync", str(window.id))

    def close(self) -> None:
        for window in self.windows:
            window.destroy()
        self.conn.close()
