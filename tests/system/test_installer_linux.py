"""The Linux packages as a user and an administrator meet them: the PyInstaller bundle, the tarball, the .deb.

One build per test session (``scripts/build-linux --no-install --fast`` into a temporary directory, ~30 s on two
cores), then: the bundled program under Xvfb + openbox (hotkey -> "Report a problem"), install.sh/uninstall.sh into a
throw-away HOME, and the .deb unpacked with ``dpkg -x`` into a temporary root and started from there (CLI verbs, the
GUI, a second launch that opens the form in the running one).

Needs PyInstaller (the ``build`` extra: ``pip install -e '.[build]'``): without it these tests skip, except under CI
and ``scripts/test-all``, which install it and must build.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from reporter_app import __version__
from tests.support.display import XServer
from tests.support.env import require_executable, unavailable
from tests.system.support_ui import REPO_ROOT, RunningApp, save_screenshot, wait_window, xdotool

BUILD_TIMEOUT = 110  # s; faulthandler_timeout (120 s) would otherwise end the tier with a stack dump
VERSION_LINE = re.compile(rf"^reporter-app {re.escape(__version__)} \(build \d{{4}}-\d\d-\d\d( git \S+)?, linux-\w+\)$")
MAX_BUNDLE_MB = 170  # measured 140 MB (PySide6 6.11, stripped, trimmed); more means the Qt trimming broke


@dataclass(frozen=True)
class LinuxBuild:
    bundle: Path  # the onedir bundle: bundle/reporter-app is the program
    tarball: Path
    deb: Path
    log: str


@pytest.fixture(scope="session")
def linux_build(tmp_path_factory: pytest.TempPathFactory) -> LinuxBuild:
    """scripts/build-linux, once per session, with this interpreter (it has the app's dependencies)."""
    if importlib.util.find_spec("PyInstaller") is None:
        unavailable("PyInstaller is not installed (pip install -e '.[build]'; scripts/test-all does)")
    require_executable("dpkg-deb", "dpkg")
    require_executable("strip", "binutils")
    root = tmp_path_factory.mktemp("linux-build")
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(REPO_ROOT / "scripts" / "build-linux"), "--no-install", "--fast", "--python", sys.executable,
             "--out", str(root / "out"), "--work", str(root / "work")],
            cwd=REPO_ROOT, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"scripts/build-linux took more than {BUILD_TIMEOUT}s:\n{exc.stdout}\n{exc.stderr}", pytrace=False)
    log = done.stdout + done.stderr
    if done.returncode != 0:
        pytest.fail(f"scripts/build-linux failed ({done.returncode}):\n{log[-6000:]}", pytrace=False)
    print(f"build-linux: {time.monotonic() - started:.1f}s\n{log[-800:]}")
    tarballs = sorted((root / "out").glob(f"reporter-app-{__version__}-linux-*.tar.gz"))
    debs = sorted((root / "out").glob(f"reporter-app_{__version__}_*.deb"))
    assert len(tarballs) == 1 and len(debs) == 1, f"expected one tarball and one .deb: {sorted((root / 'out').iterdir())}"
    return LinuxBuild(root / "work" / "bundle" / "reporter-app", tarballs[0], debs[0], log)


