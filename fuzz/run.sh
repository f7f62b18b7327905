#!/usr/bin/env bash
# run.sh [SECONDS] - build every libFuzzer harness with clang (ASan + UBSan)
# and run each for SECONDS (default 60) from its seed corpus. A crash leaves
# its input in build-fuzz/crashes/; turn it into a regression test (see
# docs/testing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
command -v clang >/dev/null || { echo "fuzz/run.sh: clang is not installed" >&2; exit 1; }
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DSIPCDR_SANITIZE=ON \
      -DSIPCDR_FUZZ=ON -DBUILD_TESTING=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
mkdir -p build-fuzz/crashes
for h in build-fuzz/fuzz/fuzz_*; do
  name=$(basename "$h")
  seeds=fuzz/seeds/${name#fuzz_}
  work=build-fuzz/corpus/$name
  mkdir -p "$work"
  echo "== $name for ${secs}s"
  "$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix=build-fuzz/crashes/ "$work" "$seeds" 2>&1 | tail -n 12
done
