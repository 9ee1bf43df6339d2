#!/usr/bin/env python3
"""make_table.py BENCH_CSV TORCH_CSV - the README's performance table (markdown) from one
clce_bench run and one compare_torch.py run: per shape, forward and fused (plain variant,
reduction mean), GB/s, fraction of the same-run copy bandwidth, and PyTorch's time / clce's."""
import csv
import sys


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(line for line in f if not line.startswith("#")))


def main():
    bench, torch = rows(sys.argv[1]), rows(sys.argv[2])
    speed = {}
    for r in torch:
        key = (r["shape"].replace(" nchw", "").replace(" cl", ""), r["layout"],
               "fused" if r["op"] == "fwd+bwd" else "forward")
        speed[key] = (r["speedup_median_of_pairs"], r["torch_extra_mem"], r["clce_extra_mem"])
    print("| shape | layout | op | clce ms | GB/s | copy GB/s | of copy | PyTorch / clce "
          "| PyTorch extra memory | clce extra memory |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in bench:
        if r["variant"] != "plain":
            continue
        shape = r["shape"].strip("()")
        s = speed.get((shape, r["layout"], r["op"]), ("", "", ""))
        op = "forward" if r["op"] == "forward" else "loss + gradient"
        print(f"| ({shape.replace(' ', ', ')}) | {r['layout']} | {op} | {float(r['dev_med_ms']):.3g} "
              f"| {float(r['gbps']):.1f} | {float(r['copy_gbps']):.1f} "
              f"| {float(r['copy_frac']):.2f} | {s[0]}{'x' if s[0] else ''} | {s[1]} | {s[2]} |")


if __name__ == "__main__":
    main()
