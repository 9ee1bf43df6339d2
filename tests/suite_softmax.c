/*
 * suite_softmax.c - softmax / log_softmax forward and backward against PyTorch golden values
 * (softmax_random.golden and the softmax cases of ce_spec.golden) and the double reference
 * (tests/ref) for every testutil layout and every dim, special values (-inf, all -inf, +inf,
 * NaN, 0-d, empty), and a table of bad arguments with their statuses and detail strings.
 * Tolerances: outputs within 1e-5 * max(1, |ref|); gradients within 1e-4 * |ref| +
 * 1e-6 * max|ref grad|.  CLCE_TEST_SMALL=1 runs a small subset (for oclgrind).
 */
#include "golden.h"
#include "ref.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tolerance with running maxima (printed at the end) ---- */

/* ---- one forward + backward run through strided layouts ---- */
typedef struct run_spec {
    int log;
    int ndim;
    int64_t sizes[CLCE_MAX_DIMS];
    int dim;
    tu_layout lx, ly, lg, ld; /* input, output, grad_output, grad_input */
} run_spec;

static size_t numel_of(int ndim, const int64_t *sizes) {
    size_t n = 1;
    for (int k = 0; k < ndim; ++k)
        n *= (size_t)sizes[k];
    return n;
}

/* Runs forward on x and backward on (y_in, g) (y_in NULL: the forward's own output), returns the
 * logical results in y and dx. */
static void run_ops(const run_spec *s, const float *x, const float *y_in, const float *g, float *y,
                    float *dx) {
    clce_device *dev = tu_device();
    size_t n = numel_of(s->ndim, s->sizes), ex, ey, eg, ed;
    clce_tensor_desc dx_ = tu_make_layout(CLCE_F32, s->ndim, s->sizes, s->lx, &ex);
    clce_tensor_desc dy = tu_make_layout(CLCE_F32, s->ndim, s->sizes, s->ly, &ey);
    clce_tensor_desc dg = tu_make_layout(CLCE_F32, s->ndim, s->sizes, s->lg, &eg);
    clce_tensor_desc dd = tu_make_layout(CLCE_F32, s->ndim, s->sizes, s->ld, &ed);
    float *bx = calloc(ex, 4), *by = calloc(ey, 4), *bg = calloc(eg, 4), *bd = calloc(ed, 4);
    tu_scatter(&dx_, x, bx, 4);
    tu_scatter(&dg, g, bg, 4);
    cl_mem mx = tu_buffer(ex * 4, bx), my = tu_buffer(ey * 4, NULL), mg = tu_buffer(eg * 4, bg),
           md = tu_buffer(ed * 4, NULL);
    clce_status st = (s->log ? clce_log_softmax_forward
                             : clce_softmax_forward)(dev, s->dim, &dx_, mx, &dy, my, 0, NULL, NULL);
    ck_assert_msg(st == CLCE_OK, "forward: %s %s", clce_status_name(st), clce_last_error_detail());
    ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
    tu_read(my, ey * 4, by);
    tu_gather(&dy, by, y, 4);
    if (y_in) {
        tu_scatter(&dy, y_in, by, 4);
        tu_write(my, ey * 4, by);
    }
    st = (s->log ? clce_log_softmax_backward : clce_softmax_backward)(dev, s->dim, &dy, my, &dg, mg,
                                                                      &dd, md, 0, NULL, NULL);
    ck_assert_msg(st == CLCE_OK, "backward: %s %s", clce_status_name(st), clce_last_error_detail());
    ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
    tu_read(md, ed * 4, bd);
    tu_gather(&dd, bd, dx, 4);
    (void)n;
    tu_release(mx);
    tu_release(my);
    tu_release(mg);
    tu_release(md);
    free(bx);
    free(by);
    free(bg);
    free(bd);
}

