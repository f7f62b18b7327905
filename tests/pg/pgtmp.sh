#!/bin/sh
# pgtmp.sh - a throwaway PostgreSQL cluster for sipcdr's tests.
#
#   pgtmp.sh start            initdb (first time) and start on 127.0.0.1, first
#                             free port from 55432; create role sipcdr. Prints
#                             one line: where it runs. Running already: no-op.
#   pgtmp.sh stop             stop the server (pg_ctl, else TERM to the
#                             postmaster PID) and delete the state directory.
#                             Nothing running / no directory: no-op.
#   pgtmp.sh halt [MODE]      stop the server but keep the cluster, to test
#                             an outage; MODE is pg_ctl's: fast (default),
#                             smart or immediate (a crash: recovery at resume).
#   pgtmp.sh resume           start a halted cluster again, on its old port.
#   pgtmp.sh newdb NAME       drop database NAME if it exists, create it owned
#                             by role sipcdr, print its libpq conninfo.
#   pgtmp.sh conninfo [NAME]  print the conninfo of database NAME (postgres).
#   pgtmp.sh status           exit 0 when the server runs.
#
# State lives in $SIPCDR_PGTMP_DIR (default ./.pg); ports are tried from
# $SIPCDR_PGTMP_PORT (default 55432) on. As root the server runs as
# OS user postgres (nobody if there is none) through runuser; when that user
# cannot reach the state directory (a build tree under /root, say) the cluster
# goes to a mktemp -d under /tmp, remembered in $SIPCDR_PGTMP_DIR/redirect.
# Test settings only: trust authentication, 127.0.0.1 only, no unix socket,
# fsync off. Never reads stdin. PG_BIN overrides the server binaries
# (default: the newest /usr/lib/postgresql/*/bin).
set -eu

ROLE=sipcdr
MARK=.sipcdr-pgtmp
# Ports tried at start. A test that halts its own cluster sets another base
# (SIPCDR_PGTMP_PORT): a halted cluster frees its port, and the shared
# fixture starting meanwhile must not take it.
FIRST_PORT=${SIPCDR_PGTMP_PORT:-55432}
case $FIRST_PORT in '' | *[!0-9]*) echo "pgtmp: SIPCDR_PGTMP_PORT must be a number" >&2; exit 1 ;; esac
LAST_PORT=$((FIRST_PORT + 99))

