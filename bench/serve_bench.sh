#!/usr/bin/env bash
# The service's figures for docs/benchmarks.md, at FRIENDS friends (default
# 1M, with 10 events each): segd's start, memory, durable webhook ingest
# and its latency, webhook-to-reply, a campaign's delay after its time; the
# same work through the one-process-per-body CLI; then kill -9 under load,
# KILLS times.
#   bench/serve_bench.sh [FRIENDS] [SECONDS] [KILLS] [WORKDIR]
set -euo pipefail
friends=${1:-1000000}
seconds=${2:-20}
kills=${3:-100}
work=${4:-/tmp/seg-serve-bench}
. "$(dirname "$0")/lib.sh"
shop_without_quiet_hours "$work"
store="$work/store-$friends"
if [ ! -f "$store/snapshot.seg" ]; then generate_store "$friends" "$store"; fi
"$bin/seg_serve_bench" "$program" "$store" "$bin/segd" "$bin/segc" "$seconds"

echo "== the same through segc, one process per body"
body="$work/body.json"
now_ms=$(($(date +%s) * 1000))
printf '{"destination":"U0","events":[{"type":"message","mode":"active","timestamp":%s,"source":{"type":"user","userId":"U%032x"},"webhookEventId":"cli-%s","deliveryContext":{"isRedelivery":false},"replyToken":"rt","message":{"id":"1","type":"text","text":"スキンケア","quoteToken":"q"}}]}' \
  "$now_ms" "$now_ms" "$now_ms" > "$body"
/usr/bin/time -f "  segc webhook (one body): %e s wall, %M KB peak" "$bin/segc" webhook "$program" --store "$store" "$body" >/dev/null
/usr/bin/time -f "  segc run: %e s wall, %M KB peak" "$bin/segc" run "$program" --store "$store" >/dev/null
/usr/bin/time -f "  segc outbox: %e s wall, %M KB peak" "$bin/segc" outbox "$program" --store "$store" >/dev/null

echo "== kill -9 under load, $kills times (a small store)"
SEG_SERVICE_KILLS="$kills" /usr/bin/time -f "  %e s" "$bin/seg_server_tests" --gtest_filter='*KillNine*' 2>&1 | grep -E "kills under load|OK|FAILED|Failure| s$"
