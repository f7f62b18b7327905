#!/usr/bin/env bash
# SIGKILL rounds: `sipcdr read --db` of one large capture is killed with -9 at
# a random moment, ROUNDS times, sometimes while PostgreSQL is down (then it
# reads into the spool) or after PostgreSQL crashed under it (immediate
# shutdown, then restarted); then it runs to completion. Every record must be
# in the database exactly once, and no round may ever leave a duplicate.
#
#   SIPCDR_KILL_ROUNDS  rounds (default 50)
#   SIPCDR_KILL_SEED    seed of the random schedule (default: random, printed)
#
# Private cluster (it is crashed on purpose); every process stopped by PID.
source "$(dirname "$0")/lib.sh"
PGTMP="$HERE/../pg/pgtmp.sh"
export SIPCDR_PGTMP_DIR="$TMP/pg"
# Ports away from the shared fixture's (55432...): halting frees ours.
export SIPCDR_PGTMP_PORT=$((56000 + RANDOM % 8000))
ROUNDS=${SIPCDR_KILL_ROUNDS:-50}
SEED=${SIPCDR_KILL_SEED:-$(( $(date +%s) % 32768 ))}
RANDOM=$SEED
echo "pg_kill: $ROUNDS rounds, seed $SEED (SIPCDR_KILL_SEED=$SEED reproduces the schedule)"
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

CALLS=50000
SMS=5000
"$TESTUTIL" many $CALLS "$TMP/big.pcap"
DB=$(bash "$PGTMP" newdb kill_rounds) && "$SIPCDR" db migrate --db "$DB" >/dev/null 2>&1 || { echo "no database" >&2; exit 1; }
psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$DB" "$@" </dev/null 2>/dev/null; }
# A slow database: 10 ms per COPY, so the import (2750 batches) takes longer
# than all the rounds together and nearly every kill lands in the middle of it.
psql_q -c "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN PERFORM pg_sleep(0.01); RETURN NULL; END \$\$;
           CREATE TRIGGER slow AFTER INSERT ON calls FOR EACH STATEMENT EXECUTE FUNCTION slow();
           CREATE TRIGGER slow AFTER INSERT ON sms FOR EACH STATEMENT EXECUTE FUNCTION slow();" ||
  { echo "cannot slow the database down" >&2; exit 1; }

# Small batches: many commits to be killed between, and an import that lasts
# longer than the longest delay below.
cfg="$TMP/kill.ini"
printf '[capture]\nburst = 32\n[storage]\nqueue_size = 512\nbatch_max = 20\nretry_min = 20\nretry_max = 200\n' >"$cfg"
printf 'spool_dir = %s\nspool_fsync = no\ncollector = kill-test\n' "$TMP/spool" >>"$cfg"

# count/distinct of both tables, "" while PostgreSQL is down
state() {
  psql_q -c "SELECT (SELECT count(*) || '/' || count(DISTINCT call_id) FROM calls) || ' ' ||
                    (SELECT count(*) || '/' || count(DISTINCT call_id) FROM sms)"
}
no_duplicates() {
  local s; s=$(state)
  [ -n "$s" ] || { echo "database unreachable" >&2; return 1; }
  local c=${s% *} m=${s#* }
  [ "${c%/*}" = "${c#*/}" ] && [ "${m%/*}" = "${m#*/}" ] || { echo "duplicates: $s" >&2; return 1; }
}
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
run_and_kill() { # DELAY_MS [HALT_AT_MS]
  "$SIPCDR" read --config "$cfg" --db "$DB" "$TMP/big.pcap" >>"$TMP/rounds.log" 2>&1 &
  BG=$!
  if [ -n "${2:-}" ]; then
    sleep_ms "$2"
    bash "$PGTMP" halt immediate
    sleep_ms $(($1 - $2))
  else
    sleep_ms "$1"
  fi
  kill -9 "$BG" 2>/dev/null
  wait "$BG" 2>/dev/null
  BG=
}

t0=$SECONDS
killed=0 down_rounds=0 crash_rounds=0 partial=0
for round in $(seq 1 "$ROUNDS"); do
  delay=$((RANDOM % 1500))
  case $((RANDOM % 6)) in
    4) # PostgreSQL down for the whole round: the import reads into the spool
      bash "$PGTMP" halt fast
      run_and_kill "$delay"
      resume
      down_rounds=$((down_rounds + 1)) ;;
    5) # PostgreSQL crashes in the middle of the round
      run_and_kill "$delay" $((delay / 2))
      resume
      crash_rounds=$((crash_rounds + 1)) ;;
    *) run_and_kill "$delay" ;;
  esac
  killed=$((killed + 1))
  now=$(state)
  [ "$now" = "$CALLS/$CALLS $SMS/$SMS" ] || partial=$((partial + 1))
  echo "round $round: killed after ${delay} ms: $now" >>"$TMP/progress.log"
  check "round $round: no duplicate" no_duplicates
done
echo "pg_kill: $killed kills ($down_rounds with PostgreSQL down, $crash_rounds with it crashing," \
  "$partial before the import was complete) in $((SECONDS - t0)) s"
tail -n 3 "$TMP/progress.log"

psql_q -c "DROP TRIGGER slow ON calls; DROP TRIGGER slow ON sms" # the rest at full speed
check "final run: exit 0" expect_rc 0 "$SIPCDR" read --config "$cfg" --db "$DB" "$TMP/big.pcap"
check "final run: nothing left in the spool" contains "$TMP/out.log" "records_spooled=0"
check "every call exactly once" test "$(state)" = "$CALLS/$CALLS $SMS/$SMS"
check "every row names its collector" test "$(psql_q -c "SELECT count(*) FROM calls WHERE collector IS DISTINCT FROM 'kill-test'")" = 0
check "the stream is complete" test "$(psql_q -c "SELECT last_seq FROM sipcdr_progress")" = $((CALLS + SMS))
[ "$FAILED" = 0 ] || tail -n 20 "$TMP/rounds.log" >&2
echo "pg_kill: done in $((SECONDS - t0)) s"
finish
