#!/usr/bin/env bash
# oclgrind.sh BUILD_DIR - runs the small kernel cases of each device suite on Oclgrind's
# simulated device with data-race detection; any report fails the run.  Oclgrind's default
# checks (out-of-bounds and invalid accesses) are always on.  Oclgrind runs on one core, so
# the suites run $(nproc) at a time; their verdicts print in the list's order.
set -euo pipefail
dir=${1:-build}
# The kernel suites; each runs a small subset of its cases when CLCE_TEST_SMALL=1.
# suite_ce_fast+large also forces the CPU row's large-problem paths (streaming stores,
# per-class-count builds with in-register transposes) onto the suite's small shapes.
names=(suite_ce_fast+large suite_ce_forward suite_ce_backward suite_ce_fast suite_nll
    suite_softmax)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run_one NAME: the suite's log in $work/NAME.log, its exit status in $work/NAME.rc
run_one() {
    local name=$1 suite="$dir/tests/${1%+large}" env=()
    [[ $name == *+large ]] && env=(CLCE_GRAD_STREAM_MIN_BYTES=1 CLCE_LANE_SPECIALIZE_MIN_ROWS=0)
    local rc=0
    env "${env[@]}" CK_FORK=no CLCE_TEST_SMALL=1 timeout 900 oclgrind --data-races "$suite" \
        >"$work/$name.log" 2>&1 || rc=$?
    echo "$rc" >"$work/$name.rc"
}

jobs_max=$(nproc)
for name in "${names[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs_max)); do
        wait -n || true
    done
    run_one "$name" &
done
wait

status=0
for name in "${names[@]}"; do
    log="$work/$name.log"
    if [[ $(cat "$work/$name.rc" 2>/dev/null) == 0 ]]; then
        if ! grep -q "Checks: [1-9]" "$log"; then
            echo "oclgrind: $name: ran no check"; cat "$log"; status=1
        elif grep -qE "data race|Invalid (read|write)|out-of-bounds|Uninitialized|Work-group divergence" "$log"; then
            echo "oclgrind: $name: reports found"; cat "$log"; status=1
        else
            echo "oclgrind: $name: clean: $(grep -o '[0-9]*%: Checks: [0-9]*, Failures: 0, Errors: 0' "$log" || echo 'no summary')"
        fi
    else
        echo "oclgrind: $name: failed (exit $(cat "$work/$name.rc" 2>/dev/null || echo '?'))"
        cat "$log"; status=1
    fi
done
exit $status
