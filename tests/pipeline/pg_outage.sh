#!/usr/bin/env bash
# `sipcdr read --db` while PostgreSQL goes away: every record is written
# exactly once whatever happens (docs/storage.md). On a private cluster
# (other tests share the fixture's), stopped and restarted at will:
#   A  PostgreSQL stopped in the middle of an import and started again
#   B  the same with a spool: reading goes on into the spool meanwhile
#   C  PostgreSQL down at the start: --spool-ok ends with everything spooled;
#      the next run replays that spool first
#   D  a spool with a torn tail (killed while appending) is cut and replayed
#   E  the spool limit: reading pauses, nothing is dropped
#   F  a read-only database, made writable later
# and first (0) that records and their order do not depend on the queue size.
# Every background process is stopped by its PID; the cluster by pgtmp.sh.
source "$(dirname "$0")/lib.sh"
PGTMP="$HERE/../pg/pgtmp.sh"
export SIPCDR_PGTMP_DIR="$TMP/pg"
# Ports away from the shared fixture's (55432...): halting frees ours.
export SIPCDR_PGTMP_PORT=$((56000 + RANDOM % 8000))
BG=
cleanup() {
  if [ -n "$BG" ]; then kill -9 "$BG" 2>/dev/null; wait "$BG" 2>/dev/null; fi
  bash "$PGTMP" stop >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM # so that the EXIT trap runs: no cluster left behind
# The cluster must come back where it was; if not, nothing after is worth running.
resume() { bash "$PGTMP" resume || { echo "cannot restart PostgreSQL" >&2; exit 1; }; }
bash "$PGTMP" start >/dev/null || { echo "cannot start a private PostgreSQL" >&2; exit 1; }

"$TESTUTIL" many 20000 "$TMP/big.pcap"   # 20000 calls + 2000 sms
"$TESTUTIL" many 3000 "$TMP/small.pcap"  # 3000 calls + 300 sms
"$GENSAMPLE" "$TMP/sample.pcap"

DB=
newdb() {
  DB=$(bash "$PGTMP" newdb "$1") && "$SIPCDR" db migrate --db "$DB" >/dev/null 2>&1 ||
    { echo "cannot create database $1" >&2; exit 1; }
}
psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$DB" "$@" </dev/null 2>/dev/null; }
rows() { psql_q -c "SELECT (SELECT count(*) FROM calls) + (SELECT count(*) FROM sms)"; }
rows_at_least() { local n; n=$(rows); [ -n "$n" ] && [ "$n" -ge "$1" ]; }

# exact CALLS SMS: the generated records, each exactly once.
exact() {
  local got
  got=$(psql_q -c "SELECT count(*) || '/' || count(DISTINCT call_id) FROM calls WHERE call_id LIKE 'many-%'")/$(
    psql_q -c "SELECT count(*) || '/' || count(DISTINCT call_id) FROM sms WHERE call_id LIKE 'many-%'")
  [ "$got" = "$1/$1/$2/$2" ] || { echo "rows (count/distinct calls/sms): got $got, want $1/$1/$2/$2" >&2; return 1; }
}

# config NAME [KEY=VALUE in section storage]...: a small queue and small
# batches make an import take long enough to be interrupted; fast retries.
config() {
  local f="$TMP/$1.ini"; shift
  { printf '[capture]\nburst = 32\n[storage]\nqueue_size = 256\nbatch_max = 10\n'
    printf 'retry_min = 20\nretry_max = 200\nspool_fsync = no\ncollector = outage-test\n'
    for kv in "$@"; do printf '%s\n' "$kv"; done; } >"$f"
  echo "$f"
}

# A slow database (10 ms per COPY) until the outage, so that "in the middle
# of the import" does not depend on how fast this machine is; full speed after.
slow_db() {
  psql_q -c "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(0.01); RETURN NULL; END \$\$;
             CREATE TRIGGER slow AFTER INSERT ON calls FOR EACH STATEMENT EXECUTE FUNCTION slow();
             CREATE TRIGGER slow AFTER INSERT ON sms FOR EACH STATEMENT EXECUTE FUNCTION slow();" ||
    { echo "cannot slow the database down" >&2; exit 1; }
}
fast_db() { psql_q -c "DROP TRIGGER slow ON calls; DROP TRIGGER slow ON sms"; }

start_bg() { "$SIPCDR" read "$@" >"$TMP/bg.log" 2>&1 & BG=$!; }
alive() { kill -0 "$BG" 2>/dev/null; }
# wait_bg SECONDS WANT_RC: the background import ends in time with WANT_RC.
wait_bg() {
  local deadline=$((SECONDS + $1)) rc
  while alive && [ $SECONDS -lt "$deadline" ]; do sleep 0.05; done
  if alive; then
    echo "still running after $1 s" >&2; kill -9 "$BG"; wait "$BG"; BG=
    sed 's/^/  | /' "$TMP/bg.log" | tail -n 20 >&2; return 1
  fi
  wait "$BG"; rc=$?; BG=
  [ "$rc" = "$2" ] || { echo "exit status $rc, wanted $2" >&2; sed 's/^/  | /' "$TMP/bg.log" | tail -n 20 >&2; return 1; }
}
wait_until() { # SECONDS CMD...: poll CMD until it succeeds
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -lt "$deadline" ] || { echo "timed out: $*" >&2; return 1; }; sleep 0.02; done
}
segments() { ls "$1"/spool-*.seg 2>/dev/null | wc -l; }
spool_bytes() { cat "$1"/spool-*.seg 2>/dev/null | wc -c; }

