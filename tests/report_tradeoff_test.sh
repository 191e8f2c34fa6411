#!/bin/sh
# The pause-versus-memory trade-off of `mmbench report` (issue 13): per pause-sensitive and
# cycle-heavy workload a Markdown table sorted by max pause with the Pareto front, HTML scatters
# against peak RSS and peak garbage, and memory-over-time lines where cells have a garbage series.
# Fixtures (tests/data/report-tradeoff/, made by make_fixtures.py there from two real runs):
# tradeoff.json with known values and known fronts; tradeoff_bad.json, the same with the inputs
# deliberately wrong. tests/data/report/tiny.json is older output without any of it.
# usage: report_tradeoff_test.sh MMBENCH DATA_DIR md|html|bad|old|render
set -u
mmbench=$1 data=$2 mode=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"
has() { grep -qF -- "$2" "$1"; }
count() { grep -oF -- "$2" "$1" | wc -l | tr -d ' '; }

# The trade-off table of workload W in Markdown file F: per row the manager and its front
# columns (RSS, then garbage when shown), one row a line.
md_rows() {
    awk -v w="### $2" '
        $0 == w { on = 1; next }
        /^##/ { on = 0; t = 0 }
        on && /^Pause versus/ { t = 1; next }
        t && /^\| manager/ { g = $0 ~ /front \(garbage\)/; next }
        t && /^\| ---/ { next }
        t && /^\| / { n = split($0, f, / *\| */); print f[2] " " (g ? f[n - 2] " " f[n - 1] : f[n - 1]) }
    ' "$1"
}

# The figure of workload W, axis or series A, in HTML file F: its one line.
figure() { grep -F "data-$3=\"$4\" data-table=\"$2\"" "$1"; }

# The managers marked on the front in a figure line, in the order drawn, apart by spaces.
front_of() { printf '%s\n' "$1" | grep -oE '<g class="pt front"><title>[^:]+' | sed 's/.*<title>//' | tr '\n' ' '; }
points_of() { printf '%s\n' "$1" | grep -oE '<g class="pt[a-z ]*"><title>[^:]+' | sed 's/.*<title>//' | tr '\n' ' '; }

# Every coordinate of every circle and polyline is a number inside the picture.
coordinates_ok() {
    grep -oE '(cx|cy)="[^"]*"|points="[^"]*"' "$1" | sed 's/^[a-z]*="//; s/"$//' | tr ' ,' '\n\n' |
        awk 'NF { if ($0 !~ /^[0-9]+(\.[0-9]+)?$/ || $0 + 0 > 2000) { print "bad coordinate: " $0; bad = 1 } }
             END { exit bad }'
}

case $mode in
md)
    out=$tmp/out.md
    "$mmbench" report "$data/tradeoff.json" >"$out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    check "stderr is empty" test ! -s "$tmp/err"
    check "a trade-off table per pause-sensitive and cycle-heavy workload, none for many-small" \
        test "$(grep -c '^Pause versus memory' "$out")" = 4
    check "small-live has none" sh -c "! awk '/^### small-live/,/^### rings/' '$out' | grep -q '^Pause versus'"
    # live-heap: the steady phase's max pause, medians of 3 (cpython: 480, 500, 9000 ms; RSS 99,
    # 100, 140 MiB), sorted by it; the front marksweep-inc, cpython-inc, cpython.
    check "live-heap: sorted by steady max pause, front column" test "$(md_rows "$out" live-heap | tr '\n' ';')" = \
        "marksweep-inc yes;cpython-inc yes;marksweep no;cpython yes;rc no;"
    check "live-heap: the steady phase's pauses" sh -c \
        "awk '/^### live-heap/,/^### server/' '$out' | grep -q '^Pause versus memory, sorted by max pause: the steady phase.s max pause (steady_pause_max_ns)'"
    check "live-heap: cpython's medians" has "$out" "| cpython | 500.00 ms | 52.00 ms | 100.0 MiB | yes |"
    check "live-heap: the phases read where the counters are missing" has "$out" \
        "| cpython-inc | 20.00 ms | 2.00 ms | 110.0 MiB | yes |"
    # server: rc's cell has no steady phase, so the whole run's max pause; rc did not pause.
    check "server: whole run's max pause" sh -c \
        "awk '/^### server/,/^## Context/' '$out' | grep -q 'the whole run.s max pause (pause_max_ns: not every cell has a steady phase.s)'"
    check "server: sorted, front" test "$(md_rows "$out" server | tr '\n' ';')" = \
        "rc yes;marksweep no;marksweep-inc yes;cpython-inc yes;cpython yes;"
    check "server: a manager that did not pause" has "$out" "| rc | 0 ns | 0 ns | 11.5 MiB | yes |"
    # rings: peak garbage known; equal points are all on the front.
    check "rings: garbage columns" has "$out" \
        "| manager | max pause | p99 pause | peak RSS | peak garbage | front (RSS) | front (garbage) |"
    check "rings: sorted, both fronts" test "$(md_rows "$out" rings | tr '\n' ';')" = \
        "rc yes no;marksweep yes yes;marksweep-inc no yes;cpython yes no;cpython-inc yes no;"
    # aging-cycles: rc's sampler unavailable: no garbage, no garbage front.
    check "aging-cycles: sorted, both fronts" test "$(md_rows "$out" aging-cycles | tr '\n' ';')" = \
        "rc yes -;marksweep-inc yes yes;cpython-inc no no;cpython yes yes;marksweep no no;"
    check "aging-cycles: rc without garbage" has "$out" "| rc | 500.0 µs | 250.0 µs | 80.0 MiB | - | yes | - |"
    check "aging-cycles: cpython-inc's median garbage peak" has "$out" \
        "| cpython-inc | 3.00 ms | 1.50 ms | 55.0 MiB | 11.4 MiB | no | no |"
    ;;
