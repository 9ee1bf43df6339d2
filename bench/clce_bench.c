/*
 * clce_bench.c - the cross-entropy benchmark (issue 5).  Uses only the public header.
 *
 * For each problem (shape, layout, op, reduction, variant) it reports the first call apart
 * (compile + first launch), excludes warm-up calls, then times `reps` calls interleaved with a
 * plain copy kernel of the logits' size, so the op's bandwidth is compared with the device's
 * bandwidth measured in the same minute.  Times:
 *  - wall: clock_gettime around enqueue + clFinish;
 *  - device: the op is enqueued behind a marker that waits on a user event (the gate); the
 *    gate opens after the whole op is enqueued, so END(op's last command) - END(marker) is the
 *    device time of the op's chain of kernels, gaps included, host enqueue excluded.
 *    The copy kernel's time is its own event's END - START.
 * bytes = what must move: forward = logits once + targets; fused = logits read + gradient
 * written + targets.  GB/s = bytes / median device time; copy GB/s = 2 x logits bytes / median
 * copy time; frac = GB/s / copy GB/s.
 * Output: '#' provenance lines, then CSV (header below, stable).  --median-only prints one
 * number (median wall seconds of the only problem) for bench/compare_torch.py.
 *
 * The fused op (clce_cross_entropy_fused) is referenced weakly: when the linked library does
 * not define it yet, fused problems print "unavailable" rows instead of failing to link.
 */
#define _POSIX_C_SOURCE 200809L
#include <clce/clce.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__GNUC__)
#pragma weak clce_cross_entropy_fused
#endif

#ifndef CLCE_BENCH_GIT
#define CLCE_BENCH_GIT "unknown"
#endif

/* ---- helper kernels, built from source on the device's context ---- */
static const char *HELPER_SRC =
    "uint hash(uint a) { a ^= a >> 16; a *= 0x7feb352dU; a ^= a >> 15; a *= 0x846ca68bU;\n"
    "  a ^= a >> 16; return a; }\n"
    "__kernel void fill_x(__global float *x, ulong n, uint seed) {\n"
    "  ulong per = (n + get_global_size(0) - 1) / get_global_size(0);\n"
    "  ulong i0 = get_global_id(0) * per, i1 = min(n, i0 + per);\n"
    "  for (ulong i = i0; i < i1; ++i)\n"
    "    x[i] = (float)(hash((uint)i ^ hash((uint)(i >> 32) + seed)) >> 8) * (8.0f / 16777216.0f)"
    " - 4.0f; }\n"
    "__kernel void fill_t(__global long *t, ulong n, long classes, uint seed) {\n"
    "  ulong i = get_global_id(0); if (i < n) t[i] = (long)(hash((uint)i + seed) % (uint)classes);"
    " }\n"
    "__kernel void copy_block(__global const float16 *s, __global float16 *d, ulong n16,\n"
    "                         __global const float *sf, __global float *df, ulong n, int block) {\n"
    "  ulong g = get_global_id(0), G = get_global_size(0);\n"
    "  if (block) { ulong per = (n16 + G - 1) / G, i0 = g * per, i1 = min(n16, i0 + per);\n"
    "    for (ulong i = i0; i < i1; ++i) d[i] = s[i]; }\n"
    "  else { for (ulong i = g; i < n16; i += G) d[i] = s[i]; }\n"
    "  if (g == 0) for (ulong i = n16 * 16; i < n; ++i) df[i] = sf[i]; }\n";

typedef struct bench {
    clce_device *dev;
    cl_context ctx;
    cl_command_queue q;
    cl_program prog;
    cl_kernel fill_x, fill_t, copy;
    int is_cpu;
    unsigned cu;
} bench;

