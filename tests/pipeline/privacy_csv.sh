#!/usr/bin/env bash
# No body byte escapes: every body in these captures holds "CANARY". After an
# import with the most verbose logging, the word appears in no output file
# and nowhere in what the program printed; the SMS records are all there.
source "$(dirname "$0")/lib.sh"

"$GENSAMPLE" "$TMP/sample.pcap"
"$TESTUTIL" privacy "$TMP/privacy.pcap"
"$TESTUTIL" hep "$TMP/hep.pcap"
check "the captures do hold canaries" bash -c "grep -caF CANARY '$TMP/privacy.pcap' '$TMP/sample.pcap' >/dev/null"
"$SIPCDR" read -v --csv "$TMP/out" "$TMP/sample.pcap" "$TMP/privacy.pcap" "$TMP/hep.pcap" >"$TMP/stdout.log" 2>"$TMP/stderr.log"
check "read exits 0" test $? = 0
check "no canary in the CSV" bash -c "! grep -rF CANARY '$TMP/out'"
check "no canary on stdout" lacks "$TMP/stdout.log" CANARY
check "no canary on stderr" lacks "$TMP/stderr.log" CANARY
check "debug logging was on" contains "$TMP/stderr.log" "level=debug"
check "SMS privacy-03 (compact headers, bare LF) recorded" contains "$TMP/out/sms.csv" "privacy-03,+4930100003,+4917099003,"
for id in 01 02 04 05 06 07 09; do
  check "SMS privacy-$id recorded with its destination" contains "$TMP/out/sms.csv" "privacy-$id,+4930100$id,+4917099$id,"
done
check "answered SMS has its status" contains "$TMP/out/sms.csv" "privacy-01,+493010001,+491709901,2016-12-02T10:41:21.000001Z,200,text"
check "3GPP kind" contains "$TMP/out/sms.csv" "privacy-07,+493010007,+491709907,2016-12-02T10:41:21.000007Z,,3gpp"
check "HEP: plain MESSAGE recorded with the HEP time and addresses" contains "$TMP/out/sms.csv" "privacy-21,+493010021,+491709921,2016-12-02T10:41:30.250000Z,,text"
check "HEP: compressed MESSAGE recorded" contains "$TMP/out/sms.csv" "privacy-22,+493010022,+491709922,2016-12-02T10:41:30.250001Z,,text"
check "HEP: counted" contains "$TMP/stderr.log" "hep_sip=2"
check "the inner SIP request is not a call" lacks "$TMP/out/calls.csv" "CANARY-P04-inner"
finish
