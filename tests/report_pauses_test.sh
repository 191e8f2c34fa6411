#!/bin/sh
# The headline pause columns of `mmbench report` count every pause the mutator saw, cascades
# included, with the kind of the longest beside the max pause, and pauses by kind follow each
# table. Fixtures: tests/data/report/cascade.json, `mmbench run --manager rc,cpython,marksweep
# --workload small-live,live-heap --scale tiny --repetitions 3` with the aggregates removed, where
# rc's only pauses are refcount cascades; cascade_old.json, the same run as mmbench wrote it before
# (no mmbench.pauses.all or longest_kind, pause_p99_ns and pause_max_ns of collections only).
# usage: report_pauses_test.sh MMBENCH DATA_DIR
set -u
mmbench=$1 data=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"
has() { grep -qF -- "$2" "$1"; }

"$mmbench" report "$data/cascade.json" >"$tmp/new.md" || exit 1
"$mmbench" report "$data/cascade_old.json" >"$tmp/old.md" || exit 1
"$mmbench" report --format csv "$data/cascade.json" >"$tmp/new.csv" || exit 1
"$mmbench" report --format html --out "$tmp/new.html" "$data/cascade.json" || exit 1
# rc's medians: one cascade a repetition, 215.8 us in small-live and 302.5 us in live-heap; it is
# not the lowest, and nothing of it reads 0 ns.
check "rc's small-live pauses are its cascade's" has "$tmp/new.md" \
    "| rc | 3 | 25.74M | 215.8 µs | 215.8 µs (cascade) | 0.723 |"
check "rc's live-heap pauses are its cascade's" has "$tmp/new.md" \
    "| rc | 3 | 6.68M | 302.5 µs | 302.5 µs (cascade) | 0.899 |"
check "cpython's longest in live-heap is a young collection" has "$tmp/new.md" \
    "| cpython | 3 | 1.03M | 719.7 µs | 719.7 µs (young) |"
check "no rc pause reads 0 ns" sh -c "! grep -E '^\\| rc \\| 3 \\| [^|]* \\| [^|]*0 ns' '$tmp/new.md'"
check "the best pause is marksweep's, which did not pause" has "$tmp/new.md" \
    "| marksweep | 3 | **31.24M** | **0 ns** | **0 ns** |"
check "pauses by kind: a table after each" test "$(grep -c '^Pauses by kind' "$tmp/new.md")" = 2
check "pauses by kind: header" has "$tmp/new.md" \
    "| manager | young n | young p99 | young max | cascade n | cascade p99 | cascade max |"
check "pauses by kind: rc" has "$tmp/new.md" "| rc | 0 | - | - | 1 | 215.8 µs | 215.8 µs |"
check "pauses by kind: cpython" has "$tmp/new.md" \
    "| cpython | 37 | 719.7 µs | 719.7 µs | 1 | 519.7 µs | 519.7 µs |"
# Older results are rebuilt from their per-kind histograms: the same tables.
check "older results give the same tables" cmp -s "$tmp/new.md" "$tmp/old.md"
check "csv: rc's longest is a cascade" sh -c \
    "awk -F, '\$2 == \"small-live\" && \$6 == \"rc\" { print \$15 }' '$tmp/new.csv' | grep -qx cascade"
check "csv: rc's cascades" sh -c \
    "grep ',small-live,.*,rc,' '$tmp/new.csv' | grep -q ',0,,,0,,,1,215850,215850,'"
check "html: the kind beside the max" has "$tmp/new.html" "<td>215.8 µs (cascade)</td>"
check "html: pauses by kind" test "$(grep -o '<table class="r k">' "$tmp/new.html" | wc -l)" = 2
exit $fail