# --- 0: the same input gives the same records in the same order, however
# fast they are taken away: what makes their sequence numbers an identity.
# Every call of big.pcap still lingers when later.pcap starts two hours on,
# so they all expire at once. (A guard on each table's order; how calls and
# SMS interleave in the queue is not visible in CSV: pg_kill.sh checks that
# end to end.)
"$TESTUTIL" many 200 "$TMP/later.pcap" 7200
printf '[capture]\nburst = 32\n[storage]\nqueue_size = 64\n[calls]\nlinger = 3600\n' >"$TMP/q64.ini"
printf '[capture]\nburst = 32\n[storage]\nqueue_size = 100000\n[calls]\nlinger = 3600\n' >"$TMP/q100k.ini"
"$SIPCDR" read -q --config "$TMP/q64.ini" --csv "$TMP/csv64" "$TMP/big.pcap" "$TMP/later.pcap"
"$SIPCDR" read -q --config "$TMP/q100k.ini" --csv "$TMP/csv100k" "$TMP/big.pcap" "$TMP/later.pcap"
check "0: calls in the same order with any queue size" cmp "$TMP/csv64/calls.csv" "$TMP/csv100k/calls.csv"
check "0: sms in the same order with any queue size" cmp "$TMP/csv64/sms.csv" "$TMP/csv100k/sms.csv"
check "0: and not sorted by chance" test "$(sort "$TMP/csv64/calls.csv" | cmp - "$TMP/csv64/calls.csv" >/dev/null && echo sorted)" != sorted

# --- A: PostgreSQL stopped mid-import, started again; no spool ------------
newdb outage_a
slow_db
cfg=$(config a)
start_bg --config "$cfg" --db "$DB" "$TMP/big.pcap"
check "A: import under way" wait_until 30 rows_at_least 500
n=$(rows)
bash "$PGTMP" halt fast
check "A: stopped in the middle" test "$n" -lt 22000
sleep 1
check "A: waits for the database, does not give up" alive
check "A: says it is retrying" contains "$TMP/bg.log" 'msg="database unavailable, retrying"'
resume
fast_db
check "A: finishes once PostgreSQL is back" wait_bg 120 0
check "A: every record exactly once" exact 20000 2000
check "A: says the database came back" contains "$TMP/bg.log" 'msg="database available again"'
check "A: summary" contains "$TMP/bg.log" "calls_written=20000 sms_written=2000 records_skipped=0 records_spooled=0"

# --- B: the same with a spool: input goes on meanwhile ---------------------
newdb outage_b
slow_db
cfg=$(config b "spool_dir = $TMP/spool_b")
start_bg --config "$cfg" --db "$DB" "$TMP/big.pcap"
check "B: import under way" wait_until 30 rows_at_least 500
n=$(rows)
bash "$PGTMP" halt immediate # a crash: recovery at the restart
check "B: stopped in the middle" test "$n" -lt 22000
check "B: reading goes on into the spool" wait_until 30 test "$(spool_bytes "$TMP/spool_b")" -gt 100000
check "B: still waiting for the database" alive
resume
fast_db
check "B: finishes once PostgreSQL is back" wait_bg 120 0
check "B: every record exactly once" exact 20000 2000
check "B: summary: spool drained" contains "$TMP/bg.log" "records_spooled=0"

