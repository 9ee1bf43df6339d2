/*
 * suite_ce_backward.c - cross_entropy backward, probability-target forward and the fused loss +
 * gradient.  Every golden cross_entropy case (PyTorch float64) runs through forward (with
 * stats), backward with and without stats, and fused in place and out of place; random shapes
 * run in every testutil layout and with the class axis moved, against tests/ref; a
 * finite-difference check on the double reference is an independent witness.  The gradients of
 * all four paths must be identical bits.  CLCE_TEST_SMALL=1 runs a small subset (Oclgrind).
 */
#include "golden.h"
#include "ref.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* worst errors over the whole run, printed at the end */
static double g_max_loss_err, g_max_grad_err;

typedef struct ce_case {
    const char *name;
    int ndim;
    int64_t sizes[CLCE_MAX_DIMS];
    int k;         /* class axis (resolved) */
    int desc_axis; /* what desc.class_axis gets */
    const double *x;
    const int64_t *tidx; /* one of tidx / tprob */
    const double *tprob;
    const double *w;
    int64_t ii;
    double eps;
    int red;
    const double *go; /* rows values (none) or one */
    clce_dtype tdtype;
    tu_layout lay;
    const double *ref_loss; /* NULL: computed with tests/ref */
    const double *ref_grad;
} ce_case;

static float *to_f32(const double *d, size_t n) {
    float *f = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; ++i)
        f[i] = (float)d[i];
    return f;
}

static double *f32_round(const double *d, size_t n) {
    double *r = malloc(sizeof(double) * (n ? n : 1));
    for (size_t i = 0; i < n; ++i)
        r[i] = (double)(float)d[i];
    return r;
}

static cl_mem make_strided(const clce_tensor_desc *d, size_t elems, const void *logical,
                           size_t esize, unsigned char fill) {
    unsigned char *buf = malloc(elems * esize);
    memset(buf, fill, elems * esize);
    if (logical)
        tu_scatter(d, logical, buf, esize);
    cl_mem m = tu_buffer(elems * esize, buf);
    free(buf);
    return m;
}

static void read_logical(const clce_tensor_desc *d, size_t elems, cl_mem m, void *logical,
                         size_t esize) {
    unsigned char *buf = malloc(elems * esize);
    tu_read(m, elems * esize, buf);
    tu_gather(d, buf, logical, esize);
    free(buf);
}

static void track_grad(const float *got, const double *ref, size_t n) {
    double mx = 0;
    for (size_t i = 0; i < n; ++i)
        if (isfinite(ref[i]) && fabs(ref[i]) > mx)
            mx = fabs(ref[i]);
    for (size_t i = 0; i < n; ++i)
        if (isfinite(ref[i]) && isfinite(got[i])) {
            double e = fabs(got[i] - ref[i]) / (1e-6 * mx + 1e-4 * fabs(ref[i]) + 1e-300);
            if (e > g_max_grad_err)
                g_max_grad_err = e;
        }
}

static int check_grad(const char *what, const float *got, const double *ref, size_t n) {
    double mx = 0;
    for (size_t i = 0; i < n; ++i)
        if (isfinite(ref[i]) && fabs(ref[i]) > mx)
            mx = fabs(ref[i]);
    track_grad(got, ref, n);
    return tu_check_close(what, got, ref, n, 1e-6 * mx + 1e-30, 1e-4);
}

static int check_loss(const char *what, const float *got, const double *ref, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (isfinite(ref[i]) && isfinite(got[i])) {
            double e = fabs(got[i] - ref[i]) / fmax(1.0, fabs(ref[i]));
            if (e > g_max_loss_err)
                g_max_loss_err = e;
        }
    if (n == 1)
        return tu_check_scalar(what, got[0], ref[0], 1e-5 * fmax(1.0, fabs(ref[0])), 0);
    return tu_check_close(what, got, ref, n, 1e-5, 1e-5);
}

