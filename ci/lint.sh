#!/usr/bin/env bash
# lint.sh - clang-format check of the C and OpenCL sources against .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cl' '*.clh' | grep -v '^tests/npy_fixtures/')
clang-format --dry-run -Werror "${files[@]}"
echo "lint: ${#files[@]} files formatted"
