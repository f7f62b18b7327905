#!/usr/bin/env bash
# run.sh - build sipcdr and run the whole test suite (unit, pipeline,
# PostgreSQL, corpus). ctest starts and stops its own PostgreSQL.
#   bash tests/run.sh                 plain build, warnings are errors
#   SANITIZE=1 bash tests/run.sh      AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/deps.sh

if [ "${SANITIZE:-0}" = 1 ]; then
  build=build-asan
  flags=(-DCMAKE_BUILD_TYPE=Debug -DSIPCDR_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
else
  build=build
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
fi
cmake -S . -B "$build" "${flags[@]}" >/dev/null
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -j 2