/* Runs forward(+stats), backward with/without stats, fused out of place and in place. */
static void run_case(const ce_case *cc) {
    char what[256];
    const ref_geom rg = ref_geom_of(cc->ndim, cc->sizes, cc->k);
    size_t numel = 1;
    for (int j = 0; j < cc->ndim; ++j)
        numel *= (size_t)cc->sizes[j];
    const size_t rows = (size_t)rg.rows, C = (size_t)rg.classes;
    int64_t tsizes[CLCE_MAX_DIMS];
    int tnd = 0;
    for (int j = 0; j < cc->ndim; ++j)
        if (j != cc->k)
            tsizes[tnd++] = cc->sizes[j];
    const int none = cc->red == 0;
    const size_t nloss = none ? rows : 1;

    /* float32 inputs; the reference sees the same values */
    double *xd = f32_round(cc->x, numel);
    float *xf = to_f32(xd, numel);
    double *wd = cc->w ? f32_round(cc->w, C) : NULL;
    float *wf = cc->w ? to_f32(wd, C) : NULL;
    double *yd = cc->tprob ? f32_round(cc->tprob, numel) : NULL;
    float *yf = cc->tprob ? to_f32(yd, numel) : NULL;
    double *god = f32_round(cc->go, nloss);
    float *gof = to_f32(god, nloss);

    double *rl = malloc(sizeof(double) * (nloss ? nloss : 1));
    double *rgr = malloc(sizeof(double) * (numel ? numel : 1));
    if (cc->ref_loss) {
        memcpy(rl, cc->ref_loss, sizeof(double) * nloss);
        memcpy(rgr, cc->ref_grad, sizeof(double) * numel);
    } else {
        ref_loss_opts o = {cc->red, cc->ii, cc->eps, wd};
        ref_cross_entropy(xd, cc->ndim, cc->sizes, cc->k, cc->tidx, yd, &o, rl, god, rgr);
    }

    const tu_layout lay = cc->lay;
    size_t xe, te, ge, le, goe;
    clce_tensor_desc xdsc = tu_make_layout(CLCE_F32, cc->ndim, cc->sizes, lay, &xe);
    clce_tensor_desc gdsc =
        tu_make_layout(CLCE_F32, cc->ndim, cc->sizes, (tu_layout)((lay + 1) % 5), &ge);
    clce_tensor_desc tdsc;
    cl_mem tbuf;
    if (cc->tprob) {
        tdsc = tu_make_layout(CLCE_F32, cc->ndim, cc->sizes, (tu_layout)((lay + 3) % 5), &te);
        tbuf = make_strided(&tdsc, te, yf, 4, 0);
    } else {
        tdsc = tu_make_layout(cc->tdtype, tnd, tsizes, lay, &te);
        if (cc->tdtype == CLCE_I32) {
            int32_t *t32 = malloc(sizeof(int32_t) * (rows ? rows : 1));
            for (size_t i = 0; i < rows; ++i)
                t32[i] = (int32_t)cc->tidx[i];
            tbuf = make_strided(&tdsc, te, t32, 4, 0);
            free(t32);
        } else {
            tbuf = make_strided(&tdsc, te, cc->tidx, 8, 0);
        }
    }
    clce_tensor_desc ldsc, godsc;
    if (none) {
        ldsc = tu_make_layout(CLCE_F32, tnd, tsizes, (tu_layout)((lay + 2) % 5), &le);
        godsc = tu_make_layout(CLCE_F32, tnd, tsizes, (tu_layout)((lay + 4) % 5), &goe);
    } else {
        ldsc = tu_make_layout(CLCE_F32, 0, NULL, TU_OFFSET, &le);
        godsc = tu_make_layout(CLCE_F32, 0, NULL, TU_PADDED, &goe);
    }
    clce_tensor_desc wdsc = clce_tensor_contiguous(CLCE_F32, 1, (const int64_t[]){(int64_t)C});
    cl_mem xb = make_strided(&xdsc, xe, xf, 4, 0);
    cl_mem wb = wf ? tu_buffer(C * 4, wf) : NULL;
    cl_mem gob = make_strided(&godsc, goe, gof, 4, 0);
    cl_mem lb = make_strided(&ldsc, le, NULL, 4, 0xff);
    cl_mem sb = tu_buffer(2 * rows * 4 + 4, NULL);

    clce_device *dev = tu_device();
    clce_loss_desc ld;
    clce_loss_desc_init(&ld);
    ld.reduction = (clce_reduction)cc->red;
    ld.ignore_index = cc->ii;
    ld.label_smoothing = cc->eps;
    ld.class_axis = cc->desc_axis;
    const clce_tensor_desc *wdp = wb ? &wdsc : NULL;

    float *lossf = malloc(sizeof(float) * (nloss ? nloss : 1));
    float *g1 = malloc(sizeof(float) * (numel ? numel : 1));
    float *g2 = malloc(sizeof(float) * (numel ? numel : 1));
    const size_t gbytes = sizeof(float) * numel;

    /* forward with stats */
    clce_status st =
        clce_cross_entropy_forward_sync(dev, &ld, &xdsc, xb, &tdsc, tbuf, wdp, wb, &ldsc, lb, sb);
    ck_assert_msg(st == CLCE_OK, "%s forward: %s %s", cc->name, clce_status_name(st),
                  clce_last_error_detail());
    read_logical(&ldsc, le, lb, lossf, 4);
    snprintf(what, sizeof what, "%s [%s] forward loss", cc->name, tu_layout_name(lay));
    ck_assert_msg(check_loss(what, lossf, rl, nloss), "%s", what);

    /* backward with stats */
    cl_mem gb = make_strided(&gdsc, ge, NULL, 4, 0x7f);
    st = clce_cross_entropy_backward(dev, &ld, &xdsc, xb, &tdsc, tbuf, wdp, wb, &godsc, gob, sb,
                                     &gdsc, gb, 0, NULL, NULL);
    ck_assert_msg(st == CLCE_OK, "%s backward: %s %s", cc->name, clce_status_name(st),
                  clce_last_error_detail());
    ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
    read_logical(&gdsc, ge, gb, g1, 4);
    snprintf(what, sizeof what, "%s [%s] backward(stats) grad", cc->name, tu_layout_name(lay));
    ck_assert_msg(check_grad(what, g1, rgr, numel), "%s", what);

    /* backward without stats: identical bits */
    tu_release(gb);
    gb = make_strided(&gdsc, ge, NULL, 4, 0x7f);
    st = clce_cross_entropy_backward(dev, &ld, &xdsc, xb, &tdsc, tbuf, wdp, wb, &godsc, gob, NULL,
                                     &gdsc, gb, 0, NULL, NULL);
    ck_assert_int_eq(st, CLCE_OK);
    ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
    read_logical(&gdsc, ge, gb, g2, 4);
    ck_assert_msg(memcmp(g1, g2, gbytes) == 0, "%s: backward without stats differs in bits",
                  cc->name);

    /* fused out of place */
    tu_release(gb);
    gb = make_strided(&gdsc, ge, NULL, 4, 0x7f);
    cl_mem lb2 = make_strided(&ldsc, le, NULL, 4, 0xff);
    st = clce_cross_entropy_fused(dev, &ld, &xdsc, xb, &tdsc, tbuf, wdp, wb, &ldsc, lb2, &godsc,
                                  gob, &gdsc, gb, 0, NULL, NULL);
    ck_assert_msg(st == CLCE_OK, "%s fused: %s %s", cc->name, clce_status_name(st),
                  clce_last_error_detail());
    ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
    read_logical(&gdsc, ge, gb, g2, 4);
    ck_assert_msg(memcmp(g1, g2, gbytes) == 0, "%s: fused differs in bits from forward+backward",
                  cc->name);
    read_logical(&ldsc, le, lb2, lossf, 4);
    snprintf(what, sizeof what, "%s [%s] fused loss", cc->name, tu_layout_name(lay));
    ck_assert_msg(check_loss(what, lossf, rl, nloss), "%s", what);

    /* fused in place (grad_input = input, NULL desc), no loss */
    cl_mem xb2 = make_strided(&xdsc, xe, xf, 4, 0);
    st = clce_cross_entropy_fused(dev, &ld, &xdsc, xb2, &tdsc, tbuf, wdp, wb, NULL, NULL, &godsc,
                                  gob, NULL, xb2, 0, NULL, NULL);
    ck_assert_int_eq(st, CLCE_OK);
    ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
    read_logical(&xdsc, xe, xb2, g2, 4);
    ck_assert_msg(memcmp(g1, g2, gbytes) == 0, "%s: in-place fused differs in bits", cc->name);

    tu_release(xb2);
    tu_release(lb2);
    tu_release(gb);
    tu_release(xb);
    if (wb)
        tu_release(wb);
    tu_release(gob);
    tu_release(lb);
    tu_release(sb);
    tu_release(tbuf);
    free(lossf);
    free(g1);
    free(g2);
    free(xd);
    free(xf);
    free(wd);
    free(wf);
    free(yd);
    free(yf);
    free(god);
    free(gof);
    free(rl);
    free(rgr);
}

