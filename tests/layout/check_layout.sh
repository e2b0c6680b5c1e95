#!/usr/bin/env bash
# Dependencies point one way: base <- compiler <- runtime <- cli, server.
# Fails when a file includes a header from a layer above its own (or cli
# and server include each other), naming the file and the include.
set -euo pipefail
cd "$(dirname "$0")/../.."

level() {
  case "$1" in
    base) echo 0 ;;
    grammar|stdlib|compiler) echo 1 ;;
    runtime) echo 2 ;;
    cli|server) echo 3 ;;
    *) echo -1 ;;
  esac
}

bad=0
for dir in base grammar stdlib compiler runtime cli server; do
  [ -d "$dir" ] || continue
  own=$(level "$dir")
  while IFS= read -r hit; do
    file=${hit%%:*}
    included=$(sed -E 's/.*#include "([^"]+)".*/\1/' <<<"${hit#*:}")
    top=${included%%/*}
    theirs=$(level "$top")
    [ "$theirs" -lt 0 ] && continue
    if [ "$theirs" -gt "$own" ] || { [ "$own" -eq 3 ] && [ "$top" != "$dir" ] && [ "$theirs" -eq 3 ]; }; then
      echo "layout: $file includes \"$included\": $dir may not depend on $top" >&2
      bad=1
    fi
  done < <(grep -rHE '^\s*#\s*include "[^"]+"' "$dir" --include='*.h' --include='*.cc' --include='*.def' || true)
done
[ "$bad" -eq 0 ] && echo "layout: every include points down (base <- compiler <- runtime <- cli, server)"
exit "$bad"
