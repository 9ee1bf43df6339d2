#!/usr/bin/env bash
# oclgrind.sh BUILD_DIR - runs the small kernel cases of each device suite on Oclgrind's
# simulated device with data-race detection; any report fails the run.  Oclgrind's default
# checks (out-of-bounds and invalid accesses) are always on.
set -euo pipefail
dir=${1:-build}
status=0
# The kernel suites; each runs a small subset of its cases when CLCE_TEST_SMALL=1.
# suite_ce_fast+large also forces the CPU row's large-problem paths (streaming stores,
# per-class-count builds with in-register transposes) onto the suite's small shapes.
for name in suite_ce_forward suite_ce_backward suite_nll suite_softmax suite_ce_fast \
    suite_ce_fast+large; do
    suite="$dir/tests/${name%+large}"
    env=()
    [[ $name == *+large ]] && env=(CLCE_GRAD_STREAM_MIN_BYTES=1 CLCE_LANE_SPECIALIZE_MIN_ROWS=0)
    log=$(mktemp)
    if env "${env[@]}" CK_FORK=no CLCE_TEST_SMALL=1 timeout 900 oclgrind --data-races "$suite" \
        >"$log" 2>&1; then
        if ! grep -q "Checks: [1-9]" "$log"; then
            echo "oclgrind: $name: ran no check"; cat "$log"; status=1
        elif grep -qE "data race|Invalid (read|write)|out-of-bounds|Uninitialized|Work-group divergence" "$log"; then
            echo "oclgrind: $name: reports found"; cat "$log"; status=1
        else
            echo "oclgrind: $name: clean: $(grep -o '[0-9]*%: Checks: [0-9]*, Failures: 0, Errors: 0' "$log" || echo 'no summary')"
        fi
    else
        echo "oclgrind: $name: failed"; cat "$log"; status=1
    fi
    rm -f "$log"
done
exit $status
