#!/usr/bin/env bash
# The crash suites, long: kill -9 of segc import (batched and --strict),
# webhook, run and outbox --confirm at KILLS random points each; kill -9 of
# segd --deliver KILLS times while it sends to a faulty LINE stand-in; and
# power cuts at every disk operation of a store's work over UNITS units
# (each point twice: clean and torn). Figures for docs/store.md and
# docs/server.md.
#   bench/crash_bench.sh [KILLS] [UNITS]      (defaults 250 and 400)
set -euo pipefail
kills=${1:-250}
units=${2:-400}
build="$(cd "$(dirname "$0")/.." && pwd)/build"
echo "== kill -9: $kills kills per command"
SEG_KILLS="$kills" /usr/bin/time -f "kill suites: %e s" "$build/bin/seg_integration_tests" --gtest_filter='KillNine*' 2>&1 \
  | grep -E "kills|OK|FAILED|Failure|kill suites"
echo "== kill -9 of segd while it delivers: $kills kills"
SEG_DELIVERY_KILLS="$kills" /usr/bin/time -f "delivery kills: %e s" "$build/bin/seg_server_tests" --gtest_filter='*DeliveryUnderFaults*' 2>&1 \
  | grep -E "kills while|OK|FAILED|Failure|delivery kills"
echo "== power loss: every disk operation of $units units of work"
SEG_POWER_UNITS="$units" /usr/bin/time -f "power loss: %e s" "$build/bin/seg_unit_tests" --gtest_filter='PowerLoss*' 2>&1 \
  | grep -E "power cuts|full disk|OK|FAILED|Failure|power loss"
