#!/usr/bin/env python3
"""compare_torch.py - clce against PyTorch's F.cross_entropy on the same shapes, interleaved.

For each shape and each op (forward = the loss; fwd+bwd = loss and gradient: PyTorch's
forward + backward against clce's fused call), every round times PyTorch (median of a few calls)
and then clce (one `clce_bench --median-only` run: median wall time of its calls, warm-up and
compilation excluded), so both see the same minute of this shared machine.  The speed-up is
the median over rounds of the paired ratios torch / clce.

PyTorch runs float32 on the CPU with as many threads as the OpenCL device has compute units
(or on CUDA/ROCm with --device cuda).  Extra memory: PyTorch's is measured (peak RSS growth of
a fresh process running the op once, CPU only); clce's is computed from its scratch buffers
(O(rows): no N x C temporary).

Usage: python3 bench/compare_torch.py [--bench build/bench/clce_bench]
           [--shapes bench/shapes/issue5.txt] [--rounds 3] [--quick] [--device cpu|cuda]
           [--no-memory]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
QUICK_SHAPES = ["256 1000", "1024 8192", "2 21 64 64", "2 21 64 64 cl", "100000 10", "10 5"]


def parse_shape(line):
    toks = line.replace("x", " ").replace(",", " ").split()
    cl = any(t in ("cl", "nhwc", "channels_last") for t in toks)
    sizes = [int(t) for t in toks if t.isdigit()]
    return sizes, cl and len(sizes) >= 3


def read_shapes(path):
    out = []
    with open(path) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                out.append(line)
    return out


def find_bench(explicit):
    if explicit:
        return explicit
    for cand in sorted(os.listdir(ROOT)):
        p = os.path.join(ROOT, cand, "bench", "clce_bench")
        if cand.startswith("build") and os.access(p, os.X_OK):
            return p
    sys.exit("clce_bench not found: build the project or pass --bench")


def device_compute_units(bench):
    out = subprocess.run([bench, "--shape", "10 5", "--op", "forward", "--variant", "plain",
                          "--reps", "1", "--warmup", "0"], capture_output=True, text=True,
                         check=True).stdout
    m = re.search(r"^# device: .*?, (\d+) compute units", out, re.M)
    return (int(m.group(1)) if m else os.cpu_count()), out


def clce_median(bench, shape, op, reps):
    out = subprocess.run([bench, "--shape", shape, "--op", op, "--variant", "plain",
                          "--reps", str(reps), "--warmup", "1", "--median-only"],
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def clce_extra_bytes(sizes, op, cl=False):
    """Upper bound of the scratch the clce calls allocate on the CPU tuning row
    (api/src/ce_forward.c, ce_grad.c): row kernels (class-contiguous rows of >= 32 classes) one
    acc_t triple per row for the reduction, and the fused call per-row stats; the 16-lane kernels
    (NCHW, channels-last and tiny rows) at most one triple per 16 rows; the mean's denominator
    one triple per 4096 rows.  O(rows), never N x C."""
    rows = 1
    for k, s in enumerate(sizes):
        if k != 1:
            rows *= s
    lanes = sizes[1] < 32 or (len(sizes) > 2 and not cl)
    den = 3 * 8 * (-(-rows // 4096)) + 8
    if lanes:
        return 3 * 8 * (-(-rows // 16)) + 8 + (den if op != "forward" else 0)
    fwd = 3 * 8 * rows + 8
    return fwd if op == "forward" else fwd + 2 * 4 * rows + den


MEM_SNIPPET = r"""
import sys, torch
import torch.nn.functional as F
sizes = [int(v) for v in sys.argv[1].split(",")]; cl = sys.argv[2] == "1"; op = sys.argv[3]
torch.set_num_threads(int(sys.argv[4]))
x = torch.randn(*sizes, dtype=torch.float32)
if cl:
    x = x.contiguous(memory_format=torch.channels_last)
