#!/bin/sh
# stress --emit writes a trace that replay reads back to the same counts (and the emit is atomic:
# no temporary file is left behind).
set -eu
bin=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
counts() { sed -e 's/"seconds".*//' -e 's/"trace":.*//' -e 's/"pauses":{[^}]*}[^}]*}[^}]*}}//'; }
a=$("$bin" stress --manager cpython --seed 7 --shape mixed --ops 5000 --emit "$dir/t.trace" | counts)
b=$("$bin" replay --manager cpython --verify "$dir/t.trace" | counts)
[ "$a" = "$b" ] || { echo "stress: $a" >&2; echo "replay: $b" >&2; exit 1; }
[ "$(ls "$dir")" = "t.trace" ] || { echo "left behind: $(ls "$dir")" >&2; exit 1; }
lines=$(grep -c . "$dir/t.trace")
[ "$lines" = 5000 ] || { echo "expected 5000 operations, got $lines" >&2; exit 1; }
echo "roundtrip ok"
