#!/usr/bin/env bash
# seg set-up for Debian bookworm: installs what is missing, builds, then
#   ./setup.sh demo    runs the demo on the bundled example
#   ./setup.sh test    runs the whole test suite
#   ./setup.sh build   only installs and builds
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages seg builds against (see docs/building.md for why each).
PACKAGES=(
  build-essential cmake pkg-config
  antlr4 libantlr4-runtime-dev uuid-dev
  llvm-16-dev zlib1g-dev libzstd-dev
  libroaring-dev libfmt-dev libgtest-dev libcli11-dev nlohmann-json3-dev
  libre2-dev libssl-dev libhowardhinnant-date-dev libxxhash-dev
  libsimdjson-dev libsqlite3-dev tzdata libyaml-cpp-dev
  libboost1.81-dev libtomlplusplus-dev libcurl4-openssl-dev
  curl openssl
)

# What only the tests need: clang-16 and its runtime for the libFuzzer
# harnesses under ASan and UBSan (tests/fuzz).
TEST_PACKAGES=(clang-16 libclang-rt-16-dev)

install_missing() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "setup: installing ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: run as root or install sudo" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The fuzz harnesses, built by clang with sanitizers in a tree of their own.
build_fuzzers() {
  if [ ! -f build-fuzz/CMakeCache.txt ]; then
    cmake -S . -B build-fuzz -DSEG_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER=clang++-16 -DCMAKE_C_COMPILER=clang-16 >/dev/null
  fi
  cmake --build build-fuzz -j"$(nproc)" --target fuzzers 2>&1 | grep -v -E '^\[ *[0-9]+%\] (Building|Linking|Built|Generating)' || true
  test -x build-fuzz/bin/fuzz_source || { echo "setup: the fuzz build failed" >&2; exit 1; }
}

