#!/usr/bin/env bash
# derive_counts.sh CORPUS_PCAP_DIR > expected/message_counts.tsv
# SIP messages per capture as tshark 4.0 dissects them (one per CSeq
# occurrence, so several messages in one TCP segment count separately):
#   tshark -n -r FILE -Y sip -T fields -E occurrence=a -E aggregator='|' -e sip.CSeq.method
# HEP captures are read with ../shared/peers/hep3.lua (-X lua_script:...).
set -euo pipefail
dir=$1
lua=$(cd "$(dirname "$0")/../../.." && pwd)/shared/peers/hep3.lua
printf 'file\ttshark_sip_messages\n'
find "$dir" -type f | sort | while read -r f; do
  rel=${f#"$dir"/}
  extra=()
  case "$rel" in hep/*) extra=(-X "lua_script:$lua") ;; esac
  n=$(tshark "${extra[@]}" -n -r "$f" -Y sip -T fields -E occurrence=a -E aggregator='|' -e sip.CSeq.method 2>/dev/null |
      tr '|' '\n' | grep -c . || true)
  printf '%s\t%s\n' "$rel" "$n"
done
