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
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/build/bin"
mkdir -p "$work"
# The shop's program without its quiet hours (they would hold the sends).
program="$work/shop.seg"
sed '/^  quiet /d' "$root/examples/shop/shop.seg" > "$program"
cp -r "$root/examples/shop/flex" "$work/" 2>/dev/null || true
store="$work/store-$friends"
rm -rf "$store"
echo "== generating $friends friends and $((friends * 10)) events"
"$bin/segc" gen "$program" --store "$store" --friends "$friends" --events $((friends * 10)) --seed 1 | tail -1
"$bin/seg_delivery_bench" "$program" "$store" "$bin/segd" "$pushes"
