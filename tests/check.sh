# Sourced by the shell tests: `check WHAT COMMAND...` runs the command and, when it fails, says
# FAIL: WHAT and sets fail=1; a test ends with `exit $fail`.
fail=0
check() {
    what=$1
    shift
    if ! "$@"; then
        echo "FAIL: $what" >&2
        fail=1
    fi
}