/* ---- golden ---- */
static void run_golden_file(const char *file, int only_softmax_ops) {
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s", CLCE_GOLDEN_DIR, file);
    golden_case *cases = NULL;
    size_t count = 0;
    ck_assert_msg(golden_load(path, &cases, &count, err, sizeof err) == 0, "%s", err);
    int ran = 0;
    for (size_t i = 0; i < count; ++i) {
        const golden_case *c = &cases[i];
        int log = strcmp(c->op, "log_softmax") == 0;
        if (!log && strcmp(c->op, "softmax") != 0)
            continue;
        (void)only_softmax_ops;
        if (tu_small_mode() && (c->input_numel > 24 || ran >= 12))
            continue;
        run_spec s;
        memset(&s, 0, sizeof s);
        s.log = log;
        s.ndim = c->input_ndim;
        for (int k = 0; k < s.ndim; ++k)
            s.sizes[k] = c->input_shape[k];
        s.dim = c->dim;
        /* rotate layouts across cases so the golden values also see strided tensors */
        s.lx = (tu_layout)(i % TU_LAYOUT_COUNT);
        s.ly = (tu_layout)((i + 1) % TU_LAYOUT_COUNT);
        s.lg = (tu_layout)((i + 2) % TU_LAYOUT_COUNT);
        s.ld = (tu_layout)((i + 3) % TU_LAYOUT_COUNT);
        size_t n = c->input_numel;
        ck_assert_uint_eq(c->output_numel, n);
        ck_assert_ptr_nonnull(c->grad_output);
        float *x = calloc(n + 1, 4), *yin = calloc(n + 1, 4), *g = calloc(n + 1, 4),
              *y = calloc(n + 1, 4), *dx = calloc(n + 1, 4);
        for (size_t j = 0; j < n; ++j) {
            x[j] = (float)c->input[j];
            yin[j] = (float)c->output[j];
            g[j] = (float)c->grad_output[j];
        }
        run_ops(&s, x, yin, g, y, dx);
        char what[200];
        snprintf(what, sizeof what, "%s/%s output", file, c->name);
        ck_assert_msg(tu_check_out(what, y, c->output, n), "%s", what);
        snprintf(what, sizeof what, "%s/%s grad_input", file, c->name);
        ck_assert_msg(tu_check_grad(what, dx, c->grad_input, n), "%s", what);
        free(x);
        free(yin);
        free(g);
        free(y);
        free(dx);
        ++ran;
    }
    fprintf(stderr, "%s: %d softmax/log_softmax cases\n", file, ran);
    ck_assert_int_gt(ran, 0);
    golden_free(cases, count);
}

START_TEST(golden_random) {
    run_golden_file("softmax_random.golden", 1);
}
END_TEST

START_TEST(golden_spec) {
    run_golden_file("ce_spec.golden", 1);
}
END_TEST

/* ---- every layout and every dim against the double reference ---- */
static void check_vs_ref(int log, int ndim, const int64_t *sizes, int dim, tu_layout lx,
                         tu_layout ly, tu_layout lg, tu_layout ld, uint64_t *rng, double scale) {
    run_spec s;
    memset(&s, 0, sizeof s);
    s.log = log;
    s.ndim = ndim;
    memcpy(s.sizes, sizes, sizeof(int64_t) * (size_t)ndim);
    s.dim = dim;
    s.lx = lx;
    s.ly = ly;
    s.lg = lg;
    s.ld = ld;
    size_t n = numel_of(ndim, sizes);
    float *x = calloc(n + 1, 4), *g = calloc(n + 1, 4), *y = calloc(n + 1, 4),
          *dx = calloc(n + 1, 4);
    double *xd = calloc(n + 1, 8), *gd = calloc(n + 1, 8), *yr = calloc(n + 1, 8),
           *yf = calloc(n + 1, 8), *dr = calloc(n + 1, 8);
    for (size_t i = 0; i < n; ++i) {
        x[i] = (float)tu_uniform(rng, -scale, scale);
        g[i] = (float)tu_uniform(rng, -2, 2);
        xd[i] = x[i];
        gd[i] = g[i];
    }
    int k = ndim == 0 ? 0 : (dim < 0 ? dim + ndim : dim);
    ref_softmax(xd, ndim, sizes, k, log, yr);
    run_ops(&s, x, NULL, g, y, dx);
    /* the backward's reference uses the device's own y, as the op does */
    for (size_t i = 0; i < n; ++i)
        yf[i] = y[i];
    ref_softmax_backward(yf, gd, ndim, sizes, k, log, dr);
    char what[160];
    snprintf(what, sizeof what, "%s ndim %d dim %d layouts %s/%s/%s/%s",
             log ? "log_softmax" : "softmax", ndim, dim, tu_layout_name(lx), tu_layout_name(ly),
             tu_layout_name(lg), tu_layout_name(ld));
    ck_assert_msg(tu_check_out(what, y, yr, n), "%s output", what);
    ck_assert_msg(tu_check_grad(what, dx, dr, n), "%s grad_input", what);
    free(x);
    free(g);
    free(y);
    free(dx);
    free(xd);
    free(gd);
    free(yr);
    free(yf);
    free(dr);
}