/* ---- golden ---------------------------------------------------------------------------- */

static void run_golden_file(const char *file, int int32_every) {
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/%s", CLCE_GOLDEN_DIR, file);
    golden_case *cases = NULL;
    size_t n = 0;
    ck_assert_msg(golden_load(path, &cases, &n, err, sizeof err) == 0, "%s", err);
    size_t ran = 0;
    const size_t limit = tu_small_mode() ? 6 : n;
    for (size_t i = 0; i < n && ran < limit; ++i) {
        golden_case *gc = &cases[i];
        if (strcmp(gc->op, "cross_entropy") != 0 || !gc->grad_input || !gc->grad_output)
            continue;
        ce_case cc;
        memset(&cc, 0, sizeof cc);
        cc.name = gc->name;
        cc.ndim = gc->input_ndim;
        for (int j = 0; j < cc.ndim; ++j)
            cc.sizes[j] = gc->input_shape[j];
        cc.k = cc.ndim == 1 ? 0 : 1;
        cc.desc_axis = CLCE_CLASS_AXIS_DEFAULT;
        cc.x = gc->input;
        int64_t *t64 = NULL;
        if (gc->target_index) {
            t64 = malloc(sizeof(int64_t) * (gc->target_numel ? gc->target_numel : 1));
            for (size_t j = 0; j < gc->target_numel; ++j)
                t64[j] = gc->target_index[j];
            cc.tidx = t64;
        } else {
            cc.tprob = gc->target_prob;
        }
        cc.w = gc->has_weight ? gc->weight : NULL;
        cc.ii = gc->ignore_index;
        cc.eps = gc->label_smoothing;
        cc.red = strcmp(gc->reduction, "none") == 0 ? 0 : strcmp(gc->reduction, "sum") == 0 ? 1 : 2;
        cc.go = gc->grad_output;
        cc.tdtype = CLCE_I64;
        cc.lay = (tu_layout)(i % TU_LAYOUT_COUNT);
        cc.ref_loss = gc->output;
        cc.ref_grad = gc->grad_input;
        run_case(&cc);
        if (t64 && int32_every && i % (size_t)int32_every == 0) {
            cc.tdtype = CLCE_I32;
            cc.lay = TU_CONTIG;
            run_case(&cc);
        }
        free(t64);
        ++ran;
    }
    ck_assert_msg(ran > 0, "%s: no cross_entropy case ran", file);
    fprintf(stderr,
            "%s: %zu cases; max loss err %.3g (x max(1,|ref|)), max grad err %.3g (x tol)\n", file,
            ran, g_max_loss_err, g_max_grad_err);
    golden_free(cases, n);
}