build() {
  if [ ! -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  cmake --build build -j"$(nproc)" 2>&1 | grep -v -E '^\[ *[0-9]+%\] (Building|Linking|Built|Generating)' || true
  test -x build/bin/segc && test -x build/bin/segd && test -x build/bin/line_stand_in || { echo "setup: the build failed" >&2; exit 1; }
}

demo() {
  local segc=build/bin/segc program=examples/shop/shop.seg store=build/demo-store
  local at=2026-11-18T12:00
  echo "== seg demo: the rules of an online cosmetics shop ($program)"
  echo
  echo "-- segc check: the program parses and every declaration is read"
  $segc check $program
  echo
  echo "-- segc check on programs with mistakes: every error at once, with its place and a hint"
  $segc check --color never examples/mistakes/mistakes.seg 2>&1 || true
  echo
  $segc check --color never examples/mistakes/rules.seg 2>&1 || true
  echo
  echo "-- segc gen: a store of 200,000 synthetic friends and their 2,000,000 events of the past year"
  if [ ! -f $store/LOCK ]; then
    rm -rf $store
    $segc gen $program --store $store --friends 200000 --events 2000000 --seed 1 --now $at
  fi
  $segc stats --store $store
  echo
  echo "-- segc eval --all: who is in each segment at $at (index lookups, JIT-compiled residuals)"
  $segc eval $program --store $store --all --at $at
  echo
  echo "-- segc explain: how seg finds the skincare fans, with each step's reach and time"
  $segc explain $program --store $store --segment skincare_fans --at $at
  echo
  echo "-- segc eval --ids: the first friends of a segment, by LINE user ID"
  $segc eval $program --store $store --segment cart_left --at $at | head -6
  echo
  echo "-- segc test: the program's own tests, run against the automation engine"
  $segc test $program
  echo
  echo "-- segc plan: the winter sale as LINE API requests (a preview; --record would queue them)"
  $segc plan $program --store $store --campaign winter_sale | head -16
  echo
  echo "-- segc simulate: a month of the shop's scenarios, rules, menus and campaigns on a copy of the store"
  $segc simulate $program --store $store --from 2026-11-18T12:00 --to 2026-12-18T12:00 --seed 2
  echo
  serve_demo
}

# segd, the service, on the demo store, delivering to a local LINE stand-in:
# LINE's signed webhook in, the welcome delivered; an EC event through the
# feed starts a scenario; a campaign goes out.
serve_demo() {
  local store=build/demo-serve-store ready=build/demo-segd.ready log=build/demo-segd.log line_log=build/demo-line.log
  rm -rf $store
  cp -r build/demo-store $store  # the demo above stays as it was
  # The shop sends nothing from 22:00 to 08:00; the demo drops its quiet
  # hours so the welcome goes out whatever the hour you run it.
  local program=build/demo-serve.seg
  sed '/^  quiet /d' examples/shop/shop.seg > $program
  cp -r examples/shop/flex build/ 2>/dev/null || true
  export LINE_CHANNEL_SECRET=demo-channel-secret LINE_CHANNEL_ACCESS_TOKEN=stand-in-token
  echo "-- a stand-in for LINE's Messaging API on loopback (tests/tools/line_stand_in: LINE's limits, retry keys, reply tokens)"
  build/bin/line_stand_in --token "$LINE_CHANNEL_ACCESS_TOKEN" >$line_log &
  local line_pid=$!
  trap "kill $line_pid 2>/dev/null || true" EXIT
  for _ in $(seq 100); do [ -s $line_log ] && break; sleep 0.1; done
  local line_api
  line_api=$(head -1 $line_log)
  echo "   $line_api"
  rm -f $ready
  echo "-- segd: the service opens the store once, listens, and delivers (--deliver --line-api $line_api)"
  build/bin/segd $program --store $store --listen 127.0.0.1:0 --admin 127.0.0.1:0 --ready-file $ready \
    --deliver --line-api "$line_api" --log-format text 2>$log &
  local pid=$!
  trap "kill $pid $line_pid 2>/dev/null || true" EXIT
  for _ in $(seq 600); do [ -s $ready ] && break; sleep 0.1; done
  [ -s $ready ] || { cat $log; echo "setup: segd did not start" >&2; exit 1; }
  local public admin
  public=$(sed -E 's/.*"public_port":([0-9]+).*/\1/' $ready)
  admin=http://127.0.0.1:$(sed -E 's/.*"admin_port":([0-9]+).*/\1/' $ready)
  sed 's/^/   segd: /' $log
  echo
  local now_ms user
  now_ms=$(($(date +%s) * 1000))
  user=$(printf 'U%032x' "$now_ms")  # a new friend each run
  local body='{"destination":"U0","events":[{"type":"follow","mode":"active","timestamp":'$now_ms',"source":{"type":"user","userId":"'$user'"},"webhookEventId":"01DEMOFOLLOW'$now_ms'","deliveryContext":{"isRedelivery":false},"replyToken":"demo-reply-token","follow":{"isUnblocked":false}}]}'
  local signature
  signature=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$LINE_CHANNEL_SECRET" -binary | base64)
  echo "-- LINE posts a follow, signed with the channel secret (x-line-signature: $signature)"
  curl -s -w '   -> HTTP %{http_code}\n' -H 'Content-Type: application/json' -H "x-line-signature: $signature" \
    --data-binary "$body" http://127.0.0.1:$public/callback
  echo "-- the same body with a wrong signature"
  curl -s -w '   -> HTTP %{http_code}\n' -H 'Content-Type: application/json' -H "x-line-signature: AAAA$signature" \
    --data-binary "$body" http://127.0.0.1:$public/callback
  local waited=0
  while ! grep -q "push to $user" $line_log && [ $waited -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
  echo "-- $((waited / 10)).$((waited % 10)) s later, LINE (the stand-in) has given the friend's profile and accepted the welcome push, by name:"
  grep "$user" $line_log | sed 's/^/   /'
  echo
  echo "-- the shop's EC system posts a cart_add (POST /v1/events): the cart_recovery scenario starts"
  printf '{"user_id":"%s","event":"cart_add","time":"%s","product":"化粧水","price":3200}\n' "$user" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" |
    curl -s -w '   -> HTTP %{http_code}\n' -H 'Content-Type: application/x-ndjson' --data-binary @- "$admin/v1/events"
  echo "-- and a record with a mistake: named by line and field, nothing taken"
  printf '{"user_id":"%s","event":"cart_add","time":"yesterday","product":"x","price":1}\n' "$user" |
    curl -s -w '   -> HTTP %{http_code}\n' -H 'Content-Type: application/x-ndjson' --data-binary @- "$admin/v1/events"
  echo "-- the winter_sale campaign, planned and sent now (POST /v1/campaign)"
  curl -s -X POST "$admin/v1/campaign?name=winter_sale" |
    sed -E 's/.*"audience":([0-9]+).*"recipients":([0-9]+).*/   audience \1, recipients \2/' | head -1
  sleep 3
  echo "   LINE accepted: $(grep -c 'audienceGroup/upload' $line_log) audience uploads (a file of IDs each, to api-data), $(grep -c 'message/narrowcast' $line_log) narrowcast(s) (60 an hour: each arm's waits its turn)"
  grep -m2 narrowcast $line_log | sed 's/^/   /'
  echo
  echo "-- GET /metrics (Prometheus): the webhook events, what the automation did, what LINE accepted"
  curl -s "$admin/metrics" | grep -E '^seg_(webhook_events_total|actions_total\{action="(enrolled|sent)"|friends |outbox_requests|delivery_requests_total)'
  echo
  echo "-- SIGTERM: in-flight work finishes, the store is checkpointed"
  kill -TERM $pid
  wait $pid || true
  kill -TERM $line_pid
  wait $line_pid || true
  trap - EXIT
  tail -2 $log | sed 's/^/   segd: /'
  tail -1 $line_log | sed 's/^/   /'
  echo
  echo "Run it yourself: LINE_CHANNEL_SECRET=... LINE_CHANNEL_ACCESS_TOKEN=... build/bin/segd $program --store $store --deliver (docs/server.md)"
}

# Prism (npm) mocks LINE's OpenAPI files for the test that validates what
# seg serve sends; without it that test skips with a message.
install_prism() {
  command -v npm >/dev/null || install_missing nodejs npm
  [ -x build/npm/node_modules/.bin/prism ] && return
  mkdir -p build/npm
  npm install --no-audit --no-fund --prefix build/npm @stoplight/prism-cli@5.16.0 >build/npm-install.log 2>&1 ||
    echo "setup: Prism did not install (build/npm-install.log); the LINE API validation test will skip" >&2
}

run_tests() {
  ctest --test-dir build --output-on-failure -j"$(nproc)"
}

command="${1:-demo}"
case "$command" in
  demo|test|build) ;;
  *) echo "usage: ./setup.sh [demo|test|build]" >&2; exit 2 ;;
esac
install_missing "${PACKAGES[@]}"
[ "$command" = test ] && install_missing "${TEST_PACKAGES[@]}"
build
case "$command" in
  demo) demo ;;
  test) build_fuzzers; install_prism; run_tests ;;
  build) ;;
esac
