/*
 * suite_nll.c - nll_loss forward and backward against PyTorch golden values (nll_random.golden
 * and the nll cases of ce_spec.golden, with int64/int32/uint8 targets and strided layouts), the
 * double reference for every testutil layout, the identity cross_entropy = nll_loss(log_softmax),
 * empty and all-ignored inputs, device-side target errors (nothing written), a table of bad
 * arguments with statuses and detail strings, and bitwise determinism of sum/mean.
 * Tolerances: loss within 1e-5 * max(1, |ref|); gradients 1e-4 * |ref| + 1e-6 * max|ref grad|.
 * CLCE_TEST_SMALL=1 runs a small subset (for oclgrind).
 */
#include "golden.h"
#include "ref.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a full forward + backward through strided layouts ---- */
typedef struct nll_run {
    int ndim;
    int64_t sizes[CLCE_MAX_DIMS];
    int class_axis; /* resolved, for the reference and the desc */
    int use_default_axis;
    clce_dtype tdtype;
    int reduction;
    int64_t ignore_index;
    const float *weight;          /* NULL or C values */
    tu_layout lx, lt, lo, lg, ld; /* input, target, loss (none), grad_output (none), grad_input */
} nll_run;

static void row_shape(const nll_run *r, int *nd, int64_t *sz) {
    *nd = 0;
    for (int k = 0; k < r->ndim; ++k)
        if (k != r->class_axis)
            sz[(*nd)++] = r->sizes[k];
}

static size_t numel(int nd, const int64_t *s) {
    size_t n = 1;
    for (int k = 0; k < nd; ++k)
        n *= (size_t)s[k];
    return n;
}

static void store_target(clce_dtype dt, void *buf, size_t i, int64_t v) {
    if (dt == CLCE_I64)
        ((int64_t *)buf)[i] = v;
    else if (dt == CLCE_I32)
        ((int32_t *)buf)[i] = (int32_t)v;
    else
        ((uint8_t *)buf)[i] = (uint8_t)v;
}

/* Runs forward (out: rows or 1 value) and backward (dx: input numel) on the device. */
static clce_status run_nll(const nll_run *r, const float *x, const int64_t *t, const float *go,
                           float *out, float *dx) {
    clce_device *dev = tu_device();
    int rnd;
    int64_t rsz[CLCE_MAX_DIMS];
    row_shape(r, &rnd, rsz);
    size_t n = numel(r->ndim, r->sizes), rows = numel(rnd, rsz);
    size_t esz = clce_dtype_size(r->tdtype), ex, et, eo, eg, ed;
    clce_tensor_desc dxd = tu_make_layout(CLCE_F32, r->ndim, r->sizes, r->lx, &ex);
    clce_tensor_desc dt = tu_make_layout(r->tdtype, rnd, rsz, r->lt, &et);
    clce_tensor_desc ddx = tu_make_layout(CLCE_F32, r->ndim, r->sizes, r->ld, &ed);
    const int none = r->reduction == 0;
    clce_tensor_desc dout = none ? tu_make_layout(CLCE_F32, rnd, rsz, r->lo, &eo)
                                 : tu_make_layout(CLCE_F32, 0, NULL, r->lo, &eo);
    clce_tensor_desc dgo = none ? tu_make_layout(CLCE_F32, rnd, rsz, r->lg, &eg)
                                : tu_make_layout(CLCE_F32, 0, NULL, r->lg, &eg);
    float *bx = calloc(ex, 4), *bo = calloc(eo, 4), *bg = calloc(eg, 4), *bd = calloc(ed, 4);
    void *bt = calloc(et, 8), *tl = calloc(rows + 1, 8);
    for (size_t i = 0; i < rows; ++i)
        store_target(r->tdtype, tl, i, t[i]);
    tu_scatter(&dxd, x, bx, 4);
    tu_scatter(&dt, tl, bt, esz);
    tu_scatter(&dgo, go, bg, 4);
    int64_t C = r->sizes[r->class_axis];
    clce_tensor_desc dw = clce_tensor_contiguous(CLCE_F32, 1, &C);
    cl_mem mx = tu_buffer(ex * 4, bx), mt = tu_buffer(et * esz, bt), mo = tu_buffer(eo * 4, NULL),
           mg = tu_buffer(eg * 4, bg), md = tu_buffer(ed * 4, NULL),
           mw = r->weight ? tu_buffer((size_t)C * 4, r->weight) : NULL;
    clce_loss_desc ld;
    clce_loss_desc_init(&ld);
    ld.reduction = (clce_reduction)r->reduction;
    ld.ignore_index = r->ignore_index;
    if (!r->use_default_axis)
        ld.class_axis = r->class_axis;
    clce_status st = clce_nll_loss_forward(dev, &ld, &dxd, mx, &dt, mt, mw ? &dw : NULL, mw, &dout,
                                           mo, 0, NULL, NULL);
    ck_assert_msg(st == CLCE_OK, "forward: %s %s", clce_status_name(st), clce_last_error_detail());
    st = clce_device_sync(dev);
    if (st == CLCE_OK) {
        tu_read(mo, eo * 4, bo);
        tu_gather(&dout, bo, out, 4);
        clce_tensor_desc xshape = clce_tensor_contiguous(CLCE_F32, r->ndim, r->sizes);
        clce_status sb = clce_nll_loss_backward(dev, &ld, &xshape, &dt, mt, mw ? &dw : NULL, mw,
                                                &dgo, mg, &ddx, md, 0, NULL, NULL);
        ck_assert_msg(sb == CLCE_OK, "backward: %s %s", clce_status_name(sb),
                      clce_last_error_detail());
        st = clce_device_sync(dev);
        tu_read(md, ed * 4, bd);
        tu_gather(&ddx, bd, dx, 4);
    }
    (void)n;
    tu_release(mx);
    tu_release(mt);
    tu_release(mo);
    tu_release(mg);
    tu_release(md);
    tu_release(mw);
    free(bx);
    free(bo);
    free(bg);
    free(bd);
    free(bt);
    free(tl);
    return st;
}

