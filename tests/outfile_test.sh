#!/bin/sh
# Result files cannot be turned against the user (harness/outfile.h), through the CLI: run
# --out/--hgrm, stress --emit, report --out, merge --out. Everything is made in a mktemp -d
# directory; the only non-regular files are a FIFO, a directory and symbolic links made there.
# usage: outfile_test.sh MMBENCH REPORT_FIXTURE symlink|fifo|directory|unwritable|names|hgrm
#   exits 77 (skipped) where the case cannot be tested here (unwritable, as root)
set -u
mmbench=$1 fixture=$2 mode=$3
tmp=$(mktemp -d)
trap 'chmod -R u+w "$tmp"; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"
cd "$tmp" || exit 1
has() { grep -qE -- "$2" "$1"; }
run_tiny="$mmbench run --manager rc --workload churn --scale tiny --format none"
# The whole default matrix: minutes if it starts, so a refusal that comes only after the cells
# shows as this test's timeout; refused up front, it is over at once.
run_all="$mmbench run --format none"
# refused STATUS_FILE: the command exited 2 with one error line and nothing else
refused() {
    check "exit 2 (got $(cat "$1.rc"))" test "$(cat "$1.rc")" = 2
    check "one line on stderr: $(cat "$1.err")" test "$(wc -l <"$1.err" | tr -d ' ')" = 1
    check "nothing on stdout" test ! -s "$1.out"
}
try() { # try NAME COMMAND...: runs it, keeping NAME.out NAME.err NAME.rc
    try_name=$1
    shift
    timeout 60 "$@" >"$try_name.out" 2>"$try_name.err"
    echo $? >"$try_name.rc"
}

case $mode in
symlink)
    # A link at the old, predictable temporary name FILE.tmp.PID (exec keeps the shell's PID):
    # before, each command wrote through it into the victim.
    echo victim >victim
    sh -c 'ln -s victim r.md.tmp.$$ && exec "$@"' sh "$mmbench" report --out r.md "$fixture"
    check "report --out wrote its file" has r.md "^## "
    sh -c 'ln -s victim r.json.tmp.$$ && exec "$@"' sh $run_tiny --out r.json
    check "run --out wrote its file" has r.json '"benchmarks"'
    sh -c 'ln -s victim t.trace.tmp.$$ && exec "$@"' sh "$mmbench" stress --manager rc --seed 1 \
        --ops 100 --emit t.trace --emit-only
    check "stress --emit wrote its file" test "$(grep -c . t.trace)" = 100
    check "the victim is unchanged" test "$(cat victim)" = victim
    check "the planted links are still links" test -h r.md.tmp.* -a -h r.json.tmp.* -a -h t.trace.tmp.*
    # A link at the target itself is refused, not followed.
    ln -s victim planted.json
    try target $run_all --out planted.json
    refused target
    check "names the link" has target.err "^mmbench: error: run: --out planted.json: is a symbolic link"
    try target2 "$mmbench" report --out planted.json "$fixture"
    refused target2
    check "the victim is unchanged after all" test "$(cat victim)" = victim
    check "the link is still a link" test -h planted.json
    ;;
fifo)
    # Before, each command renamed a regular file over the FIFO (or would have blocked on it).
    mkfifo f
    try run $run_all --out f
    refused run
    check "run: names the FIFO" has run.err "^mmbench: error: run: --out f: is a FIFO, not a regular file"
    try report "$mmbench" report --out f "$fixture"
    refused report
    check "report: names the FIFO" has report.err "^mmbench: error: report: --out f: is a FIFO"
    try stress "$mmbench" stress --manager rc --seed 1 --ops 100 --emit f
    refused stress
    check "stress: names the FIFO" has stress.err "^mmbench: error: stress: --emit f: is a FIFO"
    try merge "$mmbench" merge --out f shard1.json shard2.json
    refused merge
    check "merge: names the FIFO" has merge.err "^mmbench: error: merge: --out f: is a FIFO"
    # A histogram file's name taken by a FIFO: refused before the first cell.
    mkdir h
    mkfifo h/server_rc_tiny.latency.hgrm
    try hgrm "$mmbench" run --manager rc --workload server --scale tiny --hgrm h
    refused hgrm
    check "--hgrm: names the FIFO" has hgrm.err "--hgrm h/server_rc_tiny.latency.hgrm: is a FIFO"
    check "the FIFOs are still FIFOs" test -p f -a -p h/server_rc_tiny.latency.hgrm
    ;;
directory)
    # Into a directory, or a missing one: exit 2 before the first cell (the whole matrix would
    # take minutes). Everything is under the test's own directory.
    mkdir d
    for out in d missing/r.json d/missing/r.json; do
        try dir $run_all --out "$out"
        refused dir
        check "run --out $out: named" has dir.err "^mmbench: error: run: --out $out: "
        try rep "$mmbench" report --out "$out" "$fixture"
        refused rep
        try merge "$mmbench" merge --out "$out" shard1.json
        refused merge
        try emit "$mmbench" stress --manager rc --seed 1 --ops 100 --emit "$out"
        refused emit
    done
    try hgrm $run_all --hgrm d/missing/h
    refused hgrm
    check "nothing left in the directory" test -z "$(ls -A d)"
    ;;
