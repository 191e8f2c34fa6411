#!/bin/sh
# Hostile input through the CLI: traces and streams that name more heap or bytes than the caps
# allow end with one line naming FILE:LINE and exit 2 (never an out-of-memory kill), and file
# names or input text holding newlines and escape sequences come out as one line of plain text.
# usage: hostile_input.sh MMBENCH MMBENCH_BROKEN GOOD_TRACE
set -u
bin=$1 broken=$2 good=$3
dir=$(mktemp -d)
writer=
trap '[ -n "$writer" ] && kill "$writer" 2>/dev/null; rm -rf "$dir"' EXIT
fail=0
esc=$(printf '\033')

# check NAME STATUS STDERR_ERE COMMAND...: the status, stderr matching the regex, stderr exactly
# one line with no ESC or other control byte, and nothing on stdout after bad input.
check() {
    name=$1 want=$2 re=$3
    shift 3
    "$@" >"$dir/out" 2>"$dir/err"
    got=$?
    why=
    [ "$got" = "$want" ] || why="exit status $got, expected $want"
    grep -Eq -- "$re" "$dir/err" || why="$why; stderr does not match: $re"
    [ "$(wc -l <"$dir/err")" = 1 ] || why="$why; stderr is not exactly one line"
    LC_ALL=C grep -q '[[:cntrl:]]' "$dir/err" && why="$why; stderr holds a control byte"
    [ "$want" != 2 ] || [ ! -s "$dir/out" ] || why="$why; stdout not empty"
    if [ -n "$why" ]; then
        echo "FAIL $name: $why" >&2
        echo "--- stderr:" >&2
        head -c 1000 "$dir/err" | od -c | head -20 >&2
        fail=1
    else
        echo "ok   $name"
    fi
}

# ---- caps ----------------------------------------------------------------------------------------
check dev_zero 2 '^mmbench: error: /dev/zero:1: line longer than 4096 bytes' \
    "$bin" replay --manager rc /dev/zero

# An endless line from a pipe ends at the line cap, not when memory runs out.
endless() { yes x | tr -d '\n' | "$bin" replay --manager rc /dev/stdin; }
check endless_line 2 '^mmbench: error: /dev/stdin:1: line longer than 4096 bytes' endless

# A FIFO that never ends: read up to --max-trace-bytes, the line where it is crossed named.
mkfifo "$dir/fifo"
yes collect >"$dir/fifo" &
writer=$!
check fifo_past_cap 2 \
    "^mmbench: error: $dir/fifo:8193: the input goes on past the cap of 65536 bytes \\(hint: replay --max-trace-bytes" \
    "$bin" replay --manager rc --max-trace-bytes 64K "$dir/fifo"
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
writer=

# A regular file over the cap is refused before it is read.
check file_past_cap 2 "^mmbench: error: .*ring_and_chain\\.trace: the trace is [0-9]+ bytes, more than the cap of 100 \\(hint" \
    "$bin" replay --manager rc --max-trace-bytes 100 "$good"

# The issue's case: 0.7 MB naming 40,000 objects of 65,536 slots (about 21 GB), refused at the
# 2048th (the first over 1 GiB), at once.
awk 'BEGIN { for (i = 1; i <= 40000; i++) print "new " i " 65536 0" }' >"$dir/huge.trace"
check huge_heap 2 \
    "^mmbench: error: $dir/huge\\.trace:2048: the objects need more than the heap cap of 1073741824 bytes .* \\(hint: replay --max-heap-bytes raises the cap\\)$" \
    "$bin" replay --manager rc "$dir/huge.trace"

# The flag moves the cap both ways: 3 objects of 1 slot and 8 bytes of payload need 3 x 48.
printf 'new 1 1 8\nnew 2 1 8\nnew 3 1 8\n' >"$dir/three.trace"
check heap_cap_lowered 2 "^mmbench: error: $dir/three\\.trace:3: the objects need more than the heap cap of 143 bytes \\(144 with this one" \
    "$bin" replay --manager rc --max-heap-bytes 143 "$dir/three.trace"
if "$bin" replay --manager rc --max-heap-bytes 144 "$dir/three.trace" >"$dir/out" 2>&1 &&
    "$bin" replay --manager rc --max-heap-bytes 2G --max-trace-bytes 1K "$dir/three.trace" \
        >>"$dir/out" 2>&1; then
    echo "ok   heap_cap_exact"
else
    echo "FAIL heap_cap_exact: a trace at the cap is refused" >&2
    cat "$dir/out" >&2
    fail=1
fi

for bad in 0 -1 " 1" 1T 1KB 18446744073709551616 17179869184G 1.5G ""; do
    check "bad_value '$bad'" 2 "^mmbench: error: replay: --max-heap-bytes: bad value '$bad' \\(expected a number of bytes" \
        "$bin" replay --manager rc --max-heap-bytes "$bad" "$good"
done
check bad_trace_bytes 2 "^mmbench: error: replay: --max-trace-bytes: bad value 'lots'" \
    "$bin" replay --manager rc --max-trace-bytes lots "$good"
check cap_not_on_stress 2 "^mmbench: error: stress: flag '--max-heap-bytes=1G' does not apply to stress" \
    "$bin" stress --manager rc --seed 1 --ops 10 --max-heap-bytes=1G

# ---- escaped names and text ----------------------------------------------------------------------
# A file name with a newline and ESC: the trace's own error, and the one for a missing file.
odd="$dir/$(printf 'bad\nname\033[2J').trace"
printf 'new 1 0 0\n\033[31mred\a\n' >"$odd"
check odd_name_and_line 2 \
    '^mmbench: error: .*/bad\\nname\\x1b\[2J\.trace:2: unknown operation .\\x1b\[31mred\\x07. \(expected' \
    "$bin" replay --manager rc "$odd"
check odd_missing_name 2 '^mmbench: error: .*/no\\nsuch\\x1b\]0;x\\x07: cannot open' \
    "$bin" replay --manager rc "$dir/$(printf 'no\nsuch\033]0;x\a')"

# The oracle's failure names the trace file too.
cp "$good" "$odd"
check odd_name_verify_failed 1 \
    '^mmbench: verify failed: manager=broken-early .*\(at .*/bad\\nname\\x1b\[2J\.trace:[0-9]+\)$' \
    "$broken" replay --manager broken-early --verify "$odd"

# The results loaders (report, compare, merge) print their file names through the same line.
json="$dir/$(printf 'r\n\033[2J').json"
printf '{"a":\n' >"$json"
check report_odd_name 2 '^mmbench: error: .*/r\\n\\x1b\[2J\.json:2:0: not valid JSON' \
    "$bin" report "$json"
check compare_odd_name 2 '^mmbench: error: .*/r\\n\\x1b\[2J\.json:2:0: not valid JSON' \
    "$bin" compare "$json" "$json"
check merge_odd_name 2 '^mmbench: error: merge: .*/r\\n\\x1b\[2J\.json:2:0: ' \
    "$bin" merge "$json" "$json"
check unknown_manager_odd 2 "^mmbench: error: replay: unknown manager 'x\\\\x1b\\[2J'" \
    "$bin" replay --manager "x${esc}[2J" "$good"

exit $fail