START_TEST(golden_spec) {
    run_golden_file("ce_spec.golden", 3);
}
END_TEST

START_TEST(golden_random) {
    run_golden_file("ce_random.golden", 4);
}
END_TEST

/* ---- random shapes in every layout --------------------------------------------------- */

typedef struct rnd_data {
    double *x, *y, *w, *go;
    int64_t *t;
} rnd_data;

static void rnd_fill(uint64_t *rng, const ce_case *cc, rnd_data *d, int prob, int ignore_some) {
    const ref_geom rg = ref_geom_of(cc->ndim, cc->sizes, cc->k);
    size_t numel = (size_t)(rg.rows * rg.classes);
    d->x = malloc(sizeof(double) * (numel + 1));
    d->y = malloc(sizeof(double) * (numel + 1));
    d->w = malloc(sizeof(double) * (size_t)(rg.classes + 1));
    d->go = malloc(sizeof(double) * (size_t)(rg.rows + 1));
    d->t = malloc(sizeof(int64_t) * (size_t)(rg.rows + 1));
    for (size_t i = 0; i < numel; ++i) {
        d->x[i] = tu_uniform(rng, -4, 4);
        d->y[i] = tu_uniform(rng, 0, prob == 2 ? 1.5 : 1);
    }
    for (int64_t c = 0; c < rg.classes; ++c)
        d->w[c] = tu_uniform(rng, 0.1, 2);
    for (int64_t r = 0; r < rg.rows; ++r) {
        d->go[r] = tu_uniform(rng, -2, 2);
        d->t[r] = tu_randint(rng, 0, rg.classes);
        if (ignore_some && tu_randint(rng, 0, 4) == 0)
            d->t[r] = cc->ii;
    }
}

static void rnd_free(rnd_data *d) {
    free(d->x);
    free(d->y);
    free(d->w);
    free(d->go);
    free(d->t);
}

static const struct {
    int ndim;
    int64_t sizes[5];
} SHAPES[] = {{2, {5, 7}},    {3, {3, 4, 5}},    {4, {2, 3, 4, 3}}, {1, {6}},
              {3, {2, 5, 1}}, {4, {2, 1, 3, 5}}, {2, {1, 1}},       {5, {2, 3, 2, 1, 3}},
              {2, {33, 3}},   {3, {4, 17, 2}}};

START_TEST(layouts_random) {
    uint64_t rng = 0x5eedu + (uint64_t)_i;
    const size_t nshapes = tu_small_mode() ? 2 : sizeof SHAPES / sizeof SHAPES[0];
    char name[128];
    for (size_t s = 0; s < nshapes; ++s) {
        for (int lay = 0; lay < TU_LAYOUT_COUNT; ++lay) {
            for (int variant = 0; variant < (tu_small_mode() ? 2 : 6); ++variant) {
                ce_case cc;
                memset(&cc, 0, sizeof cc);
                cc.ndim = SHAPES[s].ndim;
                memcpy(cc.sizes, SHAPES[s].sizes, sizeof(int64_t) * (size_t)cc.ndim);
                cc.k = cc.ndim == 1 ? 0 : 1;
                cc.desc_axis = CLCE_CLASS_AXIS_DEFAULT;
                if (_i == 1 && cc.ndim >= 2) { /* class axis moved: last, given as -1 */
                    cc.k = cc.ndim - 1;
                    cc.desc_axis = -1;
                }
                const int prob = variant % 3 == 2 ? 1 + (variant == 5) : 0;
                cc.ii = prob ? -100 : (variant & 1 ? 1 : -100);
                cc.red = (variant + lay + (int)s) % 3;
                cc.eps = variant % 2 ? 0.15 : (variant == 4 ? -0.2 : 0);
                rnd_data d;
                rnd_fill(&rng, &cc, &d, prob, 1);
                cc.x = d.x;
                if (prob)
                    cc.tprob = d.y;
                else
                    cc.tidx = d.t;
                cc.w = (variant + lay) % 2 ? d.w : NULL;
                cc.go = d.go;
                cc.tdtype = variant == 3 ? CLCE_I32 : CLCE_I64;
                cc.lay = (tu_layout)lay;
                snprintf(name, sizeof name, "rnd s%zu v%d axis%d", s, variant, cc.desc_axis);
                cc.name = name;
                run_case(&cc);
                rnd_free(&d);
            }
        }
    }
    fprintf(stderr, "layouts_random(%d): max loss err %.3g, max grad err %.3g (x tol)\n", _i,
            g_max_loss_err, g_max_grad_err);
}
END_TEST

