#!/usr/bin/env bash
# Privacy over every framing the capture layer undoes: SIP over TCP split one
# byte per segment, pipelined and out of order; IPv4 fragments last first;
# VLAN; IPv6. Each MESSAGE is recorded with its numbers, and no canary from
# any body reaches the output or the log.
source "$(dirname "$0")/lib.sh"

"$FRAMING" "$TMP/framing.pcap"
check "the capture holds canaries" bash -c "grep -qaF CANARY-F3 '$TMP/framing.pcap'"
"$SIPCDR" read -v --csv "$TMP/out" "$TMP/framing.pcap" >"$TMP/stdout.log" 2>"$TMP/stderr.log"
check "read exits 0" test $? = 0
for id in 31 32 33 34 35 36 37 38; do
  check "MESSAGE $id recorded" contains "$TMP/out/sms.csv" "framing-$id,+4930100$id,+4917099$id,"
done
check "eight SMS" test "$(tail -n +2 "$TMP/out/sms.csv" | wc -l)" = 8
check "reassembled" contains "$TMP/stderr.log" "ip_reassembled=1"
check "TCP messages" contains "$TMP/stderr.log" "tcp_messages=5"
check "no canary in the CSV" bash -c "! grep -rF CANARY '$TMP/out'"
check "no canary on stderr" lacks "$TMP/stderr.log" CANARY
check "no canary on stdout" lacks "$TMP/stdout.log" CANARY
finish