/* ---- golden ---- */
static void run_golden_file(const char *file) {
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s", CLCE_GOLDEN_DIR, file);
    golden_case *cases = NULL;
    size_t count = 0;
    ck_assert_msg(golden_load(path, &cases, &count, err, sizeof err) == 0, "%s", err);
    int ran = 0;
    for (size_t i = 0; i < count; ++i) {
        const golden_case *c = &cases[i];
        if (strcmp(c->op, "nll_loss") != 0)
            continue;
        if (tu_small_mode() && (c->input_numel > 40 || ran >= 8))
            continue;
        const char *only = getenv("CLCE_TEST_CASE"); /* debugging: one golden case by name */
        if (only && *only && strcmp(only, c->name) != 0)
            continue;
        ck_assert_str_eq(c->target_kind, "index");
        nll_run r;
        memset(&r, 0, sizeof r);
        r.ndim = c->input_ndim;
        for (int k = 0; k < r.ndim; ++k)
            r.sizes[k] = c->input_shape[k];
        r.class_axis = r.ndim == 1 ? 0 : 1;
        r.use_default_axis = 1;
        r.reduction = !strcmp(c->reduction, "none") ? 0 : !strcmp(c->reduction, "sum") ? 1 : 2;
        r.ignore_index = c->ignore_index;
        float w[64];
        if (c->has_weight) {
            ck_assert_uint_le(c->weight_numel, 64);
            for (size_t j = 0; j < c->weight_numel; ++j)
                w[j] = (float)c->weight[j];
            r.weight = w;
        }
        size_t n = c->input_numel, rows = c->target_numel;
        float *x = calloc(n + 1, 4), *go = calloc(rows + 1, 4), *out = calloc(rows + 1, 4),
              *dx = calloc(n + 1, 4);
        int64_t *t = calloc(rows + 1, 8);
        int fits_u8 = 1, fits_i32 = 1;
        for (size_t j = 0; j < n; ++j)
            x[j] = (float)c->input[j];
        for (size_t j = 0; j < c->grad_output_numel; ++j)
            go[j] = (float)c->grad_output[j];
        for (size_t j = 0; j < rows; ++j) {
            t[j] = c->target_index[j];
            fits_u8 = fits_u8 && t[j] >= 0 && t[j] < 256;
            fits_i32 = fits_i32 && t[j] >= INT32_MIN && t[j] <= INT32_MAX;
        }
        /* uint8 cannot hold a negative ignore_index match; only when every target fits */
        const clce_dtype dts[3] = {CLCE_I64, CLCE_I32, CLCE_U8};
        for (int di = 0; di < 3; ++di) {
            if ((dts[di] == CLCE_U8 && !fits_u8) || (dts[di] == CLCE_I32 && !fits_i32))
                continue;
            if (tu_small_mode() && di > 0)
                continue;
            r.tdtype = dts[di];
            r.lx = (tu_layout)((i + di) % TU_LAYOUT_COUNT);
            r.lt = (tu_layout)((i + di + 1) % TU_LAYOUT_COUNT);
            r.lo = (tu_layout)((i + di + 2) % TU_LAYOUT_COUNT);
            r.lg = (tu_layout)((i + di + 3) % TU_LAYOUT_COUNT);
            r.ld = (tu_layout)((i + di + 4) % TU_LAYOUT_COUNT);
            clce_status st = run_nll(&r, x, t, go, out, dx);
            ck_assert_msg(st == CLCE_OK, "%s: %s %s", c->name, clce_status_name(st),
                          clce_last_error_detail());
            char what[200];
            snprintf(what, sizeof what, "%s/%s (%s) output", file, c->name,
                     clce_dtype_name(r.tdtype));
            ck_assert_msg(tu_check_out(what, out, c->output, c->output_numel), "%s", what);
            snprintf(what, sizeof what, "%s/%s (%s) grad_input", file, c->name,
                     clce_dtype_name(r.tdtype));
            ck_assert_msg(tu_check_grad(what, dx, c->grad_input, n), "%s", what);
        }
        free(x);
        free(go);
        free(out);
        free(dx);
        free(t);
        ++ran;
    }
    fprintf(stderr, "%s: %d nll_loss cases\n", file, ran);
    ck_assert_int_gt(ran, 0);
    golden_free(cases, count);
}

