#!/bin/sh
# Install reporter-app for the current user, without root.
#
#   ./install.sh                 the program in ~/.local/opt/reporter-app, the launcher ~/.local/bin/reporter-app,
#                                the menu entry in ~/.local/share/applications, the icon in ~/.local/share/icons
#   ./install.sh --autostart     the same, and start it at login (~/.config/autostart/reporter-app.desktop)
#   ./install.sh --no-autostart  the same, and remove an autostart entry an earlier install made
#   ./install.sh --prefix DIR    DIR/opt/reporter-app and DIR/bin instead of ~/.local/...
#
# Installing again updates in place (restart the running app to use the new version); your settings and reports
# (~/.config/reporter-app, ~/.local/share/reporter-app) are never touched. Remove with
# ~/.local/opt/reporter-app/uninstall.sh.
set -eu

die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -eu/{/^#/{s/^# \{0,1\}//;p}}' "$0"; }

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${HOME:?HOME is not set}/.local
AUTOSTART=keep
while [ $# -gt 0 ]; do
    case $1 in
        --autostart) AUTOSTART=yes ;;
        --no-autostart) AUTOSTART=no ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift ;;
        --prefix=*) PREFIX=${1#*=} ;;
        -h|--help) usage; exit 0 ;;
        *) printf 'install.sh: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
    esac
    shift
done
case $PREFIX in /*) ;; *) PREFIX=$(pwd)/$PREFIX ;; esac

DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
CONFIG_HOME=${XDG_CONFIG_HOME:-$HOME/.config}
DEST=$PREFIX/opt/reporter-app
BIN_DIR=$PREFIX/bin
LAUNCHER=$BIN_DIR/reporter-app
DESKTOP=$DATA_HOME/applications/reporter-app.desktop
ICON=$DATA_HOME/icons/hicolor/scalable/apps/reporter-app.svg
AUTOSTART_FILE=$CONFIG_HOME/autostart/reporter-app.desktop

[ -x "$HERE/reporter-app/reporter-app" ] || die "run me from the unpacked tarball ($HERE/reporter-app/reporter-app is missing)"
[ "$(id -u)" != 0 ] || printf 'install.sh: note: installing for root only (%s); the .deb installs for everyone\n' "$PREFIX" >&2
"$HERE/reporter-app/reporter-app" --version >/dev/null 2>&1 \
    || die "$HERE/reporter-app/reporter-app does not run here (missing system libraries? see README.txt)"

# The Exec= value of a desktop entry: quoted when the path has characters the spec reserves.
exec_value() {
    case $1 in
        *[!A-Za-z0-9_./+-]*) printf '"%s"' "$(printf '%s' "$1" | sed -e 's/[\\"`$]/\\\\&/g')" ;;
        *) printf '%s' "$1" ;;
    esac
}
EXEC=$(exec_value "$DEST/reporter-app")

# A desktop entry from a template, pointing at the installed program (the session's PATH may lack ~/.local/bin).
write_entry() {  # write_entry TEMPLATE TARGET
    mkdir -p "$(dirname "$2")"
    sed -e "s|^Exec=reporter-app|Exec=$EXEC|" -e "s|^Icon=reporter-app\$|Icon=$ICON|" "$1" >"$2.tmp.$$"
    mv "$2.tmp.$$" "$2"
}

# 1. the program: copy next to the old one, then swap, so a failed copy leaves the old install working.
mkdir -p "$PREFIX/opt" "$BIN_DIR"
NEW=$DEST.new.$$
rm -rf "$NEW"
trap 'rm -rf "$NEW"' EXIT
cp -R "$HERE/reporter-app" "$NEW"
cp "$HERE/uninstall.sh" "$NEW/uninstall.sh"
chmod 0755 "$NEW/uninstall.sh"
if [ -e "$DEST" ]; then
    [ -f "$DEST/install-manifest.txt" ] || [ -x "$DEST/reporter-app" ] || die "$DEST exists and is not a reporter-app install: not replacing it"
    rm -rf "$DEST.old"
    mv "$DEST" "$DEST.old"
fi
mv "$NEW" "$DEST"
rm -rf "$DEST.old"
trap - EXIT

# 2. launcher, menu entry, icon, autostart
ln -sf "$DEST/reporter-app" "$LAUNCHER"
mkdir -p "$(dirname "$ICON")"
cp "$HERE/reporter-app.svg" "$ICON"
write_entry "$HERE/reporter-app.desktop" "$DESKTOP"
case $AUTOSTART in
    yes) write_entry "$HERE/reporter-app-autostart.desktop" "$AUTOSTART_FILE" ;;
    no) rm -f "$AUTOSTART_FILE" ;;
esac

# 3. what uninstall.sh removes besides $DEST
{
    printf '%s\n' "$LAUNCHER" "$DESKTOP" "$ICON"
    [ -f "$AUTOSTART_FILE" ] && printf '%s\n' "$AUTOSTART_FILE"
} >"$DEST/install-manifest.txt"

command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA_HOME/applications" 2>/dev/null || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA_HOME/icons/hicolor" 2>/dev/null || true

printf 'Installed %s in %s\n' "$("$DEST/reporter-app" --version)" "$DEST"
printf '  launcher:   %s\n  menu entry: %s\n' "$LAUNCHER" "$DESKTOP"
[ -f "$AUTOSTART_FILE" ] && printf '  autostart:  %s\n' "$AUTOSTART_FILE"
case :$PATH: in
    *:"$BIN_DIR":*) ;;
    *) printf 'Note: %s is not on your PATH; start "Reporter" from the menu, or add it to PATH.\n' "$BIN_DIR" ;;
esac
printf 'Uninstall: %s/uninstall.sh\n' "$DEST"
