# lib.sh - helpers for the pipeline test scripts (sourced).
# check NAME CMD...: run CMD, count a pass or a failure with NAME.
set -uo pipefail
PASSED=0
FAILED=0
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TMP=$(mktemp -d /tmp/sipcdr-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

check() {
  local name=$1; shift
  if "$@"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); echo "FAIL: $name" >&2; fi
}

# expect_rc WANT CMD...: run CMD (stdout+stderr to $TMP/out.log), compare its exit status.
expect_rc() {
  local want=$1; shift
  "$@" >"$TMP/out.log" 2>&1
  local rc=$?
  [ "$rc" = "$want" ] || { echo "exit status $rc, wanted $want: $*" >&2; sed 's/^/  | /' "$TMP/out.log" >&2; return 1; }
}

contains() { grep -qF -- "$2" "$1" || { echo "'$2' not in $1:" >&2; sed 's/^/  | /' "$1" >&2; return 1; }; }
lacks() { ! grep -qF -- "$2" "$1" || { echo "'$2' found in $1" >&2; return 1; }; }

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" = 0 ] && [ "$PASSED" -gt 0 ]
}