/* ---- finite differences on the double reference vs the device gradient ------------------ */

static double ref_loss_weighted(const ce_case *cc, const double *x) {
    const ref_geom rg = ref_geom_of(cc->ndim, cc->sizes, cc->k);
    double *out = malloc(sizeof(double) * (size_t)(rg.rows + 1));
    ref_loss_opts o = {cc->red, cc->ii, cc->eps, cc->w};
    ref_cross_entropy(x, cc->ndim, cc->sizes, cc->k, cc->tidx, cc->tprob, &o, out, NULL, NULL);
    double L = 0;
    if (cc->red == 0)
        for (int64_t r = 0; r < rg.rows; ++r)
            L += cc->go[r] * out[r];
    else
        L = cc->go[0] * out[0];
    free(out);
    return L;
}

START_TEST(finite_difference) {
    uint64_t rng = 0xfd;
    double max_err = 0;
    for (int variant = 0; variant < 8; ++variant) {
        ce_case cc;
        memset(&cc, 0, sizeof cc);
        cc.ndim = variant < 4 ? 2 : 3;
        int64_t s3[3] = {2, 4, 3}, s2[2] = {3, 5};
        memcpy(cc.sizes, cc.ndim == 2 ? s2 : s3, sizeof(int64_t) * (size_t)cc.ndim);
        cc.k = 1;
        cc.desc_axis = CLCE_CLASS_AXIS_DEFAULT;
        cc.ii = -100;
        cc.red = variant % 3;
        cc.eps = variant & 1 ? 0.3 : 0;
        rnd_data d;
        rnd_fill(&rng, &cc, &d, variant >= 6, 0);
        const ref_geom rg = ref_geom_of(cc.ndim, cc.sizes, cc.k);
        size_t numel = (size_t)(rg.rows * rg.classes);
        for (size_t i = 0; i < numel; ++i) /* the device sees float32 values */
            d.x[i] = (double)(float)d.x[i];
        for (int64_t c = 0; c < rg.classes; ++c)
            d.w[c] = (double)(float)d.w[c];
        for (int64_t r = 0; r < rg.rows; ++r)
            d.go[r] = (double)(float)d.go[r];
        cc.x = d.x;
        if (variant >= 6) {
            for (size_t i = 0; i < numel; ++i)
                d.y[i] = (double)(float)d.y[i];
            cc.tprob = d.y;
        } else {
            cc.tidx = d.t;
        }
        cc.w = variant % 2 == 0 ? d.w : NULL;
        cc.go = d.go;
        /* device gradient through fused */
        clce_tensor_desc xdsc = clce_tensor_contiguous(CLCE_F32, cc.ndim, cc.sizes);
        int64_t tsz[2] = {cc.sizes[0], cc.ndim == 3 ? cc.sizes[2] : 0};
        clce_tensor_desc tdsc = cc.tprob ? clce_tensor_contiguous(CLCE_F32, cc.ndim, cc.sizes)
                                         : clce_tensor_contiguous(CLCE_I64, cc.ndim - 1, tsz);
        clce_tensor_desc wdsc = clce_tensor_contiguous(CLCE_F32, 1, &cc.sizes[1]);
        clce_tensor_desc godsc = cc.red == 0 ? clce_tensor_contiguous(CLCE_F32, cc.ndim - 1, tsz)
                                             : clce_tensor_contiguous(CLCE_F32, 0, NULL);
        float *xf = to_f32(d.x, numel), *yf = to_f32(d.y, numel), *wf = to_f32(d.w, 5);
        float *gof = to_f32(d.go, (size_t)rg.rows);
        cl_mem xb = tu_buffer(numel * 4, xf);
        cl_mem tb = cc.tprob ? tu_buffer(numel * 4, yf) : tu_buffer((size_t)rg.rows * 8, d.t);
        cl_mem wb = tu_buffer(5 * 4, wf);
        cl_mem gob = tu_buffer((size_t)rg.rows * 4, gof);
        cl_mem gb = tu_buffer(numel * 4, NULL);
        clce_loss_desc ld;
        clce_loss_desc_init(&ld);
        ld.reduction = (clce_reduction)cc.red;
        ld.label_smoothing = cc.eps;
        clce_status st = clce_cross_entropy_fused(tu_device(), &ld, &xdsc, xb, &tdsc, tb,
                                                  cc.w ? &wdsc : NULL, cc.w ? wb : NULL, NULL, NULL,
                                                  &godsc, gob, NULL, gb, 0, NULL, NULL);
        ck_assert_int_eq(st, CLCE_OK);
        ck_assert_int_eq(clce_device_sync(tu_device()), CLCE_OK);
        float *g = malloc(numel * 4);
        tu_read(gb, numel * 4, g);
        double *xp = malloc(sizeof(double) * numel);
        memcpy(xp, d.x, sizeof(double) * numel);
        const double h = 1e-4;
        for (size_t i = 0; i < numel; ++i) {
            xp[i] = d.x[i] + h;
            double lp = ref_loss_weighted(&cc, xp);
            xp[i] = d.x[i] - h;
            double lm = ref_loss_weighted(&cc, xp);
            xp[i] = d.x[i];
            double fd = (lp - lm) / (2 * h);
            double e = fabs(fd - g[i]);
            if (e > max_err)
                max_err = e;
            ck_assert_msg(e <= 1e-5 + 1e-4 * fabs(fd),
                          "fd variant %d elem %zu: device %.9g, finite difference %.9g", variant, i,
                          (double)g[i], fd);
        }
        free(xp);
        free(g);
        free(xf);
        free(yf);
        free(wf);
        free(gof);
        tu_release(xb);
        tu_release(tb);
        tu_release(wb);
        tu_release(gob);
        tu_release(gb);
        rnd_free(&d);
    }
    fprintf(stderr, "finite_difference: max |device - fd| = %.3g\n", max_err);
}
END_TEST

