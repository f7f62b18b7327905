#!/usr/bin/env bash
# Bad input gets a clear one-line error or a counted skip, never a crash.
source "$(dirname "$0")/lib.sh"

"$GENSAMPLE" "$TMP/sample.pcap"

check "missing file: exit 1" expect_rc 1 "$SIPCDR" read --csv "$TMP/o1" "$TMP/nope.pcap"
check "missing file: says so" contains "$TMP/out.log" 'msg="cannot read capture" file="'"$TMP"'/nope.pcap" err="No such file or directory"'

printf 'this is not a capture file\n' >"$TMP/text.pcap"
check "not a pcap: exit 1" expect_rc 1 "$SIPCDR" read --csv "$TMP/o2" "$TMP/text.pcap"
check "not a pcap: says so" contains "$TMP/out.log" "unknown file format"

: >"$TMP/empty.pcap"
check "empty file: exit 1" expect_rc 1 "$SIPCDR" read --csv "$TMP/o3" "$TMP/empty.pcap"

# A torn file (tcpdump killed mid-write): what came before the tear is used.
size=$(stat -c %s "$TMP/sample.pcap")
head -c $((size * 2 / 3)) "$TMP/sample.pcap" >"$TMP/torn.pcap"
check "torn file: exit 0" expect_rc 0 "$SIPCDR" read --csv "$TMP/o4" "$TMP/torn.pcap"
check "torn file: warned" contains "$TMP/out.log" 'msg="capture file damaged, rest skipped"'
check "torn file: counted" contains "$TMP/out.log" "files_damaged=1"
check "torn file: early calls kept" contains "$TMP/o4/calls.csv" "c1-answered@198.51.100.7"

# A good file next to a bad one: the good one is imported, the run says it failed.
check "mixed inputs: exit 1" expect_rc 1 "$SIPCDR" read --csv "$TMP/o5" "$TMP/text.pcap" "$TMP/sample.pcap"
check "mixed inputs: good file imported" contains "$TMP/o5/calls.csv" "c8-ipv6-auth@2001:db8::7"

"$TESTUTIL" malformed "$TMP/malformed.pcap"
check "malformed SIP: exit 0" expect_rc 0 "$SIPCDR" read --csv "$TMP/o6" "$TMP/malformed.pcap"
for k in skipped_not_sip=2 skipped_sip_missing_header=1 skipped_sip_bad_header_line=1 \
         skipped_sip_bad_start_line=1 skipped_sip_duplicate_header=1 calls_written=1; do
  check "malformed SIP: $k" contains "$TMP/out.log" "$k"
done
check "malformed SIP: the good call" contains "$TMP/o6/calls.csv" "good-after-junk,+4930888,+4930999"

"$TESTUTIL" sll "$TMP/sll.pcapng"
check "Linux cooked pcapng: exit 0" expect_rc 0 "$SIPCDR" read --csv "$TMP/o7" "$TMP/sll.pcapng"
check "Linux cooked pcapng: the call" contains "$TMP/o7/calls.csv" \
  "cooked-1,+4930666,+4930777,,10.1.0.1,sipp,2016-12-02T10:41:21.000001Z,,2016-12-02T10:41:23.000000Z,2016-12-02T10:41:30.500000Z,7500,200,answered,callee,bye"

check "usage: no file" expect_rc 2 "$SIPCDR" read --csv "$TMP/o8"
check "usage: both outputs" expect_rc 2 "$SIPCDR" read --csv "$TMP/o8" --db "host=x" "$TMP/sample.pcap"
check "usage: unknown command" expect_rc 2 "$SIPCDR" frobnicate

printf '[calls]\nmax_cals = 10\n' >"$TMP/bad.ini"
check "config typo: exit 2" expect_rc 2 "$SIPCDR" read --config "$TMP/bad.ini" --csv "$TMP/o9" "$TMP/sample.pcap"
check "config typo: file and line" contains "$TMP/out.log" "$TMP/bad.ini:2: unknown key \"max_cals\" in section [calls]"
check "config check: exit 1" expect_rc 1 "$SIPCDR" config check "$TMP/bad.ini"

check "unwritable CSV dir: exit 1" expect_rc 1 "$SIPCDR" read --csv /proc/sipcdr-no "$TMP/sample.pcap"
check "unwritable CSV dir: says so" contains "$TMP/out.log" "cannot create directory /proc/sipcdr-no"
finish
