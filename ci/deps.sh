#!/usr/bin/env bash
# deps.sh - installs what building and testing clce needs on Debian 12 (idempotent).
set -euo pipefail
pkgs=(build-essential cmake pkg-config check ocl-icd-opencl-dev opencl-headers opencl-c-headers
      ocl-icd-libopencl1 pocl-opencl-icd clinfo oclgrind clang-format libclblast-dev git)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "ci/deps.sh: all packages present"
    exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "ci/deps.sh: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
