"""Linux inotify through ctypes: wake up when a watched directory changes, instead of polling.

Only what the watcher needs: watch directories (so a file that is renamed, deleted or created
is noticed too, not only writes) and a file descriptor to wait on. No events are parsed: the
watcher re-checks its few files on any wake-up, which is cheaper than being exact.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import sys

IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_FROM = 0x040
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE = 0x200
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

DIRECTORY_MASK = (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
                  | IN_DELETE_SELF | IN_MOVE_SELF)


class Inotify:
    """An inotify instance; ``available()`` says whether this system has one."""

    def __init__(self) -> None:
        libc = _libc()
        if libc is None:
            raise OSError("inotify is not available here")
        self._libc = libc
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))
        self.fd: int = fd
        self._watches: dict[str, int] = {}

    @staticmethod
    def available() -> bool:
        return _libc() is not None

    def watch_directory(self, path: str) -> bool:
        """Watch ``path`` (a directory); False when it doesn't exist (yet) or can't be watched."""
        if path in self._watches:
            return True
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(path), DIRECTORY_MASK)
        if wd < 0:
            return False
        self._watches[path] = wd
        return True

    def forget(self, path: str) -> None:
        # The kernel drops a watch when its directory goes away; we just stop counting on it.
        self._watches.pop(path, None)

    @property
    def watched(self) -> set[str]:
        return set(self._watches)

    def wait(self, timeout: float) -> bool:
        """Block until something changed or ``timeout`` seconds passed; True when something changed."""
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0.0))
        if not ready:
            return False
        self.drain()
        return True

    def drain(self) -> None:
        """Discard the pending events (the caller waited on :attr:`fd` itself, with other descriptors)."""
        while True:
            try:
                if not os.read(self.fd, 65536):
                    return
            except BlockingIOError:
                return
            except OSError:
                return

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


_LIBC: ctypes.CDLL | None = None
_LIBC_LOOKED = False


def _libc() -> ctypes.CDLL | None:
    global _LIBC, _LIBC_LOOKED
    if _LIBC_LOOKED:
        return _LIBC
    _LIBC_LOOKED = True
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1.argtypes = [ctypes.c_int]
        libc.inotify_init1.restype = ctypes.c_int
        libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        libc.inotify_add_watch.restype = ctypes.c_int
    except (OSError, AttributeError):
        return None
    _LIBC = libc
    return libc
