#!/bin/sh
# The SDK as a plug-in author gets it (issue 11, sections 1 and 4): `cmake --install` into a
# temporary prefix, then examples/plugin, copied out of the tree, configured and built against
# that prefix alone (find_package(mmbench), CMAKE_PREFIX_PATH the prefix), and again by hand with
# pkg-config's flags. Both plug-ins must be shared libraries exporting the entry point.
# usage: sdk_install_test.sh BUILD_DIR SOURCE_DIR C_COMPILER
# Exit 77 (skipped) where a tool it needs (pkg-config, nm) is missing.
set -u
build=$1 source=$2 cc=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/check.sh"
for tool in pkg-config nm; do
    command -v "$tool" >/dev/null || { echo "skipped: no $tool" >&2; exit 77; }
done
prefix=$tmp/prefix
symbol=mmbench_plugin # MMB_PLUGIN_SYMBOL, mmbench/plugin.h

# The entry point, defined (T) in the dynamic symbol table of the shared library $1.
exports_entry() {
    nm -D --defined-only "$1" | grep -qE " T $symbol\$"
}
# Nothing in the files under $1 names the source tree or the build tree mmbench came from.
no_tree_paths() {
    ! grep -rIqF -e "$source/" -e "$build/" "$1"
}

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 || {
    cat "$tmp/install.log" >&2
    echo "FAIL: cmake --install" >&2
    exit 1
}
for f in include/mmbench/manager.h include/mmbench/sdk.h include/mmbench/plugin.h \
    include/mmbench/clock.h bin/mmbench; do
    check "installed $f" test -f "$prefix/$f"
done
lib=$(find "$prefix" -name libmmbench_sdk.a | head -n 1)
pc=$(find "$prefix" -name mmbench-sdk.pc | head -n 1)
config=$(find "$prefix" -name mmbenchConfig.cmake | head -n 1)
check "installed libmmbench_sdk.a" test -n "$lib"
check "installed mmbench-sdk.pc" test -n "$pc"
check "installed mmbenchConfig.cmake" test -n "$config"
check "the installed mmbench runs" sh -c '"$1" list >/dev/null' - "$prefix/bin/mmbench"
check "the installed package names no build or source path" no_tree_paths "$prefix"
[ "$fail" = 0 ] || exit 1

# The example as it would be in its author's own repository: its two files and nothing else.
mkdir "$tmp/example"
cp "$source/examples/plugin/CMakeLists.txt" "$source/examples/plugin/trial.c" "$tmp/example/"
generator=
command -v ninja >/dev/null && generator="-G Ninja"
# shellcheck disable=SC2086 # $generator is empty or two words
if ! cmake -S "$tmp/example" -B "$tmp/example/build" $generator -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
    -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >"$tmp/configure.log" 2>&1 ||
    ! cmake --build "$tmp/example/build" >"$tmp/build.log" 2>&1; then
    cat "$tmp/configure.log" "$tmp/build.log" >&2
    echo "FAIL: examples/plugin builds against the installed SDK" >&2
    exit 1
fi
check "the example found mmbench in the prefix" \
    grep -qF "mmbench_DIR:PATH=$(dirname "$config")" "$tmp/example/build/CMakeCache.txt"
check "the example's build names no build or source path of mmbench" \
    no_tree_paths "$tmp/example/build"
for name in example-trial example-trial-broken; do
    so=$tmp/example/build/lib$name.so
    check "lib$name.so was built" test -f "$so"
    check "lib$name.so exports $symbol" exports_entry "$so"
done

# pkg-config, with nothing but the prefix on its path.
if flags=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --cflags --libs mmbench-sdk 2>"$tmp/pc.log"); then
    check "pkg-config gives the prefix's headers" \
        sh -c "printf '%s\n' \"\$1\" | grep -qE -- '-I$prefix/[^ ]*include'" - "$flags"
    check "pkg-config links libmmbench_sdk" \
        sh -c "printf '%s\n' \"\$1\" | grep -qF -- '-lmmbench_sdk'" - "$flags"
    # shellcheck disable=SC2086 # the flags are words
    check "the example builds with pkg-config's flags alone" \
        "$cc" -std=c17 -shared -fPIC -fvisibility=hidden -o "$tmp/libtrial-pc.so" \
        "$tmp/example/trial.c" $flags
    check "libtrial-pc.so exports $symbol" exports_entry "$tmp/libtrial-pc.so"
else
    cat "$tmp/pc.log" >&2
    echo "FAIL: pkg-config --cflags --libs mmbench-sdk" >&2
    fail=1
fi

# The installed mmbench on both plug-ins: conform passes the good one and fails the broken one,
# whose minimized trace (at most 30 operations) still fails replay; then a tiny run matrix with the
# plug-in beside bundled managers records the plug-in (path and hash) in its results.
mmb=$prefix/bin/mmbench
good=$tmp/example/build/libexample-trial.so
broken=$tmp/example/build/libexample-trial-broken.so
check "conform passes libexample-trial.so" sh -c '"$1" conform --manager "$2" >"$3" 2>&1' - \
    "$mmb" "$good" "$tmp/conform-good.txt"
grep -q "^summary: [0-9]* passed, 0 failed$" "$tmp/conform-good.txt" ||
    { cat "$tmp/conform-good.txt" >&2; echo "FAIL: conform summary of the good plug-in" >&2; fail=1; }
"$mmb" conform --manager "$broken" --minimize --out-dir "$tmp/conform" >"$tmp/conform-broken.txt" 2>&1
status=$?
check "conform fails libexample-trial-broken.so (exit 1)" test "$status" = 1
check "conform names the broken plug-in's safety violation" \
    grep -q "^FAIL  oracle-mixed .*" "$tmp/conform-broken.txt"
min=$tmp/conform/oracle-mixed.min.trace
ops=$(grep -cv '^#' "$min" 2>/dev/null || echo 0)
echo "broken plug-in: oracle-mixed minimized to $ops operations"
grep "minimized:" "$tmp/conform-broken.txt" | head -n 1
check "the minimized trace has 1..30 operations" test "$ops" -ge 1 -a "$ops" -le 30
"$mmb" replay --manager "$broken" --verify "$min" >/dev/null 2>&1
check "the minimized trace still fails replay --verify (exit 1)" test "$?" = 1
check "run with the plug-in beside bundled managers" sh -c '"$1" run --manager "$2,rc,bacon-rajan" \
    --workload rings --scale tiny --format none --out "$3" 2>"$3.log"' - "$mmb" "$good" "$tmp/run.json"
check "the results record the plug-in's path" grep -qF "\"path\": \"$good\"" "$tmp/run.json"
check "the results record the plug-in's hash" grep -qE '"fnv1a64": "[0-9a-f]{16}"' "$tmp/run.json"
check "the plug-in's cell ran" grep -q '"cell": "rings/example-trial/tiny"' "$tmp/run.json"
exit $fail
