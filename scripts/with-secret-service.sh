#!/usr/bin/env bash
# Run a command against a real, throwaway Secret Service.
#
# Usage: scripts/with-secret-service.sh CMD [ARGS...]
#   e.g. scripts/with-secret-service.sh cargo test -p fluxstore-gateway --test gateway -- keyring:: --include-ignored
#
# What it does: a fresh HOME (and XDG dirs) in a temporary directory, a private D-Bus
# session (dbus-run-session, which ends the bus and the keyring daemon with the command),
# gnome-keyring-daemon unlocked with a random throwaway password, then CMD with
# FLUXSTORE_REQUIRE_SECRET_SERVICE=1 so keyring tests fail instead of skipping.
#
# Needs (Debian/Ubuntu): gnome-keyring libsecret-tools dbus dbus-x11 libdbus-1-dev
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi

for tool in dbus-run-session gnome-keyring-daemon; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "error: $tool not found. Install: apt-get install gnome-keyring libsecret-tools dbus dbus-x11 libdbus-1-dev" >&2
        exit 127
    fi
done

# Keep the toolchain where it is while HOME moves.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"

scratch="$(mktemp -d "${TMPDIR:-/tmp}/fluxstore-keyring.XXXXXX")"
cleanup() { rm -rf "$scratch"; }
trap cleanup EXIT

export HOME="$scratch/home"
export XDG_DATA_HOME="$HOME/.local/share"
export XDG_CONFIG_HOME="$HOME/.config"
export XDG_CACHE_HOME="$HOME/.cache"
export XDG_RUNTIME_DIR="$scratch/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
# No X display: nothing may autolaunch a second bus behind our back.
unset DISPLAY WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS
export FLUXSTORE_REQUIRE_SECRET_SERVICE=1

# shellcheck disable=SC2016 # expanded by the inner shell
dbus-run-session -- bash -c '
    set -uo pipefail
    # The daemon runs in the foreground of this inner shell so it can be stopped by its
    # own pid. A throwaway password, never on argv: it goes through a pipe.
    gnome-keyring-daemon --foreground --unlock --components=secrets \
        < <(head -c 24 /dev/urandom | base64 | tr -d "\n") >/dev/null 2>&1 &
    daemon=$!
    # Wait (bounded) until it owns the Secret Service name, so nothing D-Bus-activates a
    # second, locked daemon.
    ready=no
    for _ in $(seq 1 100); do
        if dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"; then
            ready=yes
            break
        fi
        sleep 0.1
    done
    if [ "$ready" != yes ]; then
        echo "error: gnome-keyring-daemon did not start a Secret Service" >&2
        kill "$daemon" 2>/dev/null
        exit 1
    fi
    "$@"
    rc=$?
    kill "$daemon" 2>/dev/null
    wait "$daemon" 2>/dev/null
    exit "$rc"
' with-secret-service "$@"