# --- C: PostgreSQL down at the start; --spool-ok; the spool replayed later --
newdb outage_c
cfg=$(config c "spool_dir = $TMP/spool_c")
bash "$PGTMP" halt fast
check "C: --spool-ok: exit 0 with everything spooled" expect_rc 0 "$SIPCDR" read --spool-ok --config "$cfg" --db "$DB" "$TMP/small.pcap"
check "C: reads into the spool" contains "$TMP/out.log" 'msg="reading into the spool until the database is back"'
check "C: summary says so" contains "$TMP/out.log" "calls_written=0 sms_written=0 records_skipped=0 records_spooled=3300"
check "C: without --spool-ok and without a spool: fails fast" expect_rc 1 "$SIPCDR" read --db "$DB" "$TMP/sample.pcap"
check "C: ... with one clear line" contains "$TMP/out.log" 'msg="database error" err="cannot connect:'
resume
check "C: the next run replays the spool first" expect_rc 0 "$SIPCDR" read --config "$cfg" --db "$DB" "$TMP/sample.pcap"
check "C: says so" contains "$TMP/out.log" 'msg="spool holds records of an earlier run: written first" dir="'"$TMP/spool_c"'" records=3300'
check "C: every spooled record exactly once" exact 3000 300
check "C: and the new input too" test "$(psql_q -c "SELECT count(*) FROM calls WHERE call_id NOT LIKE 'many-%'")" -gt 0
check "C: the spooled rows name their collector" test "$(psql_q -c "SELECT count(*) FROM calls WHERE collector = 'outage-test'")" = "$(psql_q -c 'SELECT count(*) FROM calls')"

# --- D: a torn spool tail is cut; its records come from reading again ------
newdb outage_d
cfg=$(config d "spool_dir = $TMP/spool_d")
bash "$PGTMP" halt fast
check "D: spooled" expect_rc 0 "$SIPCDR" read --spool-ok --config "$cfg" --db "$DB" "$TMP/small.pcap"
last=$(ls "$TMP"/spool_d/spool-*.seg | sort | tail -n 1)
size=$(wc -c <"$last")
truncate -s $((size - 37)) "$last" # as if killed in the middle of an append
resume
check "D: the same import again: exit 0" expect_rc 0 "$SIPCDR" read --config "$cfg" --db "$DB" "$TMP/small.pcap"
check "D: the tear is cut and said" contains "$TMP/out.log" 'msg="spool: torn tail cut (crash while writing)"'
check "D: every record exactly once" exact 3000 300
check "D: the spooled ones were not written twice" bash -c "grep -q 'records_skipped=[1-9]' '$TMP/out.log'"

# --- E: the spool limit: reading pauses, nothing dropped -------------------
newdb outage_e
cfg=$(config e "spool_dir = $TMP/spool_e" "spool_max_bytes = 65536")
bash "$PGTMP" halt fast
start_bg --spool-ok --config "$cfg" --db "$DB" "$TMP/big.pcap"
check "E: the spool fills" wait_until 30 grep -q 'msg="spool full or unwritable: reading waits for the database"' "$TMP/bg.log"
sleep 0.5
check "E: the import waits instead of dropping" alive
check "E: the spool stays within its limit" test "$(spool_bytes "$TMP/spool_e")" -le 65536
resume
check "E: finishes once PostgreSQL is back" wait_bg 120 0
check "E: every record exactly once" exact 20000 2000
check "E: nothing left in the spool" contains "$TMP/bg.log" "records_spooled=0"

# --- F: read-only, then writable --------------------------------------------
newdb outage_f
psql_q -c "ALTER DATABASE outage_f SET default_transaction_read_only = on"
cfg=$(config f)
start_bg --config "$cfg" --db "$DB" "$TMP/small.pcap"
check "F: read-only is retried" wait_until 30 grep -q "read-only transaction" "$TMP/bg.log"
check "F: nothing written yet" test "$(rows)" = 0
check "F: still waiting" alive
PGOPTIONS="-c default_transaction_read_only=off" psql_q -c "ALTER DATABASE outage_f SET default_transaction_read_only = off"
check "F: finishes once writable" wait_bg 60 0
check "F: every record exactly once" exact 3000 300
finish
