#!/usr/bin/env bash
# reproduce.sh [BUILD_DIR] - the README's performance table: builds clce, runs the benchmark on
# the issue-5 shapes and the interleaved PyTorch comparison (needs python3-torch: run with the
# system python), writes both CSVs into bench/ and prints the markdown table.  ~4 minutes on a
# 2-core machine.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
bash ci/build.sh "$dir"
"$dir"/bench/clce_bench --shapes bench/shapes/issue5.txt > bench/results-pocl-2core.csv
/usr/bin/python3 bench/compare_torch.py --bench "$dir"/bench/clce_bench \
    > bench/results-pocl-2core-torch.csv
python3 bench/make_table.py bench/results-pocl-2core.csv bench/results-pocl-2core-torch.csv
