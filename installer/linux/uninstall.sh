#!/bin/sh
# Remove a reporter-app that install.sh installed for the current user.
#
#   ~/.local/opt/reporter-app/uninstall.sh           the program, launcher, menu entry, icon and autostart entry
#   ~/.local/opt/reporter-app/uninstall.sh --purge   and your settings and reports too (asks nothing: be sure)
#   ./uninstall.sh --prefix DIR                       from the tarball: the install made with --prefix DIR
#
# Quit the running app first (tray menu > Quit), or it runs on until you log out.
set -eu

die() { printf 'uninstall.sh: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -eu/{/^#/{s/^# \{0,1\}//;p}}' "$0"; }

HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${HOME:?HOME is not set}/.local
PURGE=0
while [ $# -gt 0 ]; do
    case $1 in
        --purge) PURGE=1 ;;
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; HERE=; shift ;;
        --prefix=*) PREFIX=${1#*=}; HERE= ;;
        -h|--help) usage; exit 0 ;;
        *) printf 'uninstall.sh: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
    esac
    shift
done

# Run from the install itself, or from the unpacked tarball / with --prefix: then the install is PREFIX's.
if [ -n "$HERE" ] && [ -f "$HERE/install-manifest.txt" ]; then
    DEST=$HERE
else
    DEST=$PREFIX/opt/reporter-app
fi
[ -f "$DEST/install-manifest.txt" ] || die "no reporter-app installed by install.sh in $DEST"

while IFS= read -r path; do
    case $path in
        */bin/reporter-app)  # the launcher: only our symlink
            if [ -L "$path" ]; then rm -f "$path"; fi ;;
        */reporter-app.desktop|*/reporter-app.svg) rm -f "$path" ;;
        *) ;;  # a manifest line we do not know: leave it alone
    esac
done <"$DEST/install-manifest.txt"
rm -rf "$DEST"

DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}
CONFIG_HOME=${XDG_CONFIG_HOME:-$HOME/.config}
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA_HOME/applications" 2>/dev/null || true
printf 'Removed reporter-app from %s\n' "$DEST"
if [ "$PURGE" = 1 ]; then
    rm -rf "$CONFIG_HOME/reporter-app" "$DATA_HOME/reporter-app"
    printf 'Removed your settings and reports (%s, %s)\n' "$CONFIG_HOME/reporter-app" "$DATA_HOME/reporter-app"
else
    printf 'Your settings and reports stay in %s and %s (--purge removes them)\n' "$CONFIG_HOME/reporter-app" "$DATA_HOME/reporter-app"
fi
