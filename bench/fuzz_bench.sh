#!/usr/bin/env bash
# Every libFuzzer harness, long: SECONDS each (default 3600), on a copy of
# its corpus, one after another. Prints executions per harness and any
# finding; figures for docs/testing.md. Needs build-fuzz (./setup.sh test).
#   bench/fuzz_bench.sh [SECONDS]
set -euo pipefail
seconds=${1:-3600}
root="$(cd "$(dirname "$0")/.." && pwd)"
for name in source webhook records store http; do
  echo "== fuzz_$name, $seconds s"
  "$root/tests/fuzz/smoke.sh" "$root/build-fuzz/bin/fuzz_$name" "$root/tests/fuzz/corpus/$name" "$seconds" || echo "fuzz_$name: FINDING"
done
