# What the service benchmarks share (sourced): paths, and the shop's program
# without its quiet hours (22:00-08:00 JST would hold the sends, whatever
# hour the bench runs) in WORK, with its flex files.
#   shop_without_quiet_hours WORK   sets root, bin, program
#   generate_store FRIENDS STORE    a store of FRIENDS friends, 10 events each
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/build/bin"

shop_without_quiet_hours() {
  mkdir -p "$1"
  program="$1/shop.seg"
  sed '/^  quiet /d' "$root/examples/shop/shop.seg" > "$program"
  cp -r "$root/examples/shop/flex" "$1/" 2>/dev/null || true
}

generate_store() {
  echo "== generating $1 friends and $(($1 * 10)) events"
  "$bin/segc" gen "$program" --store "$2" --friends "$1" --events $(($1 * 10)) --seed 1 | tail -1
}
