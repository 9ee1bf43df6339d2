#!/usr/bin/env bash
# oclgrind.sh BUILD_DIR - runs the small kernel cases of each device suite on Oclgrind's
# simulated device with data-race detection; any report fails the run.  Oclgrind's default
# checks (out-of-bounds and invalid accesses) are always on.
set -euo pipefail
dir=${1:-build}
status=0
for suite in "$dir"/tests/suite_*; do
    [ -x "$suite" ] || continue
    # each device suite provides a Check test case named "small" for this; others run none
    name=$(basename "$suite")
    log=$(mktemp)
    if CK_FORK=no CK_RUN_CASE=small timeout 600 oclgrind --data-races "$suite" >"$log" 2>&1; then
        if grep -qE "data race|Invalid (read|write)|out-of-bounds|Uninitialized|Work-group divergence" "$log"; then
            echo "oclgrind: $name: reports found"; cat "$log"; status=1
        else
            echo "oclgrind: $name: clean ($(grep -c 'ok$' "$log" || true) comparisons)"
        fi
    else
        echo "oclgrind: $name: failed"; cat "$log"; status=1
    fi
    rm -f "$log"
done
exit $status
