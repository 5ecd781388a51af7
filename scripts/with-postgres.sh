#!/usr/bin/env bash
# Run a command against a real, throwaway PostgreSQL.
#
# Usage: scripts/with-postgres.sh CMD [ARGS...]
#   e.g. scripts/with-postgres.sh cargo test -p fluxstore-hub
#
# What it does: a private cluster (initdb) in a fresh directory under target/, started on a
# free port of 127.0.0.1 (as the `postgres` user when run as root), then CMD with
# FLUXSTORE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:PORT/postgres and
# FLUXSTORE_REQUIRE_POSTGRES=1 (so the PostgreSQL tests fail instead of skipping); each test
# makes its own database in it. The cluster is stopped and removed when CMD ends.
# When FLUXSTORE_TEST_DATABASE_URL is already set, CMD just runs against that server.
#
# Needs (Debian/Ubuntu): postgresql (scripts/install-deps --postgres, or --test)
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
if [ -n "${FLUXSTORE_TEST_DATABASE_URL:-}" ]; then
    export FLUXSTORE_REQUIRE_POSTGRES=1
    exec "$@"
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=lib/postgres.sh
. "$root/scripts/lib/postgres.sh"

base="${CARGO_TARGET_DIR:-$root/target}"
mkdir -p "$base"
dir="$(mktemp -d "$base/postgres-test.XXXXXX")"
if ! pg_reachable "$dir"; then
    # The postgres user cannot reach target/ (a private home): use the temporary directory.
    rmdir "$dir"
    dir="$(mktemp -d "${TMPDIR:-/tmp}/fluxstore-postgres.XXXXXX")"
fi
cleanup() {
    pg_stop "$dir"
    rm -rf "$dir"
}
trap cleanup EXIT

port=""
for _ in 1 2 3 4 5; do
    candidate="$(pg_free_port $((40000 + RANDOM % 20000)))"
    if pg_start "$dir" "$candidate"; then
        port="$candidate"
        break
    fi
done
if [ -z "$port" ]; then
    echo "error: the test PostgreSQL did not start; its log:" >&2
    cat "$dir/server.log" >&2 2>/dev/null || true
    exit 1
fi

export FLUXSTORE_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
export FLUXSTORE_REQUIRE_POSTGRES=1
echo "PostgreSQL for tests on 127.0.0.1:$port" >&2
set +e
"$@"
rc=$?
set -e
exit "$rc"