START_TEST(golden_random) {
    run_golden_file("nll_random.golden");
}
END_TEST

START_TEST(golden_spec) {
    run_golden_file("ce_spec.golden");
}
END_TEST

/* ---- layouts, reductions, weights, ignore_index vs the double reference ---- */
static void vs_ref(nll_run *r, uint64_t *rng, const char *label) {
    int rnd;
    int64_t rsz[CLCE_MAX_DIMS];
    row_shape(r, &rnd, rsz);
    size_t n = numel(r->ndim, r->sizes), rows = numel(rnd, rsz);
    int64_t C = r->sizes[r->class_axis];
    float *x = calloc(n + 1, 4), *go = calloc(rows + 1, 4), *out = calloc(rows + 1, 4),
          *dx = calloc(n + 1, 4), w[64];
    double *xd = calloc(n + 1, 8), *god = calloc(rows + 1, 8), *ro = calloc(rows + 1, 8),
           *rg = calloc(n + 1, 8), wd[64];
    int64_t *t = calloc(rows + 1, 8);
    for (size_t i = 0; i < n; ++i)
        xd[i] = x[i] = (float)tu_uniform(rng, -4, 1);
    for (size_t i = 0; i < rows; ++i) {
        god[i] = go[i] = (float)tu_uniform(rng, -2, 2);
        t[i] = tu_randint(rng, 0, C + 1);
        if (t[i] == C)
            t[i] = r->ignore_index;
    }
    for (int64_t c = 0; c < C; ++c)
        wd[c] = w[c] = (float)tu_uniform(rng, 0.1, 2.0);
    if (r->weight)
        r->weight = w;
    run_nll(r, x, t, go, out, dx);
    ref_loss_opts o = {r->reduction, r->ignore_index, 0.0, r->weight ? wd : NULL};
    ref_nll_loss(xd, r->ndim, r->sizes, r->class_axis, t, &o, ro, god, rg);
    char what[200];
    snprintf(what, sizeof what, "%s red %d w %d layouts %s/%s/%s/%s/%s target %s", label,
             r->reduction, r->weight != NULL, tu_layout_name(r->lx), tu_layout_name(r->lt),
             tu_layout_name(r->lo), tu_layout_name(r->lg), tu_layout_name(r->ld),
             clce_dtype_name(r->tdtype));
    ck_assert_msg(tu_check_out(what, out, ro, r->reduction == 0 ? rows : 1), "%s loss", what);
    ck_assert_msg(tu_check_grad(what, dx, rg, n), "%s grad", what);
    free(x);
    free(go);
    free(out);
    free(dx);
    free(xd);
    free(god);
    free(ro);
    free(rg);
    free(t);
}

