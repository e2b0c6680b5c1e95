#!/usr/bin/env bash
# Simulates a month of the shop example's automation (scenarios, rules, menus,
# campaigns, policy) over generated friends, in memory, and reports time,
# throughput, LINE request counts and peak memory. Run by hand; results go
# to docs/benchmarks.md.
#   bench/automation_bench.sh [FRIENDS...]     (default: 100000 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
segc=build/bin/segc
test -x $segc || { echo "build first: ./setup.sh build" >&2; exit 1; }
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100000 1000000)
for friends in "${sizes[@]}"; do
  events=$((friends * 10))
  echo "== $friends friends, $events events of history, 30 days simulated"
  /usr/bin/time -f "peak memory %M KiB, wall %e s" \
    $segc simulate examples/shop/shop.seg --friends "$friends" --history-events "$events" \
      --from 2026-11-18T12:00 --to 2026-12-18T12:00 --seed 1
  echo
done
