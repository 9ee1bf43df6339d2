#!/usr/bin/env bash
# test.sh - the whole test suite, as the README's second command and CI run it: installs
# packages, builds with -Werror, runs every Check suite on the OpenCL device (one is required),
# the Oclgrind subset, the ASan+UBSan build of the suite, and the format check.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
export CLCE_REQUIRE_DEVICE=1
echo "== OpenCL devices"
clinfo -l
echo "== build (-Werror)"
bash ci/build.sh build
echo "== test suites"
(cd build && ctest --output-on-failure -j"$(nproc)")
echo "== Oclgrind subset"
bash ci/oclgrind.sh build
echo "== ASan + UBSan"
bash ci/sanitize.sh
echo "== format"
bash ci/lint.sh
echo "ci/test.sh: all stages passed"