START_TEST(layouts_vs_reference) {
    static const int64_t shapes[][6] = {
        {1, 5}, {2, 6, 4}, {3, 3, 4, 5}, {4, 2, 3, 4, 3}, {5, 2, 3, 2, 2, 3}};
    uint64_t rng = 99;
    int nshapes = tu_small_mode() ? 3 : 5;
    const float one = 1;
    for (int si = 0; si < nshapes; ++si)
        for (int red = 0; red < 3; ++red)
            for (int l = 0; l < TU_LAYOUT_COUNT; ++l)
                for (int hw = 0; hw < 2; ++hw) {
                    if (tu_small_mode() && (l > 1 || hw))
                        continue;
                    nll_run r;
                    memset(&r, 0, sizeof r);
                    r.ndim = (int)shapes[si][0];
                    memcpy(r.sizes, &shapes[si][1], sizeof(int64_t) * (size_t)r.ndim);
                    r.class_axis = r.ndim == 1 ? 0 : 1;
                    r.use_default_axis = 1;
                    r.tdtype = (clce_dtype)(l % 2 ? CLCE_I32 : CLCE_I64);
                    r.reduction = red;
                    r.ignore_index = (l == 3) ? 1 : -100; /* an in-range ignore_index too */
                    r.weight = hw ? &one : NULL;
                    r.lx = (tu_layout)l;
                    r.lt = (tu_layout)((l + 1) % TU_LAYOUT_COUNT);
                    r.lo = (tu_layout)((l + 2) % TU_LAYOUT_COUNT);
                    r.lg = (tu_layout)((l + 3) % TU_LAYOUT_COUNT);
                    r.ld = (tu_layout)((l + 4) % TU_LAYOUT_COUNT);
                    vs_ref(&r, &rng, "layouts");
                }
    /* a non-default class axis (clce extension): the last dim of a 3-D input */
    for (int red = 0; red < 3; ++red) {
        nll_run r;
        memset(&r, 0, sizeof r);
        r.ndim = 3;
        r.sizes[0] = 2;
        r.sizes[1] = 3;
        r.sizes[2] = 4;
        r.class_axis = 2;
        r.tdtype = CLCE_I64;
        r.reduction = red;
        r.ignore_index = -100;
        r.weight = &one;
        r.lx = TU_PADDED;
        r.ld = TU_REVERSED;
        vs_ref(&r, &rng, "class_axis 2");
    }
}
END_TEST

/* ---- cross_entropy == nll_loss(log_softmax) ---- */
START_TEST(identity_with_cross_entropy) {
    clce_device *dev = tu_device();
    uint64_t rng = 4242;
    const int64_t sz[3] = {4, 5, tu_small_mode() ? 3 : 33};
    const size_t n = 4 * 5 * (size_t)sz[2], rows = 4 * (size_t)sz[2];
    const int64_t rsz[2] = {4, sz[2]}, C = 5;
    float *x = malloc(n * 4), w[5];
    int64_t *t = malloc(rows * 8);
    for (size_t i = 0; i < n; ++i)
        x[i] = (float)tu_uniform(&rng, -6, 6);
    for (size_t i = 0; i < rows; ++i)
        t[i] = i % 7 == 3 ? -100 : tu_randint(&rng, 0, C);
    for (int c = 0; c < 5; ++c)
        w[c] = (float)tu_uniform(&rng, 0.2, 2);
    clce_tensor_desc dx = clce_tensor_contiguous(CLCE_F32, 3, sz);
    clce_tensor_desc dt = clce_tensor_contiguous(CLCE_I64, 2, rsz);
    clce_tensor_desc dw = clce_tensor_contiguous(CLCE_F32, 1, &C);
    cl_mem mx = tu_buffer(n * 4, x), mlp = tu_buffer(n * 4, NULL), mt = tu_buffer(rows * 8, t),
           mw = tu_buffer(20, w), m1 = tu_buffer(rows * 4, NULL), m2 = tu_buffer(rows * 4, NULL);
    ck_assert_int_eq(clce_log_softmax_forward(dev, 1, &dx, mx, &dx, mlp, 0, NULL, NULL), CLCE_OK);
    float *a = malloc(rows * 4), *b = malloc(rows * 4);
    for (int red = 0; red < 3; ++red)
        for (int hw = 0; hw < 2; ++hw) {
            clce_loss_desc ld;
            clce_loss_desc_init(&ld);
            ld.reduction = (clce_reduction)red;
            clce_tensor_desc dout = red == 0 ? clce_tensor_contiguous(CLCE_F32, 2, rsz)
                                             : clce_tensor_contiguous(CLCE_F32, 0, NULL);
            ck_assert_int_eq(clce_nll_loss_forward(dev, &ld, &dx, mlp, &dt, mt, hw ? &dw : NULL,
                                                   hw ? mw : NULL, &dout, m1, 0, NULL, NULL),
                             CLCE_OK);
            ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
            ck_assert_int_eq(clce_cross_entropy_forward_sync(dev, &ld, &dx, mx, &dt, mt,
                                                             hw ? &dw : NULL, hw ? mw : NULL, &dout,
                                                             m2, NULL),
                             CLCE_OK);
            size_t k = red == 0 ? rows : 1;
            tu_read(m1, k * 4, a);
            tu_read(m2, k * 4, b);
            double *bd = malloc(k * 8);
            for (size_t i = 0; i < k; ++i)
                bd[i] = b[i];
            char what[64];
            snprintf(what, sizeof what, "identity red %d w %d", red, hw);
            ck_assert_msg(tu_check_out(what, a, bd, k), "%s", what);
            size_t same = 0;
            for (size_t i = 0; i < k; ++i)
                same += memcmp(&a[i], &b[i], 4) == 0;
            fprintf(stderr, "%s: %zu of %zu values bit-identical\n", what, same, k);
            free(bd);
        }
    free(a);
    free(b);
    free(x);
    free(t);
    tu_release(mx);
    tu_release(mlp);
    tu_release(mt);
    tu_release(mw);
    tu_release(m1);
    tu_release(m2);
}
END_TEST