@pytest.fixture(scope="session")
def deb_root(linux_build: LinuxBuild, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .deb unpacked with ``dpkg -x`` into an empty directory: a root file system with just the package."""
    require_executable("dpkg", "dpkg")
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg", "-x", str(linux_build.deb), str(root)], check=True, timeout=60)
    return root


def _run(program: Path | str, *args: str, env: dict[str, str] | None = None,
         timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(program), *args], env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def _home_env(home: Path, system_config: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.update(REPORTER_APP_HOME=str(home), REPORTER_APP_SYSTEM_CONFIG=str(system_config))
    return env


def _start(program: Path, server: XServer, home: Path, system_config: Path) -> RunningApp:
    """Like support_ui.start_app, for a program instead of `python -m reporter_app.cli`."""
    env = server.env
    env.update(REPORTER_APP_HOME=str(home), REPORTER_APP_SYSTEM_CONFIG=str(system_config), REPORTER_APP_TRACE="1")
    process = subprocess.Popen([str(program)], env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    app = RunningApp(process, home, server)
    app.pump = threading.Thread(target=app._pump, daemon=True)
    app.pump.start()
    return app


@pytest.fixture
def system_config(tmp_path: Path) -> Path:
    return tmp_path / "no-such-system-config.toml"


# ---- the bundle ----------------------------------------------------------------------------------------------------
def test_bundle_states_its_version_and_build_and_runs_headless_verbs(
        linux_build: LinuxBuild, reporter_home: Path, system_config: Path) -> None:
    program = linux_build.bundle / "reporter-app"
    version = _run(program, "--version")
    assert version.returncode == 0, version.stderr
    assert VERSION_LINE.match(version.stdout.strip()), version.stdout
    paths = _run(program, "config", "path", env=_home_env(reporter_home, system_config))
    assert paths.returncode == 0, paths.stderr
    assert str(reporter_home / "config.toml") in paths.stdout and str(system_config) in paths.stdout
    init = _run(program, "config", "init", env=_home_env(reporter_home, system_config))
    assert init.returncode == 0, init.stderr  # the template comes from the bundled resources/ package
    assert "[tracker]" in (reporter_home / "config.toml").read_text(encoding="utf-8")


def test_bundle_keeps_only_the_qt_parts_the_app_uses(linux_build: LinuxBuild) -> None:
    internal = linux_build.bundle / "_internal"
    names = {p.relative_to(internal).as_posix() for p in internal.rglob("*")}
    plugins = internal / "PySide6" / "Qt" / "plugins"
    assert (plugins / "platforms" / "libqxcb.so").is_file()
    assert (plugins / "imageformats" / "libqsvg.so").is_file() and (plugins / "iconengines" / "libqsvgicon.so").is_file()
    unwanted = [n for n in names if re.search(r"libQt6(Qml|Quick|Pdf|WebEngine|Multimedia|VirtualKeyboard)|"
                                              r"/translations/|/plugins/(sqldrivers|tls|qmltooling|designer)/|"
                                              r"libgtk-3|\.qm$", n)]
    assert not unwanted, f"trimmed parts are back in the bundle: {sorted(unwanted)[:10]}"
    dangling = [p for p in internal.rglob("*") if p.is_symlink() and not p.exists()]
    assert not dangling, f"dangling symlinks: {dangling}"
    if any(importlib.util.find_spec(m) for m in ("numpy", "av")):
        return  # the replay extra is installed, so bundled (numpy + PyAV): the size bound is for the default build
    size_mb = sum(p.stat().st_size for p in internal.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6
    assert size_mb < MAX_BUNDLE_MB, f"the bundle grew to {size_mb:.0f} MB"


def test_hotkey_opens_the_form_in_the_bundled_program(
        linux_build: LinuxBuild, openbox: XServer, reporter_home: Path, system_config: Path) -> None:
    app = _start(linux_build.bundle / "reporter-app", openbox, reporter_home, system_config)
    try:
        app.wait_trace("ready", timeout=30)
        xdotool(openbox, "key", "--delay", "0", "ctrl+alt+b")
        app.wait_trace("form-exposed")
        form = wait_window(openbox, "^Report a problem$")
        assert xdotool(openbox, "getactivewindow") == form, "the form must have the keyboard focus"
        save_screenshot(openbox, "installer-bundle-form.png")
    finally:
        app.stop()


# ---- the tarball: install.sh / uninstall.sh, no root -----------------------------------------------------------------
def test_tarball_installs_and_uninstalls_for_one_user(linux_build: LinuxBuild, tmp_path: Path) -> None:
    with tarfile.open(linux_build.tarball) as tar:
        top = {m.name.split("/")[0] for m in tar.getmembers()}
        assert top == {linux_build.tarball.name.removesuffix(".tar.gz")}, top
        # Extraction filters arrived in 3.11.4; Debian 12 ships 3.11.2. The tarball is our own build.
        if hasattr(tarfile, "tar_filter"):
            tar.extractall(tmp_path / "unpacked", filter="tar")
        else:
            tar.extractall(tmp_path / "unpacked")  # noqa: S202
    unpacked = tmp_path / "unpacked" / top.pop()
    for name in ("install.sh", "uninstall.sh", "reporter-app.desktop", "reporter-app.svg", "README.txt",
                 "reporter-app/reporter-app"):
        assert (unpacked / name).exists(), name

    home = tmp_path / "home"
    home.mkdir()
    env = {"HOME": str(home), "PATH": os.environ["PATH"], "LANG": "C.UTF-8"}
    install = _run(unpacked / "install.sh", "--autostart", env=env, timeout=60)
    assert install.returncode == 0, install.stdout + install.stderr
    dest = home / ".local" / "opt" / "reporter-app"
    launcher = home / ".local" / "bin" / "reporter-app"
    desktop = home / ".local" / "share" / "applications" / "reporter-app.desktop"
    autostart = home / ".config" / "autostart" / "reporter-app.desktop"
    assert launcher.is_symlink() and launcher.resolve() == (dest / "reporter-app").resolve()
    assert VERSION_LINE.match(_run(launcher, "--version", env=env).stdout.strip())
    for entry in (desktop, autostart):
        text = entry.read_text(encoding="utf-8")
        assert f"\nExec={dest}/reporter-app\n" in text, text  # absolute: the session's PATH may lack ~/.local/bin
        assert "\nExec=reporter-app" not in text
    assert "X-GNOME-Autostart-enabled=true" in autostart.read_text(encoding="utf-8")
    assert "is not on your PATH" in install.stdout

    again = _run(unpacked / "install.sh", "--no-autostart", env=env, timeout=60)  # an update in place
    assert again.returncode == 0, again.stdout + again.stderr
    assert not autostart.exists() and (dest / "reporter-app").is_file()

    data = home / ".local" / "share" / "reporter-app"
    data.mkdir(parents=True)
    uninstall = _run(dest / "uninstall.sh", env=env)
    assert uninstall.returncode == 0, uninstall.stdout + uninstall.stderr
    assert not dest.exists() and not launcher.exists() and not launcher.is_symlink() and not desktop.exists()
    assert not (home / ".local" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "reporter-app.svg").exists()
    assert data.is_dir(), "uninstall without --purge keeps the user's reports"


# ---- the .deb -------------------------------------------------------------------------------------------------------
def test_deb_metadata_and_layout(linux_build: LinuxBuild, deb_root: Path) -> None:
    fields = _run("dpkg-deb", "--field", str(linux_build.deb), "Package", "Version", "Architecture", "Depends").stdout
    assert "Package: reporter-app" in fields and f"Version: {__version__}" in fields, fields
    for package in ("libc6 (>= ", "libxcb-cursor0", "libxkbcommon-x11-0", "libegl1", "libgl1"):
        assert package in fields, f"{package} missing from Depends: {fields}"
    launcher = deb_root / "usr" / "bin" / "reporter-app"
    assert launcher.is_symlink() and not os.readlink(launcher).startswith("/"), "relative, so dpkg -x roots work"
    assert (deb_root / "opt" / "reporter-app" / "reporter-app").is_file()
    desktop = (deb_root / "usr" / "share" / "applications" / "reporter-app.desktop").read_text(encoding="utf-8")
    assert "\nExec=reporter-app\n" in desktop and "\nIcon=reporter-app\n" in desktop
    assert (deb_root / "usr" / "share" / "icons" / "hicolor" / "scalable" / "apps" / "reporter-app.svg").is_file()
    assert (deb_root / "usr" / "share" / "reporter-app" / "autostart.desktop").is_file()
    assert not (deb_root / "etc").exists(), "the system config is the administrator's, not the package's"


def test_deb_program_runs_from_the_unpacked_root(deb_root: Path, reporter_home: Path, tmp_path: Path) -> None:
    launcher = deb_root / "usr" / "bin" / "reporter-app"
    system = tmp_path / "system.toml"
    system.write_text('[tracker]\nbackend = "local"\n\n[admin]\nlocked = ["tracker"]\n', encoding="utf-8")
    env = _home_env(reporter_home, system)
    assert VERSION_LINE.match(_run(launcher, "--version", env=env).stdout.strip())
    paths = _run(launcher, "config", "path", env=env)
    assert paths.returncode == 0 and str(system) in paths.stdout, paths.stdout + paths.stderr
    check = _run(launcher, "config", "check", "--system", env=env)
    assert check.returncode == 0, check.stderr
    assert str(system) in check.stdout and "tracker" in check.stdout, check.stdout
    system.write_text('[admin]\nlocked = ["trackr"]\n', encoding="utf-8")
    bad = _run(launcher, "config", "check", "--system", env=env)
    assert bad.returncode == 1 and "did you mean 'tracker'" in bad.stderr, bad.stdout + bad.stderr


def test_deb_program_starts_and_a_second_launch_opens_the_form(
        deb_root: Path, openbox: XServer, reporter_home: Path, system_config: Path) -> None:
    launcher = deb_root / "usr" / "bin" / "reporter-app"
    app = _start(launcher, openbox, reporter_home, system_config)
    try:
        app.wait_trace("ready", timeout=30)
        env = openbox.env
        env.update(REPORTER_APP_HOME=str(reporter_home), REPORTER_APP_SYSTEM_CONFIG=str(system_config))
        second = _run(launcher, env=env, timeout=30)  # what the menu entry or the autostart entry runs
        assert second.returncode == 0, second.stdout + second.stderr
        wait_window(openbox, "^Report a problem$")
        assert app.process.poll() is None
    finally:
        app.stop()

