#!/usr/bin/env bash
# run_corpus.sh SIPCDR_BINARY CORPUS_DIR - for every capture that has expected
# records in tests/corpus/expected/FOLDER/ (FOLDER = basename of CORPUS_DIR,
# e.g. udp-calls), run `SIPCDR_BINARY read --csv TMPDIR CORPUS_DIR/CAPTURE`
# and compare its calls.csv and sms.csv with compare.py. A capture passes
# when sipcdr exits 0 and both files match.
#
# Exit 77 (ctest: skipped) when CORPUS_DIR is absent: the shared corpus lives
# beside the checkout (../shared/corpus/pcap) and is never copied into it.
# A capture listed in expected/ but missing from a present CORPUS_DIR fails.
# The last line printed is "N passed, N failed".
set -uo pipefail
sipcdr=${1:?usage: run_corpus.sh SIPCDR_BINARY CORPUS_DIR}
corpus=${2:?usage: run_corpus.sh SIPCDR_BINARY CORPUS_DIR}
here=$(cd "$(dirname "$0")" && pwd)

if [ ! -d "$corpus" ]; then
  echo "skip: corpus folder $corpus is absent"
  exit 77
fi
expected=$here/expected/$(basename "$corpus")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sipcdr-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

passed=0 failed=0
for want in "$expected"/*.calls.csv; do
  [ -e "$want" ] || break
  name=$(basename "$want" .calls.csv)
  capture=$corpus/$name
  if [ ! -f "$capture" ]; then
    echo "FAIL $name: not in $corpus"
    failed=$((failed + 1)); continue
  fi
  out=$tmp/$name
  if ! timeout 300 "$sipcdr" read --csv "$out" "$capture" >"$tmp/$name.log" 2>&1; then
    echo "FAIL $name: sipcdr read exited non-zero:"
    sed 's/^/  /' "$tmp/$name.log"
    failed=$((failed + 1)); continue
  fi
  if python3 "$here/compare.py" "$expected" "$capture" "$out"; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name"
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
