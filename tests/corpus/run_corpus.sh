#!/usr/bin/env bash
# run_corpus.sh SIPCDR CORPUS_FOLDER - sipcdr's CSV for every capture of a
# corpus folder equals what derive_expected.py derived with tshark.
# Exit 77 (ctest: skipped) when the shared corpus is not beside the checkout.
set -uo pipefail
sipcdr=$1 folder=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -d "$folder" ] || { echo "skip: $folder is absent"; exit 77; }
tmp=$(mktemp -d /tmp/sipcdr-corpus.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
exp=$here/expected/$(basename "$folder")
for want in "$exp"/*.calls.csv; do
  name=$(basename "$want" .calls.csv)
  out=$tmp/$name
  if ! "$sipcdr" read -q --csv "$out" "$folder/$name"; then
    echo "FAIL $name: sipcdr read failed"; failed=$((failed + 1)); continue
  fi
  for kind in calls sms; do
    if python3 "$here/compare.py" "$exp/$name.$kind.csv" "$out/$kind.csv"; then
      passed=$((passed + 1))
    else
      echo "FAIL $name $kind"; failed=$((failed + 1))
    fi
  done
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