/* ---- empty and all-ignored inputs (semantics 11) ---- */
START_TEST(empty_and_all_ignored) {
    uint64_t rng = 5;
    /* (0, 3): none empty, sum 0, mean NaN; (2, 3, 0) likewise */
    const int64_t shapes[2][4] = {{2, 0, 3}, {3, 2, 3, 0}};
    for (int si = 0; si < 2; ++si)
        for (int red = 0; red < 3; ++red) {
            nll_run r;
            memset(&r, 0, sizeof r);
            r.ndim = (int)shapes[si][0];
            memcpy(r.sizes, &shapes[si][1], sizeof(int64_t) * (size_t)r.ndim);
            r.class_axis = 1;
            r.use_default_axis = 1;
            r.tdtype = CLCE_I64;
            r.reduction = red;
            r.ignore_index = -100;
            float out[2] = {42, 42}, go[1] = {1}, dx[1] = {42};
            int64_t t[1] = {0};
            ck_assert_int_eq(run_nll(&r, NULL, t, go, out, dx), CLCE_OK);
            if (red == 1)
                ck_assert_float_eq(out[0], 0.0f);
            else if (red == 2)
                ck_assert(isnan(out[0]));
            else
                ck_assert_float_eq(out[0], 42.0f); /* nothing to write */
        }
    /* every target ignored: none zeros, sum 0, mean NaN, gradient all zeros */
    for (int red = 0; red < 3; ++red) {
        nll_run r;
        memset(&r, 0, sizeof r);
        r.ndim = 2;
        r.sizes[0] = 4;
        r.sizes[1] = 3;
        r.class_axis = 1;
        r.use_default_axis = 1;
        r.tdtype = CLCE_I32;
        r.reduction = red;
        r.ignore_index = 7;
        float x[12], out[4], go[4] = {1, 2, 3, 4}, dx[12];
        int64_t t[4] = {7, 7, 7, 7};
        for (int i = 0; i < 12; ++i)
            x[i] = (float)tu_uniform(&rng, -3, 0);
        ck_assert_int_eq(run_nll(&r, x, t, go, out, dx), CLCE_OK);
        if (red == 2)
            ck_assert(isnan(out[0]));
        else
            for (int i = 0; i < (red == 0 ? 4 : 1); ++i)
                ck_assert_float_eq(out[i], 0.0f);
        for (int i = 0; i < 12; ++i)
            ck_assert_float_eq(dx[i], 0.0f);
    }
    /* weights of valid rows summing to 0 under mean: loss NaN, those rows' gradients NaN */
    {
        nll_run r;
        memset(&r, 0, sizeof r);
        r.ndim = 2;
        r.sizes[0] = 2;
        r.sizes[1] = 3;
        r.class_axis = 1;
        r.use_default_axis = 1;
        r.tdtype = CLCE_I64;
        r.reduction = 2;
        r.ignore_index = -100;
        const float w[3] = {0, 1, 0};
        r.weight = w;
        float x[6] = {-1, -2, -3, -1, -2, -3}, out[1], go[1] = {1}, dx[6];
        int64_t t[2] = {0, 2};
        ck_assert_int_eq(run_nll(&r, x, t, go, out, dx), CLCE_OK);
        ck_assert(isnan(out[0]));
        ck_assert(isnan(dx[0]) && isnan(dx[5]));
        ck_assert_float_eq(dx[1], 0.0f);
    }
}
END_TEST