static void die(const char *what, int code) {
    fprintf(stderr, "clce_bench: %s failed (%d): %s\n", what, code, clce_last_error_detail());
    exit(2);
}
#define CL_CHECK(call)                                                                             \
    do {                                                                                           \
        cl_int e_ = (call);                                                                        \
        if (e_ != CL_SUCCESS)                                                                      \
            die(#call, e_);                                                                        \
    } while (0)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double ev_time(cl_event e, cl_profiling_info what) {
    cl_ulong t = 0;
    CL_CHECK(clGetEventProfilingInfo(e, what, sizeof t, &t, NULL));
    return 1e-9 * (double)t;
}

/* ---- problems ---- */
typedef struct problem {
    int ndim;
    int64_t sizes[4];
    int channels_last;
    char name[64];
} problem;

enum { OP_FORWARD = 0, OP_FUSED = 1 };
static const char *OP_NAMES[] = {"forward", "fused"};

typedef struct opts {
    int quick, median_only, warmup, reps, reps_max;
    double target_s;
    int ops[2], nops;
    int variants[2], nvariants; /* 0 plain, 1 weight+smoothing */
    clce_reduction reduction;
    double budget_s; /* per problem, for automatic reps */
} opts;

static int parse_shape(const char *text, problem *p) {
    memset(p, 0, sizeof *p);
    char buf[128];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *c = buf; *c; ++c)
        if (*c == 'x' || *c == ',' || *c == '(' || *c == ')' || *c == '\t')
            *c = ' ';
    char *save = NULL;
    for (char *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (!strcmp(tok, "nchw") || !strcmp(tok, "NCHW"))
            continue;
        if (!strcmp(tok, "cl") || !strcmp(tok, "nhwc") || !strcmp(tok, "channels_last")) {
            p->channels_last = 1;
            continue;
        }
        char *end;
        long long v = strtoll(tok, &end, 10);
        if (*end || v <= 0 || p->ndim >= 4)
            return -1;
        p->sizes[p->ndim++] = v;
    }
    if (p->ndim < 2)
        return -1;
    if (p->ndim < 3)
        p->channels_last = 0;
    size_t used = (size_t)snprintf(p->name, sizeof p->name, "(");
    for (int k = 0; k < p->ndim; ++k)
        used += (size_t)snprintf(p->name + used, sizeof p->name - used, k ? " %lld" : "%lld",
                                 (long long)p->sizes[k]);
    snprintf(p->name + used, sizeof p->name - used, ")");
    return 0;
}