/* ---- explicit edge cases ------------------------------------------------------------- */

typedef struct simple_out {
    float loss[16];
    float grad[64];
} simple_out;

/* (N, C) contiguous, int64 targets, fused out of place with grad_output 1. */
static clce_status simple_fused(int64_t N, int64_t C, const float *x, const int64_t *t,
                                const float *w, int red, int64_t ii, double eps, simple_out *o) {
    int64_t sz[2] = {N, C};
    clce_tensor_desc xd = clce_tensor_contiguous(CLCE_F32, 2, sz);
    clce_tensor_desc td = clce_tensor_contiguous(CLCE_I64, 1, sz);
    clce_tensor_desc wd = clce_tensor_contiguous(CLCE_F32, 1, &C);
    clce_tensor_desc ld = red == 0 ? td : clce_tensor_contiguous(CLCE_F32, 0, NULL);
    ld.dtype = CLCE_F32;
    cl_mem xb = tu_buffer((size_t)(N * C) * 4, x), tb = tu_buffer((size_t)N * 8, t);
    cl_mem wb = w ? tu_buffer((size_t)C * 4, w) : NULL;
    cl_mem lb = tu_buffer(16 * 4, NULL), gb = tu_buffer(64 * 4, NULL);
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    d.reduction = (clce_reduction)red;
    d.ignore_index = ii;
    d.label_smoothing = eps;
    clce_status st = clce_cross_entropy_fused(tu_device(), &d, &xd, xb, &td, tb, w ? &wd : NULL, wb,
                                              &ld, lb, NULL, NULL, &xd, gb, 0, NULL, NULL);
    if (st == CLCE_OK)
        st = clce_device_sync(tu_device());
    tu_read(lb, sizeof o->loss, o->loss);
    tu_read(gb, sizeof o->grad, o->grad);
    tu_release(xb);
    tu_release(tb);
    if (wb)
        tu_release(wb);
    tu_release(lb);
    tu_release(gb);
    return st;
}