unwritable)
    mkdir ro
    chmod 500 ro
    if [ -w ro ]; then
        echo "running as root: a read-only directory does not stop root (skipped)" >&2
        exit 77
    fi
    try ro $run_all --out ro/r.json
    refused ro
    check "says why" has ro.err "^mmbench: error: run: --out ro/r.json: cannot create a file in ro: Permission denied"
    try rohgrm $run_all --hgrm ro
    refused rohgrm
    ;;
names)
    # Cell names longer than their buffer: before, AddressSanitizer reported a
    # global-buffer-overflow in build_cells (and a release build corrupted memory silently).
    z=0000000000000000000000000000000000000000000000000000000000 # 58 zeros: values of 60+ chars
    try long "$mmbench" run --manager cpython --workload churn --scale tiny \
        --param objects=${z}64 --param window=${z}8 --param link-fraction=0.${z}5 \
        --option threshold0=${z}700 --option threshold1=${z}10 --option threshold2=${z}10 \
        --option cascade-threshold=${z}1000
    refused long
    check "says the name is too long" has long.err "^mmbench: error: run: a cell's name would be longer than 511 characters: 'churn/cpython/tiny/objects=0+64/window="
    # Eight dimensions of 63-character values: before, the last one was written past the name
    # (into the next cell, inside the same static array: memory corrupted silently).
    w=${z}000
    try eight "$mmbench" run --manager cpython --workload cross-gen --scale tiny \
        --param old=${w}10 --param rounds=${w}10 --param young=${w}20 --param group=${w}4 \
        --option threshold0=${w}70 --option threshold1=${w}10 --option threshold2=${w}10 \
        --option cascade-threshold=${w}10
    refused eight
    check "eight: says the name is too long" has eight.err "^mmbench: error: run: a cell's name would be longer than 511 characters: 'cross-gen/cpython/tiny/old=0+10/"
    # 506 characters fit, and run; with a placement they would not (before: cut at 480 silently).
    c=${z%??????????????????????}1000
    set -- --manager cpython --workload churn --scale tiny --param objects=${z}64 \
        --param window=${z}8 --param link-fraction=0.${z}5 --option threshold0=${z}700 \
        --option threshold1=${z}10 --option threshold2=${z}10 --option cascade-threshold=$c
    name="churn/cpython/tiny/objects=${z}64/window=${z}8/link-fraction=0.${z}5/threshold0=${z}700/threshold1=${z}10/threshold2=${z}10/cascade-threshold=$c"
    try fits "$mmbench" run "$@" --format none --out fits.json
    check "a ${#name}-character name runs (exit $(cat fits.rc)): $(cat fits.err)" test "$(cat fits.rc)" = 0
    check "its name is whole (${#name} characters)" grep -qF "\"cell\": \"$name\"" fits.json
    try placed "$mmbench" run "$@" --placement compact
    refused placed
    check "placement: the name is too long" has placed.err "a cell's name would be longer than 511 characters"
    ;;
hgrm)
    # A long --hgrm DIR: before, file names were cut to fit 1024 bytes (histograms could collide).
    d=$tmp
    while [ ${#d} -lt 1100 ]; do d=$d/dddddddddddddddddddddddddddddddddddddddddddddddddd; done
    mkdir -p "$d"
    try long "$mmbench" run --manager rc --workload server --scale tiny --format none --hgrm "$d"
    check "a 1100-character --hgrm runs (exit $(cat long.rc)): $(cat long.err)" test "$(cat long.rc)" = 0
    check "the histogram's name is whole" test -s "$d/server_rc_tiny.latency-uncorrected.hgrm"
    check "no temporary left" test "$(ls -A "$d" | tr '\n' ' ')" = \
        "server_rc_tiny.latency-uncorrected.hgrm server_rc_tiny.latency.hgrm "
    # A path that cannot fit (4096 bytes): refused before the first cell.
    while [ ${#d} -lt 4000 ]; do d=$d/dddddddddddddddddddddddddddddddddddddddddddddddddd; done
    d=$d/$(printf "%0$((4060 - ${#d} - 1))d" 0) # 4060 characters: a directory, no room in it
    mkdir -p "$d"
    try toolong $run_all --hgrm "$d"
    refused toolong
    check "says it would not fit" has toolong.err "would not fit: a path of [0-9]+ characters, at most 4095"
    # A cell name that makes a file name longer than 255 bytes: refused too.
    z=0000000000000000000000000000000000000000000000000000000000
    try name "$mmbench" run --manager cpython --workload churn --scale tiny --hgrm h \
        --param objects=${z}64 --param window=${z}8 --param link-fraction=0.${z}5 \
        --option threshold0=${z}700
    refused name
    check "says the file name would not fit" has name.err "would not fit: a file name of [0-9]+ characters, at most 255"
    ;;
*)
    echo "usage: outfile_test.sh MMBENCH REPORT_FIXTURE symlink|fifo|directory|unwritable|names|hgrm" >&2
    exit 2
    ;;
esac
exit $fail
