#!/usr/bin/env bash
# The cost of per-key enrolments (`scenario ... as e per e.product`): each
# friend carts several products; resident memory and time per enrolment,
# beside the same events on a scenario without `per`. Each run is a process
# of its own, so the memory read is that run's. Results: docs/benchmarks.md.
#   bench/enrolment_bench.sh [FRIENDS] [CARTS_PER_FRIEND] [PRODUCTS]   (default 100000 5 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
bench=build/bin/seg_enrolment_bench
test -x $bench || { echo "build first: ./setup.sh build" >&2; exit 1; }
friends=${1:-100000} carts=${2:-5} products=${3:-10000}
$bench "$friends" "$carts" "$products"
SEG_BENCH_WITHOUT_PER=1 $bench "$friends" "$carts" "$products"
