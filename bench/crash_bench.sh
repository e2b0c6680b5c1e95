#!/usr/bin/env bash
# The crash suites, long: kill -9 of segc import (batched and --strict),
# webhook, run and outbox --confirm at KILLS random points each, and power
# cuts at every disk operation of a store's work over UNITS units (each
# point twice: clean and torn). Figures for docs/store.md.
#   bench/crash_bench.sh [KILLS] [UNITS]      (defaults 250 and 400)
set -euo pipefail
kills=${1:-250}
units=${2:-400}
build="$(cd "$(dirname "$0")/.." && pwd)/build"
echo "== kill -9: $kills kills per command"
SEG_KILLS="$kills" /usr/bin/time -f "kill suites: %e s" "$build/bin/seg_integration_tests" --gtest_filter='KillNine*' 2>&1 \
  | grep -E "kills|OK|FAILED|Failure|kill suites"
echo "== power loss: every disk operation of $units units of work"
SEG_POWER_UNITS="$units" /usr/bin/time -f "power loss: %e s" "$build/bin/seg_unit_tests" --gtest_filter='PowerLoss*' 2>&1 \
  | grep -E "power cuts|full disk|OK|FAILED|Failure|power loss"
