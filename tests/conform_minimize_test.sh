#!/bin/sh
# conform --minimize on a broken manager: conform exits 1 naming the failing check, the minimized
# trace has at most 30 operations, and the replay command conform prints fails (exit 1) on it.
# usage: conform_minimize_test.sh MMBENCH-BROKEN MANAGER CHECK
set -u
bin=$1 manager=$2 check=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$bin" conform --manager "$manager" --minimize --out-dir "$tmp/out" >"$tmp/log" 2>&1
status=$?
cat "$tmp/log"
[ "$status" = 1 ] || { echo "expected conform to exit 1, got $status"; exit 1; }
grep -Eq "^FAIL  $check " "$tmp/log" || { echo "no FAIL line for $check"; exit 1; }
line=$(grep -E "^      minimized: $tmp/out/$check\\.min\\.trace \\([0-9]+ operations" "$tmp/log")
[ -n "$line" ] || { echo "no minimized trace for $check"; exit 1; }
ops=$(echo "$line" | sed -E 's/.*\(([0-9]+) operations.*/\1/')
[ "$ops" -le 30 ] || { echo "minimized trace has $ops operations (more than 30)"; exit 1; }
[ "$(grep -cv '^#' "$tmp/out/$check.min.trace")" = "$ops" ] || { echo "trace file length"; exit 1; }
grep -Eq "^      reproduce: .* replay --manager $manager --verify $tmp/out/$check\\.min\\.trace$" \
    "$tmp/log" || { echo "no reproduce line"; exit 1; }
"$bin" replay --manager "$manager" --verify "$tmp/out/$check.min.trace" >/dev/null 2>&1
status=$?
[ "$status" = 1 ] || { echo "expected the replay to exit 1, got $status"; exit 1; }
echo "ok: $check minimized to $ops operations"
