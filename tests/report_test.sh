#!/bin/sh
# mmbench report on the committed fixture tests/data/report/tiny.json (mmbench run --scale tiny,
# 4 managers x 4 workloads x 3 repetitions, aggregates and latency buckets trimmed).
# usage: report_test.sh MMBENCH DATA_DIR md|csv|merge|out|unwritable|html|render
#   html: the page is self-contained. render: it is rendered headless by /usr/bin/chromium and the
#   rendered DOM and a screenshot are checked (the test installs nothing). unwritable: an --out
#   that cannot be written leaves the old file. A case that cannot run here (no chromium; as root,
#   every directory is writable) exits 77, which CTest shows as skipped.
set -u
mmbench=$1 data=$2 mode=$3
fixture=$data/tiny.json
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"
has() { grep -qF -- "$2" "$1"; }
count() { grep -oF -- "$2" "$1" | wc -l | tr -d ' '; }

case $mode in
md)
    "$mmbench" report "$fixture" >"$tmp/out.md" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
    check "stderr is empty" test ! -s "$tmp/err"
    check "family headings in order" sh -c "grep '^## ' '$tmp/out.md' | tr '\n' ' ' |
        grep -qx '## many-small ## cycle-heavy ## pause-sensitive ## Context '"
    check "one table per workload" test "$(grep -c '^| manager | n |' "$tmp/out.md")" = 4
    # Medians of three repetitions (12071175, 20485845, 22423073 units/s), exact counters; the
    # best throughput of binary-trees is rc's, of small-live cpython's, of rings marksweep's.
    # The fixture has no cascade histograms, so every pause is unknown: "-", never a best 0 ns
    # (report_pauses_test.sh has the pause columns).
    check "cpython binary-trees row" has "$tmp/out.md" \
        "| cpython | 3 | 20.49M | - | - | 0.972 | 4.1 MiB | 169 B | **0** | 25436 | 51210 | 2800 | 2 |"
    check "rc best throughput in binary-trees" has "$tmp/out.md" "| rc | 3 | **39.96M** |"
    check "cpython best throughput in small-live" has "$tmp/out.md" "| cpython | 3 | **25.65M** |"
    check "marksweep best throughput in rings" has "$tmp/out.md" "| marksweep | 3 | **60.44M** |"
    check "heap bytes per object in small-live" has "$tmp/out.md" "| marksweep | 3 | 23.47M | - | - | **1.000** | 7.1 MiB | **42.7 B** |"
    check "latency column only for server" test "$(count "$tmp/out.md" "p99 latency")" = 1
    check "server latency best is rc's" has "$tmp/out.md" "| 37710 | **932 ns** |"
    check "exactly one bold throughput per table" test \
        "$(grep -cE '^\| [a-z-]+ \| 3 \| \*\*' "$tmp/out.md")" = 4
    check "context: CPU" has "$tmp/out.md" "- CPU: AMD EPYC"
    check "context: revision" has "$tmp/out.md" "- git revision: 07534b09c3a1-dirty"
    check "context: command" has "$tmp/out.md" "- command: mmbench run --scale tiny --workload binary-trees,rings,server,small-live --repetitions 3 --format none --out tiny.json"
    ;;
csv)
    "$mmbench" report --format csv "$fixture" >"$tmp/out.csv" || exit 1
    check "a header and 16 rows" test "$(wc -l <"$tmp/out.csv" | tr -d ' ')" = 17
    check "39 columns in every row" test \
        "$(awk -F, '{ print NF }' "$tmp/out.csv" | sort -u | tr '\n' ' ')" = "39 "
    check "header" sh -c "head -1 '$tmp/out.csv' | grep -q '^file,workload,family,scale,params,manager,options,repetitions,status,work_units_per_second,per_thread_units_per_second,scaling_efficiency,pause_p99_ns,pause_max_ns,pause_max_kind,mmu_10ms,peak_rss_bytes,bytes_per_object,bytes_per_object_source,memory_lag_objects,latency_p99_ns,increments,decrements,objects_traversed,collections,full_ns_per_live_object,pauses_full_count,pauses_full_p99_ns,pauses_full_max_ns,pauses_young_count,pauses_young_p99_ns,pauses_young_max_ns,pauses_cascade_count,pauses_cascade_p99_ns,pauses_cascade_max_ns,pauses_increment_count,pauses_increment_p99_ns,pauses_increment_max_ns,best\$'"
    check "cpython binary-trees row, raw medians" has "$tmp/out.csv" \
        ",binary-trees,many-small,tiny,depth=8,cpython,threshold0=700 threshold1=10 threshold2=10 cascade-threshold=1000,3,ok,20485845.341167137,,,,,,0.9723432344808236,4345856,168.61395204469622,peak_rss_bytes_per_work_unit,0,,25436,51210,2800,2,,0,,,2,12484,12484,,,,,,,memory_lag_objects"
    check "best columns of cpython in small-live" sh -c \
        "grep ',small-live,.*,cpython,' '$tmp/out.csv' | grep -q ',heap_bytes_per_object,.*,work_units_per_second memory_lag_objects\$'"
    ;;
