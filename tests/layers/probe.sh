#!/bin/sh
# Builds one layer probe (tests/layers/CMakeLists.txt) and checks the build's answer:
#   probe.sh CMAKE BUILD_DIR TARGET refused HEADER   the build must fail on HEADER not found
#   probe.sh CMAKE BUILD_DIR TARGET builds           the build must succeed
cmake=$1 dir=$2 target=$3 want=$4 header=$5
out=$("$cmake" --build "$dir" --target "$target" 2>&1)
status=$?
if [ "$want" = builds ]; then
    [ $status -eq 0 ] && exit 0
    printf 'FAIL: %s should build:\n%s\n' "$target" "$out"
    exit 1
fi
if [ $status -eq 0 ]; then
    printf 'FAIL: %s built: a wrong arrow was not refused\n' "$target"
    exit 1
fi
if ! printf '%s\n' "$out" | grep -q "$header: No such file or directory"; then
    printf 'FAIL: %s failed, but not on %s:\n%s\n' "$target" "$header" "$out"
    exit 1
fi
printf '%s\n' "$out" | grep "fatal error"
