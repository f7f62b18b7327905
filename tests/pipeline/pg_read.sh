#!/usr/bin/env bash
# `sipcdr read --db` against a real PostgreSQL (started by the ctest fixture):
# schema checks, the records equal the CSV output column for column, no canary
# in a pg_dump, and clear one-line errors for an unreachable server or role.
source "$(dirname "$0")/lib.sh"
PGTMP="$HERE/../pg/pgtmp.sh"

db=$(bash "$PGTMP" newdb pipeline_pg_read) || { echo "no test database" >&2; exit 1; }
psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$db" "$@" </dev/null; }

"$GENSAMPLE" "$TMP/sample.pcap"
"$TESTUTIL" privacy "$TMP/privacy.pcap"

check "unmigrated: refused" expect_rc 1 "$SIPCDR" read --db "$db" "$TMP/sample.pcap"
check "unmigrated: says what to do" contains "$TMP/out.log" "sipcdr db migrate"

check "migrate: exit 0" expect_rc 0 "$SIPCDR" db migrate --db "$db"
check "migrate: migrated" contains "$TMP/out.log" 'msg="schema migrated" from=0'
check "migrate again: no-op" expect_rc 0 "$SIPCDR" db migrate --db "$db"
check "migrate again: up to date" contains "$TMP/out.log" 'msg="schema up to date"'

check "read: exit 0" expect_rc 0 "$SIPCDR" read --db "$db" "$TMP/sample.pcap" "$TMP/privacy.pcap"
check "read: summary" contains "$TMP/out.log" "calls_written=8 sms_written=11"
"$SIPCDR" read -q --csv "$TMP/csv" "$TMP/sample.pcap" "$TMP/privacy.pcap"

# The database rows, formatted as the CSV formats them, equal the CSV rows.
ts() { echo "to_char($1 AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"; }
psql_q -c "COPY (SELECT call_id, caller, callee, redirects, host(caller_ip), user_agent, $(ts invite_time),
             $(ts ring_time), $(ts answer_time), $(ts end_time), duration_ms, status, disposition, hangup_by,
             end_reason FROM calls) TO STDOUT WITH (FORMAT csv)" | sort >"$TMP/db_calls.csv"
psql_q -c "COPY (SELECT call_id, sender, destination, $(ts time), status, kind FROM sms) TO STDOUT WITH (FORMAT csv)" \
  | sort >"$TMP/db_sms.csv"
tail -n +2 "$TMP/csv/calls.csv" | sort >"$TMP/csv_calls.csv"
tail -n +2 "$TMP/csv/sms.csv" | sort >"$TMP/csv_sms.csv"
check "calls in PostgreSQL equal calls.csv" diff -u "$TMP/csv_calls.csv" "$TMP/db_calls.csv"
check "sms in PostgreSQL equal sms.csv" diff -u "$TMP/csv_sms.csv" "$TMP/db_sms.csv"
check "row counts" test "$(psql_q -c 'SELECT count(*) FROM calls')/$(psql_q -c 'SELECT count(*) FROM sms')" = 8/11

pg_dump --no-owner "$db" >"$TMP/dump.sql" </dev/null
check "pg_dump worked" contains "$TMP/dump.sql" "c1-answered@198.51.100.7"
check "no canary in pg_dump" lacks "$TMP/dump.sql" CANARY

# A schema newer than this binary is refused, not written into.
psql_q -c "INSERT INTO sipcdr_schema_version (version, name) VALUES (999, 'from the future')"
check "newer schema: refused" expect_rc 1 "$SIPCDR" read --db "$db" "$TMP/sample.pcap"
check "newer schema: says so" contains "$TMP/out.log" "newer"
check "newer schema: nothing written" test "$(psql_q -c 'SELECT count(*) FROM calls')" = 8

# Unreachable server and unknown role: one clear error line, exit 1.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
check "unreachable: exit 1" expect_rc 1 "$SIPCDR" read --db "host=127.0.0.1 port=$port dbname=x connect_timeout=5" "$TMP/sample.pcap"
check "unreachable: says so" contains "$TMP/out.log" 'msg="database error"'
check "unreachable: summary still printed" contains "$TMP/out.log" "msg=summary"
check "unknown role: exit 1" expect_rc 1 "$SIPCDR" read --db "$db user=nobody_here" "$TMP/sample.pcap"
check "unknown role: says so" contains "$TMP/out.log" 'role "nobody_here" does not exist'
check "password never printed" bash -c "! PGPASSWORD=s3cret-pw '$SIPCDR' read --db 'host=127.0.0.1 port=$port password=s3cret-pw2' '$TMP/sample.pcap' 2>&1 | grep -q s3cret"
finish