/* ---- device-side target errors: nothing written ---- */
START_TEST(bad_target_writes_nothing) {
    clce_device *dev = tu_device();
    const int64_t sz[2] = {3, 4}, rs[1] = {3};
    const float x[12] = {0}, sentinel[12] = {42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42, 42};
    const int64_t targets[2][3] = {{0, 4, 1}, {-1, 0, 0}};
    for (int ti = 0; ti < 2; ++ti)
        for (int red = 0; red < 3; ++red) {
            clce_tensor_desc dx = clce_tensor_contiguous(CLCE_F32, 2, sz);
            clce_tensor_desc dt = clce_tensor_contiguous(CLCE_I64, 1, rs);
            clce_tensor_desc dout = red == 0 ? clce_tensor_contiguous(CLCE_F32, 1, rs)
                                             : clce_tensor_contiguous(CLCE_F32, 0, NULL);
            cl_mem mx = tu_buffer(48, x), mt = tu_buffer(24, targets[ti]),
                   mo = tu_buffer(48, sentinel), mg = tu_buffer(48, sentinel),
                   md = tu_buffer(48, sentinel);
            clce_loss_desc ld;
            clce_loss_desc_init(&ld);
            ld.reduction = (clce_reduction)red;
            ck_assert_int_eq(clce_nll_loss_forward(dev, &ld, &dx, mx, &dt, mt, NULL, NULL, &dout,
                                                   mo, 0, NULL, NULL),
                             CLCE_OK);
            ck_assert_int_eq(clce_device_sync(dev), CLCE_ERROR_TARGET_OUT_OF_RANGE);
            ck_assert_msg(strstr(clce_last_error_detail(), ti == 0 ? "4" : "-1") != NULL, "%s",
                          clce_last_error_detail());
            ck_assert_int_eq(clce_nll_loss_backward(dev, &ld, &dx, &dt, mt, NULL, NULL, &dout, mg,
                                                    NULL, md, 0, NULL, NULL),
                             CLCE_OK);
            ck_assert_int_eq(clce_device_sync(dev), CLCE_ERROR_TARGET_OUT_OF_RANGE);
            float got[12];
            tu_read(mo, 48, got);
            for (int i = 0; i < 12; ++i)
                ck_assert_float_eq(got[i], 42.0f);
            tu_read(md, 48, got);
            for (int i = 0; i < 12; ++i)
                ck_assert_float_eq(got[i], 42.0f);
            /* the report cleared the record: a good op works again */
            ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
            tu_release(mx);
            tu_release(mt);
            tu_release(mo);
            tu_release(mg);
            tu_release(md);
        }
}
END_TEST

