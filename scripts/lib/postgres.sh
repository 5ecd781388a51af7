# shellcheck shell=bash
# A private PostgreSQL cluster for tests and local runs (sourced by scripts/with-postgres.sh
# and scripts/run-hub). Debian's `postgresql` package provides the tools; the server refuses to
# run as root, so as root every server command runs as the package's `postgres` user.
# The cluster listens on 127.0.0.1 only (no Unix socket), trusts local connections, and keeps
# fsync and synchronous_commit on (a doorbell is durable when the hub says 200).

pg_bin() {
    local bin
    bin="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
        echo "error: PostgreSQL is not installed. Install it with: scripts/install-deps --postgres (Debian's postgresql package)" >&2
        return 127
    fi
    printf '%s\n' "$bin"
}

pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# pg_reachable DIR: whether the server's user can reach DIR's parent (always, unless root).
pg_reachable() {
    [ "$(id -u)" != 0 ] || runuser -u postgres -- test -x "$(dirname "$1")"
}

# pg_start DIR PORT: create the cluster in DIR/data if there is none, then start it on PORT.
pg_start() {
    local dir="$1" port="$2" bin
    bin="$(pg_bin)" || return $?
    mkdir -p "$dir"
    chmod 700 "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            return 1
        }
        cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 300
fsync = on
synchronous_commit = on
CONF
    fi
    pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 start >/dev/null
}

# pg_stop DIR: stop the cluster in DIR (fast: open connections are ended).
pg_stop() {
    local dir="$1" bin
    bin="$(pg_bin)" || return 0
    [ -f "$dir/data/postmaster.pid" ] || return 0
    pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

# pg_free_port FIRST: the first port from FIRST on that nothing listens on (127.0.0.1).
pg_free_port() {
    local port="$1"
    while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        port=$((port + 1))
    done
    printf '%s\n' "$port"
}

# pg_create_db PORT NAME: create database NAME unless it exists.
pg_create_db() {
    local port="$1" name="$2" bin
    bin="$(pg_bin)" || return $?
    if ! "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" postgres | grep -q 1; then
        "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name"
    fi
}
