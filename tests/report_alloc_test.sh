#!/bin/sh
# report's allocator table (harness/analyze/report_alloc.c), in Markdown and in HTML: present
# under a workload's table only when its rows ran under more than one allocator, one row per cell
# with the allocator and its numbers; a value that is not a measurement (negative) shows as "-",
# never as a number.
# usage: report_alloc_test.sh MMBENCH
set -eu
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" run --manager rc --workload churn --scale tiny --format none --out "$dir/one.json" 2>/dev/null
"$bin" report --format md "$dir/one.json" > "$dir/one.md"
! grep -q '^By allocator' "$dir/one.md" || fail "one allocator, yet an allocator table"
"$bin" report --format html "$dir/one.json" > "$dir/one.html"
! grep -q 'By allocator' "$dir/one.html" || fail "one allocator, yet an HTML allocator table"

"$bin" run --manager rc,cpython --workload churn --scale tiny --allocator libc,pool \
    --format none --out "$dir/two.json" 2>/dev/null
"$bin" report --format md "$dir/two.json" > "$dir/two.md"
grep -q '^By allocator' "$dir/two.md" || fail "two allocators, no allocator table"
# Times are whatever this build and machine take (a sanitizer build: microseconds): any unit.
t='[0-9.]+ (ns|µs|ms|s)'
rows=$(grep -cE "^\| (rc|cpython) \| (libc|pool) \| [0-9.]+[kMG]? \| [0-9.]+ (KiB|MiB|GiB) \| $t \| $t \| [0-9.]+ \|" "$dir/two.md")
[ "$rows" = 4 ] || { cat "$dir/two.md" >&2; fail "expected 4 allocator rows with numbers, got $rows"; }
"$bin" report --format html "$dir/two.json" > "$dir/two.html"
grep -q '<p class="note">By allocator' "$dir/two.html" || fail "two allocators, no HTML allocator table"
m='<td class="m">'
rows=$(grep -oE "<tr>$m(rc|cpython)</td>$m(libc|pool)</td><td>[0-9.]+[kMG]?</td><td>[0-9.]+ (KiB|MiB|GiB)</td><td>$t</td><td>$t</td><td>[0-9.]+</td>" "$dir/two.html" | wc -l)
[ "$rows" = 4 ] || { grep -A6 'By allocator' "$dir/two.html" >&2; fail "expected 4 HTML allocator rows with numbers, got $rows"; }

# "own" (a manager with its own memory, allocator not used) beside one allocator is not a
# comparison of allocators: no table.
sed 's/"allocator": "pool"/"allocator": "own"/' "$dir/two.json" > "$dir/own.json"
grep -q '"allocator": "own"' "$dir/own.json" || fail "the results have no \"allocator\": \"pool\" to rewrite"
"$bin" report --format md "$dir/own.json" > "$dir/own.md"
! grep -q '^By allocator' "$dir/own.md" || fail "libc and own only, yet an allocator table"

# A negative alloc_ns_per_call (not a measurement) reads as absent.
sed 's/"alloc_ns_per_call": [0-9.e+-]*/"alloc_ns_per_call": -5/' "$dir/two.json" > "$dir/bad.json"
"$bin" report --format md "$dir/bad.json" > "$dir/bad.md"
bad=$(grep -cE '^\| (rc|cpython) \| (libc|pool) \| [0-9.]+[kMG]? \| [0-9.]+ (KiB|MiB|GiB) \| - \|' "$dir/bad.md")
[ "$bad" = 4 ] || { cat "$dir/bad.md" >&2; fail "a negative alloc ns/call should show '-', got $bad rows"; }
"$bin" report --format html "$dir/bad.json" > "$dir/bad.html"
bad=$(grep -oE "<tr>$m(rc|cpython)</td>$m(libc|pool)</td><td>[^<]+</td><td>[^<]+</td><td>-</td>" "$dir/bad.html" | wc -l)
[ "$bad" = 4 ] || { grep -A6 'By allocator' "$dir/bad.html" >&2; fail "a negative alloc ns/call should show '-' in HTML, got $bad rows"; }
echo "ok"