html)
    page=$tmp/report.html
    "$mmbench" report --format html --out "$page" "$data/tradeoff.json" || exit 1
    check "one RSS scatter per pause-sensitive and cycle-heavy workload" \
        test "$(count "$page" '<figure class="tradeoff" data-axis="rss"')" = 4
    for w in rings aging-cycles live-heap server; do
        check "$w: one RSS scatter" test "$(figure "$page" $w axis rss | wc -l | tr -d ' ')" = 1
    done
    check "garbage scatters where cells have garbage" \
        test "$(count "$page" '<figure class="tradeoff" data-axis="garbage"')" = 2
    check "no scatter for small-live" sh -c "! grep -q 'data-table=\"small-live\"' '$page'"
    check "live-heap: a labelled point per manager" \
        test "$(points_of "$(figure "$page" live-heap axis rss)")" = "marksweep-inc cpython-inc marksweep cpython rc "
    check "live-heap: the front" \
        test "$(front_of "$(figure "$page" live-heap axis rss)")" = "marksweep-inc cpython-inc cpython "
    check "live-heap: the front joined" sh -c \
        "grep -F 'data-axis=\"rss\" data-table=\"live-heap\"' '$page' | grep -q '<polyline class=\"front\"'"
    check "live-heap: y is the steady phase's" sh -c \
        "grep -F 'data-axis=\"rss\" data-table=\"live-heap\"' '$page' | grep -q 'max pause (steady phase)'"
    check "live-heap: the caption says which max pause" has "$page" \
        "y: the steady phase&#39;s max pause (steady_pause_max_ns), log scale"
    check "server: y is the whole run's" sh -c \
        "grep -F 'data-axis=\"rss\" data-table=\"server\"' '$page' | grep -q 'max pause (whole run)'"
    check "server: the front" \
        test "$(front_of "$(figure "$page" server axis rss)")" = "rc marksweep-inc cpython-inc cpython "
    check "server: no pause sits on the floor" sh -c \
        "grep -F 'data-axis=\"rss\" data-table=\"server\"' '$page' | grep -q '>none</text>'"
    check "rings: the RSS front, ties included" \
        test "$(front_of "$(figure "$page" rings axis rss)")" = "rc marksweep cpython cpython-inc "
    check "rings: the garbage front" \
        test "$(front_of "$(figure "$page" rings axis garbage)")" = "marksweep marksweep-inc "
    check "aging-cycles: the garbage scatter leaves out rc" \
        test "$(points_of "$(figure "$page" aging-cycles axis garbage)")" = "marksweep-inc cpython-inc cpython marksweep "
    check "aging-cycles: the garbage front" \
        test "$(front_of "$(figure "$page" aging-cycles axis garbage)")" = "marksweep-inc cpython "
    check "memory over time: live and garbage, for aging-cycles only" \
        test "$(count "$page" '<figure class="memtime"')" = 2
    for s in live garbage; do
        check "aging-cycles: a $s line per manager with a series" test \
            "$(figure "$page" aging-cycles series $s | grep -o '<polyline class="s"' | wc -l | tr -d ' ')" = 4
    done
    check "every coordinate a number inside the picture" coordinates_ok "$page"
    check "no script, stylesheet link or external source" sh -c \
        "! grep -qiE '<script|<link|<img|<iframe|src=|@import|url\\(' '$page'"
    ;;