START_TEST(edge_cases) {
    simple_out o;
    /* NaN in an ignored row: loss finite, that row's gradient NaN, other rows finite */
    {
        float x[6] = {1, 2, 3, NAN, 0, 1};
        int64_t t[2] = {2, -100};
        ck_assert_int_eq(simple_fused(2, 3, x, t, NULL, 2, -100, 0, &o), CLCE_OK);
        ck_assert(isfinite(o.loss[0]));
        for (int c = 0; c < 3; ++c) {
            ck_assert(isfinite(o.grad[c]));
            ck_assert(isnan(o.grad[3 + c]));
        }
    }
    /* all ignored, mean: NaN loss, zero gradient (also with weight and eps) */
    {
        float x[6] = {1, 2, 3, 0.5f, -1, 2.5f}, w[3] = {0.2f, 1, 3};
        int64_t t[2] = {-100, -100};
        ck_assert_int_eq(simple_fused(2, 3, x, t, w, 2, -100, 0.1, &o), CLCE_OK);
        ck_assert(isnan(o.loss[0]));
        for (int i = 0; i < 6; ++i)
            ck_assert(o.grad[i] == 0.0f);
    }
    /* C = 1: loss -0 (sum 0), gradient exactly 0 */
    {
        float x[3] = {5, -2, 0.25f};
        int64_t t[3] = {0, 0, 0};
        ck_assert_int_eq(simple_fused(3, 1, x, t, NULL, 1, -100, 0.3, &o), CLCE_OK);
        ck_assert(o.loss[0] == 0.0f);
        for (int i = 0; i < 3; ++i)
            ck_assert(o.grad[i] == 0.0f);
    }
    /* -inf at the target: loss +inf, gradient finite with -1 at the target (sum) */
    {
        float x[3] = {1, -INFINITY, 2};
        int64_t t[1] = {1};
        ck_assert_int_eq(simple_fused(1, 3, x, t, NULL, 1, -100, 0, &o), CLCE_OK);
        ck_assert(isinf(o.loss[0]) && o.loss[0] > 0);
        ck_assert(fabsf(o.grad[1] + 1.0f) < 1e-6f);
        ck_assert(isfinite(o.grad[0]) && isfinite(o.grad[2]));
    }
    /* N = 0: mean NaN, sum 0, nothing else written */
    {
        ck_assert_int_eq(simple_fused(0, 3, NULL, NULL, NULL, 2, -100, 0, &o), CLCE_OK);
        ck_assert(isnan(o.loss[0]));
        ck_assert_int_eq(simple_fused(0, 3, NULL, NULL, NULL, 1, -100, 0, &o), CLCE_OK);
        ck_assert(o.loss[0] == 0.0f);
        ck_assert(o.grad[0] == 0.0f);
    }
}
END_TEST

/* ---- bad input ------------------------------------------------------------------------- */

START_TEST(bad_target_writes_nothing) {
    clce_device *dev = tu_device();
    int64_t sz[2] = {3, 4};
    float x[12];
    for (int i = 0; i < 12; ++i)
        x[i] = (float)i * 0.3f;
    int64_t t[3] = {1, 4, 2};
    clce_tensor_desc xd = clce_tensor_contiguous(CLCE_F32, 2, sz);
    clce_tensor_desc td = clce_tensor_contiguous(CLCE_I64, 1, sz);
    clce_tensor_desc sd = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    float sentinel[16];
    for (int i = 0; i < 16; ++i)
        sentinel[i] = -12345.0f;
    float one = 1.0f, got[16];
    cl_mem xb = tu_buffer(sizeof x, x), tb = tu_buffer(sizeof t, t), gob = tu_buffer(4, &one);
    cl_mem gb = tu_buffer(sizeof sentinel, sentinel), lb = tu_buffer(sizeof sentinel, sentinel);
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    for (int red = 0; red < 3; ++red) {
        d.reduction = (clce_reduction)red;
        const clce_tensor_desc *god = red == 0 ? &td : &sd;
        clce_tensor_desc gd = *god;
        gd.dtype = CLCE_F32;
        float ones[3] = {1, 1, 1};
        cl_mem gob3 = tu_buffer(sizeof ones, ones);
        clce_status st =
            clce_cross_entropy_backward(dev, &d, &xd, xb, &td, tb, NULL, NULL, &gd,
                                        red == 0 ? gob3 : gob, NULL, NULL, gb, 0, NULL, NULL);
        ck_assert_int_eq(st, CLCE_OK);
        ck_assert_int_eq(clce_device_sync(dev), CLCE_ERROR_TARGET_OUT_OF_RANGE);
        tu_read(gb, sizeof got, got);
        ck_assert(memcmp(got, sentinel, sizeof got) == 0);
        st = clce_cross_entropy_fused(dev, &d, &xd, xb, &td, tb, NULL, NULL, &gd, lb, NULL, NULL,
                                      NULL, gb, 0, NULL, NULL);
        ck_assert_int_eq(st, CLCE_OK);
        ck_assert_int_eq(clce_device_sync(dev), CLCE_ERROR_TARGET_OUT_OF_RANGE);
        tu_read(gb, sizeof got, got);
        ck_assert(memcmp(got, sentinel, sizeof got) == 0);
        tu_read(lb, sizeof got, got);
        ck_assert(memcmp(got, sentinel, sizeof got) == 0);
        /* in place: the input is untouched too */
        st = clce_cross_entropy_fused(dev, &d, &xd, xb, &td, tb, NULL, NULL, NULL, NULL, NULL, NULL,
                                      NULL, xb, 0, NULL, NULL);
        ck_assert_int_eq(st, CLCE_OK);
        ck_assert_int_eq(clce_device_sync(dev), CLCE_ERROR_TARGET_OUT_OF_RANGE);
        tu_read(xb, sizeof x, got);
        ck_assert(memcmp(got, x, sizeof x) == 0);
        tu_release(gob3);
    }
    /* the device recovers after the report */
    t[1] = 3;
    tu_write(tb, sizeof t, t);
    d.reduction = CLCE_REDUCTION_SUM;
    ck_assert_int_eq(clce_cross_entropy_backward(dev, &d, &xd, xb, &td, tb, NULL, NULL, &sd, gob,
                                                 NULL, NULL, gb, 0, NULL, NULL),
                     CLCE_OK);
    ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
    tu_read(gb, sizeof got, got);
    ck_assert(got[0] != sentinel[0]);
    tu_release(xb);
    tu_release(tb);
    tu_release(gob);
    tu_release(gb);
    tu_release(lb);
}
END_TEST