static clce_tensor_desc input_desc(const problem *p) {
    clce_tensor_desc d = clce_tensor_contiguous(CLCE_F32, p->ndim, p->sizes);
    if (p->channels_last) { /* dim 1 innermost, then the others in order */
        int64_t s = 1;
        d.strides[1] = 1;
        s = p->sizes[1];
        for (int k = p->ndim - 1; k >= 2; --k) {
            d.strides[k] = s;
            s *= p->sizes[k];
        }
        d.strides[0] = s;
    }
    return d;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
typedef struct stats3 {
    double min, med, std;
} stats3;
static stats3 summarize(double *v, int n) {
    stats3 s = {0, 0, 0};
    if (n <= 0)
        return s;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    s.min = v[0];
    s.med = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    double mean = 0;
    for (int i = 0; i < n; ++i)
        mean += v[i];
    mean /= n;
    for (int i = 0; i < n; ++i)
        s.std += (v[i] - mean) * (v[i] - mean);
    s.std = n > 1 ? sqrt(s.std / (n - 1)) : 0;
    return s;
}

/* Buffers of one shape, reused by its ops and variants. */
typedef struct bufs {
    cl_mem x, t, w, loss, grad, copy_dst;
    size_t n, rows;
} bufs;

static cl_mem mk(bench *b, size_t bytes) {
    cl_int err;
    cl_mem m = clCreateBuffer(b->ctx, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
    CL_CHECK(err);
    return m;
}

static void launch1(bench *b, cl_kernel k, size_t global) {
    size_t local = b->is_cpu ? 1 : 64;
    global = (global + local - 1) / local * local;
    CL_CHECK(clEnqueueNDRangeKernel(b->q, k, 1, NULL, &global, &local, 0, NULL, NULL));
}

static void fill(bench *b, const problem *p, bufs *u, int need_grad) {
    u->n = 1;
    for (int k = 0; k < p->ndim; ++k)
        u->n *= (size_t)p->sizes[k];
    u->rows = u->n / (size_t)p->sizes[1];
    u->x = mk(b, u->n * 4);
    u->t = mk(b, u->rows * 8);
    u->w = mk(b, (size_t)p->sizes[1] * 4);
    u->loss = mk(b, u->rows * 4);
    u->grad = need_grad ? mk(b, u->n * 4) : NULL;
    u->copy_dst = mk(b, u->n * 4);
    cl_ulong n = u->n, rows = u->rows;
    cl_long C = p->sizes[1];
    cl_uint seed = 12345;
    CL_CHECK(clSetKernelArg(b->fill_x, 0, sizeof(cl_mem), &u->x));
    CL_CHECK(clSetKernelArg(b->fill_x, 1, sizeof n, &n));
    CL_CHECK(clSetKernelArg(b->fill_x, 2, sizeof seed, &seed));
    launch1(b, b->fill_x, b->is_cpu ? 64 : 65536);
    CL_CHECK(clSetKernelArg(b->fill_t, 0, sizeof(cl_mem), &u->t));
    CL_CHECK(clSetKernelArg(b->fill_t, 1, sizeof rows, &rows));
    CL_CHECK(clSetKernelArg(b->fill_t, 2, sizeof C, &C));
    CL_CHECK(clSetKernelArg(b->fill_t, 3, sizeof seed, &seed));
    launch1(b, b->fill_t, u->rows);
    float *w = malloc((size_t)C * 4);
    for (cl_long c = 0; c < C; ++c)
        w[c] = 0.5f + (float)(c % 7) * 0.25f;
    CL_CHECK(clEnqueueWriteBuffer(b->q, u->w, CL_TRUE, 0, (size_t)C * 4, w, 0, NULL, NULL));
    free(w);
    /* touch the copy destination and gradient once so page faults are not timed */
    float zero = 0;
    CL_CHECK(clEnqueueFillBuffer(b->q, u->copy_dst, &zero, 4, 0, u->n * 4, 0, NULL, NULL));
    if (u->grad)
        CL_CHECK(clEnqueueFillBuffer(b->q, u->grad, &zero, 4, 0, u->n * 4, 0, NULL, NULL));
    CL_CHECK(clFinish(b->q));
}

static void free_bufs(bufs *u) {
    cl_mem *all[] = {&u->x, &u->t, &u->w, &u->loss, &u->grad, &u->copy_dst};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; ++i)
        if (*all[i]) {
            clReleaseMemObject(*all[i]);
            *all[i] = NULL;
        }
}

/* One timed copy of the logits; returns device seconds. */
static double run_copy(bench *b, bufs *u) {
    cl_ulong n16 = u->n / 16, n = u->n;
    cl_int block = b->is_cpu;
    CL_CHECK(clSetKernelArg(b->copy, 0, sizeof(cl_mem), &u->x));
    CL_CHECK(clSetKernelArg(b->copy, 1, sizeof(cl_mem), &u->copy_dst));
    CL_CHECK(clSetKernelArg(b->copy, 2, sizeof n16, &n16));
    CL_CHECK(clSetKernelArg(b->copy, 3, sizeof(cl_mem), &u->x));
    CL_CHECK(clSetKernelArg(b->copy, 4, sizeof(cl_mem), &u->copy_dst));
    CL_CHECK(clSetKernelArg(b->copy, 5, sizeof n, &n));
    CL_CHECK(clSetKernelArg(b->copy, 6, sizeof block, &block));
    size_t local = b->is_cpu ? 1 : 256;
    size_t global = b->is_cpu ? 4 * (size_t)b->cu : 256 * 4 * (size_t)b->cu;
    if (b->is_cpu && n16 < 4096)
        global = 1;
    cl_event e;
    CL_CHECK(clEnqueueNDRangeKernel(b->q, b->copy, 1, NULL, &global, &local, 0, NULL, &e));
    CL_CHECK(clWaitForEvents(1, &e));
    double t = ev_time(e, CL_PROFILING_COMMAND_END) - ev_time(e, CL_PROFILING_COMMAND_START);
    clReleaseEvent(e);
    return t;
}

/* One op call behind the gate; returns 0 on success, fills wall and device seconds. */
static int run_op(bench *b, const problem *p, bufs *u, int op, int variant, clce_reduction red,
                  double *wall, double *devt) {
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    d.reduction = red;
    d.label_smoothing = variant ? 0.1 : 0.0;
    clce_tensor_desc xd = input_desc(p);
    int64_t rs[3];
    int rn = 0;
    for (int k = 0; k < p->ndim; ++k)
        if (k != 1)
            rs[rn++] = p->sizes[k];
    clce_tensor_desc td = clce_tensor_contiguous(CLCE_I64, rn, rs);
    clce_tensor_desc wd = clce_tensor_contiguous(CLCE_F32, 1, &p->sizes[1]);
    clce_tensor_desc ld = red == CLCE_REDUCTION_NONE ? clce_tensor_contiguous(CLCE_F32, rn, rs)
                                                     : clce_tensor_contiguous(CLCE_F32, 0, NULL);
    cl_int err;
    cl_event gate = clCreateUserEvent(b->ctx, &err);
    CL_CHECK(err);
    cl_event marker = NULL, done = NULL;
    double t0 = now_s();
    CL_CHECK(clEnqueueMarkerWithWaitList(b->q, 1, &gate, &marker));
    clce_status st;
    if (op == OP_FORWARD)
        st = clce_cross_entropy_forward(b->dev, &d, &xd, u->x, &td, u->t, variant ? &wd : NULL,
                                        variant ? u->w : NULL, &ld, u->loss, NULL, 1, &marker,
                                        &done);
    else
        st = clce_cross_entropy_fused(b->dev, &d, &xd, u->x, &td, u->t, variant ? &wd : NULL,
                                      variant ? u->w : NULL, &ld, u->loss, NULL, NULL, &xd, u->grad,
                                      1, &marker, &done);
    CL_CHECK(clSetUserEventStatus(gate, CL_COMPLETE));
    if (st != CLCE_OK) {
        fprintf(stderr, "clce_bench: %s %s: %s: %s\n", OP_NAMES[op], p->name, clce_status_name(st),
                clce_last_error_detail());
        clFinish(b->q);
        clReleaseEvent(gate);
        clReleaseEvent(marker);
        return -1;
    }
    CL_CHECK(clFinish(b->q));
    *wall = now_s() - t0;
    *devt = ev_time(done, CL_PROFILING_COMMAND_END) - ev_time(marker, CL_PROFILING_COMMAND_END);
    clReleaseEvent(done);
    clReleaseEvent(marker);
    clReleaseEvent(gate);
    st = clce_device_sync(b->dev);
    if (st != CLCE_OK) {
        fprintf(stderr, "clce_bench: sync: %s\n", clce_last_error_detail());
        return -1;
    }
    return 0;
}

static const char *CSV_HEADER =
    "shape,layout,op,reduction,variant,rows,classes,bytes,first_call_ms,reps,wall_min_ms,"
    "wall_med_ms,wall_std_ms,dev_min_ms,dev_med_ms,dev_std_ms,gbps,copy_gbps,copy_frac";

static void bench_problem(bench *b, const problem *p, const opts *o) {
    int need_grad = 0;
    for (int i = 0; i < o->nops; ++i)
        need_grad |= o->ops[i] == OP_FUSED;
    if (need_grad && !&clce_cross_entropy_fused)
        need_grad = 0;
    bufs u;
    memset(&u, 0, sizeof u);
    fill(b, p, &u, need_grad);
    const char *redname = o->reduction == CLCE_REDUCTION_NONE  ? "none"
                          : o->reduction == CLCE_REDUCTION_SUM ? "sum"
                                                               : "mean";
    for (int oi = 0; oi < o->nops; ++oi) {
        const int op = o->ops[oi];
        for (int vi = 0; vi < o->nvariants; ++vi) {
            const int variant = o->variants[vi];
            const char *vname = variant ? "weight+smooth" : "plain";
            if (op == OP_FUSED && !&clce_cross_entropy_fused) {
                if (!o->median_only)
                    printf("%s,%s,%s,%s,%s,%zu,%lld,,unavailable,,,,,,,,,,\n", p->name,
                           p->channels_last ? "channels_last" : "contiguous", OP_NAMES[op], redname,
                           vname, u.rows, (long long)p->sizes[1]);
                continue;
            }
            double wall, devt;
            double t0 = now_s();
            if (run_op(b, p, &u, op, variant, o->reduction, &wall, &devt) != 0)
                exit(3);
            const double first = now_s() - t0;
            double warm = 0;
            for (int i = 0; i < o->warmup; ++i)
                if (run_op(b, p, &u, op, variant, o->reduction, &warm, &devt) != 0)
                    exit(3);
            double copy_once = run_copy(b, &u);
            int reps = o->reps;
            if (reps <= 0) {
                double per = warm + copy_once;
                reps = per > 0 ? (int)(o->target_s / per) : o->reps_max;
                if (reps < 3)
                    reps = 3;
                if (reps > o->reps_max)
                    reps = o->reps_max;
            }
            double *w = malloc((size_t)reps * sizeof *w), *dv = malloc((size_t)reps * sizeof *dv),
                   *cp = malloc((size_t)reps * sizeof *cp);
            for (int r = 0; r < reps; ++r) { /* interleaved: op, copy */
                if (run_op(b, p, &u, op, variant, o->reduction, &w[r], &dv[r]) != 0)
                    exit(3);
                cp[r] = run_copy(b, &u);
            }
            stats3 sw = summarize(w, reps), sd = summarize(dv, reps), sc = summarize(cp, reps);
            const double lbytes = (double)u.n * 4;
            const double bytes = (op == OP_FUSED ? 2 * lbytes : lbytes) + (double)u.rows * 8 +
                                 (variant ? (double)p->sizes[1] * 4 : 0) +
                                 (o->reduction == CLCE_REDUCTION_NONE ? (double)u.rows * 4 : 4);
            const double gbps = bytes / sd.med * 1e-9, cgbps = 2 * lbytes / sc.med * 1e-9;
            if (o->median_only) {
                printf("%.9f\n", sw.med);
            } else {
                printf("%s,%s,%s,%s,%s,%zu,%lld,%.0f,%.3f,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.4f,%.2f,"
                       "%.2f,%.3f\n",
                       p->name, p->channels_last ? "channels_last" : "contiguous", OP_NAMES[op],
                       redname, vname, u.rows, (long long)p->sizes[1], bytes, first * 1e3, reps,
                       sw.min * 1e3, sw.med * 1e3, sw.std * 1e3, sd.min * 1e3, sd.med * 1e3,
                       sd.std * 1e3, gbps, cgbps, gbps / cgbps);
            }
            fflush(stdout);
            free(w);
            free(dv);
            free(cp);
        }
    }
    free_bufs(&u);
}

static void usage(void) {
    fprintf(stderr,
            "usage: clce_bench [--quick] [--shapes FILE] [--shape 'N C [H W] [nchw|cl]']...\n"
            "                  [--op forward|fused|both] [--variant plain|ws|both]\n"
            "                  [--reduction mean|sum|none] [--reps N] [--warmup N]\n"
            "                  [--target-s S] [--median-only]\n"
            "Device: CLCE_DEVICE=<index|name substring> (default: first GPU, else CPU).\n");
}

int main(int argc, char **argv) {
    opts o = {0, 0, 2, 0, 50, 1.0, {OP_FORWARD, OP_FUSED}, 2, {0, 1}, 2, CLCE_REDUCTION_MEAN, 0};
    problem probs[64];
    int np = 0;
    const char *shapes_file = NULL;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) {
            o.quick = 1;
        } else if (!strcmp(a, "--median-only")) {
            o.median_only = 1;
        } else if (!strcmp(a, "--shapes") && v) {
            shapes_file = v;
            ++i;
        } else if (!strcmp(a, "--shape") && v && np < 64) {
            if (parse_shape(v, &probs[np]) != 0) {
                fprintf(stderr, "clce_bench: bad shape '%s'\n", v);
                return 1;
            }
            ++np;
            ++i;
        } else if (!strcmp(a, "--op") && v) {
            if (strcmp(v, "forward") && strcmp(v, "fused") && strcmp(v, "both")) {
                fprintf(stderr, "clce_bench: --op '%s': expected forward, fused or both\n", v);
                return 1;
            }
            o.nops = strcmp(v, "both") ? 1 : 2;
            if (o.nops == 1)
                o.ops[0] = !strcmp(v, "fused") ? OP_FUSED : OP_FORWARD;
            ++i;
        } else if (!strcmp(a, "--variant") && v) {
            /* "weight+smooth" is the name the CSV prints for ws */
            const int ws = !strcmp(v, "ws") || !strcmp(v, "weight+smooth");
            if (!ws && strcmp(v, "plain") && strcmp(v, "both")) {
                fprintf(stderr, "clce_bench: --variant '%s': expected plain, ws or both\n", v);
                return 1;
            }
            o.nvariants = strcmp(v, "both") ? 1 : 2;
            if (o.nvariants == 1)
                o.variants[0] = ws;
            ++i;
        } else if (!strcmp(a, "--reduction") && v) {
            o.reduction = !strcmp(v, "none")  ? CLCE_REDUCTION_NONE
                          : !strcmp(v, "sum") ? CLCE_REDUCTION_SUM
                                              : CLCE_REDUCTION_MEAN;
            ++i;
        } else if (!strcmp(a, "--reps") && v) {
            o.reps = atoi(v);
            ++i;
        } else if (!strcmp(a, "--warmup") && v) {
            o.warmup = atoi(v);
            ++i;
        } else if (!strcmp(a, "--target-s") && v) {
            o.target_s = atof(v);
            ++i;
        } else {
            usage();
            return !strcmp(a, "--help") ? 0 : 1;
        }
    }
    if (shapes_file) {
        FILE *f = fopen(shapes_file, "r");
        if (!f) {
            fprintf(stderr, "clce_bench: cannot open %s\n", shapes_file);
            return 1;
        }
        char line[256];
        while (fgets(line, sizeof line, f) && np < 64) {
            char *h = strchr(line, '#');
            if (h)
                *h = 0;
            line[strcspn(line, "\r\n")] = 0;
            if (strspn(line, " \t") == strlen(line))
                continue;
            if (parse_shape(line, &probs[np]) != 0) {
                fprintf(stderr, "clce_bench: bad shape line '%s'\n", line);
                return 1;
            }
            ++np;
        }
        fclose(f);
    }
    if (np == 0) {
        const char *def[] = {"256 1000",      "1024 8192", "4 65536", "2 21 64 64",
                             "2 21 64 64 cl", "100000 10", "10 5"};
        for (size_t i = 0; i < sizeof def / sizeof def[0]; ++i)
            parse_shape(def[i], &probs[np++]);
    }
    if (o.quick) {
        o.warmup = 1;
        o.target_s = 0.1;
        o.reps_max = 10;
    }

    bench b;
    memset(&b, 0, sizeof b);
    clce_device_options dopt;
    clce_device_options_init(&dopt);
    dopt.enable_profiling = 1;
    clce_status st = clce_device_create(&dopt, &b.dev);
    if (st != CLCE_OK) {
        fprintf(stderr, "clce_bench: no device: %s: %s\n", clce_status_name(st),
                clce_last_error_detail());
        return 2;
    }
    clce_device_info info;
    clce_device_get_info(b.dev, &info);
    b.ctx = clce_device_context(b.dev);
    b.q = clce_device_queue(b.dev);
    b.is_cpu = (info.type & CL_DEVICE_TYPE_CPU) != 0;
    b.cu = info.compute_units ? info.compute_units : 1;
    cl_int err;
    b.prog = clCreateProgramWithSource(b.ctx, 1, &HELPER_SRC, NULL, &err);
    CL_CHECK(err);
    cl_device_id did;
    CL_CHECK(clGetCommandQueueInfo(b.q, CL_QUEUE_DEVICE, sizeof did, &did, NULL));
    CL_CHECK(clBuildProgram(b.prog, 1, &did, "", NULL, NULL));
    b.fill_x = clCreateKernel(b.prog, "fill_x", &err);
    CL_CHECK(err);
    b.fill_t = clCreateKernel(b.prog, "fill_t", &err);
    CL_CHECK(err);
    b.copy = clCreateKernel(b.prog, "copy_block", &err);
    CL_CHECK(err);

    if (!o.median_only) {
        char date[64];
        time_t tt = time(NULL);
        strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&tt));
        printf("# clce_bench: clce %s (runtime %s), git %s\n", CLCE_VERSION_STRING,
               clce_version_string(), CLCE_BENCH_GIT);
        printf("# platform: %s\n# device: %s (%s), %u compute units, %s\n", info.platform_name,
               info.name, info.vendor, info.compute_units, info.opencl_version);
        printf("# driver: %s\n# date: %s\n", info.driver_version, date);
        printf("# selection: %s\n# device type: %s\n", info.selection_reason,
               (info.type & CL_DEVICE_TYPE_GPU)           ? "GPU"
               : (info.type & CL_DEVICE_TYPE_CPU)         ? "CPU"
               : (info.type & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator"
                                                          : "other");
        printf("# fused op: %s\n",
               &clce_cross_entropy_fused ? "available" : "unavailable in this library build");
        printf("# times: wall = enqueue+clFinish; dev = END(op) - END(gate marker); copy = "
               "same-size copy kernel, interleaved; GB/s from dev_med_ms\n");
        printf("%s\n", CSV_HEADER);
    }
    for (int i = 0; i < np; ++i)
        bench_problem(&b, &probs[i], &o);

    clReleaseKernel(b.fill_x);
    clReleaseKernel(b.fill_t);
    clReleaseKernel(b.copy);
    clReleaseProgram(b.prog);
    clce_device_destroy(b.dev);
    return 0;
}
