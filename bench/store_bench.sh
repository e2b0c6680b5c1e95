#!/usr/bin/env bash
# Store figures for docs/benchmarks.md: generation, durable import rate,
# memory per friend and per event, index sizes, restart time.
#   bench/store_bench.sh FRIENDS EVENTS [WORKDIR]
# Example: bench/store_bench.sh 1000000 10000000 /tmp/seg-bench
set -euo pipefail
friends=${1:-1000000}
events=${2:-10000000}
work=${3:-/tmp/seg-bench}
segc="$(cd "$(dirname "$0")/.." && pwd)/build/bin/segc"
program="$(cd "$(dirname "$0")/.." && pwd)/examples/shop/shop.seg"
rm -rf "$work" && mkdir -p "$work"
measure() {  # measure LABEL command...: wall seconds and peak RSS
  /usr/bin/time -f "$1: %e s wall, %M KB peak" "${@:2}" 2>&1 | grep -E "^$1:|records|friends|events" || true
}
echo "== generate $friends friends, $events events"
measure gen "$segc" gen "$program" --store "$work/gen" --friends "$friends" --events "$events" --seed 1
echo "== restart (open: snapshot load)"
measure open "$segc" stats --store "$work/gen"
"$segc" stats --store "$work/gen"
echo "== export"
measure export "$segc" export --store "$work/gen" --friends "$work/friends.jsonl" --events "$work/events.jsonl"
ls -la "$work"/*.jsonl
echo "== durable import (fsync per commit of 20,000 records)"
measure import-friends "$segc" import "$program" --store "$work/imported" --friends "$work/friends.jsonl"
measure import-events "$segc" import --store "$work/imported" --events "$work/events.jsonl"
echo "== restart from snapshot + log tail"
measure reopen "$segc" stats --store "$work/imported"
"$segc" stats --store "$work/imported" | grep -E "opened|memory"