REQ=${SIPCDR_PGTMP_DIR:-.pg}
case $REQ in /*) ;; *) REQ=$(pwd)/$REQ ;; esac

die() { echo "pgtmp: $*" >&2; exit 1; }

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/pg_ctl" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"

if [ "$(id -u)" = 0 ]; then
  OSUSER=postgres
  id "$OSUSER" >/dev/null 2>&1 || OSUSER=nobody
  # From / : initdb and postgres fail when they cannot read the current dir.
  as_pg() { (cd / && runuser -u "$OSUSER" -- "$@" </dev/null); }
else
  OSUSER=$(id -un)
  as_pg() { (cd / && "$@" </dev/null); }
fi

# The directory that really holds the cluster.
state_dir() {
  if [ -f "$REQ/redirect" ]; then cat "$REQ/redirect"; else echo "$REQ"; fi
}
DIR=$(state_dir)

running() {
  [ -f "$DIR/port" ] && [ -f "$DIR/data/PG_VERSION" ] &&
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

port() { cat "$DIR/port"; }
conninfo() { echo "host=127.0.0.1 port=$(port) dbname=$1 user=$ROLE"; }
psql_su() {
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port)" -U postgres -d postgres "$@" </dev/null
}

port_free() {
  command -v ss >/dev/null 2>&1 || return 0 # no ss: a failed bind is caught below
  [ -z "$(ss -Hlnt "( sport = :$1 )" 2>/dev/null)" ]
}

# Can the server's OS user reach (search) directory $1?
reachable() {
  [ "$(id -u)" = 0 ] || return 0
  (cd / && runuser -u "$OSUSER" -- test -x "$1" </dev/null) 2>/dev/null
}

# A directory we may delete: carries our marker, or is empty.
ours() { [ ! -e "$1" ] || [ -f "$1/$MARK" ] || [ -z "$(ls -A "$1" 2>/dev/null)" ]; }

remove_state() {
  if [ "$DIR" != "$REQ" ] && [ -d "$DIR" ]; then
    if [ -f "$DIR/$MARK" ]; then rm -rf "$DIR"; else echo "pgtmp: $DIR is not a pgtmp dir, kept" >&2; fi
  fi
  if [ -d "$REQ" ]; then
    if ours "$REQ"; then rm -rf "$REQ"; else echo "pgtmp: $REQ is not a pgtmp dir, kept" >&2; fi
  fi
  DIR=$REQ
}

init_cluster() {
  ours "$REQ" || die "$REQ exists and is not a pgtmp dir"
  remove_state
  mkdir -p "$REQ"
  touch "$REQ/$MARK"
  DIR=$REQ
  if ! reachable "$(dirname "$REQ")"; then
    DIR=$(mktemp -d /tmp/sipcdr-pgtmp.XXXXXX)
    touch "$DIR/$MARK"
    echo "$DIR" >"$REQ/redirect"
  fi
  chown "$OSUSER" "$DIR"
  chmod 700 "$DIR"
  as_pg "$PG_BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
}

pg_start() {
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 -o \
    "-p $1 -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
    start >/dev/null 2>&1
}

halt() {
  case ${1:-fast} in fast | smart | immediate) ;; *) die "halt mode must be fast, smart or immediate" ;; esac
  running || return 0
  as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m "${1:-fast}" -w -t 30 stop >/dev/null 2>&1 || die "cannot halt the server"
}

resume() {
  running && return 0
  [ -f "$DIR/data/PG_VERSION" ] && [ -f "$DIR/port" ] || die "nothing to resume in $REQ (run: $0 start)"
  pg_start "$(port)" || { tail -n 20 "$DIR/server.log" >&2 2>/dev/null; die "server did not start on port $(port)"; }
}

start() {
  if running; then
    echo "pgtmp: running on 127.0.0.1:$(port), $DIR"
    return 0
  fi
  [ -f "$DIR/data/PG_VERSION" ] || init_cluster
  p=$FIRST_PORT
  while :; do
    if port_free "$p"; then
      echo "$p" >"$DIR/port"
      rm -f "$DIR/server.log"
      if pg_start "$p"; then
        break
      fi
      # Another server took the port between the check and the bind: next one.
      grep -q "could not bind\|could not create any TCP/IP sockets" "$DIR/server.log" 2>/dev/null ||
        { tail -n 20 "$DIR/server.log" >&2 2>/dev/null; die "server did not start"; }
    fi
    p=$((p + 1))
    [ "$p" -le "$LAST_PORT" ] || die "no free port in $FIRST_PORT..$LAST_PORT"
  done
  if [ -z "$(psql_su -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" ]; then
    psql_su -c "CREATE ROLE $ROLE LOGIN"
  fi
  echo "pgtmp: running on 127.0.0.1:$p, $DIR"
}

stop() {
  pidfile=$DIR/data/postmaster.pid
  if [ -f "$pidfile" ]; then
    if ! as_pg "$PG_BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1; then
      pid=$(head -n 1 "$pidfile" 2>/dev/null || true)
      case $pid in '' | *[!0-9]*) pid= ;; esac
      if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
        i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
  fi
  remove_state
}

valid_name() {
  case $1 in '' | *[!a-z0-9_]*) die "database name must be [a-z0-9_]+: '$1'" ;; esac
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  halt) halt "${2:-fast}" ;;
  resume) resume ;;
  status) running ;;
  newdb)
    [ $# -eq 2 ] || die "usage: $0 newdb NAME"
    valid_name "$2"
    running || die "not running in $REQ (run: $0 start)"
    psql_su -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2 OWNER $ROLE" >/dev/null
    conninfo "$2" ;;
  conninfo)
    running || die "not running in $REQ (run: $0 start)"
    name=${2:-postgres}
    valid_name "$name"
    conninfo "$name" ;;
  *) echo "usage: $0 start|stop|halt [MODE]|resume|status|newdb NAME|conninfo [NAME]" >&2; exit 2 ;;
esac
