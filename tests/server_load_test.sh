#!/bin/sh
# server records the load it ran at (workloads/server.c): a given rate exactly, with the warm-up's
# mean service time beside it; an unpaced run (tiny scale, rate 0) records neither, rather than a
# zero that reads as a rate.
# usage: server_load_test.sh MMBENCH
set -eu
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$bin" run --manager rc --workload server --scale tiny --param rate=40000 --format none \
    --out "$dir/paced.json" 2>/dev/null
grep -Eq '"server_offered_requests_per_second": 40000(\.0*)?,' "$dir/paced.json" ||
    { grep server_ "$dir/paced.json" >&2; fail "rate=40000: the offered rate is not recorded as 40000"; }
grep -Eq '"server_warmup_service_ns": [0-9.e+]+,' "$dir/paced.json" ||
    fail "rate=40000: no warm-up service time"
grep -Eq '"server_warmup_service_ns": 0(\.0*)?,' "$dir/paced.json" &&
    fail "rate=40000: a warm-up service time of 0"

"$bin" run --manager rc --workload server --scale tiny --format none --out "$dir/unpaced.json" \
    2>/dev/null
! grep -q '"server_' "$dir/unpaced.json" || fail "an unpaced run records an offered rate"
echo "ok"
