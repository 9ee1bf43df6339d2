/*
 * suite_ce_fast.c - the cross_entropy forward fast paths (cl/ce_fwd_fast.cl) against the double
 * reference (tests/ref/ref.c).  Shapes are chosen to land on each variant of the CPU tuning
 * table: float16 rows (class stride 1, C >= 32, with vector and scalar tails and misaligned
 * offsets), rows split across work-items (few rows, C >= 16384) with the ordered merge, 16-lane
 * pixels (NCHW, tails of the inner dimension, reversed 2-D), 16-lane gathered tiny rows
 * (C < 32, channels-last, padded) and their transposed contiguous blocks, all with reductions
 * none/sum/mean, label smoothing + weight, ignore_index, and NaN / +inf / -inf rows.  Every case
 * runs twice and must give the same bits. Bad targets with sum/mean (check fused into the row
 * kernel) must leave the output unchanged.  ctest runs this suite three times, on any device:
 * with the device's row of the tuning table, with CLCE_TUNING=gpu (the GPU row: a work-group per
 * row, 16-lane pixels), and with the large-problem thresholds at 0 (streaming stores; 16-lane
 * kernels built for the class count, with in-register transposes of 16-row blocks), that last
 * run with one reduction per case (CE_FAST_ONE_REDUCTION=1, test_case_one_reduction).
 */
#include "ref.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SP_WIDE: a fifth of the logits 100-150 below the rest, whose exps (< e^-87) the kernels'
 * exp flushes to 0 or not depending on the path: the gradients must still be the same bits */
/* SP_RISING: each row's max well after its first chunk (the row scans' reference, see
 * scan_contig): rising across the row, one logit 30 or 120 above the rest late in the row, or
 * the second half 7 above the first */
enum { SP_NONE = 0, SP_NONFINITE = 1, SP_WIDE = 2, SP_NEGATIVE = 3, SP_RISING = 4 };

typedef struct fcase {
    const char *name;
    int ndim;
    int64_t sizes[4];
    tu_layout layout;
    double eps;
    int weight;
    int ignore;  /* every 7th target = ignore_index */
    int special; /* SP_NONFINITE: NaN / +inf / all -inf / some -inf rows */
} fcase;

/* The first element where a and b differ in bits, n where none does.  A NaN's sign is not part
 * of the result: the paths may produce NaN from different operations (seen on a CPU without
 * AVX-512: NaN from one, -NaN from the other), so two NaNs agree. */
static int64_t first_bit_diff(const float *a, const float *b, int64_t n) {
    int64_t i = 0;
    while (i < n && (memcmp(&a[i], &b[i], sizeof *a) == 0 || (isnan(a[i]) && isnan(b[i]))))
        ++i;
    return i;
}

/* Backward (with the forward's stats bs, and without), fused out of place, fused in place and
 * fused into a gradient of another layout, on the same variant: the five gradients must be the
 * same bits, and match the reference (1e-4 relative, 1e-6 * max|grad| absolute); the fused loss
 * matches the reference too. */