merge)
    # The same file twice: cells appended (rows labelled with their file), one context.
    cp "$fixture" "$tmp/a.json"
    cp "$fixture" "$tmp/b.json"
    "$mmbench" report "$tmp/a.json" "$tmp/b.json" >"$tmp/out.md" || exit 1
    check "32 rows" test "$(grep -E '^\| [a-z-]+ \(.*\) \[.*\] \| 3 \|' "$tmp/out.md" |
        awk -F'|' 'NF >= 15' | wc -l | tr -d ' ')" = 32
    check "rows name their file" has "$tmp/out.md" "| rc (cascade-threshold=1000) [$tmp/b.json] | 3 |"
    check "one context" test "$(count "$tmp/out.md" "- CPU:")" = 1
    check "both dates" test "$(grep -c '^- date (' "$tmp/out.md")" = 2
    # A second machine: contexts listed apart.
    sed 's/"cpu_model":"AMD EPYC"/"cpu_model":"Other <CPU>"/' "$fixture" >"$tmp/c.json"
    "$mmbench" report "$tmp/a.json" "$tmp/c.json" >"$tmp/two.md" || exit 1
    check "two contexts" test "$(count "$tmp/two.md" "- CPU:")" = 2
    check "context headings" has "$tmp/two.md" "### Context of $tmp/c.json"
    ;;
out)
    "$mmbench" report --format csv --out "$tmp/r.csv" "$fixture" >"$tmp/stdout" || exit 1
    check "nothing on stdout with --out" test ! -s "$tmp/stdout"
    check "--out written" test "$(wc -l <"$tmp/r.csv" | tr -d ' ')" = 17
    check "no temporary file left" test "$(ls "$tmp" | grep -c tmp)" = 0
    ;;
unwritable)
    # An unwritable --out leaves the old file as it was.
    mkdir "$tmp/ro"
    "$mmbench" report --format csv --out "$tmp/ro/r.csv" "$fixture" || exit 1
    chmod 500 "$tmp/ro"
    if [ -w "$tmp/ro" ]; then
        chmod 700 "$tmp/ro"
        echo "skipped: running as root, every directory is writable" >&2
        exit 77
    fi
    "$mmbench" report --out "$tmp/ro/r.csv" "$fixture" 2>"$tmp/err"
    check "exit 2 when --out cannot be written (refused before any work)" test $? = 2
    check "old output kept" test "$(wc -l <"$tmp/ro/r.csv" | tr -d ' ')" = 17
    chmod 700 "$tmp/ro"
    ;;
html)
    page=$tmp/report.html
    "$mmbench" report --format html --out "$page" "$fixture" || exit 1
    check "4 tables" test "$(count "$page" '<table class="r">')" = 4
    check "12 charts" test "$(count "$page" '<svg ')" = 12
    check "a line per collecting manager" has "$page" '<polyline class="s" stroke="#d62728"'
    check "no script, stylesheet link or external source" sh -c \
        "! grep -qiE '<script|<link|<img|<iframe|src=|@import|url\\(' '$page'"
    check "no http:// or https:// reference but xmlns" sh -c \
        "sed 's#xmlns=\"http://www.w3.org/2000/svg\"##g' '$page' | grep -qiE 'https?://' && exit 1 || exit 0"
    check "labels escaped" sh -c "! grep -q 'Other <CPU>' '$page'"
    ;;
render)
    if [ ! -x /usr/bin/chromium ]; then
        echo "skipped: /usr/bin/chromium not installed (ci/deps installs it)" >&2
        exit 77
    fi
    page=$tmp/report.html
    "$mmbench" report --format html --out "$page" "$fixture" || exit 1
    render() { # render URL PNG [--dump-dom]
        profile=$(mktemp -d "$tmp/profile.XXXXXX")
        timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
            --no-first-run --disable-background-networking --disable-component-update \
            --disable-sync --user-data-dir="$profile" --window-size=1200,2000 "$@"
    }
    render --screenshot="$tmp/page.png" "file://$page" >/dev/null 2>&1
    printf '<!DOCTYPE html><html><body></body></html>\n' >"$tmp/blank.html"
    render --screenshot="$tmp/blank.png" "file://$tmp/blank.html" >/dev/null 2>&1
    render --dump-dom "file://$page" >"$tmp/dom.html" 2>/dev/null
    check "screenshot taken" test -s "$tmp/page.png"
    check "blank baseline taken" test -s "$tmp/blank.png"
    page_bytes=$(wc -c <"$tmp/page.png") blank_bytes=$(wc -c <"$tmp/blank.png")
    # A blank page compresses to almost nothing; tables and charts do not.
    check "screenshot not blank ($page_bytes bytes, blank page $blank_bytes)" \
        test "$page_bytes" -gt 20000 -a "$page_bytes" -gt $((blank_bytes * 4))
    check "rendered DOM has the tables" test "$(count "$tmp/dom.html" '<table class="r">')" = 4
    check "rendered DOM has the charts" test "$(count "$tmp/dom.html" '<svg ')" = 12
    ;;
*)
    echo "usage: report_test.sh MMBENCH DATA_DIR md|csv|merge|out|unwritable|html|render" >&2
    exit 2
    ;;
esac
exit $fail