/* ---- bad arguments ---- */
START_TEST(bad_arguments) {
    clce_device *dev = tu_device();
    const int64_t sz[2] = {2, 3}, rs[1] = {2}, rs3[1] = {3}, w4[1] = {4}, bad1[2] = {2, 1};
    const float sentinel[8] = {42, 42, 42, 42, 42, 42, 42, 42};
    struct {
        const char *name;
        int backward;
        clce_status want;
        const char *detail;
    } cases[] = {
        {"label smoothing", 0, CLCE_ERROR_INVALID_ARGUMENT, "label_smoothing"},
        {"0-d input", 0, CLCE_ERROR_INVALID_SHAPE, "input: ndim is 0"},
        {"0-d input bwd", 1, CLCE_ERROR_INVALID_SHAPE, "input: ndim is 0"},
        {"input dtype", 0, CLCE_ERROR_INVALID_DTYPE, "input: dtype is int64"},
        {"input dtype bwd", 1, CLCE_ERROR_INVALID_DTYPE, "input: dtype is int64"},
        {"target dtype f32", 0, CLCE_ERROR_INVALID_DTYPE, "target: dtype is float32"},
        {"prob target", 0, CLCE_ERROR_INVALID_DTYPE, "target: has the input's shape"},
        {"batch mismatch", 0, CLCE_ERROR_INVALID_SHAPE,
         "Expected input batch_size (2) to match target batch_size (3)"},
        {"multi-target", 0, CLCE_ERROR_INVALID_SHAPE, "target: shape (2, 1)"},
        {"weight size", 0, CLCE_ERROR_INVALID_SHAPE,
         "weight: weight tensor should be defined either for all 3 classes"},
        {"weight size bwd", 1, CLCE_ERROR_INVALID_SHAPE, "weight: weight tensor should"},
        {"loss shape", 0, CLCE_ERROR_INVALID_SHAPE, "loss: shape (3), expected (2)"},
        {"loss stride 0", 0, CLCE_ERROR_INVALID_LAYOUT, "loss: strides[0] is 0"},
        {"loss too small", 0, CLCE_ERROR_INVALID_LAYOUT, "loss: offset"},
        {"input too small", 0, CLCE_ERROR_INVALID_LAYOUT, "input: offset"},
        {"grad_output shape", 1, CLCE_ERROR_INVALID_SHAPE, "grad_output: shape (3)"},
        {"grad_input shape", 1, CLCE_ERROR_INVALID_SHAPE, "grad_input: shape (3, 2)"},
        {"grad_input stride 0", 1, CLCE_ERROR_INVALID_LAYOUT, "grad_input: strides[1] is 0"},
        {"grad_input too small", 1, CLCE_ERROR_INVALID_LAYOUT, "grad_input: offset"},
        {"reduction", 0, CLCE_ERROR_INVALID_ARGUMENT, "desc->reduction is 7"},
        {"class_axis", 1, CLCE_ERROR_INVALID_ARGUMENT, "desc->class_axis is 5"},
        {"device NULL", 1, CLCE_ERROR_INVALID_ARGUMENT, "device is NULL"},
        {"wait list", 0, CLCE_ERROR_INVALID_ARGUMENT, "wait_events is NULL"},
    };
    const int64_t targets[6] = {0, 2, 1, 0, 0, 0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        const char *n = cases[i].name;
        clce_tensor_desc dx = clce_tensor_contiguous(CLCE_F32, 2, sz);
        clce_tensor_desc dt = clce_tensor_contiguous(CLCE_I64, 1, rs);
        clce_tensor_desc dout = clce_tensor_contiguous(CLCE_F32, 1, rs);
        clce_tensor_desc dgi = dx;
        clce_tensor_desc dw = clce_tensor_contiguous(CLCE_F32, 1, rs3);
        clce_loss_desc ld;
        clce_loss_desc_init(&ld);
        ld.reduction = CLCE_REDUCTION_NONE;
        cl_mem mx = tu_buffer(32, sentinel), mt = tu_buffer(48, targets),
               mo = tu_buffer(32, sentinel), md = tu_buffer(32, sentinel),
               mw = tu_buffer(16, sentinel), small = tu_buffer(4, sentinel);
        cl_mem px = mx, po = mo, pd = md, pw = NULL;
        const clce_tensor_desc *pdw = NULL;
        clce_device *d = dev;
        cl_uint nwait = 0;
        if (!strcmp(n, "label smoothing"))
            ld.label_smoothing = 0.1;
        else if (!strncmp(n, "0-d input", 9))
            dx = clce_tensor_contiguous(CLCE_F32, 0, NULL);
        else if (!strncmp(n, "input dtype", 11))
            dx.dtype = CLCE_I64;
        else if (!strcmp(n, "target dtype f32"))
            dt.dtype = CLCE_F32;
        else if (!strcmp(n, "prob target"))
            dt = clce_tensor_contiguous(CLCE_I64, 2, sz);
        else if (!strcmp(n, "batch mismatch"))
            dt = clce_tensor_contiguous(CLCE_I64, 1, rs3);
        else if (!strcmp(n, "multi-target"))
            dt = clce_tensor_contiguous(CLCE_I64, 2, bad1);
        else if (!strncmp(n, "weight size", 11)) {
            dw = clce_tensor_contiguous(CLCE_F32, 1, w4);
            pdw = &dw;
            pw = mw;
        } else if (!strcmp(n, "loss shape") || !strcmp(n, "grad_output shape"))
            dout = clce_tensor_contiguous(CLCE_F32, 1, rs3);
        else if (!strcmp(n, "loss stride 0"))
            dout.strides[0] = 0;
        else if (!strcmp(n, "loss too small"))
            po = small;
        else if (!strcmp(n, "input too small"))
            px = small;
        else if (!strcmp(n, "grad_input shape")) {
            const int64_t o[2] = {3, 2};
            dgi = clce_tensor_contiguous(CLCE_F32, 2, o);
        } else if (!strcmp(n, "grad_input stride 0"))
            dgi.strides[1] = 0;
        else if (!strcmp(n, "grad_input too small"))
            pd = small;
        else if (!strcmp(n, "reduction"))
            ld.reduction = (clce_reduction)7;
        else if (!strcmp(n, "class_axis"))
            ld.class_axis = 5;
        else if (!strcmp(n, "device NULL"))
            d = NULL;
        else if (!strcmp(n, "wait list"))
            nwait = 2;
        clce_status st;
        if (!cases[i].backward)
            st = clce_nll_loss_forward(d, &ld, &dx, px, &dt, mt, pdw, pw, &dout, po, nwait, NULL,
                                       NULL);
        else
            st = clce_nll_loss_backward(d, &ld, &dx, &dt, mt, pdw, pw, &dout, mo, &dgi, pd, nwait,
                                        NULL, NULL);
        ck_assert_msg(st == cases[i].want, "%s: got %s, want %s (%s)", n, clce_status_name(st),
                      clce_status_name(cases[i].want), clce_last_error_detail());
        ck_assert_msg(strstr(clce_last_error_detail(), cases[i].detail) != NULL,
                      "%s: detail \"%s\" lacks \"%s\"", n, clce_last_error_detail(),
                      cases[i].detail);
        float got[8];
        tu_read(cases[i].backward ? md : mo, 32, got);
        for (int j = 0; j < 8; ++j)
            ck_assert_float_eq(got[j], 42.0f);
        tu_release(mx);
        tu_release(mt);
        tu_release(mo);
        tu_release(md);
        tu_release(mw);
        tu_release(small);
    }
}
END_TEST

