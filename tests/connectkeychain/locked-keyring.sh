#!/bin/sh
# Runs a test inside its own D-Bus session with a real gnome-keyring of its own (a fresh
# login keyring in a temporary home, created unlocked with a password on stdin). DISPLAY
# is removed, so no unlock prompt can ever be shown: once the test locks the keyring,
# every unlock is refused, as when the administrator cancels gnome-keyring's prompt.
# Usage: locked-keyring.sh <test executable> [arguments…]
set -eu
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
export HOME="$home" XDG_DATA_HOME="$home/data" XDG_CONFIG_HOME="$home/config" XDG_RUNTIME_DIR="$home/run"
export XDG_CACHE_HOME="$home/cache"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"
exec dbus-run-session -- sh -c '
    eval "$(printf lab | gnome-keyring-daemon --daemonize --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL FT_OWN_KEYRING=1
    "$@"
' locked-keyring "$@"
