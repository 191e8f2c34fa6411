#!/bin/sh
# The regression gate (ci/regress) on a tiny matrix: a baseline is recorded, an unchanged build
# passes, and extra work injected through a manager option (MMBENCH_OPTIONS, which keeps the cell
# names) is caught by the exact counters. Timing limits are left out here: on a shared 2-core
# machine they are the gate's job over 9 repetitions, not a test's (see the README for the
# measured false-positive rate).
# usage: regress_test.sh MMBENCH SOURCE_DIR NO_INSTRUCTIONS(0|1)
set -eu
bin=$1 src=$2 noinstr=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The CI gate's own limits: the registry's defaults with every timed metric off (exact only).
cp "$src/ci/regress-thresholds.txt" "$tmp/exact.txt"
export MMBENCH_BIN="$bin" MMBENCH_REGRESS_SKIP_BUILD=1 MMBENCH_REGRESS_REPS=3
export MMBENCH_REGRESS_NO_INSTRUCTIONS="$noinstr"
export MMBENCH_REGRESS_MATRIX="--manager rc,cpython,bacon-rajan --workload rings,churn --scale tiny"
gate() { sh "$src/ci/regress" --baseline "$tmp/base" --thresholds "$tmp/exact.txt" "$@"; }

gate --record --out "$tmp/record" >/dev/null
[ -f "$tmp/base/timing.json" ] || { echo "no baseline recorded" >&2; exit 1; }

if ! gate --out "$tmp/same" > "$tmp/same.txt" 2>&1; then
    echo "the unchanged build was flagged:" >&2; cat "$tmp/same.txt" >&2; exit 1
fi

set +e
MMBENCH_OPTIONS="threshold0=50 buffer=100" gate --out "$tmp/slow" > "$tmp/slow.txt" 2>&1
status=$?
set -e
if [ "$status" != 1 ]; then
    echo "injected work: expected exit 1, got $status" >&2; cat "$tmp/slow.txt" >&2; exit 1
fi
for want in "rings/cpython/tiny" "rings/bacon-rajan/tiny" "objects_traversed"; do
    grep -q "$want" "$tmp/slow.txt" || { echo "report lacks '$want':" >&2; cat "$tmp/slow.txt" >&2; exit 1; }
done
if grep -q "rings/rc/tiny.*REGRESSION\|churn/rc/tiny.*REGRESSION" "$tmp/slow.txt"; then
    echo "rc has neither option, yet was flagged:" >&2; cat "$tmp/slow.txt" >&2; exit 1
fi
echo "gate: unchanged build passed; injected work caught"
