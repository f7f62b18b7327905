#!/usr/bin/env bash
# The bundled sample, end to end to CSV: the records equal the golden files,
# which were checked by hand against tools/gen_sample.c and docs/records.md.
source "$(dirname "$0")/lib.sh"

"$GENSAMPLE" "$TMP/sample.pcap"
check "read exits 0" expect_rc 0 "$SIPCDR" read --csv "$TMP/out" "$TMP/sample.pcap"
cp "$TMP/out.log" "$TMP/read.log"
check "calls.csv equals the golden file" diff -u "$HERE/expected/sample.calls.csv" "$TMP/out/calls.csv"
check "sms.csv equals the golden file" diff -u "$HERE/expected/sample.sms.csv" "$TMP/out/sms.csv"
check "summary line" contains "$TMP/read.log" "msg=summary files=1 files_failed=0"
check "summary counts calls" contains "$TMP/read.log" " calls_written=8 sms_written=3"
check "no temporary files left" bash -c "! ls -A '$TMP/out' | grep -q tmp"

# Same records again: a replay gives the same output, byte for byte.
"$SIPCDR" read -q --csv "$TMP/again" "$TMP/sample.pcap"
check "replay is identical" diff -r "$TMP/out" "$TMP/again"
finish
