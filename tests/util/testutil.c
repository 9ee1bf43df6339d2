/*
 * testutil.c - see testutil.h.
 */
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static clce_device *g_dev;

clce_device *tu_device(void) {
    if (!g_dev) {
        clce_status st = clce_device_create(NULL, &g_dev);
        if (st != CLCE_OK)
            ck_abort_msg("no OpenCL device: %s: %s", clce_status_name(st),
                         clce_last_error_detail());
    }
    return g_dev;
}

int tu_run_suite(Suite *s) {
    SRunner *sr = srunner_create(s);
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    clce_device_destroy(g_dev);
    g_dev = NULL;
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

cl_mem tu_buffer(size_t bytes, const void *init) {
    clce_device *dev = tu_device();
    cl_int err;
    size_t n = bytes ? bytes : 1;
    cl_mem b = clCreateBuffer(clce_device_context(dev), CL_MEM_READ_WRITE, n, NULL, &err);
    ck_assert_msg(err == CL_SUCCESS, "clCreateBuffer(%zu) = %d", n, err);
    void *zero = NULL;
    if (!init) {
        zero = calloc(1, n);
        init = zero;
        bytes = n;
    }
    if (bytes)
        tu_write(b, bytes, init);
    free(zero);
    return b;
}

void tu_read(cl_mem b, size_t bytes, void *out) {
    if (!bytes)
        return;
    cl_int err = clEnqueueReadBuffer(clce_device_queue(tu_device()), b, CL_TRUE, 0, bytes, out, 0,
                                     NULL, NULL);
    ck_assert_msg(err == CL_SUCCESS, "clEnqueueReadBuffer = %d", err);
}

void tu_write(cl_mem b, size_t bytes, const void *in) {
    if (!bytes)
        return;
    cl_int err = clEnqueueWriteBuffer(clce_device_queue(tu_device()), b, CL_TRUE, 0, bytes, in, 0,
                                      NULL, NULL);
    ck_assert_msg(err == CL_SUCCESS, "clEnqueueWriteBuffer = %d", err);
}

void tu_release(cl_mem b) {
    if (b)
        clReleaseMemObject(b);
}

int tu_small_mode(void) {
    const char *s = getenv("CLCE_TEST_SMALL");
    return s && *s && strcmp(s, "0") != 0;
}

const char *tu_layout_name(tu_layout l) {
    static const char *names[] = {"contig", "channels_last", "padded", "reversed", "offset"};
    return (unsigned)l < TU_LAYOUT_COUNT ? names[l] : "?";
}

clce_tensor_desc tu_make_layout(clce_dtype dtype, int ndim, const int64_t *sizes, tu_layout l,
                                size_t *buffer_elems) {
    clce_tensor_desc d;
    memset(&d, 0, sizeof d);
    d.dtype = dtype;
    d.ndim = ndim;
    int order[CLCE_MAX_DIMS]; /* memory order, outermost first */
    for (int k = 0; k < ndim; ++k)
        order[k] = k;
    if (l == TU_CHANNELS_LAST && ndim >= 3) {
        /* 0, 2, 3, ..., 1 */
        int j = 0;
        order[j++] = 0;
        for (int k = 2; k < ndim; ++k)
            order[j++] = k;
        order[j++] = 1;
    } else if (l == TU_REVERSED) {
        for (int k = 0; k < ndim; ++k)
            order[k] = ndim - 1 - k;
    }
    int64_t stride = l == TU_PADDED ? 2 : 1;
    for (int j = ndim - 1; j >= 0; --j) {
        int k = order[j];
        d.sizes[k] = sizes[k];
        d.strides[k] = stride;
        int64_t s = sizes[k] > 0 ? sizes[k] : 1;
        stride *= l == TU_PADDED ? s + 1 : s;
    }
    d.offset = l == TU_OFFSET ? 7 : (l == TU_PADDED ? 3 : 0);
    int64_t extent = 0, numel = 1;
    for (int k = 0; k < ndim; ++k) {
        numel *= sizes[k];
        extent += (sizes[k] > 0 ? sizes[k] - 1 : 0) * d.strides[k];
    }
    size_t need = (size_t)(d.offset + extent + 1) + (l == TU_OFFSET ? 5 : 0);
    if (numel == 0)
        need = (size_t)d.offset + 1;
    *buffer_elems = need;
    return d;
}

static void walk(const clce_tensor_desc *d, const void *src, void *dst, size_t esize, int scatter) {
    int64_t numel = clce_tensor_numel(d);
    int64_t idx[CLCE_MAX_DIMS] = {0};
    for (int64_t i = 0; i < numel; ++i) {
        int64_t off = d->offset;
        for (int k = 0; k < d->ndim; ++k)
            off += idx[k] * d->strides[k];
        if (scatter)
            memcpy((char *)dst + (size_t)off * esize, (const char *)src + (size_t)i * esize, esize);
        else
            memcpy((char *)dst + (size_t)i * esize, (const char *)src + (size_t)off * esize, esize);
        for (int k = d->ndim - 1; k >= 0; --k) {
            if (++idx[k] < d->sizes[k])
                break;
            idx[k] = 0;
        }
    }
}

void tu_scatter(const clce_tensor_desc *d, const void *logical, void *buffer, size_t esize) {
    walk(d, logical, buffer, esize, 1);
}

void tu_gather(const clce_tensor_desc *d, const void *buffer, void *logical, size_t esize) {
    walk(d, buffer, logical, esize, 0);
}

uint64_t tu_rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

double tu_uniform(uint64_t *s, double lo, double hi) {
    return lo + (hi - lo) * ((double)(tu_rng_next(s) >> 11) * 0x1.0p-53);
}

int64_t tu_randint(uint64_t *s, int64_t lo, int64_t hi) {
    return lo + (int64_t)(tu_rng_next(s) % (uint64_t)(hi - lo));
}

static int close_enough(double got, double ref, double atol, double rtol) {
    if (isnan(ref) || isnan(got))
        return isnan(ref) && isnan(got);
    if (isinf(ref) || isinf(got))
        return got == ref;
    return fabs(got - ref) <= atol + rtol * fabs(ref);
}

int tu_check_close(const char *what, const float *got, const double *ref, size_t n, double atol,
                   double rtol) {
    double max_abs = 0, max_rel = 0;
    size_t worst = 0, bad = 0;
    for (size_t i = 0; i < n; ++i) {
        double g = got[i], r = ref[i];
        if (!close_enough(g, r, atol, rtol)) {
            if (bad < 5)
                fprintf(stderr, "  %s: MISMATCH [%zu] got %.9g ref %.17g\n", what, i, g, r);
            ++bad;
        }
        if (isfinite(g) && isfinite(r)) {
            double e = fabs(g - r);
            if (e > max_abs) {
                max_abs = e;
                worst = i;
            }
            double rel = e / (fabs(r) > 1e-30 ? fabs(r) : 1e-30);
            if (rel > max_rel && fabs(r) > 1e-30)
                max_rel = rel;
        }
    }
    fprintf(stderr, "%s: n=%zu max_abs=%.3g (at %zu) max_rel=%.3g atol=%.3g rtol=%.3g %s\n", what,
            n, max_abs, worst, max_rel, atol, rtol, bad ? "FAIL" : "ok");
    return bad == 0;
}

int tu_check_scalar(const char *what, float got, double ref, double atol, double rtol) {
    return tu_check_close(what, &got, &ref, 1, atol, rtol);
}

tu_err_stats tu_errs;

/* 1 or 0 when got/ref involve NaN or inf (equal or not), -1 for two finite values. */
static int same_special(double g, double r) {
    if (isnan(r) || isnan(g))
        return isnan(r) && isnan(g);
    if (isinf(r) || isinf(g))
        return g == r;
    return -1;
}

int tu_check_out(const char *what, const float *got, const double *ref, size_t n) {
    int bad = 0;
    for (size_t i = 0; i < n; ++i) {
        int sp = same_special(got[i], ref[i]);
        if (sp >= 0) {
            if (!sp && bad++ < 5)
                fprintf(stderr, "  %s[%zu]: got %.9g ref %.17g\n", what, i, got[i], ref[i]);
            continue;
        }
        double e = fabs(got[i] - ref[i]), tol = 1e-5 * fmax(1.0, fabs(ref[i]));
        tu_errs.out_ratio = fmax(tu_errs.out_ratio, e / tol);
        tu_errs.out_abs = fmax(tu_errs.out_abs, e);
        if (e > tol && bad++ < 5)
            fprintf(stderr, "  %s[%zu]: got %.9g ref %.17g\n", what, i, got[i], ref[i]);
    }
    return bad == 0;
}

int tu_check_grad(const char *what, const float *got, const double *ref, size_t n) {
    double mx = 0;
    for (size_t i = 0; i < n; ++i)
        if (isfinite(ref[i]))
            mx = fmax(mx, fabs(ref[i]));
    int bad = 0;
    for (size_t i = 0; i < n; ++i) {
        int sp = same_special(got[i], ref[i]);
        if (sp >= 0) {
            if (!sp && bad++ < 5)
                fprintf(stderr, "  %s[%zu]: got %.9g ref %.17g\n", what, i, got[i], ref[i]);
            continue;
        }
        double e = fabs(got[i] - ref[i]), tol = 1e-4 * fabs(ref[i]) + 1e-6 * mx;
        if (tol > 0)
            tu_errs.grad_ratio = fmax(tu_errs.grad_ratio, e / tol);
        if (ref[i] != 0)
            tu_errs.grad_rel = fmax(tu_errs.grad_rel, e / fabs(ref[i]));
        if (e > tol && bad++ < 5)
            fprintf(stderr, "  %s[%zu]: got %.9g ref %.17g (tol %.3g)\n", what, i, got[i], ref[i],
                    tol);
    }
    return bad == 0;
}