START_TEST(layouts_and_dims) {
    static const int64_t shapes[][6] = {/* ndim, sizes... */
                                        {1, 7},
                                        {2, 4, 6},
                                        {3, 3, 5, 4},
                                        {4, 2, 3, 4, 5},
                                        {5, 2, 3, 1, 4, 3}};
    uint64_t rng = 12345;
    int nshapes = tu_small_mode() ? 3 : 5;
    int runs = 0;
    for (int si = 0; si < nshapes; ++si) {
        int ndim = (int)shapes[si][0];
        const int64_t *sizes = &shapes[si][1];
        for (int log = 0; log < 2; ++log)
            for (int dim = -ndim; dim < ndim; ++dim)
                for (int l = 0; l < TU_LAYOUT_COUNT; ++l) {
                    if (tu_small_mode() && l > 1)
                        continue;
                    /* input in layout l; the others rotated so each tensor differs */
                    check_vs_ref(log, ndim, sizes, dim, (tu_layout)l,
                                 (tu_layout)((l + 1) % TU_LAYOUT_COUNT),
                                 (tu_layout)((l + 3) % TU_LAYOUT_COUNT),
                                 (tu_layout)((l + 2) % TU_LAYOUT_COUNT), &rng, 5.0);
                    ++runs;
                }
    }
    ck_assert_int_gt(runs, 0);
}
END_TEST

START_TEST(long_rows_and_large_values) {
    uint64_t rng = 777;
    const int64_t wide[2] = {3, tu_small_mode() ? 100 : 5000};
    check_vs_ref(1, 2, wide, 1, TU_CONTIG, TU_PADDED, TU_CONTIG, TU_REVERSED, &rng, 30.0);
    check_vs_ref(0, 2, wide, -1, TU_REVERSED, TU_CONTIG, TU_OFFSET, TU_CONTIG, &rng, 30.0);
    const int64_t tall[2] = {tu_small_mode() ? 40 : 3000, 3};
    check_vs_ref(1, 2, tall, 0, TU_CONTIG, TU_CONTIG, TU_CONTIG, TU_CONTIG, &rng, 1000.0);
    check_vs_ref(0, 2, tall, 1, TU_PADDED, TU_OFFSET, TU_REVERSED, TU_PADDED, &rng, 1000.0);
}
END_TEST

/* ---- special values: one row each, checked elementwise ---- */
static void one_row(int log, const float *x, int C, const double *want) {
    run_spec s;
    memset(&s, 0, sizeof s);
    s.log = log;
    s.ndim = 1;
    s.sizes[0] = C;
    float g[8], y[8], dx[8];
    for (int i = 0; i < C; ++i)
        g[i] = 1.0f;
    run_ops(&s, x, NULL, g, y, dx);
    char what[64];
    snprintf(what, sizeof what, "%s special row", log ? "log_softmax" : "softmax");
    ck_assert_msg(tu_check_out(what, y, want, (size_t)C), "%s", what);
}

