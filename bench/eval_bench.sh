#!/usr/bin/env bash
# The evaluation benchmark for docs/benchmarks.md: seg (auto, bitmap,
# interpreter, point evaluation, JIT compile) against SQLite and DuckDB on
# the same generated store.
#   bench/eval_bench.sh FRIENDS EVENTS [WORKDIR] [extra seg_eval_bench options]
# Example: bench/eval_bench.sh 1000000 10000000 /tmp/seg-eval
#
# DuckDB is not in Debian: this unpacks libduckdb.so from the npm package
# @duckdb/node-bindings-linux-x64 and duckdb.h from the duckdb package's
# tarball (npm pack only; `npm install duckdb` would try to download from a
# host outside the registry).
set -euo pipefail
friends=${1:-1000000}
events=${2:-10000000}
work=${3:-/tmp/seg-eval}
shift $(( $# < 3 ? $# : 3 ))
root="$(cd "$(dirname "$0")/.." && pwd)"
duckdb_version=1.4.4
deps="$root/build/bench-deps/duckdb-$duckdb_version"
at=1795000000  # the generator's default end of year; the segments look back from here

if [ ! -f "$deps/lib/libduckdb.so" ] || [ ! -f "$deps/include/duckdb.h" ]; then
  echo "== unpacking DuckDB $duckdb_version from the npm registry"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent "duckdb@$duckdb_version" "@duckdb/node-bindings-linux-x64@$duckdb_version-r.4" >/dev/null)
  mkdir -p "$deps/lib" "$deps/include"
  tar xzf "$tmp/duckdb-$duckdb_version.tgz" -C "$tmp" package/src/duckdb/src/include/duckdb.h
  cp "$tmp/package/src/duckdb/src/include/duckdb.h" "$deps/include/"
  tar xzf "$tmp/duckdb-node-bindings-linux-x64-$duckdb_version-r.4.tgz" -C "$tmp" package/libduckdb.so
  cp "$tmp/package/libduckdb.so" "$deps/lib/"
  rm -rf "$tmp"
fi

echo "== building"
cmake -S "$root" -B "$root/build" -DSEG_DUCKDB_DIR="$deps" >/dev/null
cmake --build "$root/build" -j2 --target segc seg_eval_bench >/dev/null

store="$work/store-$friends-$events"
if [ ! -d "$store" ]; then
  echo "== generating $friends friends, $events events"
  mkdir -p "$work"
  /usr/bin/time -f "gen: %e s wall, %M KB peak" \
    "$root/build/bin/segc" gen "$root/bench/eval/bench.seg" --store "$store" --friends "$friends" --events "$events" --seed 1
fi

echo "== running (CPU: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'))"
/usr/bin/time -f "bench: %e s wall, %M KB peak RSS" \
  "$root/build/bin/seg_eval_bench" --store "$store" --program "$root/bench/eval/bench.seg" \
  --queries "$root/bench/eval/queries.sql" --at "$at" "$@"
