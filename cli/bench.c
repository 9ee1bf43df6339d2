/*
 * bench.c - 'clce bench': a minimal benchmark, the op, the shape and the effective bandwidth of
 * cross_entropy forward and of the fused forward+backward (wall time over repeats after a
 * warm-up; bytes = what the op must move at least: logits and targets in, loss out, and for the
 * fused op the gradient out).  The full benchmark lives in bench/.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cli_bench(int argc, char **argv) {
    const char *rows_p, *classes_p, *rep_p;
    const cli_opt opts[] = {{"--rows", CLI_OPT_VALUE, &rows_p, NULL},
                            {"--classes", CLI_OPT_VALUE, &classes_p, NULL},
                            {"--repeats", CLI_OPT_VALUE, &rep_p, NULL}};
    int help = 0;
    if (cli_parse("bench", argc, argv, opts, 3, &help) != 0)
        return 1;
    if (help) {
        puts("usage: clce bench [--rows N] [--classes C] [--repeats R]\n\n"
             "Times cross_entropy forward (mean) and fused forward+backward on (N, C) float32\n"
             "logits with int64 targets (defaults N = 4096, C = 1000, R = 20; two warm-up\n"
             "runs) and prints GB/s of the minimal traffic.  See bench/ for the full benchmark.");
        return 0;
    }
    int64_t N = 4096, C = 1000, R = 20;
    if ((rows_p && cli_parse_i64("--rows", rows_p, &N)) ||
        (classes_p && cli_parse_i64("--classes", classes_p, &C)) ||
        (rep_p && cli_parse_i64("--repeats", rep_p, &R)))
        return 1;
    if (N < 1 || N > (1 << 24))
        return cli_error("--rows: %lld is out of range [1, 16777216]", (long long)N);
    if (C < 1 || C > (1 << 24) || N * C > ((int64_t)1 << 28))
        return cli_error("--classes: %lld is out of range (1 .. 2^24, rows*classes <= 2^28)",
                         (long long)C);
    if (R < 1 || R > 100000)
        return cli_error("--repeats: %lld is out of range [1, 100000]", (long long)R);

    float *x = malloc((size_t)(N * C) * 4);
    int64_t *t = malloc((size_t)N * 8);
    if (!x || !t) {
        free(x), free(t);
        return cli_error("bench: out of memory for %lld x %lld logits", (long long)N, (long long)C);
    }
    uint64_t s = 12345;
    for (int64_t i = 0; i < N * C; ++i) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(s >> 40) / (double)(1 << 24) * 8.0 - 4.0);
    }
    for (int64_t i = 0; i < N; ++i)
        t[i] = i % C;
    clce_device *dev = cli_open_device();
    cl_mem bx = NULL, bt = NULL, bl = NULL, bg = NULL;
    int rc = 1;
    if (!dev)
        goto done;
    bx = cli_buffer(dev, (size_t)(N * C) * 4, x);
    bt = cli_buffer(dev, (size_t)N * 8, t);
    bl = cli_buffer(dev, 4, NULL);
    bg = cli_buffer(dev, (size_t)(N * C) * 4, NULL);
    if (!bx || !bt || !bl || !bg)
        goto done;
    const int64_t xs[2] = {N, C};
    clce_tensor_desc xd = clce_tensor_contiguous(CLCE_F32, 2, xs);
    clce_tensor_desc td = clce_tensor_contiguous(CLCE_I64, 1, &N);
    clce_tensor_desc ld = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    clce_loss_desc desc;
    clce_loss_desc_init(&desc);
    clce_device_info info;
    if (clce_device_get_info(dev, &info) == CLCE_OK)
        printf("device: %s (%s)\n", info.name, info.platform_name);
    printf("%-28s %-14s %12s %10s\n", "op", "shape", "time/op (us)", "GB/s");
    for (int fused = 0; fused < 2; ++fused) {
        double t0 = 0;
        for (int64_t i = -2; i < R; ++i) { /* two warm-up runs: kernel builds, first touch */
            if (i == 0) {
                clFinish(clce_device_queue(dev));
                t0 = now_s();
            }
            clce_status st =
                fused ? clce_cross_entropy_fused(dev, &desc, &xd, bx, &td, bt, NULL, NULL, &ld, bl,
                                                 NULL, NULL, &xd, bg, 0, NULL, NULL)
                      : clce_cross_entropy_forward(dev, &desc, &xd, bx, &td, bt, NULL, NULL, &ld,
                                                   bl, NULL, 0, NULL, NULL);
            if (st != CLCE_OK) {
                cli_lib_error(fused ? "bench: clce_cross_entropy_fused"
                                    : "bench: clce_cross_entropy_forward",
                              st);
                goto done;
            }
        }
        clce_status st = clce_device_sync(dev);
        if (st != CLCE_OK) {
            cli_lib_error("bench", st);
            goto done;
        }
        double per = (now_s() - t0) / (double)R;
        double bytes = (double)(N * C) * 4 * (fused ? 2 : 1) + (double)N * 8 + 4;
        char shape[64];
        long long ls[2] = {(long long)N, (long long)C};
        printf("%-28s %-14s %12.1f %10.2f\n",
               fused ? "cross_entropy fused fwd+bwd" : "cross_entropy forward",
               cli_shape_str(2, ls, shape, sizeof shape), per * 1e6, bytes / per * 1e-9);
    }
    rc = 0;
done:;
    cl_mem ms[] = {bx, bt, bl, bg};
    for (int i = 0; i < 4; ++i)
        if (ms[i])
            clReleaseMemObject(ms[i]);
    clce_device_destroy(dev);
    free(x);
    free(t);
    return rc;
}