START_TEST(special_values) {
    const float ninf = -INFINITY, pinf = INFINITY, qnan = NAN;
    {
        float x[2] = {ninf, 0};
        double sm[2] = {0, 1}, lsm[2] = {-INFINITY, 0};
        one_row(0, x, 2, sm);
        one_row(1, x, 2, lsm);
    }
    {
        float x[3] = {ninf, ninf, ninf};
        double nan3[3] = {NAN, NAN, NAN};
        one_row(0, x, 3, nan3);
        one_row(1, x, 3, nan3);
    }
    {
        float x[3] = {0, pinf, 1};
        double nan3[3] = {NAN, NAN, NAN};
        one_row(0, x, 3, nan3);
        one_row(1, x, 3, nan3);
        float y[3] = {qnan, 0, 1};
        one_row(0, y, 3, nan3);
        one_row(1, y, 3, nan3);
    }
    {
        /* large magnitudes: the max shift prevents overflow; (x - m) - lse order */
        float x[3] = {3e38f, 3e38f, 0};
        double sm[3] = {0.5, 0.5, 0}, lsm[3] = {-0.69314718055994529, -0.69314718055994529,
                                                -3.0000000054977558e+38 - 0.69314718055994529};
        one_row(0, x, 3, sm);
        one_row(1, x, 3, lsm);
        float z[3] = {1e7f + 1, 1e7f, 1e7f - 1};
        double lz[3] = {-0.4076059644443804, -1.4076059644443804, -2.4076059644443806};
        one_row(1, z, 3, lz);
    }
}
END_TEST

