#!/usr/bin/env bash
# gpu_check.sh - one command for a machine with a GPU: lists OpenCL devices, builds clce if
# needed, runs the test suites and the benchmark on the GPU, and the PyTorch comparison on the
# GPU when torch has CUDA/ROCm.  Designed to finish within 8 minutes.
#
# Copes with a GPU driver installed without an OpenCL ICD registration: when no platform is
# visible it looks for the vendor's OpenCL library (libnvidia-opencl.so*, libamdocl*.so,
# libigdrcl.so / intel-opencl) and writes an .icd file into a temporary OCL_ICD_VENDORS dir.
#
# Usage: bench/gpu_check.sh [build-dir]     (env: CLCE_DEVICE to pick another device)
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build-gpu}"
START=$(date +%s)
DEADLINE=$((START + 470))

say() { printf '\n==== %s (t=%ds)\n' "$*" "$(($(date +%s) - START))"; }
left() { echo $((DEADLINE - $(date +%s))); }

count_platforms() {
    if command -v clinfo >/dev/null 2>&1; then
        clinfo -l 2>/dev/null | grep -c '^Platform' || true
    else
        echo unknown
    fi
}

say "OpenCL platforms"
n=$(count_platforms)
have_icd=0
if [ -n "${OCL_ICD_VENDORS:-}" ] || ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1; then
    have_icd=1
fi
if [ "$n" = "0" ] || { [ "$n" = "unknown" ] && [ "$have_icd" = 0 ]; }; then
    ICD_DIR="$(mktemp -d)"
    found=0
    for pat in 'libnvidia-opencl.so*' 'libamdocl64.so' 'libamdocl*.so' 'libigdrcl.so' \
               'libintelocl.so'; do
        while IFS= read -r lib; do
            [ -n "$lib" ] || continue
            name="$(basename "$lib")"
            # NVIDIA's ICD wants the soname, not the fully versioned file
            case "$name" in libnvidia-opencl.so.*) name=libnvidia-opencl.so.1 ;; esac
            echo "$lib" >"$ICD_DIR/${name%%.so*}.icd"
            echo "registered $lib in $ICD_DIR/${name%%.so*}.icd"
            found=1
            break
        done < <(find /usr/lib /usr/lib64 /usr/local /opt -name "$pat" 2>/dev/null | sort -r)
    done
    if [ "$found" = 1 ]; then
        export OCL_ICD_VENDORS="$ICD_DIR"
        export OPENCL_VENDOR_PATH="$ICD_DIR"
    else
        echo "no vendor OpenCL library found (libnvidia-opencl, amdocl, intel-opencl)"
    fi
fi
if command -v clinfo >/dev/null 2>&1; then
    clinfo -l
else
    echo "clinfo not installed; clce_bench's provenance lines below name the device"
fi

# clce's automatic choice is the first GPU (see clce_device_create); CLCE_DEVICE=<index|name
# substring> overrides it.  The benchmark's '# device:' line shows what was used.
echo "CLCE_DEVICE=${CLCE_DEVICE:-<unset: first GPU, else CPU>}"

say "build ($BUILD)"
if [ ! -x "$BUILD/bench/clce_bench" ]; then
    if ! cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null; then
        echo "cmake configure failed (is an OpenCL ICD loader, libOpenCL.so, installed?)"
        exit 1
    fi
    if ! cmake --build "$BUILD" -j"$(nproc)" >"$BUILD/build.log" 2>&1; then
        tail -30 "$BUILD/build.log"
        echo "build failed"
        exit 1
    fi
fi

status=0
say "test suites"
(cd "$BUILD" && timeout "$(($(left) / 3))" ctest --output-on-failure -j2) || status=1

say "benchmark (issue 5 shapes)"
timeout "$(($(left) * 2 / 3))" "$BUILD/bench/clce_bench" --shapes "$ROOT/bench/shapes/issue5.txt" \
    --target-s 0.3 || status=1

if python3 -c 'import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null
then
    say "PyTorch comparison on the GPU"
    timeout "$(left)" python3 "$ROOT/bench/compare_torch.py" --bench "$BUILD/bench/clce_bench" \
        --device cuda --rounds 2 --no-memory || status=1
else
    say "PyTorch with CUDA/ROCm not available: comparison skipped"
fi
if ! "$BUILD/bench/clce_bench" --shape "10 5" --reps 1 --op forward 2>/dev/null |
    grep -q '^# device type: GPU'; then
    echo "WARNING: clce did not select a GPU (see the '# device' lines above)"
fi
say "done, status $status"
exit "$status"
