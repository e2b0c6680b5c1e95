#!/usr/bin/env bash
# Delivery's figures for docs/benchmarks.md, at FRIENDS friends (default 1M,
# 10 events each): segd --deliver against LINE's stand-in (its published
# rate limits): PUSHES pushes as fast as LINE allows, with segd's CPU per
# request; then a campaign to every friend, from its time to every request
# accepted.
#   bench/delivery_bench.sh [FRIENDS] [PUSHES] [WORKDIR]
set -euo pipefail
friends=${1:-1000000}
pushes=${2:-20000}
work=${3:-/tmp/seg-delivery-bench}
. "$(dirname "$0")/lib.sh"
shop_without_quiet_hours "$work"
store="$work/store-$friends"
rm -rf "$store"
generate_store "$friends" "$store"
"$bin/seg_delivery_bench" "$program" "$store" "$bin/segd" "$pushes"