START_TEST(zero_dim) {
    for (int log = 0; log < 2; ++log)
        for (int dim = -1; dim <= 0; ++dim) {
            run_spec s;
            memset(&s, 0, sizeof s);
            s.log = log;
            s.ndim = 0;
            s.dim = dim;
            s.lx = TU_OFFSET;
            s.ly = TU_PADDED;
            float x = -3.5f, g = 2.0f, y = 99, dx = 99;
            run_ops(&s, &x, NULL, &g, &y, &dx);
            ck_assert_float_eq(y, log ? 0.0f : 1.0f);
            ck_assert_float_eq(dx, 0.0f);
        }
    /* a 0-d input accepts only dims -1 and 0 */
    clce_device *dev = tu_device();
    clce_tensor_desc d = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    cl_mem a = tu_buffer(4, NULL), b = tu_buffer(4, NULL);
    ck_assert_int_eq(clce_softmax_forward(dev, 1, &d, a, &d, b, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_ARGUMENT);
    ck_assert_ptr_nonnull(strstr(clce_last_error_detail(), "[-1, 0]"));
    tu_release(a);
    tu_release(b);
}
END_TEST

START_TEST(empty) {
    clce_device *dev = tu_device();
    const int64_t shapes[3][4] = {{3, 2, 0, 3}, {0, 4, 1, 1}, {2, 0, 3, 1}};
    for (int si = 0; si < 3; ++si)
        for (int dim = 0; dim < 4; ++dim)
            for (int log = 0; log < 2; ++log) {
                clce_tensor_desc d = clce_tensor_contiguous(CLCE_F32, 4, shapes[si]);
                float sentinel = 42.0f, got = 0;
                cl_mem a = tu_buffer(4, &sentinel), b = tu_buffer(4, &sentinel);
                cl_event ev = (cl_event)1;
                clce_status st = (log ? clce_log_softmax_forward
                                      : clce_softmax_forward)(dev, dim, &d, a, &d, b, 0, NULL, &ev);
                ck_assert_int_eq(st, CLCE_OK);
                ck_assert_ptr_null(ev);
                st = (log ? clce_log_softmax_backward
                          : clce_softmax_backward)(dev, dim, &d, a, &d, a, &d, b, 0, NULL, NULL);
                ck_assert_int_eq(st, CLCE_OK);
                ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
                tu_read(b, 4, &got);
                ck_assert_float_eq(got, 42.0f);
                tu_release(a);
                tu_release(b);
            }
}
END_TEST

/* ---- bad arguments ---- */
typedef struct bad_case {
    const char *name;
    int backward;
    int dim;
    clce_status want;
    const char *detail; /* substring the detail must contain (names the argument) */
} bad_case;

START_TEST(bad_arguments) {
    clce_device *dev = tu_device();
    const int64_t sz[2] = {2, 3}, other[2] = {3, 2};
    const float sentinel[8] = {42, 42, 42, 42, 42, 42, 42, 42};
    const bad_case cases[] = {
        {"dim 2", 0, 2, CLCE_ERROR_INVALID_ARGUMENT,
         "dim: Dimension out of range (expected to "
         "be in range of [-2, 1], but got 2)"},
        {"dim -3", 0, -3, CLCE_ERROR_INVALID_ARGUMENT, "but got -3"},
        {"bwd dim 5", 1, 5, CLCE_ERROR_INVALID_ARGUMENT, "dim: Dimension out of range"},
        {"input dtype", 0, 1, CLCE_ERROR_INVALID_DTYPE, "input: dtype is int64"},
        {"output dtype", 0, 1, CLCE_ERROR_INVALID_DTYPE, "output: dtype is float64"},
        {"output shape", 0, 1, CLCE_ERROR_INVALID_SHAPE, "output: shape (3, 2)"},
        {"output stride 0", 0, 1, CLCE_ERROR_INVALID_LAYOUT, "output: strides[1] is 0"},
        {"input too small", 0, 1, CLCE_ERROR_INVALID_LAYOUT, "input: offset"},
        {"output too small", 0, 1, CLCE_ERROR_INVALID_LAYOUT, "output: offset"},
        {"input NULL desc", 0, 1, CLCE_ERROR_INVALID_ARGUMENT, "input: descriptor is NULL"},
        {"output NULL buffer", 0, 1, CLCE_ERROR_INVALID_ARGUMENT, "output: buffer is NULL"},
        {"negative stride", 0, 1, CLCE_ERROR_INVALID_LAYOUT, "input: strides[0] is -3"},
        {"wait list", 0, 1, CLCE_ERROR_INVALID_ARGUMENT, "wait_events is NULL"},
        {"device NULL", 0, 1, CLCE_ERROR_INVALID_ARGUMENT, "device is NULL"},
        {"grad_output shape", 1, 1, CLCE_ERROR_INVALID_SHAPE, "grad_output: shape (3, 2)"},
        {"grad_input shape", 1, 1, CLCE_ERROR_INVALID_SHAPE, "grad_input: shape (3, 2)"},
        {"grad_input stride 0", 1, 1, CLCE_ERROR_INVALID_LAYOUT, "grad_input: strides[0] is 0"},
        {"grad_input too small", 1, 1, CLCE_ERROR_INVALID_LAYOUT, "grad_input: offset"},
        {"grad_output dtype", 1, 1, CLCE_ERROR_INVALID_DTYPE, "grad_output: dtype is int32"},
        {"output (bwd) NULL desc", 1, 1, CLCE_ERROR_INVALID_ARGUMENT, "output: descriptor is NULL"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        const bad_case *c = &cases[i];
        clce_tensor_desc din = clce_tensor_contiguous(CLCE_F32, 2, sz);
        clce_tensor_desc dout = din, dg = din, dgi = din;
        cl_mem a = tu_buffer(sizeof sentinel, sentinel), b = tu_buffer(sizeof sentinel, sentinel),
               small = tu_buffer(8, sentinel);
        cl_mem ma = a, mb = b, mg = a, mgi = b;
        const clce_tensor_desc *pin = &din, *pout = &dout;
        cl_uint nwait = 0;
        clce_device *d = dev;
        const char *n = c->name;
        if (!strcmp(n, "input dtype"))
            din.dtype = CLCE_I64;
        else if (!strcmp(n, "output dtype"))
            dout.dtype = CLCE_F64;
        else if (!strcmp(n, "output shape"))
            dout = clce_tensor_contiguous(CLCE_F32, 2, other);
        else if (!strcmp(n, "output stride 0"))
            dout.strides[1] = 0;
        else if (!strcmp(n, "input too small"))
            ma = small;
        else if (!strcmp(n, "output too small"))
            mb = small;
        else if (!strcmp(n, "input NULL desc") || !strcmp(n, "output (bwd) NULL desc"))
            pin = NULL;
        else if (!strcmp(n, "output NULL buffer"))
            mb = NULL;
        else if (!strcmp(n, "negative stride"))
            din.strides[0] = -3;
        else if (!strcmp(n, "wait list"))
            nwait = 1;
        else if (!strcmp(n, "device NULL"))
            d = NULL;
        else if (!strcmp(n, "grad_output shape"))
            dg = clce_tensor_contiguous(CLCE_F32, 2, other);
        else if (!strcmp(n, "grad_input shape"))
            dgi = clce_tensor_contiguous(CLCE_F32, 2, other);
        else if (!strcmp(n, "grad_input stride 0"))
            dgi.strides[0] = 0;
        else if (!strcmp(n, "grad_input too small"))
            mgi = small;
        else if (!strcmp(n, "grad_output dtype"))
            dg.dtype = CLCE_I32;
        clce_status st;
        for (int log = 0; log < 2; ++log) {
            if (!c->backward)
                st = (log ? clce_log_softmax_forward
                          : clce_softmax_forward)(d, c->dim, pin, ma, pout, mb, nwait, NULL, NULL);
            else
                st = (log ? clce_log_softmax_backward : clce_softmax_backward)(
                    d, c->dim, pin, ma, &dg, mg, &dgi, mgi, nwait, NULL, NULL);
            ck_assert_msg(st == c->want, "%s: got %s, want %s (%s)", n, clce_status_name(st),
                          clce_status_name(c->want), clce_last_error_detail());
            ck_assert_msg(strstr(clce_last_error_detail(), c->detail) != NULL,
                          "%s: detail \"%s\" lacks \"%s\"", n, clce_last_error_detail(), c->detail);
        }
        /* rejected before anything was enqueued: outputs unchanged */
        float got[8];
        tu_read(b, sizeof got, got);
        for (int j = 0; j < 8; ++j)
            ck_assert_float_eq(got[j], 42.0f);
        tu_release(a);
        tu_release(b);
        tu_release(small);
    }
}
END_TEST

START_TEST(report) {
    fprintf(stderr,
            "softmax max errors: output %.3g of tolerance (max abs %.3g); gradient %.3g of "
            "tolerance (max rel %.3g)\n",
            tu_errs.out_ratio, tu_errs.out_abs, tu_errs.grad_ratio, tu_errs.grad_rel);
    ck_assert(tu_errs.out_ratio <= 1.0 && tu_errs.grad_ratio <= 1.0);
}
END_TEST

static Suite *softmax_suite(void) {
    Suite *s = suite_create("softmax");
    /* one test case per test, so CK_RUN_CASE=<name> runs one of them (e.g. under oclgrind) */
    const struct {
        const char *name;
        const TTest *test;
    } tests[] = {
        {"golden_random", golden_random},
        {"golden_spec", golden_spec},
        {"layouts_and_dims", layouts_and_dims},
        {"long_rows_and_large_values", long_rows_and_large_values},
        {"special_values", special_values},
        {"zero_dim", zero_dim},
        {"empty", empty},
        {"bad_arguments", bad_arguments},
        {"report", report},
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; ++i) {
        TCase *tc = tcase_create(tests[i].name);
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, tests[i].test);
        suite_add_tcase(s, tc);
    }
    return s;
}

int main(void) {
    return tu_run_suite(softmax_suite());
}
