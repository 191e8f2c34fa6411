#!/bin/sh
# stress and replay on several managers: each in a process of its own, output and exit status
# passed through in order (harness/verify/verify_run.c). Exit 77 where a case needs a manager
# that was not built.
# usage: forked_runs.sh CASE MMBENCH MMBENCH_FORKED MMBENCH_BROKEN TRACE BUNDLED_MANAGERS...
set -u
case_name=$1 mmbench=$2 forked=$3 broken=$4 trace=$5
shift 5
bundled="$*"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
    echo "$case_name: $*" >&2
    echo "--- stdout:" >&2; head -c 3000 "$tmp/out" >&2
    echo "--- stderr:" >&2; head -c 3000 "$tmp/err" >&2
    exit 1
}

# run STATUS COMMAND...: runs it, its output in $tmp/out and $tmp/err, and checks its status.
run() {
    want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    [ "$got" = "$want" ] || fail "expected exit status $want, got $got from: $*"
}

# managers NAME...: stdout is one JSON object per manager, for these, in this order.
managers() {
    sed -n 's/^{"manager":"\([^"]*\)".*/\1/p' "$tmp/out" | tr '\n' ' ' >"$tmp/names"
    [ "$(cat "$tmp/names")" = "$* " ] || fail "expected the managers '$*', got '$(cat "$tmp/names")'"
    [ "$(wc -l <"$tmp/out")" = "$#" ] || fail "expected $# lines on stdout"
}

no_stderr() {
    [ -s "$tmp/err" ] && fail "expected nothing on stderr"
    return 0
}

needs() {
    "$mmbench" list --manager "$1" >/dev/null 2>&1 || {
        echo "skipped: $1 is not built here" >&2
        exit 77
    }
}

case $case_name in
once_pair) # one heap a process each: in one process the second would be refused
    run 0 "$forked" --self-check
    grep -q '^once-b refused: this process already made a heap' "$tmp/out" || fail "no refusal"
    run 0 "$forked" stress --manager once-a,once-b --seed 1 --ops 2000
    no_stderr
    managers once-a once-b
    run 0 "$forked" replay --manager once-b,once-a --verify "$trace"
    no_stderr
    managers once-b once-a
    ;;
once_pair_table) # the header once, then each child's row in order
    run 0 "$forked" stress --manager once-a,once-b,once-a --seed 1 --ops 2000 --format table
    no_stderr
    [ "$(cut -d' ' -f1 "$tmp/out" | tr '\n' ' ')" = "manager once-a once-b once-a " ] ||
        fail "expected the header, then once-a, once-b, once-a"
    ;;
signal) # a child that dies: one line naming it and the signal, the others still run, status 1
    run 1 "$forked" stress --manager once-a,dies,once-b --seed 1 --ops 200
    managers once-a once-b
    [ "$(cat "$tmp/err")" = "mmbench: error: stress: manager dies: its process died of signal 15 (Terminated)" ] ||
        fail "expected the one line naming dies and SIGTERM on stderr"
    ;;
worst) # a failing child's status 1 is kept over the others' 0
    run 1 "$broken" stress --manager rc,broken-early,rc --seed 1 --ops 2000
    managers rc broken-early rc
    grep -q '^mmbench: verify failed: manager=broken-early ' "$tmp/err" || fail "no verify failure"
    [ "$(wc -l <"$tmp/err")" = 1 ] || fail "expected one line on stderr"
    ;;
same_as_in_process) # forked, the bundled managers print what each prints alone (up to the timings)
    run 0 "$mmbench" stress --manager all --seed 3 --ops 3000
    no_stderr
    sed 's/,"seconds":.*//' "$tmp/out" >"$tmp/all"
    for m in $bundled; do
        "$mmbench" stress --manager "$m" --seed 3 --ops 3000 || fail "$m alone failed"
    done | sed 's/,"seconds":.*//' >"$tmp/each"
    cmp -s "$tmp/all" "$tmp/each" || { diff "$tmp/all" "$tmp/each" >&2; fail "all differs from each alone"; }
    run 0 "$mmbench" replay --manager all --verify "$trace"
    sed 's/,"seconds":.*//' "$tmp/out" >"$tmp/all"
    for m in $bundled; do
        "$mmbench" replay --manager "$m" --verify "$trace" || fail "$m alone failed"
    done | sed 's/,"seconds":.*//' >"$tmp/each"
    cmp -s "$tmp/all" "$tmp/each" || { diff "$tmp/all" "$tmp/each" >&2; fail "replay: all differs from each alone"; }
    ;;
boehm_pair) # Boehm's incremental mode, once on, stays on for the process: a process each
    needs boehm,boehm-incremental
    run 0 "$mmbench" stress --manager boehm-incremental,boehm --seed 1 --ops 2000
    no_stderr
    managers boehm-incremental boehm
    run 0 "$mmbench" replay --manager boehm-incremental,boehm,boehm-incremental --verify "$trace"
    no_stderr
    managers boehm-incremental boehm boehm-incremental
    ;;
external_any_order) # every manager, the external ones first or last, boehm after boehm-incremental
    needs boehm-incremental
    for list in all,external external,all boehm-incremental,external,all; do
        run 0 "$mmbench" stress --manager $list --seed 1 --ops 2000
        no_stderr
    done
    ;;
*)
    echo "forked_runs.sh: unknown case '$case_name'" >&2
    exit 2
    ;;
esac
exit 0
