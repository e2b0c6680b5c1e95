#!/usr/bin/env bash
# Runs one libFuzzer harness briefly on a copy of its corpus (the test
# command's smoke run; bench/fuzz_bench.sh runs them long). Exits 77 (a
# skip) when the fuzz build is not there.
#   tests/fuzz/smoke.sh HARNESS CORPUS SECONDS
set -u
harness=$(readlink -f "$1") corpus=$(readlink -f "$2") seconds=$3
if [ ! -x "$harness" ]; then
  echo "fuzz: $harness is not built (./setup.sh test builds build-fuzz with clang-16); skipped"
  exit 77
fi
export LSAN_OPTIONS="suppressions=$(dirname "$(readlink -f "$0")")/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
cd "$work"
"$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work" >"$work/log" 2>&1
status=$?
grep -E "^stat::number_of_executed_units|^Done|ERROR|SUMMARY" "$work/log" | head -20
if [ $status -ne 0 ]; then
  echo "fuzz: $(basename "$harness") found a problem (exit $status):"
  tail -60 "$work/log"
  ls "$work"/crash-* "$work"/timeout-* "$work"/oom-* 2>/dev/null
fi
exit $status
