#!/bin/sh
# Start Reporter at login on macOS (a LaunchAgent), or stop doing so.
#
#   installer/macos/autostart.sh on  [--all-users] [--app /Applications/Reporter.app]
#   installer/macos/autostart.sh off [--all-users]
#
# One user: ~/Library/LaunchAgents/com.example.reporter-app.plist. --all-users (sudo): /Library/LaunchAgents, for
# every user who logs in (MDM tools deploy the same file). The plist template is com.example.reporter-app.plist.
set -eu
LABEL=com.example.reporter-app
HERE=$(cd "$(dirname "$0")" && pwd)
ACTION=${1:-}
[ $# -gt 0 ] && shift
APP=/Applications/Reporter.app
DIR=$HOME/Library/LaunchAgents
while [ $# -gt 0 ]; do
    case $1 in
        --all-users) DIR=/Library/LaunchAgents ;;
        --app) APP=$2; shift ;;
        *) echo "autostart.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
PLIST=$DIR/$LABEL.plist
case $ACTION in
    on)
        [ -x "$APP/Contents/MacOS/reporter-app" ] || { echo "autostart.sh: $APP is not Reporter.app" >&2; exit 1; }
        mkdir -p "$DIR"
        sed "s|@APP@|$APP|g" "$HERE/$LABEL.plist" >"$PLIST"
        chmod 0644 "$PLIST"
        plutil -lint "$PLIST" >/dev/null
        [ "$DIR" = /Library/LaunchAgents ] && chown root:wheel "$PLIST"
        echo "Reporter starts at login ($PLIST)" ;;
    off)
        if [ "$DIR" != /Library/LaunchAgents ]; then launchctl bootout "gui/$(id -u)/$LABEL" 2>/dev/null || true; fi
        rm -f "$PLIST"
        echo "Reporter no longer starts at login" ;;
    *) sed -n '2,/^set -eu/{/^#/{s/^# \{0,1\}//;p;};}' "$0"; exit 2 ;;
esac
