#!/bin/sh
# ci/publish --check fails when a registered manager or workload has no cell in the published
# results, and passes once the results cover the registry. Runs ci/publish on a copy of the
# tree's layout in a temporary directory, with tests/data/report/cascade.json (rc, cpython and
# marksweep on small-live and live-heap) as the published run.
# usage: publish_check_test.sh SOURCE_DIR MMBENCH
set -u
src=$1 bin=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ci" "$tmp/managers" "$tmp/workloads" "$tmp/results"
cp "$src/ci/publish" "$tmp/ci/publish"
cp "$src/managers/list.h" "$tmp/managers/list.h"
cp "$src/workloads/list.h" "$tmp/workloads/list.h"
cp "$src/tests/data/report/cascade.json" "$tmp/results/default.json"
fail=0

# The real registry: the fixture lacks managers and workloads; both modes refuse, naming them.
for mode in --check ""; do
    sh "$tmp/ci/publish" $mode --bin "$bin" >"$tmp/out" 2>"$tmp/err"
    status=$?
    if [ "$status" != 1 ]; then
        echo "FAIL: ci/publish $mode with managers missing: exit $status, expected 1" >&2
        fail=1
    fi
    for want in "manager bacon-rajan" "manager rc-atomic" "workload churn" "workload parallel-churn"; do
        grep -qF "$want" "$tmp/err" || { echo "FAIL: ci/publish $mode does not name $want:" >&2; cat "$tmp/err" >&2; fail=1; }
    done
    if grep -qE "manager (rc|cpython|marksweep)[,( ]|workload (small-live|live-heap)[,( ]" "$tmp/err"; then
        echo "FAIL: ci/publish $mode names what the results have:" >&2; cat "$tmp/err" >&2; fail=1
    fi
done
[ -f "$tmp/results/README.md" ] && { echo "FAIL: tables published from incomplete results" >&2; fail=1; }

# A registry of exactly what the results hold: published, then checked clean.
printf 'MMB_MANAGER(rc)\nMMB_MANAGER(cpython)\nMMB_MANAGER(marksweep)\n' >"$tmp/managers/list.h"
printf 'MMB_WORKLOAD(small_live)\nMMB_WORKLOAD(live_heap)\n' >"$tmp/workloads/list.h"
if ! sh "$tmp/ci/publish" --bin "$bin" >"$tmp/out" 2>&1; then
    echo "FAIL: ci/publish of complete results:" >&2; cat "$tmp/out" >&2; fail=1
fi
if ! sh "$tmp/ci/publish" --check --bin "$bin" >"$tmp/out" 2>&1; then
    echo "FAIL: ci/publish --check after publishing:" >&2; cat "$tmp/out" >&2; fail=1
fi
# One more registered workload, none of its cells published: --check fails again.
echo 'MMB_WORKLOAD(rings)' >>"$tmp/workloads/list.h"
sh "$tmp/ci/publish" --check --bin "$bin" >"$tmp/out" 2>"$tmp/err"
status=$?
if [ "$status" != 1 ] || ! grep -qF "has no cell of workload rings" "$tmp/err"; then
    echo "FAIL: a newly registered workload: exit $status" >&2; cat "$tmp/err" >&2; fail=1
fi
exit $fail
