#!/bin/bash
# Sign, package and notarise Reporter.app as a dmg (macOS only: codesign, hdiutil, xcrun notarytool/stapler).
#
#   installer/macos/make-dmg.sh [--sign "Developer ID Application: Example Ltd (TEAMID)"] [--notarize PROFILE]
#                               [--app dist/Reporter.app] [--out dist/reporter-app-VERSION-macos-ARCH.dmg]
#
# --sign: sign every Mach-O file inside the .app from the inside out, then the app, with the hardened runtime
#   (--options runtime), a secure timestamp and installer/macos/entitlements.plist; then the dmg. Without it the
#   dmg is unsigned: fine for trying it out, but Gatekeeper blocks it on other Macs.
# --notarize PROFILE: submit the signed dmg to Apple's notary service and staple the ticket. PROFILE is a keychain
#   profile made once with:
#     xcrun notarytool store-credentials PROFILE --apple-id ID --team-id TEAMID --password APP-SPECIFIC-PASSWORD
# See docs/installing.md ("macOS").
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
APP=$REPO/dist/Reporter.app
IDENTITY=
PROFILE=
OUT=
while [ $# -gt 0 ]; do
    case $1 in
        --sign) IDENTITY=$2; shift ;;
        --notarize) PROFILE=$2; shift ;;
        --app) APP=$2; shift ;;
        --out) OUT=$2; shift ;;
        -h|--help) sed -n '2,/^set -euo/{/^#/{s/^# \{0,1\}//;p;};}' "$0"; exit 0 ;;
        *) echo "make-dmg.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
[ -d "$APP/Contents/MacOS" ] || { echo "make-dmg.sh: $APP is not an app bundle (build it: installer/macos/build.sh)" >&2; exit 1; }
[ -z "$PROFILE" ] || [ -n "$IDENTITY" ] || { echo "make-dmg.sh: --notarize needs --sign" >&2; exit 2; }
VERSION=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$APP/Contents/Info.plist")
ARCH=$(uname -m)
OUT=${OUT:-$REPO/dist/reporter-app-$VERSION-macos-$ARCH.dmg}

if [ -n "$IDENTITY" ]; then
    sign() {  # sign FILE [ENTITLEMENTS]
        codesign --force --timestamp --options runtime ${2:+--entitlements "$2"} --sign "$IDENTITY" "$1"
    }
    # Inside out: libraries and plugins, then the frameworks, then the executable, then the app. Not --deep: it signs
    # in the wrong order and cannot give the executable its entitlements.
    while IFS= read -r -d '' f; do sign "$f"; done \
        < <(find "$APP/Contents" -type f \( -name '*.dylib' -o -name '*.so' \) -print0)
    while IFS= read -r -d '' f; do sign "$f"; done \
        < <(find "$APP/Contents" -type d -name '*.framework' -prune -print0)
    while IFS= read -r -d '' f; do sign "$f" "$HERE/entitlements.plist"; done \
        < <(find "$APP/Contents/MacOS" -type f -perm -u+x -print0)
    sign "$APP" "$HERE/entitlements.plist"
    codesign --verify --strict --deep --verbose=2 "$APP"
fi

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$OUT"
hdiutil create -volname "Reporter $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -imagekey zlib-level=9 -ov "$OUT"

if [ -n "$IDENTITY" ]; then
    codesign --force --timestamp --sign "$IDENTITY" "$OUT"
fi
if [ -n "$PROFILE" ]; then
    xcrun notarytool submit "$OUT" --keychain-profile "$PROFILE" --wait
    xcrun stapler staple "$APP"
    xcrun stapler staple "$OUT"
    spctl --assess --type open --context context:primary-signature --verbose "$OUT"
fi
echo "$OUT: $(du -h "$OUT" | cut -f1)"
