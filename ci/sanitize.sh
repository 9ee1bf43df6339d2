#!/usr/bin/env bash
# sanitize.sh - builds the library, tool and suites with ASan+UBSan and runs the suites.
# LeakSanitizer suppressions cover allocations inside POCL/LLVM only (ci/lsan.supp).
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/build.sh build-asan -DCLCE_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# print_suppressions=0: the suppression statistics would go to every run's stderr, which
# suite_cli's cold-build test requires empty
export LSAN_OPTIONS=suppressions=$PWD/ci/lsan.supp:print_suppressions=0
(cd build-asan && ctest --output-on-failure -j"$(nproc)")