t = torch.randint(0, sizes[1], [s for k, s in enumerate(sizes) if k != 1])
x.requires_grad_(op != "forward")
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current RSS
    f.write("5")
base = rss()
loss = F.cross_entropy(x, t)
if op != "forward":
    loss.backward()
# peak growth during the op, the op's own output (loss; for fwd+bwd the N x C gradient)
# included
print(hwm() - base)
"""


def torch_extra_bytes(sizes, cl, op, threads):
    r = subprocess.run([sys.executable, "-c", MEM_SNIPPET, ",".join(map(str, sizes)),
                        "1" if cl else "0", op, str(threads)], capture_output=True, text=True)
    try:
        return int(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def fmt_bytes(b):
    if b is None:
        return "n/a"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(b) < 1024 or unit == "GiB":
            return f"{b:.0f} {unit}" if unit == "B" else f"{b:.1f} {unit}"
        b /= 1024.0
    return str(b)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bench")
    ap.add_argument("--shapes", default=os.path.join(HERE, "shapes", "issue5.txt"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--no-memory", action="store_true")
    args = ap.parse_args()

    import torch
    import torch.nn.functional as F

    bench = find_bench(args.bench)
    cu, prov = device_compute_units(bench)
    dev = torch.device(args.device)
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch has no CUDA/ROCm device")
    threads = cu
    torch.set_num_threads(threads)
    shapes = QUICK_SHAPES if args.quick else read_shapes(args.shapes)
    rounds = 2 if args.quick else args.rounds

    for line in prov.splitlines():
        if line.startswith("#"):
            print(line)
    print(f"# torch {torch.__version__} on {args.device}, threads {threads}; rounds {rounds}; "
          f"date {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
    print("shape,layout,op,torch_med_ms,clce_med_ms,speedup_median_of_pairs,"
          "torch_extra_mem,clce_extra_mem")

    def sync():
        if args.device == "cuda":
            torch.cuda.synchronize()

    for shape in shapes:
        sizes, cl = parse_shape(shape)
        numel = 1
        for s in sizes:
            numel *= s
        x0 = torch.randn(*sizes, dtype=torch.float32, device=dev)
        if cl:
            x0 = x0.contiguous(memory_format=torch.channels_last)
        t = torch.randint(0, sizes[1], [s for k, s in enumerate(sizes) if k != 1], device=dev)
        for op, bench_op in (("forward", "forward"), ("fwd+bwd", "fused")):
            def once():
                if op == "forward":
                    with torch.no_grad():
                        F.cross_entropy(x0, t)
                else:
                    x = x0.detach().requires_grad_(True)
                    F.cross_entropy(x, t).backward()
                sync()
            once()  # warm-up
            t1 = time.perf_counter()
            once()
            est = time.perf_counter() - t1
            k = max(1, min(20, int(0.3 / max(est, 1e-6))))
            reps = max(3, min(50, int(0.5 / max(est / 8, 1e-6))))
            ratios, tt, tc = [], [], []
            for _ in range(rounds):
                times = []
                for _ in range(k):
                    a = time.perf_counter()
                    once()
                    times.append(time.perf_counter() - a)
                t_torch = statistics.median(times)
                t_clce = clce_median(bench, shape, bench_op, reps)
                tt.append(t_torch)
                tc.append(t_clce)
                ratios.append(t_torch / t_clce)
            mem_t = None
            if not args.no_memory and args.device == "cpu":
                mem_t = torch_extra_bytes(sizes, cl, "forward" if op == "forward" else "fwdbwd",
                                          threads)
            print(f"\"{shape}\",{'channels_last' if cl else 'contiguous'},{op},"
                  f"{statistics.median(tt) * 1e3:.4f},{statistics.median(tc) * 1e3:.4f},"
                  f"{statistics.median(ratios):.2f},{fmt_bytes(mem_t)},"
                  f"{fmt_bytes(clce_extra_bytes(sizes, bench_op, cl))}", flush=True)
        del x0, t


if __name__ == "__main__":
    main()