START_TEST(bad_shapes) {
    clce_device *dev = tu_device();
    int64_t sz[2] = {3, 4}, bad[2] = {3, 5}, two = 2;
    clce_tensor_desc xd = clce_tensor_contiguous(CLCE_F32, 2, sz);
    clce_tensor_desc td = clce_tensor_contiguous(CLCE_I64, 1, sz);
    clce_tensor_desc god_none = clce_tensor_contiguous(CLCE_F32, 1, sz);
    clce_tensor_desc god_bad = clce_tensor_contiguous(CLCE_F32, 1, &two);
    clce_tensor_desc gid_bad = clce_tensor_contiguous(CLCE_F32, 2, bad);
    clce_tensor_desc sd = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    cl_mem xb = tu_buffer(64 * 4, NULL), tb = tu_buffer(3 * 8, NULL), gob = tu_buffer(64 * 4, NULL);
    cl_mem gb = tu_buffer(64 * 4, NULL);
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    d.reduction = CLCE_REDUCTION_NONE;
    ck_assert_int_eq(clce_cross_entropy_backward(dev, &d, &xd, xb, &td, tb, NULL, NULL, &god_bad,
                                                 gob, NULL, NULL, gb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_SHAPE);
    ck_assert_int_eq(clce_cross_entropy_backward(dev, &d, &xd, xb, &td, tb, NULL, NULL, &sd, gob,
                                                 NULL, NULL, gb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_SHAPE);
    ck_assert_int_eq(clce_cross_entropy_backward(dev, &d, &xd, xb, &td, tb, NULL, NULL, &god_none,
                                                 gob, NULL, &gid_bad, gb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_SHAPE);
    d.reduction = CLCE_REDUCTION_MEAN;
    ck_assert_int_eq(clce_cross_entropy_backward(dev, &d, &xd, xb, &td, tb, NULL, NULL, &god_none,
                                                 gob, NULL, NULL, gb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_SHAPE);
    ck_assert_int_eq(clce_cross_entropy_fused(dev, &d, &xd, xb, &td, tb, NULL, NULL, NULL, NULL,
                                              &god_none, gob, &gid_bad, gb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_SHAPE);
    /* in place with a different descriptor */
    clce_tensor_desc xd2 = xd;
    xd2.offset = 1;
    ck_assert_int_eq(clce_cross_entropy_fused(dev, &d, &xd, xb, &td, tb, NULL, NULL, NULL, NULL,
                                              NULL, NULL, &xd2, xb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_ARGUMENT);
    /* stats too small */
    cl_mem small = tu_buffer(8, NULL);
    ck_assert_int_eq(clce_cross_entropy_backward(dev, &d, &xd, xb, &td, tb, NULL, NULL, &sd, gob,
                                                 small, NULL, gb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_LAYOUT);
    /* prob target with ignore_index >= 0 */
    clce_tensor_desc pd = clce_tensor_contiguous(CLCE_F32, 2, sz);
    d.ignore_index = 0;
    ck_assert_int_eq(clce_cross_entropy_backward(dev, &d, &xd, xb, &pd, gob, NULL, NULL, &sd, gob,
                                                 NULL, NULL, gb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clce_cross_entropy_forward(dev, &d, &xd, xb, &pd, gob, NULL, NULL, &sd, gb,
                                                NULL, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clce_cross_entropy_fused(dev, &d, &xd, xb, &pd, gob, NULL, NULL, NULL, NULL,
                                              NULL, NULL, NULL, gb, 0, NULL, NULL),
                     CLCE_ERROR_INVALID_ARGUMENT);
    d.ignore_index = -1; /* any negative value is fine for prob targets */
    ck_assert_int_eq(clce_cross_entropy_fused(dev, &d, &xd, xb, &pd, gob, NULL, NULL, NULL, NULL,
                                              NULL, NULL, NULL, gb, 0, NULL, NULL),
                     CLCE_OK);
    ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
    tu_release(small);
    tu_release(xb);
    tu_release(tb);
    tu_release(gob);
    tu_release(gb);
}
END_TEST

static Suite *make_suite(void) {
    Suite *s = suite_create("ce_backward");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, edge_cases);
    tcase_add_test(tc, bad_target_writes_nothing);
    tcase_add_test(tc, bad_shapes);
    tcase_add_test(tc, golden_spec);
    if (!tu_small_mode()) {
        tcase_add_test(tc, golden_random);
        tcase_add_test(tc, finite_difference);
    }
    tcase_add_loop_test(tc, layouts_random, 0, 2);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) {
    return tu_run_suite(make_suite());
}