static void run_grad(const fcase *fc, int reduction, const clce_loss_desc *d, int64_t n,
                     int64_t rows, size_t xe, const float *xb, const double *xd, const int64_t *t,
                     const double *wd, const clce_tensor_desc *xdsc, cl_mem bx,
                     const clce_tensor_desc *tdsc, cl_mem bt, const clce_tensor_desc *wdsc,
                     cl_mem bw, const clce_tensor_desc *ldsc, cl_mem bs, const char *what) {
    const int none = reduction == CLCE_REDUCTION_NONE;
    const size_t nout = none ? (size_t)rows : 1;
    uint64_t rng = 99 + (uint64_t)reduction;
    float *go = malloc(nout * sizeof *go);
    double *god = malloc(nout * sizeof *god);
    for (size_t i = 0; i < nout; ++i) {
        go[i] = none ? (float)tu_uniform(&rng, 0.5, 1.5) : 0.7f;
        god[i] = go[i];
    }
    cl_mem bgo = tu_buffer(nout * sizeof *go, go);
    const clce_tensor_desc *wp = fc->weight ? wdsc : NULL;
    cl_mem wb = fc->weight ? bw : NULL;
    float *g[4];
    cl_mem bg = tu_buffer(xe * sizeof(float), NULL);
    cl_mem bl = tu_buffer(nout * sizeof(float), NULL);
    cl_mem bxi = tu_buffer(xe * sizeof(float), xb);
    float *lossf = malloc(nout * sizeof *lossf);
    /* bg starts every variant filled with a sentinel: an element a variant fails to write must
     * not pass with the value the variant before left there (a mutation that left the fused
     * NCHW kernel's last pending group unwritten failed the in-place variant alone) */
    float *fill = malloc(xe * sizeof *fill);
    for (size_t i = 0; i < xe; ++i)
        fill[i] = 12345.0f;
    for (int v = 0; v < 4; ++v) {
        clce_status st;
        if (v < 3)
            tu_write(bg, xe * sizeof(float), fill);
        if (v < 2)
            st = clce_cross_entropy_backward(tu_device(), d, xdsc, bx, tdsc, bt, wp, wb, ldsc, bgo,
                                             v == 0 ? bs : NULL, NULL, bg, 0, NULL, NULL);
        else
            st = clce_cross_entropy_fused(tu_device(), d, xdsc, v == 2 ? bx : bxi, tdsc, bt, wp, wb,
                                          ldsc, bl, ldsc, bgo, NULL, v == 2 ? bg : bxi, 0, NULL,
                                          NULL);
        if (st == CLCE_OK)
            st = clce_device_sync(tu_device());
        ck_assert_msg(st == CLCE_OK, "%s grad %d: %s: %s", what, v, clce_status_name(st),
                      clce_last_error_detail());
        g[v] = malloc(xe * sizeof(float));
        tu_read(v == 3 ? bxi : bg, xe * sizeof(float), g[v]);
        if (v == 2)
            tu_read(bl, nout * sizeof(float), lossf);
    }
    for (int v = 1; v < 4; ++v) {
        /* compare the logical elements (padding of the layout is not written) */
        float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
        tu_gather(xdsc, g[0], a, sizeof *a);
        tu_gather(xdsc, g[v], b, sizeof *b);
        const int64_t first = first_bit_diff(a, b, n);
        ck_assert_msg(first == n,
                      "%s: gradient %d (%s) differs in bits from backward with stats "
                      "(first at logical element %lld: %a against %a)",
                      what, v,
                      v == 1   ? "backward without stats"
                      : v == 2 ? "fused"
                               : "fused in place",
                      (long long)first, first < n ? (double)b[first] : 0.0,
                      first < n ? (double)a[first] : 0.0);
        free(a);
        free(b);
    }
    /* fused into a gradient of another layout than the input (contiguous, or channels-last
     * for a contiguous input): a group whose logits take one path (pixel-contiguous or
     * transposed) and whose gradients another must give the same bits */
    const tu_layout glay = fc->layout == TU_CONTIG ? TU_CHANNELS_LAST : TU_CONTIG;
    size_t ge;
    const clce_tensor_desc gdsc = tu_make_layout(CLCE_F32, fc->ndim, fc->sizes, glay, &ge);
    float *fill2 = malloc(ge * sizeof *fill2), *g4 = malloc(ge * sizeof *g4);
    for (size_t i = 0; i < ge; ++i)
        fill2[i] = 12345.0f;
    cl_mem bg2 = tu_buffer(ge * sizeof(float), fill2);
    clce_status st4 = clce_cross_entropy_fused(tu_device(), d, xdsc, bx, tdsc, bt, wp, wb, ldsc, bl,
                                               ldsc, bgo, &gdsc, bg2, 0, NULL, NULL);
    if (st4 == CLCE_OK)
        st4 = clce_device_sync(tu_device());
    ck_assert_msg(st4 == CLCE_OK, "%s grad in %s: %s: %s", what, tu_layout_name(glay),
                  clce_status_name(st4), clce_last_error_detail());
    tu_read(bg2, ge * sizeof(float), g4);
    {
        float *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
        tu_gather(xdsc, g[0], a, sizeof *a);
        tu_gather(&gdsc, g4, b, sizeof *b);
        const int64_t first = first_bit_diff(a, b, n);
        ck_assert_msg(first == n,
                      "%s: fused gradient in layout %s differs in bits from backward with stats "
                      "(first at logical element %lld: %a against %a)",
                      what, tu_layout_name(glay), (long long)first,
                      first < n ? (double)b[first] : 0.0, first < n ? (double)a[first] : 0.0);
        free(a);
        free(b);
    }
    free(fill2);
    free(g4);
    tu_release(bg2);
    float *gl = malloc((size_t)n * sizeof *gl);
    tu_gather(xdsc, g[2], gl, sizeof *gl);
    double *refg = malloc((size_t)n * sizeof *refg), *refl = malloc(nout * sizeof *refl);
    ref_loss_opts o = {reduction, -100, fc->eps, fc->weight ? wd : NULL};
    ref_cross_entropy(xd, fc->ndim, fc->sizes, 1, t, NULL, &o, refl, god, refg);
    double gmax = 0;
    for (int64_t i = 0; i < n; ++i)
        if (isfinite(refg[i]))
            gmax = fmax(gmax, fabs(refg[i]));
    char w2[200];
    snprintf(w2, sizeof w2, "%s fused grad", what);
    ck_assert_msg(tu_check_close(w2, gl, refg, (size_t)n, 1e-6 * gmax, 1e-4), "%s", w2);
    snprintf(w2, sizeof w2, "%s fused loss", what);
    ck_assert_msg(tu_check_close(w2, lossf, refl, nout, 1e-5, 1e-5), "%s", w2);
    for (int v = 0; v < 4; ++v)
        free(g[v]);
    free(fill);
    free(gl);
    free(lossf);
    free(refg);
    free(refl);
    free(go);
    free(god);
    tu_release(bgo);
    tu_release(bg);
    tu_release(bl);
    tu_release(bxi);
}

