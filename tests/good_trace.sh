#!/bin/sh
# Replays a hand-written trace under the oracle and checks live_objects against the count written
# in the trace's header: "# live-cycles: N" for managers that reclaim cycles, "# live-acyclic: N"
# for the others (what plain refcounting predicts).
# usage: good_trace.sh MMBENCH MANAGER TRACE
set -eu
bin=$1 manager=$2 trace=$3
caps=$("$bin" list | awk -v m="$manager" '$1 == m { found = 1; next }
    found && $1 == "capabilities" { print; exit }')
case "$caps" in
*cycles*) key=live-cycles ;;
*) key=live-acyclic ;;
esac
want=$(sed -n "s/^# $key: *\([0-9][0-9]*\).*/\1/p" "$trace")
[ -n "$want" ] || { echo "no '# $key:' line in $trace" >&2; exit 1; }
out=$("$bin" replay --manager "$manager" --verify "$trace")
got=$(printf '%s\n' "$out" | sed -n 's/.*"live_objects":\([0-9][0-9]*\).*/\1/p')
if [ "$got" != "$want" ]; then
    echo "$manager on $trace: live_objects $got, expected $want ($key)" >&2
    echo "$out" >&2
    exit 1
fi
echo "$manager on $(basename "$trace"): live_objects $got as expected"
