#!/bin/sh
# Runs a command and checks its exit status and output, for CLI tests.
# usage: expect.sh STATUS STDERR_REGEX STDOUT_REGEX -- COMMAND...
#   STDERR_REGEX: an extended regex stderr must match ('-' : stderr must be empty)
#   STDOUT_REGEX: likewise for stdout ('' : anything)
set -u
want_status=$1 err_re=$2 out_re=$3
shift 3
[ "$1" = "--" ] && shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$@" >"$tmp/out" 2>"$tmp/err"
status=$?
fail=0
if [ "$status" != "$want_status" ]; then
    echo "expected exit status $want_status, got $status" >&2
    fail=1
fi
if [ "$err_re" = "-" ]; then
    if [ -s "$tmp/err" ]; then echo "expected empty stderr" >&2; fail=1; fi
elif ! grep -Eq -- "$err_re" "$tmp/err"; then
    echo "stderr does not match: $err_re" >&2
    fail=1
fi
if [ "$want_status" = 2 ] && [ -s "$tmp/out" ]; then
    echo "expected nothing on stdout after bad input" >&2
    fail=1
fi
if [ -n "$out_re" ] && ! grep -Eq -- "$out_re" "$tmp/out"; then
    echo "stdout does not match: $out_re" >&2
    fail=1
fi
if [ "$fail" = 1 ]; then
    echo "--- command: $*" >&2
    echo "--- stdout:" >&2; head -c 2000 "$tmp/out" >&2
    echo "--- stderr:" >&2; head -c 2000 "$tmp/err" >&2
    exit 1
fi
exit 0