/* Runs one case for one reduction, twice; checks against the reference and bit equality. */
static void run_case(const fcase *fc, int reduction, uint64_t seed) {
    const int ndim = fc->ndim;
    const int64_t *sizes = fc->sizes;
    const int64_t C = sizes[1];
    int64_t n = 1, rows = 1, rsizes[4];
    int rnd = 0;
    for (int k = 0; k < ndim; ++k) {
        n *= sizes[k];
        if (k != 1) {
            rows *= sizes[k];
            rsizes[rnd++] = sizes[k];
        }
    }
    uint64_t rng = seed;
    float *x = malloc((size_t)n * sizeof *x);
    double *xd = malloc((size_t)n * sizeof *xd);
    int64_t *t = malloc((size_t)rows * sizeof *t);
    float w[70001];
    double wd[70001];
    ck_assert_int_le(C, 70001);
    for (int64_t i = 0; i < n; ++i)
        x[i] = (float)tu_uniform(&rng, -6.0, 6.0);
    for (int64_t i = 0; i < n && fc->special == SP_WIDE; ++i)
        if (i % 5 == 2)
            x[i] = (float)tu_uniform(&rng, -150.0, -100.0);
    /* every logit near -200: a shift other than the row's max underflows every exp */
    for (int64_t i = 0; i < n && fc->special == SP_NEGATIVE; ++i)
        x[i] -= 200.0f;
    if (fc->special == SP_RISING) /* its cases are (N, C): x is row-major */
        ck_assert_int_eq(ndim, 2);
    for (int64_t r = 0; r < rows && fc->special == SP_RISING; ++r)
        for (int64_t c = 0; c < C; ++c) {
            float *v = &x[r * C + c];
            if (r % 4 == 0)
                *v += (float)(40.0 * (double)c / (double)C);
            else if (r % 4 == 1 && c == C - C / 8)
                *v += 30.0f;
            else if (r % 4 == 2 && c == C - C / 5)
                *v += 120.0f;
            else if (r % 4 == 3 && c >= C / 2)
                *v += 7.0f;
        }
    for (int64_t c = 0; c < C; ++c) {
        w[c] = (float)tu_uniform(&rng, 0.25, 2.0);
        wd[c] = w[c];
    }
    ref_geom rg = ref_geom_of(ndim, sizes, 1);
    for (int64_t r = 0; r < rows; ++r)
        t[r] = fc->ignore && r % 7 == 3 ? -100 : tu_randint(&rng, 0, C);
    if (fc->special == SP_NONFINITE && rows >= 5) {
        x[ref_at(&rg, 1, C / 2)] = NAN;
        x[ref_at(&rg, 2, C - 1)] = INFINITY;
        for (int64_t c = 0; c < C; ++c)
            x[ref_at(&rg, 3, c)] = -INFINITY;
        for (int64_t c = 0; c < C; c += 3)
            if (c != t[4])
                x[ref_at(&rg, 4, c)] = -INFINITY;
    }
    /* a masked row: its first half -inf (whole chunks of it on the long rows, where the running
     * max is -inf when they are scanned), its target in the finite rest: a finite loss */
    if (fc->special == SP_NONFINITE && rows >= 6 && C >= 2) {
        t[5] = C - 1;
        for (int64_t c = 0; c < C / 2; ++c)
            x[ref_at(&rg, 5, c)] = -INFINITY;
    }
    for (int64_t i = 0; i < n; ++i)
        xd[i] = x[i];

    size_t xe;
    clce_tensor_desc xdsc = tu_make_layout(CLCE_F32, ndim, sizes, fc->layout, &xe);
    float *xb = calloc(xe, sizeof *xb);
    tu_scatter(&xdsc, x, xb, sizeof *xb);
    cl_mem bx = tu_buffer(xe * sizeof *xb, xb);
    clce_tensor_desc tdsc = clce_tensor_contiguous(CLCE_I64, rnd, rsizes);
    cl_mem bt = tu_buffer((size_t)rows * sizeof *t, t);
    clce_tensor_desc wdsc = clce_tensor_contiguous(CLCE_F32, 1, &C);
    cl_mem bw = tu_buffer((size_t)C * sizeof *w, w);
    const int none = reduction == CLCE_REDUCTION_NONE;
    clce_tensor_desc ldsc = none ? clce_tensor_contiguous(CLCE_F32, rnd, rsizes)
                                 : clce_tensor_contiguous(CLCE_F32, 0, NULL);
    const size_t nout = none ? (size_t)rows : 1;
    cl_mem bl = tu_buffer(nout * sizeof(float), NULL);
    cl_mem bs = tu_buffer((size_t)rows * 2 * sizeof(float), NULL);

    clce_loss_desc d;
    clce_loss_desc_init(&d);
    d.reduction = (clce_reduction)reduction;
    d.label_smoothing = fc->eps;

    /* runs 0 and 1 without stats; run 2 asks for stats (the same fast variant, whose stats the
     * backward and the fused call recompute bit for bit): same loss within tolerance, stats
     * checked against the reference */
    float *got[3];
    float *stats[3];
    for (int rep = 0; rep < 3; ++rep) {
        clce_status st = clce_cross_entropy_forward_sync(
            tu_device(), &d, &xdsc, bx, &tdsc, bt, fc->weight ? &wdsc : NULL,
            fc->weight ? bw : NULL, &ldsc, bl, rep < 2 ? NULL : bs);
        ck_assert_msg(st == CLCE_OK, "%s: %s: %s", fc->name, clce_status_name(st),
                      clce_last_error_detail());
        got[rep] = malloc(nout * sizeof(float));
        stats[rep] = malloc((size_t)rows * 2 * sizeof(float));
        tu_read(bl, nout * sizeof(float), got[rep]);
        tu_read(bs, (size_t)rows * 2 * sizeof(float), stats[rep]);
    }
    ck_assert_msg(memcmp(got[0], got[1], nout * sizeof(float)) == 0,
                  "%s reduction %d: two runs differ", fc->name, reduction);

    ref_loss_opts o = {reduction, -100, fc->eps, fc->weight ? wd : NULL};
    double *ref = malloc(nout * sizeof *ref);
    ref_cross_entropy(xd, ndim, sizes, 1, t, NULL, &o, ref, NULL, NULL);
    char what[160];
    snprintf(what, sizeof what, "%s red=%d eps=%g w=%d", fc->name, reduction, fc->eps, fc->weight);
    /* loss within 1e-5 * max(1, |ref|); NaN matches NaN, inf the same inf */
    for (size_t i = 0; i < nout; ++i) {
        const double g = got[0][i], rv = ref[i];
        int ok = isnan(rv)   ? isnan(g)
                 : isinf(rv) ? g == rv
                             : fabs(g - rv) <= 1e-5 * fmax(1.0, fabs(rv));
        ck_assert_msg(ok, "%s: loss[%zu] = %.9g, reference %.9g", what, i, g, rv);
        const double g2 = got[2][i];
        ok = isnan(rv)   ? isnan(g2)
             : isinf(rv) ? g2 == rv
                         : fabs(g2 - rv) <= 1e-5 * fmax(1.0, fabs(rv));
        ck_assert_msg(ok, "%s (with stats): loss[%zu] = %.9g, reference %.9g", what, i, g2, rv);
    }
    /* stats (m, lse): m is the row's max or at most ln(256) below it (a row scan's reference, see
     * clce.h), and lse = log sum exp(x - m) for that m, so m + lse is the row's logsumexp */
    for (int64_t r = 0; r < rows && fc->special != SP_NONFINITE; ++r) {
        double mx = -INFINITY, s = 0;
        for (int64_t c = 0; c < C; ++c)
            mx = fmax(mx, xd[ref_at(&rg, r, c)]);
        const double m = stats[2][2 * r];
        ck_assert_msg(m <= mx && m >= mx - log(256.0), "%s: stats m of row %lld: %.9g, max %.9g",
                      what, (long long)r, m, mx);
        for (int64_t c = 0; c < C; ++c)
            s += exp(xd[ref_at(&rg, r, c)] - m);
        /* 2e-5: the generic kernel's single float running sum drifts ~1e-5 relative over
         * 70001 classes (found here; the fast paths' 16-lane sums do not) */
        ck_assert_msg(fabs(stats[2][2 * r + 1] - log(s)) <= 2e-5 * fmax(1.0, log(s)),
                      "%s: stats lse of row %lld: %g vs %g", what, (long long)r,
                      stats[2][2 * r + 1], log(s));
    }
    run_grad(fc, reduction, &d, n, rows, xe, xb, xd, t, wd, &xdsc, bx, &tdsc, bt, &wdsc, bw, &ldsc,
             bs, what);
    for (int rep = 0; rep < 3; ++rep) {
        free(got[rep]);
        free(stats[rep]);
    }
    free(ref);
    tu_release(bx);
    tu_release(bt);
    tu_release(bw);
    tu_release(bl);
    tu_release(bs);
    free(x);
    free(xd);
    free(xb);
    free(t);
}

