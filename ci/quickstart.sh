#!/usr/bin/env bash
# quickstart.sh - the README's first command: installs the packages, builds clce and the
# `clce` tool, shows the device it picked and runs the demo on it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash ci/deps.sh
bash ci/build.sh build
./build/cli/clce info
./build/cli/clce demo
