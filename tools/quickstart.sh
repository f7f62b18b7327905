#!/usr/bin/env bash
# quickstart.sh - from a fresh Debian 12 machine to calls and SMS on screen:
# install packages, build, start a private PostgreSQL (data under the
# checkout, a free port), migrate, import the bundled sample capture, print
# the records, stop PostgreSQL again.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)
bash tools/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc)" >/dev/null

export SIPCDR_PGTMP_DIR="$top/.pg"
pg=tests/pg/pgtmp.sh
trap 'bash "$pg" stop >/dev/null 2>&1 || true' EXIT
bash "$pg" start >/dev/null
db=$(bash "$pg" newdb quickstart)

./build/tools/sipcdr-gensample build/sample.pcap
./build/sipcdr db migrate --db "$db"
./build/sipcdr read --db "$db" build/sample.pcap

psql_cmd=(psql -X -q -P pager=off "$db")
"${psql_cmd[@]}" -c "SELECT call_id, caller, callee, invite_time, answer_time, duration_ms, status, disposition, hangup_by, end_reason FROM calls ORDER BY invite_time" </dev/null
"${psql_cmd[@]}" -c "SELECT call_id, sender, destination, time, status, kind FROM sms ORDER BY time" </dev/null