static const fcase CASES[] = {
    /* float16 rows: full chunks, vector tail, scalar tail, misaligned offset */
    {"vrows 37x1000", 2, {37, 1000}, TU_CONTIG, 0, 0, 0, SP_NONE},
    {"vrows 37x1000 smooth+w+ignore", 2, {37, 1000}, TU_CONTIG, 0.1, 1, 1, SP_NONE},
    {"vrows 5x4099 offset", 2, {5, 4099}, TU_OFFSET, 0.2, 1, 0, SP_NONE},
    {"vrows 9x33 offset ignore", 2, {9, 33}, TU_OFFSET, 0, 0, 1, SP_NONE},
    {"vrows 3x4x300 (N,C,L) channels-last", 3, {3, 300, 4}, TU_CHANNELS_LAST, 0.05, 1, 1, SP_NONE},
    /* several rows per item (16, or as many as fit runtime/tuning.c's budget) with a partial
     * last item; row tails of 4 and 10 logits */
    {"vrows 53x100 ignore", 2, {53, 100}, TU_CONTIG, 0, 0, 1, SP_NONE},
    {"vrows 40x202 smooth", 2, {40, 202}, TU_CONTIG, 0.1, 0, 0, SP_NONE},
    {"vrows 40x202 offset w", 2, {40, 202}, TU_OFFSET, 0, 1, 0, SP_NONE},
    /* 145 classes: rows in pairs (scan_short) grouped differently by the forward's 16-row
     * items and the gradients' 11-row ones, whose gradients must still be the same bits */
    {"vrows 45x145 ignore", 2, {45, 145}, TU_CONTIG, 0, 0, 1, SP_NONE},
    {"vrows 45x145 smooth", 2, {45, 145}, TU_CONTIG, 0.1, 0, 0, SP_NONE},
    {"vrows 30x120 offset smooth+w ignore", 2, {30, 120}, TU_OFFSET, 0.2, 1, 1, SP_NONE},
    {"vrows 3x100x7 (N,C,L) channels-last smooth+w ignore",
     3,
     {3, 100, 7},
     TU_CHANNELS_LAST,
     0.1,
     1,
     1,
     SP_NONE},
    {"vrows 2x150x9 (N,C,L) channels-last", 3, {2, 150, 9}, TU_CHANNELS_LAST, 0, 0, 0, SP_NONE},
    {"vrows nonfinite 8x100", 2, {8, 100}, TU_CONTIG, 0, 0, 0, SP_NONFINITE},
    {"vrows negative 40x128", 2, {40, 128}, TU_CONTIG, 0, 0, 0, SP_NEGATIVE},
    {"vrows negative 40x100 smooth+w", 2, {40, 100}, TU_CONTIG, 0.1, 1, 0, SP_NEGATIVE},
    {"vrows negative 3x20000 split", 2, {3, 20000}, TU_CONTIG, 0, 0, 0, SP_NEGATIVE},
    {"vrows nonfinite 8x300", 2, {8, 300}, TU_CONTIG, 0, 0, 0, SP_NONFINITE},
    {"vrows nonfinite 8x300 smooth+w", 2, {8, 300}, TU_CONTIG, 0.1, 1, 0, SP_NONFINITE},
    /* 512 = two full chunks of 256: the NaN opens the second, the +inf closes it, so both
     * reach the fast loop (found after its exps) rather than the tail */
    {"vrows nonfinite 8x512", 2, {8, 512}, TU_CONTIG, 0, 0, 0, SP_NONFINITE},
    {"vrows nonfinite 8x512 smooth+w", 2, {8, 512}, TU_CONTIG, 0.1, 1, 0, SP_NONFINITE},
    {"vrows rising 12x1500", 2, {12, 1500}, TU_CONTIG, 0, 0, 0, SP_RISING},
    {"vrows rising 8x4099 smooth+w", 2, {8, 4099}, TU_CONTIG, 0.1, 1, 0, SP_RISING},
    /* split rows: few rows, C >= 16384 */
    {"split rising 4x70001 smooth", 2, {4, 70001}, TU_CONTIG, 0.1, 0, 0, SP_RISING},
    {"split 3x70001", 2, {3, 70001}, TU_CONTIG, 0, 0, 0, SP_NONE},
    {"split 3x70001 offset smooth+w", 2, {3, 70001}, TU_OFFSET, 0.1, 1, 0, SP_NONE},
    {"split 6x20000 nonfinite", 2, {6, 20000}, TU_CONTIG, 0.1, 1, 0, SP_NONFINITE},
    /* 16 lanes, pixel-contiguous (vload16) with inner tails */
    {"lanes NCHW 3x21x7x9", 4, {3, 21, 7, 9}, TU_CONTIG, 0, 0, 1, SP_NONE},
    {"lanes NCHW 2x40x16x16 smooth+w", 4, {2, 40, 16, 16}, TU_CONTIG, 0.1, 1, 1, SP_NONE},
    {"lanes NCHW nonfinite 2x5x4x5", 4, {2, 5, 4, 5}, TU_CONTIG, 0.1, 1, 0, SP_NONFINITE},
    /* planes a multiple of 16 pixels: every gradient class vector 64-byte aligned (streaming
     * stores without a test per store where the large-problem thresholds are 0) */
    {"lanes NCHW aligned 2x21x4x16 ignore", 4, {2, 21, 4, 16}, TU_CONTIG, 0, 0, 1, SP_NONE},
    {"lanes NCHW aligned 2x12x2x32 smooth+w", 4, {2, 12, 2, 32}, TU_CONTIG, 0.1, 1, 0, SP_NONE},
    {"lanes NCHW aligned nonfinite 2x6x1x32", 4, {2, 6, 1, 32}, TU_CONTIG, 0, 0, 0, SP_NONFINITE},
    {"lanes reversed 50x40", 2, {50, 40}, TU_REVERSED, 0, 0, 0, SP_NONE},
    /* 16 lanes, gathered tiny rows */
    {"lanes tiny 1001x10", 2, {1001, 10}, TU_CONTIG, 0, 0, 1, SP_NONE},
    {"lanes tiny 1001x10 offset smooth+w", 2, {1001, 10}, TU_OFFSET, 0.3, 1, 1, SP_NONE},
    {"lanes channels-last 2x21x5x7", 4, {2, 21, 5, 7}, TU_CHANNELS_LAST, 0.1, 1, 1, SP_NONE},
    {"lanes padded 33x7", 2, {33, 7}, TU_PADDED, 0, 1, 0, SP_NONE},
    {"lanes tiny nonfinite 20x5", 2, {20, 5}, TU_CONTIG, 0, 0, 0, SP_NONFINITE},
    {"lanes 10x5 demo", 2, {10, 5}, TU_CONTIG, 0, 0, 0, SP_NONE},
    /* 16 lanes, contiguous 16-row blocks transposed in registers (runtime/transpose_gen.c): class
     * counts across the shuffle pairs' boundaries, with a partial last group */
    {"lanes transposed 37x1", 2, {37, 1}, TU_CONTIG, 0, 0, 0, SP_NONE},
    {"lanes transposed 37x2 smooth+w", 2, {37, 2}, TU_CONTIG, 0.1, 1, 1, SP_NONE},
    {"lanes transposed 40x3 ignore", 2, {40, 3}, TU_CONTIG, 0, 0, 1, SP_NONE},
    {"lanes transposed 35x15", 2, {35, 15}, TU_CONTIG, 0, 0, 0, SP_NONE},
    {"lanes transposed 48x16 smooth+w", 2, {48, 16}, TU_CONTIG, 0.2, 1, 0, SP_NONE},
    {"lanes transposed 33x17", 2, {33, 17}, TU_CONTIG, 0, 1, 1, SP_NONE},
    {"lanes transposed 50x31 smooth", 2, {50, 31}, TU_CONTIG, 0.1, 0, 0, SP_NONE},
    {"lanes transposed channels-last 2x29x4x5",
     4,
     {2, 29, 4, 5},
     TU_CHANNELS_LAST,
     0.1,
     1,
     1,
     SP_NONE},
    {"lanes transposed nonfinite 48x12", 2, {48, 12}, TU_CONTIG, 0, 0, 0, SP_NONFINITE},
    /* 33..64 classes: three or four ranges of 16 classes per transpose */
    {"lanes transposed 40x33 ignore", 2, {40, 33}, TU_CONTIG, 0, 0, 1, SP_NONE},
    {"lanes transposed 35x64 smooth+w", 2, {35, 64}, TU_CONTIG, 0.1, 1, 0, SP_NONE},
    {"lanes transposed channels-last 2x48x4x5 smooth",
     4,
     {2, 48, 4, 5},
     TU_CHANNELS_LAST,
     0.2,
     0,
     1,
     SP_NONE},
    {"lanes transposed nonfinite 32x50", 2, {32, 50}, TU_CONTIG, 0, 1, 0, SP_NONFINITE},
    /* logits > 87 below their row's max */
    {"lanes NCHW aligned wide 2x21x4x16", 4, {2, 21, 4, 16}, TU_CONTIG, 0, 0, 0, SP_WIDE},
    {"lanes NCHW aligned wide 2x21x4x16 smooth+w",
     4,
     {2, 21, 4, 16},
     TU_CONTIG,
     0.1,
     1,
     1,
     SP_WIDE},
    {"lanes transposed wide 48x10", 2, {48, 10}, TU_CONTIG, 0, 0, 1, SP_WIDE},
    {"lanes transposed channels-last wide 2x21x4x4",
     4,
     {2, 21, 4, 4},
     TU_CHANNELS_LAST,
     0,
     1,
     0,
     SP_WIDE},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

START_TEST(test_case) {
    const fcase *fc = &CASES[_i / 3];
    run_case(fc, _i % 3, 1234 + (uint64_t)_i);
}
END_TEST

/* One reduction per case, none / mean / sum in turn (case i takes reduction i % 3, with the
 * seed test_case gives that pair): the large-problem run, where every 16-lane case builds
 * programs for its own class count and every gradient another with streaming stores, about
 * five builds per case for three reductions (none needs its own forward and two gradients).
 * Each path still meets each reduction on several cases; the full product runs in the other
 * two runs of this suite. */
START_TEST(test_case_one_reduction) {
    const int red = _i % 3;
    run_case(&CASES[_i], red, 1234 + (uint64_t)(3 * _i + red));
}
END_TEST

/* A bad target with sum/mean: found by the row kernel itself, reported by sync, output kept. */
static void bad_target(int64_t N, int64_t C, int ndim4) {
    int64_t sizes[4] = {N, C, 4, ndim4 == 2 ? 8 : 5}; /* 4x8: full 16-lane groups */
    const int ndim = ndim4 ? 4 : 2;
    int64_t n = 1, rows = 1, rs[3];
    int rnd = 0;
    for (int k = 0; k < ndim; ++k) {
        n *= sizes[k];
        if (k != 1) {
            rows *= sizes[k];
            rs[rnd++] = sizes[k];
        }
    }
    float *x = calloc((size_t)n, sizeof *x);
    int64_t *t = calloc((size_t)rows, sizeof *t);
    t[rows - 2] = C; /* out of range */
    t[rows - 1] = -5;
    clce_tensor_desc xd = clce_tensor_contiguous(CLCE_F32, ndim, sizes);
    clce_tensor_desc td = clce_tensor_contiguous(CLCE_I64, rnd, rs);
    clce_tensor_desc ld = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    cl_mem bx = tu_buffer((size_t)n * 4, x), bt = tu_buffer((size_t)rows * 8, t);
    const float sentinel = 42.5f;
    cl_mem bl = tu_buffer(4, &sentinel);
    for (int red = 1; red <= 2; ++red) {
        clce_loss_desc d;
        clce_loss_desc_init(&d);
        d.reduction = (clce_reduction)red;
        clce_status st = clce_cross_entropy_forward_sync(tu_device(), &d, &xd, bx, &td, bt, NULL,
                                                         NULL, &ld, bl, NULL);
        ck_assert_msg(st == CLCE_ERROR_TARGET_OUT_OF_RANGE, "got %s", clce_status_name(st));
        char want[64];
        snprintf(want, sizeof want, "%lld", (long long)C);
        ck_assert_msg(strstr(clce_last_error_detail(), want) != NULL, "detail: %s",
                      clce_last_error_detail());
        float out;
        tu_read(bl, 4, &out);
        ck_assert_msg(out == sentinel, "output changed to %g", out);
    }
    /* the record is cleared: a good call works again */
    t[rows - 2] = 0;
    t[rows - 1] = 0;
    tu_write(bt, (size_t)rows * 8, t);
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    ck_assert_int_eq(clce_cross_entropy_forward_sync(tu_device(), &d, &xd, bx, &td, bt, NULL, NULL,
                                                     &ld, bl, NULL),
                     CLCE_OK);
    float out;
    tu_read(bl, 4, &out);
    ck_assert_msg(fabsf(out - logf((float)C)) < 1e-5f * logf((float)C), "loss %g", out);
    tu_release(bx);
    tu_release(bt);
    tu_release(bl);
    free(x);
    free(t);
}

/* The target scans (check before a none-reduction forward; check + mean denominator before a
 * gradient) take 16 contiguous rows per vector: the first bad row inside a later 16-row block,
 * another after it, and an ignore_index among them must be found and named exactly, with
 * nothing written. */
static void bad_target_scan(int op) {
    const int64_t N = 100, C = 7;
    int64_t sizes[2] = {N, C};
    float x[100 * 7];
    int64_t t[100];
    for (int64_t i = 0; i < N * C; ++i)
        x[i] = (float)(i % 5) * 0.25f;
    for (int64_t r = 0; r < N; ++r)
        t[r] = r % C;
    t[33] = -100; /* ignore_index: not an error */
    t[37] = C;    /* the first bad row: block 32..47 */
    t[90] = -3;
    clce_tensor_desc xd = clce_tensor_contiguous(CLCE_F32, 2, sizes);
    clce_tensor_desc td = clce_tensor_contiguous(CLCE_I64, 1, sizes);
    clce_tensor_desc nd = clce_tensor_contiguous(CLCE_F32, 1, sizes);
    clce_tensor_desc sd = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    float sentinel[100 * 7];
    for (int i = 0; i < 100 * 7; ++i)
        sentinel[i] = 42.5f;
    cl_mem bx = tu_buffer(sizeof x, x), bt = tu_buffer(sizeof t, t);
    cl_mem bl = tu_buffer(sizeof sentinel, sentinel), bg = tu_buffer(sizeof sentinel, sentinel);
    const float one = 1.0f;
    cl_mem bgo = tu_buffer(sizeof one, &one);
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    d.reduction = op == 0 ? CLCE_REDUCTION_NONE : CLCE_REDUCTION_MEAN;
    clce_status st;
    if (op == 0)
        st = clce_cross_entropy_forward(tu_device(), &d, &xd, bx, &td, bt, NULL, NULL, &nd, bl,
                                        NULL, 0, NULL, NULL);
    else if (op == 1)
        st = clce_cross_entropy_fused(tu_device(), &d, &xd, bx, &td, bt, NULL, NULL, &sd, bl, NULL,
                                      NULL, &xd, bg, 0, NULL, NULL);
    else
        st = clce_cross_entropy_backward(tu_device(), &d, &xd, bx, &td, bt, NULL, NULL, &sd, bgo,
                                         NULL, &xd, bg, 0, NULL, NULL);
    if (st == CLCE_OK)
        st = clce_device_sync(tu_device());
    ck_assert_msg(st == CLCE_ERROR_TARGET_OUT_OF_RANGE, "op %d: got %s", op, clce_status_name(st));
    ck_assert_msg(strstr(clce_last_error_detail(), "value 7 at position 37 ") != NULL,
                  "op %d: detail: %s", op, clce_last_error_detail());
    float out[100 * 7];
    tu_read(bl, sizeof out, out);
    ck_assert_msg(memcmp(out, sentinel, sizeof out) == 0, "op %d: loss written", op);
    tu_read(bg, sizeof out, out);
    ck_assert_msg(memcmp(out, sentinel, sizeof out) == 0, "op %d: gradient written", op);
    tu_release(bx);
    tu_release(bt);
    tu_release(bl);
    tu_release(bg);
    tu_release(bgo);
}

START_TEST(test_bad_target_scan) {
    bad_target_scan(_i);
}
END_TEST

START_TEST(test_bad_target_vrows) {
    bad_target(40, 300, 0);
}
END_TEST
START_TEST(test_bad_target_lanes) {
    bad_target(4, 21, 1);
}
END_TEST
START_TEST(test_bad_target_lanes_full) {
    bad_target(3, 21, 2);
}
END_TEST
START_TEST(test_bad_target_split) {
    bad_target(2, 20000, 0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("ce_fast");
    TCase *tc = tcase_create("forward");
    tcase_set_timeout(tc, 300);
    /* CE_FAST_ONE_REDUCTION=1 (set by ctest for the large-problem run): see
     * test_case_one_reduction */
    const char *one = getenv("CE_FAST_ONE_REDUCTION");
    if (one && one[0] == '1')
        tcase_add_loop_test(tc, test_case_one_reduction, 0, (int)NCASES);
    else
        tcase_add_loop_test(tc, test_case, 0, (int)(3 * NCASES));
    tcase_add_test(tc, test_bad_target_vrows);
    tcase_add_test(tc, test_bad_target_lanes);
    tcase_add_test(tc, test_bad_target_lanes_full);
    tcase_add_test(tc, test_bad_target_split);
    tcase_add_loop_test(tc, test_bad_target_scan, 0, 3);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