/* ---- determinism: same bits twice for sum and mean (forward and backward) ---- */
START_TEST(determinism) {
    uint64_t rng = 31337;
    const int64_t sz[2] = {tu_small_mode() ? 300 : 100000, 7};
    for (int red = 1; red <= 2; ++red) {
        nll_run r;
        memset(&r, 0, sizeof r);
        r.ndim = 2;
        memcpy(r.sizes, sz, sizeof sz);
        r.class_axis = 1;
        r.use_default_axis = 1;
        r.tdtype = CLCE_I64;
        r.reduction = red;
        r.ignore_index = 3;
        size_t n = (size_t)(sz[0] * sz[1]), rows = (size_t)sz[0];
        float *x = malloc(n * 4), *dx1 = malloc(n * 4), *dx2 = malloc(n * 4), o1, o2, go = 1.5f;
        int64_t *t = malloc(rows * 8);
        float w[7];
        for (int c = 0; c < 7; ++c)
            w[c] = (float)tu_uniform(&rng, 0.1, 3);
        r.weight = w;
        for (size_t i = 0; i < n; ++i)
            x[i] = (float)tu_uniform(&rng, -20, 0);
        for (size_t i = 0; i < rows; ++i)
            t[i] = tu_randint(&rng, 0, 7);
        ck_assert_int_eq(run_nll(&r, x, t, &go, &o1, dx1), CLCE_OK);
        ck_assert_int_eq(run_nll(&r, x, t, &go, &o2, dx2), CLCE_OK);
        ck_assert_msg(memcmp(&o1, &o2, 4) == 0, "reduction %d: %.9g vs %.9g", red, o1, o2);
        ck_assert(memcmp(dx1, dx2, n * 4) == 0);
        /* and against the reference */
        double *xd = malloc(n * 8), wd[7], ro, god = go;
        for (size_t i = 0; i < n; ++i)
            xd[i] = x[i];
        for (int c = 0; c < 7; ++c)
            wd[c] = w[c];
        ref_loss_opts o = {red, 3, 0.0, wd};
        ref_nll_loss(xd, 2, sz, 1, t, &o, &ro, &god, NULL);
        ck_assert_msg(tu_check_out("determinism vs ref", &o1, &ro, 1), "red %d", red);
        free(x);
        free(dx1);
        free(dx2);
        free(t);
        free(xd);
    }
}
END_TEST

START_TEST(report) {
    fprintf(stderr,
            "nll max errors: loss %.3g of tolerance (max abs %.3g); gradient %.3g of "
            "tolerance\n",
            tu_errs.out_ratio, tu_errs.out_abs, tu_errs.grad_ratio);
    ck_assert(tu_errs.out_ratio <= 1.0 && tu_errs.grad_ratio <= 1.0);
}
END_TEST

static Suite *nll_suite(void) {
    Suite *s = suite_create("nll");
    /* one test case per test, so CK_RUN_CASE=<name> runs one of them (e.g. under oclgrind) */
    const struct {
        const char *name;
        const TTest *test;
    } tests[] = {
        {"golden_random", golden_random},
        {"golden_spec", golden_spec},
        {"layouts_vs_reference", layouts_vs_reference},
        {"identity_with_cross_entropy", identity_with_cross_entropy},
        {"empty_and_all_ignored", empty_and_all_ignored},
        {"bad_target_writes_nothing", bad_target_writes_nothing},
        {"bad_arguments", bad_arguments},
        {"determinism", determinism},
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
    return tu_run_suite(nll_suite());
}
