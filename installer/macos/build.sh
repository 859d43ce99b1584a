#!/bin/bash
# Build Reporter.app and its dmg on macOS (12 or newer; build on the oldest macOS you support, on the CPU you ship:
# arm64 on Apple silicon, x86_64 on Intel; PySide6's wheels are universal2 but Python's venv is not).
#
#   installer/macos/build.sh                          unsigned dmg (local testing)
#   installer/macos/build.sh --sign "Developer ID Application: Example Ltd (TEAMID)" --notarize PROFILE
#
# Needs python3.11 (python.org or Homebrew) on PATH. Makes .venv-build with `pip install -e '.[build]'`, runs
# installer/reporter-app.spec (dist/Reporter.app, with Info.plist LSUIElement: menu-bar app, no Dock icon), then
# installer/macos/make-dmg.sh with the same arguments (signing, dmg, notarisation, stapling).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
start=$(date +%s)
[ -x .venv-build/bin/python ] || python3.11 -m venv .venv-build
.venv-build/bin/python -m pip install --quiet --disable-pip-version-check -e '.[build]'
.venv-build/bin/python -m PyInstaller --noconfirm --clean --log-level WARN installer/reporter-app.spec
dist/Reporter.app/Contents/MacOS/reporter-app --version
installer/macos/make-dmg.sh --app dist/Reporter.app "$@"
echo "Reporter.app: $(du -sh dist/Reporter.app | cut -f1); build time $(( $(date +%s) - start )) s"
