#!/usr/bin/env bash
# A streaming read replica of the local PostgreSQL server, for CI and the replica tests (test/system/replica.test.ts).
#
#   scripts/ci-replica.sh [start]   make it (pg_basebackup -R) if there is none, start it, wait until it streams
#   scripts/ci-replica.sh stop      stop it (the tests check that reads fall back to the primary)
#   scripts/ci-replica.sh remove    stop it and delete its data directory
#
# Safe to run again: an existing replica is started, not rebuilt; one that cannot catch up is rebuilt. Run as root
# or as postgres. Primary at PRIMARY_HOST:PRIMARY_PORT (127.0.0.1:5432, trust auth), replica on REPLICA_PORT (5433)
# with its data in REPLICA_DIR (/tmp/stageline-replica). No replication slot: a slot left behind by a deleted
# replica would make the primary keep WAL for ever; a replica that fell too far behind is rebuilt instead.
set -euo pipefail

PRIMARY_HOST=${PRIMARY_HOST:-127.0.0.1}
PRIMARY_PORT=${PRIMARY_PORT:-5432}
REPLICA_PORT=${REPLICA_PORT:-5433}
REPLICA_DIR=${REPLICA_DIR:-/tmp/stageline-replica}
action=${1:-start}

primary_psql() { psql -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -XAtq "$@"; }
version=$(primary_psql -c 'show server_version_num')
version=${version:0:2}
bin=/usr/lib/postgresql/$version/bin
[ -x "$bin/pg_ctl" ] || { echo "ci-replica: no PostgreSQL $version binaries in $bin" >&2; exit 1; }

# pg_ctl refuses to run as root: run the server's tools as postgres.
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
running() { [ -f "$REPLICA_DIR/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$REPLICA_DIR" status >/dev/null 2>&1; }
stop() { if running; then as_postgres "$bin/pg_ctl" -D "$REPLICA_DIR" -m fast -w stop >/dev/null; fi; }

case "$action" in
  stop)
    stop
    echo "ci-replica: stopped"
    exit 0
    ;;
  remove)
    stop
    rm -rf "$REPLICA_DIR"
    echo "ci-replica: removed $REPLICA_DIR"
    exit 0
    ;;
  start) ;;
  *)
    echo "usage: $0 [start|stop|remove]" >&2
    exit 2
    ;;
esac

# The primary must accept replication connections from loopback (trust, like its other loopback connections).
hba=$(primary_psql -c 'show hba_file')
if ! primary_psql -c "select 1 from pg_hba_file_rules where 'replication' = any(database) and type = 'host' and address = '127.0.0.1'" | grep -q 1; then
  printf '# added by stageline scripts/ci-replica.sh: streaming replica on this machine\nhost replication all 127.0.0.1/32 trust\n' >>"$hba"
  primary_psql -c 'select pg_reload_conf()' >/dev/null
fi

build() {
  stop
  rm -rf "$REPLICA_DIR"
  mkdir -p "$REPLICA_DIR"
  chown postgres:postgres "$REPLICA_DIR" 2>/dev/null || true
  chmod 700 "$REPLICA_DIR"
  echo "ci-replica: pg_basebackup of $PRIMARY_HOST:$PRIMARY_PORT into $REPLICA_DIR"
  as_postgres "$bin/pg_basebackup" -h "$PRIMARY_HOST" -p "$PRIMARY_PORT" -U postgres -D "$REPLICA_DIR" -R -X stream -c fast
  # A standby needs at least the primary's values of these (hot standby refuses to start otherwise).
  settings=$(primary_psql -F ' = ' -c "select name, setting from pg_settings where name in
    ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')")
  # Debian keeps postgresql.conf and pg_hba.conf outside the data directory: the replica gets its own.
  as_postgres tee "$REPLICA_DIR/postgresql.conf" >/dev/null <<EOF
port = $REPLICA_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '/tmp'
hot_standby = on
hot_standby_feedback = on
shared_buffers = 32MB
logging_collector = off
$settings
EOF
  as_postgres tee "$REPLICA_DIR/pg_hba.conf" >/dev/null <<EOF
local all all trust
host all all 127.0.0.1/32 trust
EOF
}

streaming() {
  [ "$(psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -XAtq -c 'select pg_is_in_recovery()' 2>/dev/null)" = t ] &&
    [ "$(primary_psql -c "select count(*) from pg_stat_replication where state = 'streaming'")" -gt 0 ]
}

start() {
  running || as_postgres "$bin/pg_ctl" -D "$REPLICA_DIR" -l "$REPLICA_DIR/server.log" -w -t 60 start >/dev/null
  for _ in $(seq 1 120); do
    streaming && return 0
    sleep 1
  done
  return 1
}

[ -f "$REPLICA_DIR/standby.signal" ] || build
if ! start; then
  echo "ci-replica: the replica did not stream (see $REPLICA_DIR/server.log); rebuilding it" >&2
  build
  start || {
    tail -n 20 "$REPLICA_DIR/server.log" >&2
    exit 1
  }
fi
echo "ci-replica: streaming replica of $PRIMARY_HOST:$PRIMARY_PORT on 127.0.0.1:$REPLICA_PORT ($REPLICA_DIR)"
