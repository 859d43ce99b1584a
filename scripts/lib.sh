# Shared helpers for scripts/run-app, scripts/test-all and scripts/redmine-*.
# Sourced, not executed. Bash only.

# shellcheck shell=bash

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV_DIR=$REPO_ROOT/.venv
ARTIFACTS_DIR=$REPO_ROOT/.test-artifacts   # tests/support/env.py knows it too
MIN_PYTHON=(3 11)

# Runtime libraries PySide6 needs on Debian/Ubuntu: QtGui/QtWidgets at all (even offscreen), then the xcb platform.
RUNTIME_APT_PACKAGES=(
    libgl1 libegl1 libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon0
    libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
    libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0
)

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

is_root() { [ "$(id -u)" = 0 ]; }

# Run a command as root: directly when we are root, else through sudo.
as_root() {
    if is_root; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run: $* (run as root, or install sudo)"
    fi
}

have_apt() { command -v apt-get >/dev/null 2>&1 && command -v dpkg-query >/dev/null 2>&1; }

# Print the packages of "$@" that are not installed (one per line). One dpkg-query for all of them.
missing_apt_packages() {
    local installed p
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "$@" 2>/dev/null | awk '$2 == "installed" { print $1 }' || true)
    for p in "$@"; do
        grep -qxF "$p" <<<"$installed" || printf '%s\n' "$p"
    done
}

APT_UPDATED=0

# apt_ensure PKG...: install the missing ones (non-interactive); no apt at all when all are there.
# Set APT_LOG to a file to keep apt's chatter out of the terminal.
apt_ensure() {
    have_apt || { warn "no apt-get here: install these yourself if something fails: $*"; return 0; }
    local missing
    mapfile -t missing < <(missing_apt_packages "$@")
    [ "${#missing[@]}" -eq 0 ] && return 0
    log "apt: installing ${missing[*]}"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 -o Dpkg::Use-Pty=0)
    local out=${APT_LOG:-/dev/stderr}
    if [ "$APT_UPDATED" != 1 ]; then
        as_root "${apt[@]}" update -qq >>"$out" 2>&1 || { [ "$out" != /dev/stderr ] && tail -30 "$out"; die "apt-get update failed"; }
        APT_UPDATED=1
    fi
    as_root "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >>"$out" 2>&1 \
        || { [ "$out" != /dev/stderr ] && tail -50 "$out"; die "apt-get install failed (${missing[*]})"; }
}

# Echo "X.Y" of the given python, or nothing.
python_version() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true; }

python_ok() {  # python_ok PYTHON: true when it exists and is >= MIN_PYTHON
    "$1" -c "import sys; sys.exit(0 if sys.version_info[:2] >= (${MIN_PYTHON[0]}, ${MIN_PYTHON[1]}) else 1)" 2>/dev/null
}

# Make sure `python3` on PATH is usable to build a venv; on Debian install python3 / python3-venv via apt.
# Sets PYTHON to the interpreter to use.
ensure_python() {
    local install=${1:-1}
    PYTHON=$(command -v python3 || true)
    if [ -z "$PYTHON" ] || ! python_ok "$PYTHON"; then
        if [ "$install" = 1 ] && have_apt && [ -z "$PYTHON" ]; then
            apt_ensure python3 python3-venv python3-pip
            hash -r
            PYTHON=$(command -v python3 || true)
        fi
    fi
    [ -n "$PYTHON" ] || die "python3 not found on PATH (Python >= ${MIN_PYTHON[0]}.${MIN_PYTHON[1]} is required)"
    python_ok "$PYTHON" || die "python3 on PATH ($PYTHON) is Python $(python_version "$PYTHON"); Python >= ${MIN_PYTHON[0]}.${MIN_PYTHON[1]} is required (put a newer python3 first on PATH)"
    # Debian's own python3 has venv/ensurepip in a separate package.
    if [ "$install" = 1 ] && have_apt && [ "$(readlink -f "$PYTHON")" = "$(readlink -f /usr/bin/python3 2>/dev/null)" ]; then
        apt_ensure python3-venv python3-pip
    fi
}

# ensure_venv EXTRAS: create (or repair) .venv with $PYTHON and `pip install -e .[EXTRAS]`.
# Skips pip when pyproject.toml and the extras are unchanged since the last successful install.
ensure_venv() {
    local extras=${1:-} spec=.
    [ -n "$extras" ] && spec=".[$extras]"
    if [ -x "$VENV_DIR/bin/python" ] && { ! python_ok "$VENV_DIR/bin/python" || ! "$VENV_DIR/bin/python" -m pip --version >/dev/null 2>&1; }; then
        log "venv: $VENV_DIR is broken, too old or has no pip; recreating it"
        rm -rf "$VENV_DIR"
    fi
    if [ ! -x "$VENV_DIR/bin/python" ]; then
        log "venv: creating $VENV_DIR with $PYTHON ($(python_version "$PYTHON"))"
        rm -rf "$VENV_DIR"
        "$PYTHON" -m venv "$VENV_DIR" || die "could not create a venv with $PYTHON (on Debian: apt-get install python3-venv)"
    fi
    # One stamp per extras set; an install with extras also satisfies the plain one.
    local want stamp="$VENV_DIR/.reporter-app-install${extras:+-$extras}" f
    want="$(sha256sum <"$REPO_ROOT/pyproject.toml" | cut -d' ' -f1) $(python_version "$VENV_DIR/bin/python")"
    for f in "$stamp" $([ -z "$extras" ] && echo "$VENV_DIR"/.reporter-app-install-*); do
        if [ -f "$f" ] && [ "$(cat "$f")" = "$want" ]; then
            return 0
        fi
    done
    log "pip: installing -e '$spec' into $VENV_DIR"
    (cd "$REPO_ROOT" && "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec") \
        || die "pip install -e '$spec' failed"
    printf '%s\n' "$want" >"$stamp"
}