bad)
    "$mmbench" report "$data/tradeoff_bad.json" >"$tmp/out.md" 2>"$tmp/err" || exit 1
    "$mmbench" report --format html --out "$tmp/out.html" "$data/tradeoff_bad.json" || exit 1
    check "no warning, no crash" test ! -s "$tmp/err"
    check "no NaN or infinity written" sh -c "! grep -qiwE 'nan|-?inf(inity)?' '$tmp/out.md' '$tmp/out.html'"
    check "every coordinate a number inside the picture" coordinates_ok "$tmp/out.html"
    # live-heap: a steady max pause that is no number in marksweep's cell: the whole run's.
    check "live-heap: the whole run's max pause" sh -c \
        "grep -F 'data-axis=\"rss\" data-table=\"live-heap\"' '$tmp/out.html' | grep -q 'max pause (whole run)'"
    check "live-heap: a negative peak RSS is unknown" has "$tmp/out.md" "| rc | 4.50 s | 450.00 ms | - | - |"
    check "live-heap: rc not drawn" \
        test "$(points_of "$(figure "$tmp/out.html" live-heap axis rss)")" = "marksweep marksweep-inc cpython-inc cpython "
    check "live-heap: the caption names what has no value" sh -c \
        "grep -A1 -F 'data-axis=\"rss\" data-table=\"live-heap\"' '$tmp/out.html' | grep -q 'No value: rc.'"
    # server: one manager left with a valid max pause: nothing to show.
    check "server: no scatter with one point" sh -c "! grep -q 'data-table=\"server\"' '$tmp/out.html'"
    check "server: no table with one point" sh -c "! awk '/^### server/,/^## Context/' '$tmp/out.md' | grep -q '^Pause versus'"
    # rings: "available": "yes" is not true: no garbage read.
    check "rings: no garbage scatter" sh -c "! grep -q 'data-axis=\"garbage\" data-table=\"rings\"' '$tmp/out.html'"
    # aging-cycles: bad peaks unknown; one good series left: no lines.
    check "aging-cycles: bad garbage peaks unknown" has "$tmp/out.md" "| cpython | 40.00 ms | 20.00 ms | 30.0 MiB | - | yes | - |"
    check "aging-cycles: garbage scatter of the two left" \
        test "$(points_of "$(figure "$tmp/out.html" aging-cycles axis garbage)")" = "marksweep-inc marksweep "
    check "aging-cycles: no lines from one series" sh -c "! grep -q '<figure class=\"memtime\"' '$tmp/out.html'"
    ;;
old)
    # Results without per-phase pauses or garbage, and without pauses at all (tiny.json), render
    # as before: no trade-off section; the existing report tests check the rest.
    "$mmbench" report "$data/../report/tiny.json" >"$tmp/out.md" || exit 1
    "$mmbench" report --format html --out "$tmp/out.html" "$data/../report/tiny.json" || exit 1
    check "md: no trade-off table" sh -c "! grep -q '^Pause versus' '$tmp/out.md'"
    check "html: no trade-off figure" sh -c "! grep -qE 'class=\"(tradeoff|memtime)\"' '$tmp/out.html'"
    check "html: the 12 charts of before" test "$(count "$tmp/out.html" '<svg ')" = 12
    # Older results with pauses and RSS (cascade_old.json: before pauses.all) get the whole run's.
    "$mmbench" report "$data/../report/cascade_old.json" >"$tmp/cascade.md" || exit 1
    check "older results: the whole run's max pause" test "$(grep -c "^Pause versus memory, sorted by max pause: the whole run's" "$tmp/cascade.md")" = 1
    check "older results: marksweep did not pause and is on the front" has "$tmp/cascade.md" "| marksweep | 0 ns | 0 ns |"
    ;;
render)
    if [ ! -x /usr/bin/chromium ]; then
        echo "skipped: /usr/bin/chromium not installed (ci/deps installs it)" >&2
        exit 77
    fi
    page=$tmp/report.html
    "$mmbench" report --format html --out "$page" "$data/tradeoff.json" || exit 1
    profile=$(mktemp -d "$tmp/profile.XXXXXX")
    timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$profile" --window-size=1200,2000 --dump-dom \
        "file://$page" >"$tmp/dom.html" 2>/dev/null
    check "rendered DOM has the scatters" test "$(count "$tmp/dom.html" '<figure class="tradeoff"')" = 6
    check "rendered DOM has the lines" test "$(count "$tmp/dom.html" '<figure class="memtime"')" = 2
    check "rendered DOM has the front marks" test "$(count "$tmp/dom.html" '<g class="pt front">')" = \
        "$(count "$page" '<g class="pt front">')"
    ;;
*)
    echo "usage: report_tradeoff_test.sh MMBENCH DATA_DIR md|html|bad|old|render" >&2
    exit 2
    ;;
esac
exit $fail
