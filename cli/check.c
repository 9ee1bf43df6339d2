/*
 * check.c - 'clce check [--full]': the correctness sweep.  Every op (cross_entropy forward,
 * forward+backward and fused, with index and probability targets; nll_loss forward+backward;
 * softmax and log_softmax forward+backward) and its options run on generated inputs in several
 * memory layouts on the chosen device, and are compared with the double-precision reference of
 * tests/ref (compiled into the tool).  One table line per case; exit status 1 on any mismatch.
 * Tolerances are the project's: loss 1e-5 * max(1, |ref|); outputs and gradients 1e-4 relative
 * plus 1e-6 * max|ref| absolute.
 */
#include "cli.h"
#include "ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { L_CONTIG, L_FORTRAN, L_CHANNELS_LAST, L_PADDED, L_COUNT };
static const char *const layout_names[L_COUNT] = {"contiguous", "fortran", "channels-last",
                                                  "padded+offset"};

/* ---- generated data ---- */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static double uniform(double lo, double hi) {
    return lo + (hi - lo) * (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* ---- layouts ---- */
/* Strides of a layout for a logical shape; returns the buffer size in elements (>= 1). */
static size_t make_layout(int layout, clce_dtype dt, int ndim, const int64_t *sizes,
                          clce_tensor_desc *d) {
    memset(d, 0, sizeof *d);
    d->dtype = dt;
    d->ndim = ndim;
    int order[CLCE_MAX_DIMS]; /* dims from innermost to outermost */
    for (int i = 0; i < ndim; ++i)
        order[i] = ndim - 1 - i;
    if (layout == L_FORTRAN)
        for (int i = 0; i < ndim; ++i)
            order[i] = i;
    if (layout == L_CHANNELS_LAST && ndim >= 3) {
        int p = 0;
        order[p++] = 1;
        for (int i = ndim - 1; i >= 2; --i)
            order[p++] = i;
        order[p++] = 0;
    }
    int64_t s = layout == L_PADDED ? 2 : 1;
    for (int i = 0; i < ndim; ++i) {
        d->sizes[order[i]] = sizes[order[i]];
        d->strides[order[i]] = s;
        s *= sizes[order[i]] > 0 ? sizes[order[i]] : 1;
        if (layout == L_PADDED)
            s += 1;
    }
    d->offset = layout == L_PADDED ? 3 : 0;
    int64_t last = d->offset;
    for (int i = 0; i < ndim; ++i) {
        if (sizes[i] == 0)
            return (size_t)d->offset + 1;
        last += (sizes[i] - 1) * d->strides[i];
    }
    return (size_t)last + 1;
}

/* Element index in the buffer of logical (row-major) element e. */
static size_t at(const clce_tensor_desc *d, size_t e) {
    int64_t off = d->offset;
    for (int i = d->ndim - 1; i >= 0; --i) {
        int64_t n = d->sizes[i];
        off += (int64_t)(e % (size_t)n) * d->strides[i];
        e /= (size_t)n;
    }
    return (size_t)off;
}

typedef struct tensor {
    clce_tensor_desc d;
    cl_mem m;
    size_t elems, esize;
} tensor;

/* Uploads a logical array in the given layout (padding filled with a poison value). */
static int upload(clce_device *dev, int layout, clce_dtype dt, int ndim, const int64_t *sizes,
                  const void *logical, tensor *t) {
    t->esize = clce_dtype_size(dt);
    t->elems = make_layout(layout, dt, ndim, sizes, &t->d);
    unsigned char *buf = malloc(t->elems * t->esize);
    if (!buf)
        return cli_error("check: out of memory"), -1;
    memset(buf, 0x7f, t->elems * t->esize);
    size_t n = (size_t)clce_tensor_numel(&t->d);
    if (logical)
        for (size_t e = 0; e < n; ++e)
            memcpy(buf + at(&t->d, e) * t->esize, (const unsigned char *)logical + e * t->esize,
                   t->esize);
    t->m = cli_buffer(dev, t->elems * t->esize, buf);
    free(buf);
    return t->m ? 0 : -1;
}

static int download(clce_device *dev, const tensor *t, float *logical) {
    float *buf = malloc(t->elems * sizeof(float));
    if (!buf)
        return cli_error("check: out of memory"), -1;
    int rc = cli_read(dev, t->m, t->elems * sizeof(float), buf);
    size_t n = (size_t)clce_tensor_numel(&t->d);
    for (size_t e = 0; rc == 0 && e < n; ++e)
        logical[e] = buf[at(&t->d, e)];
    free(buf);
    return rc;
}

static void release(tensor *t) {
    if (t->m)
        clReleaseMemObject(t->m);
    t->m = NULL;
}

/* Worst error in units of the tolerance (<= 1 passes); NaN matches NaN, inf matches inf. */
static double worst(const float *got, const double *ref, size_t n, int is_loss, double *maxabs) {
    double gmax = 0, w = 0;
    *maxabs = 0;
    for (size_t i = 0; i < n; ++i)
        if (isfinite(ref[i]))
            gmax = fmax(gmax, fabs(ref[i]));
    for (size_t i = 0; i < n; ++i) {
        double g = got[i], r = ref[i];
        if (isnan(r) || isinf(r)) {
            if (!(isnan(r) ? isnan(g) : g == r))
                w = INFINITY;
            continue;
        }
        if (isnan(g)) {
            w = INFINITY;
            continue;
        }
        double tol = is_loss ? 1e-5 * fmax(1.0, fabs(r)) : 1e-4 * fabs(r) + 1e-6 * gmax;
        double e = fabs(g - r);
        *maxabs = fmax(*maxabs, e);
        w = fmax(w, tol > 0 ? e / tol : (e > 0 ? INFINITY : 0));
    }
    return w;
}

/* ---- cases ---- */
typedef enum { OP_CE_FWD, OP_CE_BWD, OP_CE_FUSED, OP_NLL, OP_SOFTMAX, OP_LOG_SOFTMAX } op_kind;
static const char *const op_names[] = {"cross_entropy fwd",   "cross_entropy fwd+bwd",
                                       "cross_entropy fused", "nll_loss fwd+bwd",
                                       "softmax fwd+bwd",     "log_softmax fwd+bwd"};

typedef struct loss_opt {
    clce_reduction red;
    int weight;
    double smoothing;
    int64_t ignore;
    clce_dtype tdt; /* CLCE_F32: probabilities */
} loss_opt;

typedef struct tally {
    int pass, fail, skip;
} tally;

static void report(tally *t, const char *op, const char *opts, const char *shape,
                   const char *layout, const char *result, double maxabs) {
    if (strcmp(result, "pass") == 0)
        t->pass++;
    else if (strncmp(result, "skip", 4) == 0)
        t->skip++;
    else
        t->fail++;
    printf("%-21s %-34s %-16s %-14s %10.3g  %s\n", op, opts, shape, layout, maxabs, result);
}

static int64_t numel(int ndim, const int64_t *s) {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i)
        n *= s[i];
    return n;
}

/* One case.  Returns -1 only on a host failure (out of memory, OpenCL buffer errors). */
static int run_one(clce_device *dev, tally *tl, op_kind op, const loss_opt *o, int softmax_dim,
                   int ndim, const int64_t *sizes, int layout) {
    const int k = ndim == 1 ? 0 : 1;
    const int is_loss = op <= OP_NLL;
    const int prob = is_loss && o->tdt == CLCE_F32;
    const int64_t C = ndim ? sizes[k] : 1;
    int64_t rsz[CLCE_MAX_DIMS];
    int rnd = 0;
    for (int i = 0; i < ndim; ++i)
        if (i != k)
            rsz[rnd++] = sizes[i];
    const size_t nx = (size_t)numel(ndim, sizes), nr = (size_t)numel(rnd, rsz);

    char shape[64], opts[96];
    long long ls[CLCE_MAX_DIMS];
    for (int i = 0; i < ndim; ++i)
        ls[i] = sizes[i];
    cli_shape_str(ndim, ls, shape, sizeof shape);
    if (is_loss)
        snprintf(opts, sizeof opts, "%s %s%s%s%s", cli_reduction_name(o->red),
                 prob ? "prob" : clce_dtype_name(o->tdt), o->weight ? " weight" : "",
                 o->smoothing > 0 ? " smooth" : "", o->ignore != -100 ? " ignore" : "");
    else
        snprintf(opts, sizeof opts, "dim %d", softmax_dim);

    /* host data */
    float *x = malloc((nx ? nx : 1) * 4), *g = malloc((nx ? nx : 1) * 4);
    float *got = malloc((nx ? nx : 1) * 4), *w = malloc((size_t)(C ? C : 1) * 4);
    double *xd = malloc((nx ? nx : 1) * 8), *gd = malloc((nx ? nx : 1) * 8);
    double *ref = malloc((nx ? nx : 1) * 8), *dref = malloc((nx ? nx : 1) * 8);
    double *wd = malloc((size_t)(C ? C : 1) * 8), *pd = malloc((nx ? nx : 1) * 8);
    float *pf = malloc((nx ? nx : 1) * 4);
    int64_t *ti = malloc((nr ? nr : 1) * 8);
    void *tdev = malloc((nr ? nr : 1) * 8);
    tensor tx = {0}, tt = {0}, tw = {0}, tl_ = {0}, tgo = {0}, tgi = {0};
    int rc = -1;
    if (!x || !g || !got || !w || !xd || !gd || !ref || !dref || !wd || !pd || !pf || !ti ||
        !tdev) {
        cli_error("check: out of memory");
        goto done;
    }
    for (size_t i = 0; i < nx; ++i) {
        x[i] = (float)uniform(-4, 4);
        xd[i] = x[i];
        g[i] = (float)uniform(-1, 1);
        gd[i] = g[i];
    }
    for (int64_t c = 0; c < C; ++c) {
        w[c] = (float)uniform(0.2, 2);
        wd[c] = w[c];
    }
    for (size_t r = 0; r < nr; ++r) {
        /* uint8 targets can only name the first 256 classes */
        const int64_t span = o && o->tdt == CLCE_U8 && C > 256 ? 256 : C;
        ti[r] = (int64_t)(rng_next() % (uint64_t)(span ? span : 1));
        if (o && o->ignore >= 0 && r == 0 && C > (int64_t)o->ignore)
            ti[r] = o->ignore; /* make sure the ignored class occurs */
    }
    if (prob) {
        ref_geom rg = ref_geom_of(ndim, sizes, k);
        for (int64_t r = 0; r < rg.rows; ++r) {
            double s = 0;
            for (int64_t c = 0; c < C; ++c)
                s += (pd[ref_at(&rg, r, c)] = uniform(0, 1));
            for (int64_t c = 0; c < C; ++c) {
                size_t i = ref_at(&rg, r, c);
                pf[i] = (float)(pd[i] / s);
                pd[i] = pf[i];
            }
        }
    }

    /* device tensors */
    if (upload(dev, layout, CLCE_F32, ndim, sizes, x, &tx))
        goto done;
    clce_loss_desc desc;
    clce_loss_desc_init(&desc);
    const int reduced = is_loss && o->red != CLCE_REDUCTION_NONE;
    if (is_loss) {
        desc.reduction = o->red;
        desc.ignore_index = o->ignore;
        desc.label_smoothing = o->smoothing;
        if (prob) {
            if (upload(dev, layout, CLCE_F32, ndim, sizes, pf, &tt))
                goto done;
        } else {
            for (size_t r = 0; r < nr; ++r) {
                if (o->tdt == CLCE_I64)
                    ((int64_t *)tdev)[r] = ti[r];
                else if (o->tdt == CLCE_I32)
                    ((int32_t *)tdev)[r] = (int32_t)ti[r];
                else
                    ((uint8_t *)tdev)[r] = (uint8_t)ti[r];
            }
            if (upload(dev, layout, o->tdt, rnd, rsz, tdev, &tt))
                goto done;
        }
        if (o->weight && upload(dev, L_CONTIG, CLCE_F32, 1, &C, w, &tw))
            goto done;
        if (upload(dev, reduced ? L_CONTIG : layout, CLCE_F32, reduced ? 0 : rnd, rsz, NULL, &tl_))
            goto done;
        if (upload(dev, reduced ? L_CONTIG : layout, CLCE_F32, reduced ? 0 : rnd, rsz, g, &tgo))
            goto done;
    } else {
        if (upload(dev, layout, CLCE_F32, ndim, sizes, NULL, &tl_)) /* softmax output */
            goto done;
        if (upload(dev, layout, CLCE_F32, ndim, sizes, g, &tgo))
            goto done;
    }
    if (upload(dev, layout, CLCE_F32, ndim, sizes, NULL, &tgi))
        goto done;
    rc = 0;

    /* run */
    const clce_tensor_desc *wdp = tw.m ? &tw.d : NULL;
    clce_status st = CLCE_OK;
    int has_grad = op != OP_CE_FWD;
    switch (op) {
    case OP_CE_FWD:
        st = clce_cross_entropy_forward_sync(dev, &desc, &tx.d, tx.m, &tt.d, tt.m, wdp, tw.m,
                                             &tl_.d, tl_.m, NULL);
        break;
    case OP_CE_BWD:
        st = clce_cross_entropy_forward(dev, &desc, &tx.d, tx.m, &tt.d, tt.m, wdp, tw.m, &tl_.d,
                                        tl_.m, NULL, 0, NULL, NULL);
        if (st == CLCE_OK)
            st = clce_cross_entropy_backward(dev, &desc, &tx.d, tx.m, &tt.d, tt.m, wdp, tw.m,
                                             &tgo.d, tgo.m, NULL, &tgi.d, tgi.m, 0, NULL, NULL);
        break;
    case OP_CE_FUSED:
        st = clce_cross_entropy_fused(dev, &desc, &tx.d, tx.m, &tt.d, tt.m, wdp, tw.m, &tl_.d,
                                      tl_.m, &tgo.d, tgo.m, &tgi.d, tgi.m, 0, NULL, NULL);
        break;
    case OP_NLL:
        st = clce_nll_loss_forward(dev, &desc, &tx.d, tx.m, &tt.d, tt.m, wdp, tw.m, &tl_.d, tl_.m,
                                   0, NULL, NULL);
        if (st == CLCE_OK)
            st = clce_nll_loss_backward(dev, &desc, &tx.d, &tt.d, tt.m, wdp, tw.m, &tgo.d, tgo.m,
                                        &tgi.d, tgi.m, 0, NULL, NULL);
        break;
    case OP_SOFTMAX:
        st = clce_softmax_forward(dev, softmax_dim, &tx.d, tx.m, &tl_.d, tl_.m, 0, NULL, NULL);
        if (st == CLCE_OK)
            st = clce_softmax_backward(dev, softmax_dim, &tl_.d, tl_.m, &tgo.d, tgo.m, &tgi.d,
                                       tgi.m, 0, NULL, NULL);
        break;
    case OP_LOG_SOFTMAX:
        st = clce_log_softmax_forward(dev, softmax_dim, &tx.d, tx.m, &tl_.d, tl_.m, 0, NULL, NULL);
        if (st == CLCE_OK)
            st = clce_log_softmax_backward(dev, softmax_dim, &tl_.d, tl_.m, &tgo.d, tgo.m, &tgi.d,
                                           tgi.m, 0, NULL, NULL);
        break;
    }
    char why[400];
    /* Keep the failing call's detail: the sync clears it. */
    snprintf(why, sizeof why, "%s %s: %s", st == CLCE_ERROR_UNSUPPORTED ? "skip" : "FAIL",
             clce_status_name(st), clce_last_error_detail());
    clce_status sync = clce_device_sync(dev);
    if (st == CLCE_OK && sync != CLCE_OK)
        snprintf(why, sizeof why, "FAIL %s: %s", clce_status_name(sync), clce_last_error_detail());
    if (st == CLCE_OK)
        st = sync;
    if (st != CLCE_OK) {
        report(tl, op_names[op], opts, shape, layout_names[layout], why, 0);
        goto done;
    }

    /* reference */
    size_t nout = is_loss ? (reduced ? 1 : nr) : nx;
    if (is_loss) {
        ref_loss_opts ro = {o->red, o->ignore, o->smoothing, o->weight ? wd : NULL};
        if (op == OP_NLL)
            ref_nll_loss(xd, ndim, sizes, k, ti, &ro, ref, gd, dref);
        else
            ref_cross_entropy(xd, ndim, sizes, k, prob ? NULL : ti, prob ? pd : NULL, &ro, ref, gd,
                              dref);
    } else {
        const int kd = softmax_dim < 0 ? softmax_dim + ndim : softmax_dim;
        ref_softmax(xd, ndim, sizes, kd, op == OP_LOG_SOFTMAX, ref);
        ref_softmax_backward(ref, gd, ndim, sizes, kd, op == OP_LOG_SOFTMAX, dref);
    }
    double maxabs = 0, m2 = 0;
    if (download(dev, &tl_, got)) {
        rc = -1;
        goto done;
    }
    double wv = worst(got, ref, nout, is_loss, &maxabs);
    if (has_grad) {
        if (download(dev, &tgi, got)) {
            rc = -1;
            goto done;
        }
        wv = fmax(wv, worst(got, dref, nx, 0, &m2));
        maxabs = fmax(maxabs, m2);
    }
    report(tl, op_names[op], opts, shape, layout_names[layout], wv <= 1 ? "pass" : "FAIL", maxabs);
done:
    release(&tx);
    release(&tt);
    release(&tw);
    release(&tl_);
    release(&tgo);
    release(&tgi);
    free(x), free(g), free(got), free(w), free(xd), free(gd), free(ref), free(dref), free(wd);
    free(pd), free(pf), free(ti), free(tdev);
    return rc;
}

typedef struct shape_case {
    int ndim;
    int64_t sizes[4];
} shape_case;

int cli_check(int argc, char **argv) {
    int full = 0, help = 0;
    const cli_opt opts[] = {{"--full", CLI_OPT_FLAG, NULL, &full}};
    if (cli_parse("check", argc, argv, opts, 1, &help) != 0)
        return 1;
    if (help) {
        puts("usage: clce check [--full]\n\n"
             "Runs every op and option on generated inputs in several memory layouts on the\n"
             "chosen device (CLCE_DEVICE) and compares with a double-precision reference.\n"
             "Prints one line per case; exits 1 on any mismatch.  --full: more shapes (C = 1,\n"
             "N = 0, 1000 classes) and every option combination.");
        return 0;
    }
    static const shape_case quick[] = {{2, {6, 5}}, {4, {2, 4, 3, 3}}, {1, {7}}};
    static const shape_case more[] = {{2, {6, 5}},     {4, {2, 4, 3, 3}}, {1, {7}},
                                      {2, {33, 1000}}, {3, {3, 7, 20}},   {2, {4, 1}},
                                      {2, {0, 5}},     {4, {2, 3, 17, 9}}};
    const shape_case *shapes = full ? more : quick;
    const int nshapes = full ? (int)(sizeof more / sizeof more[0]) : 3;

    /* Loss options: a fixed spread by default, the full product with --full. */
    loss_opt lopts[128];
    int nl = 0;
    if (full) {
        const clce_dtype tdts[] = {CLCE_I64, CLCE_I32, CLCE_U8, CLCE_F32};
        for (int r = 0; r < 3; ++r)
            for (int wgt = 0; wgt < 2; ++wgt)
                for (int s = 0; s < 2; ++s)
                    for (int ig = 0; ig < 2; ++ig)
                        for (int t = 0; t < 4; ++t) {
                            if (tdts[t] == CLCE_F32 && ig)
                                continue; /* ignore_index is for class indices only */
                            lopts[nl++] = (loss_opt){(clce_reduction)r, wgt, s ? 0.1 : 0,
                                                     ig ? 1 : -100, tdts[t]};
                        }
    } else {
        const loss_opt base[] = {
            {CLCE_REDUCTION_MEAN, 0, 0, -100, CLCE_I64},
            {CLCE_REDUCTION_SUM, 1, 0, -100, CLCE_I64},
            {CLCE_REDUCTION_NONE, 0, 0, -100, CLCE_I32},
            {CLCE_REDUCTION_MEAN, 1, 0.1, 1, CLCE_I64},
            {CLCE_REDUCTION_NONE, 1, 0.2, 2, CLCE_U8},
            {CLCE_REDUCTION_MEAN, 0, 0, -100, CLCE_F32},
            {CLCE_REDUCTION_SUM, 1, 0.1, -100, CLCE_F32},
            {CLCE_REDUCTION_NONE, 0, 0, -100, CLCE_F32},
        };
        nl = (int)(sizeof base / sizeof base[0]);
        memcpy(lopts, base, sizeof base);
    }

    clce_device *dev = cli_open_device();
    if (!dev)
        return 1;
    clce_device_info info;
    if (clce_device_get_info(dev, &info) == CLCE_OK)
        printf("device: %s (%s, driver %s)\n\n", info.name, info.platform_name,
               info.driver_version);
    printf("%-21s %-34s %-16s %-14s %10s  %s\n", "op", "options", "shape", "layout", "max err",
           "result");
    tally t = {0, 0, 0};
    int host_fail = 0;
    for (int si = 0; si < nshapes && !host_fail; ++si) {
        const shape_case *sc = &shapes[si];
        for (int layout = 0; layout < L_COUNT && !host_fail; ++layout) {
            if (layout == L_CHANNELS_LAST && sc->ndim < 3)
                continue;
            if (!full && sc->ndim == 1 && layout != L_CONTIG)
                continue;
            for (int op = OP_CE_FWD; op <= OP_NLL && !host_fail; ++op)
                for (int i = 0; i < nl && !host_fail; ++i) {
                    if (op == OP_NLL && (lopts[i].tdt == CLCE_F32 || lopts[i].smoothing > 0))
                        continue;
                    if (run_one(dev, &t, (op_kind)op, &lopts[i], 0, sc->ndim, sc->sizes, layout) !=
                        0)
                        host_fail = 1;
                }
            const int dims[2] = {sc->ndim == 1 ? 0 : 1, -1};
            for (int op = OP_SOFTMAX; op <= OP_LOG_SOFTMAX && !host_fail; ++op)
                for (int d = 0; d < 2 && !host_fail; ++d)
                    if (run_one(dev, &t, (op_kind)op, NULL, dims[d], sc->ndim, sc->sizes, layout) !=
                        0)
                        host_fail = 1;
        }
    }
    clce_device_destroy(dev);
    printf("\n%d passed, %d failed, %d skipped\n", t.pass, t.fail, t.skip);
    if (host_fail)
        return 1;
    if (t.fail)
        return cli_error("check: %d case(s) failed (see the table above)", t.fail);
    return 0;
}
