#!/bin/sh
# Every test compiled into mmbench-unit is a CTest: the names `mmbench-unit --list` gives are the
# names tests/CMakeLists.txt's scan found (the rest of the arguments). A TEST the scan cannot see
# (not at the start of a line, a macro of another name) would otherwise never run.
# Usage: registered_test.sh MMBENCH-UNIT NAME...
set -eu
unit=$1
shift
dir=$(mktemp -d "${TMPDIR:-/tmp}/mmbench-registered-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$unit" --list | sort -u >"$dir/compiled"
printf '%s\n' "$@" | sort -u >"$dir/registered"
if ! cmp -s "$dir/compiled" "$dir/registered"; then
    echo "mmbench-unit's tests and the CTests the scan registered differ (< compiled only, > registered only):" >&2
    diff "$dir/compiled" "$dir/registered" | grep '^[<>]' >&2
    exit 1
fi
echo "$(wc -l <"$dir/compiled") tests, each registered"
