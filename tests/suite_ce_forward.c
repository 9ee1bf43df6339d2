/*
 * suite_ce_forward.c - cross_entropy forward with class-index targets: PyTorch golden values
 * (spec examples, edge cases, 300 random cases), every layout and class axis against the double
 * reference, stats output, float32 extremes, determinism, and the device-side target check.
 */
#include "golden.h"
#include "ref.h"
#include "testutil.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOSS_RTOL 1e-5
#define LOSS_ATOL 1e-5

static clce_reduction reduction_of(const char *s) {
    return strcmp(s, "none") == 0  ? CLCE_REDUCTION_NONE
           : strcmp(s, "sum") == 0 ? CLCE_REDUCTION_SUM
                                   : CLCE_REDUCTION_MEAN;
}

/* Runs one forward through the device with the given layout for input, target and (for
 * reduction none) loss; returns the status of the sync; fills loss (rows or 1 values). */
typedef struct fwd_case {
    int ndim;
    int64_t sizes[CLCE_MAX_DIMS];
    int class_axis; /* CLCE_CLASS_AXIS_DEFAULT or explicit */
    const double *x;
    const int64_t *t;
    const double *w;
    clce_loss_desc desc;
    tu_layout layout;
    clce_dtype target_dtype;
} fwd_case;

static clce_status run_forward(const fwd_case *fc, float *loss, float *stats) {
    int k = fc->class_axis == CLCE_CLASS_AXIS_DEFAULT ? (fc->ndim == 1 ? 0 : 1)
                                                      : (fc->class_axis + fc->ndim) % fc->ndim;
    int64_t numel = 1, C = fc->sizes[k];
    for (int j = 0; j < fc->ndim; ++j)
        numel *= fc->sizes[j];
    int64_t rows = 1, tsizes[CLCE_MAX_DIMS];
    int tnd = 0;
    for (int j = 0; j < fc->ndim; ++j)
        if (j != k) {
            tsizes[tnd++] = fc->sizes[j];
            rows *= fc->sizes[j];
        }
    size_t xe, te, le;
    clce_tensor_desc dx = tu_make_layout(CLCE_F32, fc->ndim, fc->sizes, fc->layout, &xe);
    clce_tensor_desc dt = tu_make_layout(fc->target_dtype, tnd, tsizes, fc->layout, &te);
    clce_tensor_desc dl = fc->desc.reduction == CLCE_REDUCTION_NONE
                              ? tu_make_layout(CLCE_F32, tnd, tsizes, fc->layout, &le)
                              : tu_make_layout(CLCE_F32, 0, NULL, fc->layout, &le);
    float *xl = malloc(sizeof(float) * (size_t)(numel ? numel : 1));
    float *xb = calloc(xe, sizeof(float));
    for (int64_t i = 0; i < numel; ++i)
        xl[i] = (float)fc->x[i];
    tu_scatter(&dx, xl, xb, sizeof(float));
    size_t tes = clce_dtype_size(fc->target_dtype);
    void *tl = malloc(tes * (size_t)(rows ? rows : 1));
    void *tb = calloc(te, tes);
    for (int64_t i = 0; i < rows; ++i) {
        if (fc->target_dtype == CLCE_I64)
            ((int64_t *)tl)[i] = fc->t[i];
        else if (fc->target_dtype == CLCE_I32)
            ((int32_t *)tl)[i] = (int32_t)fc->t[i];
        else
            ((uint8_t *)tl)[i] = (uint8_t)fc->t[i];
    }
    tu_scatter(&dt, tl, tb, tes);
    float *lb = malloc(sizeof(float) * le);
    for (size_t i = 0; i < le; ++i)
        lb[i] = 12345.0f; /* sentinel: must survive outside the output's elements */
    cl_mem bx = tu_buffer(xe * sizeof(float), xb), bt = tu_buffer(te * tes, tb),
           bl = tu_buffer(le * sizeof(float), lb), bw = NULL, bs = NULL;
    clce_tensor_desc dw;
    if (fc->w) {
        float *wf = malloc(sizeof(float) * (size_t)C);
        for (int64_t c = 0; c < C; ++c)
            wf[c] = (float)fc->w[c];
        dw = clce_tensor_contiguous(CLCE_F32, 1, &C);
        bw = tu_buffer(sizeof(float) * (size_t)(C ? C : 1), wf);
        free(wf);
    }
    if (stats)
        bs = tu_buffer(sizeof(float) * 2 * (size_t)(rows ? rows : 1), NULL);
    clce_loss_desc d = fc->desc;
    d.class_axis = fc->class_axis;
    clce_status st = clce_cross_entropy_forward_sync(tu_device(), &d, &dx, bx, &dt, bt,
                                                     fc->w ? &dw : NULL, bw, &dl, bl, bs);
    float *lout = malloc(sizeof(float) * le);
    tu_read(bl, sizeof(float) * le, lout);
    size_t nl = fc->desc.reduction == CLCE_REDUCTION_NONE ? (size_t)rows : 1;
    tu_gather(&dl, lout, loss, sizeof(float));
    /* elements outside the loss view keep the sentinel */
    float *probe = malloc(sizeof(float) * le);
    memcpy(probe, lout, sizeof(float) * le);
    float *marks = malloc(sizeof(float) * (nl ? nl : 1));
    for (size_t i = 0; i < nl; ++i)
        marks[i] = 12345.0f;
    tu_scatter(&dl, marks, probe, sizeof(float));
    for (size_t i = 0; i < le; ++i)
        ck_assert_msg(probe[i] == 12345.0f, "write outside the loss view at element %zu", i);
    if (stats)
        tu_read(bs, sizeof(float) * 2 * (size_t)rows, stats);
    free(probe);
    free(marks);
    free(lout);
    tu_release(bx);
    tu_release(bt);
    tu_release(bl);
    tu_release(bw);
    tu_release(bs);
    free(xl);
    free(xb);
    free(tl);
    free(tb);
    free(lb);
    return st;
}

static int golden_forward_case(const golden_case *gc, tu_layout layout, clce_dtype tdt) {
    fwd_case fc;
    memset(&fc, 0, sizeof fc);
    fc.ndim = gc->input_ndim;
    for (int j = 0; j < fc.ndim; ++j)
        fc.sizes[j] = gc->input_shape[j];
    fc.class_axis = CLCE_CLASS_AXIS_DEFAULT;
    fc.x = gc->input;
    fc.t = (const int64_t *)gc->target_index;
    fc.w = gc->has_weight ? gc->weight : NULL;
    clce_loss_desc_init(&fc.desc);
    fc.desc.reduction = reduction_of(gc->reduction);
    fc.desc.ignore_index = gc->ignore_index;
    fc.desc.label_smoothing = gc->label_smoothing;
    fc.layout = layout;
    fc.target_dtype = tdt;
    /* uint8 cannot hold negative or large targets */
    if (tdt == CLCE_U8)
        for (size_t i = 0; i < gc->target_numel; ++i)
            if (gc->target_index[i] < 0 || gc->target_index[i] > 255)
                fc.target_dtype = CLCE_I64;
    float *loss = malloc(sizeof(float) * (gc->output_numel ? gc->output_numel : 1));
    clce_status st = run_forward(&fc, loss, NULL);
    ck_assert_msg(st == CLCE_OK, "%s: %s: %s", gc->name, clce_status_name(st),
                  clce_last_error_detail());
    char what[200];
    snprintf(what, sizeof what, "%s [%s, %s]", gc->name, tu_layout_name(layout),
             clce_dtype_name(fc.target_dtype));
    int ok = tu_check_close(what, loss, gc->output, gc->output_numel, LOSS_ATOL, LOSS_RTOL);
    free(loss);
    return ok;
}

static size_t run_golden_file(const char *file, int vary) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s", CLCE_GOLDEN_DIR, file);
    golden_case *cases;
    size_t n;
    ck_assert_msg(golden_load(path, &cases, &n, err, sizeof err) == 0, "%s", err);
    size_t ran = 0, bad = 0;
    static const clce_dtype tdts[] = {CLCE_I64, CLCE_I32, CLCE_U8};
    for (size_t i = 0; i < n; ++i) {
        const golden_case *gc = &cases[i];
        if (strcmp(gc->op, "cross_entropy") != 0 || strcmp(gc->target_kind, "index") != 0)
            continue;
        tu_layout l = vary ? (tu_layout)(i % TU_LAYOUT_COUNT) : TU_CONTIG;
        clce_dtype tdt = vary ? tdts[i % 3] : CLCE_I64;
        bad += !golden_forward_case(gc, l, tdt);
        if (vary) /* and once more contiguous with int64 */
            bad += !golden_forward_case(gc, TU_CONTIG, CLCE_I64);
        ++ran;
    }
    golden_free(cases, n);
    ck_assert_msg(bad == 0, "%zu golden mismatches in %s", bad, file);
    return ran;
}

START_TEST(test_golden_spec) {
    size_t ran = run_golden_file("ce_spec.golden", 0);
    ck_assert_uint_ge(ran, 100);
}
END_TEST

START_TEST(test_golden_random) {
    size_t ran = run_golden_file("ce_random.golden", 1);
    ck_assert_uint_ge(ran, 150);
}
END_TEST

/* Random shapes x every layout x class axis x options against the double reference. */
START_TEST(test_layouts_vs_reference) {
    uint64_t seed = 0x5eed0001u;
    fprintf(stderr, "layouts: seed %llu\n", (unsigned long long)seed);
    static const int64_t shapes[][5] = {{4, 3, 0, 0, 0}, {5, 7, 3, 0, 0}, {2, 5, 4, 3, 0},
                                        {3, 4, 2, 3, 2}, {1, 9, 0, 0, 0}, {6, 1, 0, 0, 0},
                                        {17, 0, 0, 0, 0}};
    static const int ndims[] = {2, 3, 4, 5, 2, 2, 1};
    size_t bad = 0, cases = 0;
    for (size_t s = 0; s < sizeof ndims / sizeof ndims[0]; ++s) {
        for (int lay = 0; lay < TU_LAYOUT_COUNT; ++lay) {
            for (int axis_mode = 0; axis_mode < 2; ++axis_mode) {
                for (int opt = 0; opt < 6; ++opt) {
                    fwd_case fc;
                    memset(&fc, 0, sizeof fc);
                    fc.ndim = ndims[s];
                    memcpy(fc.sizes, shapes[s], sizeof shapes[s]);
                    fc.class_axis = axis_mode == 0 ? CLCE_CLASS_AXIS_DEFAULT : -1;
                    int k = axis_mode == 0 ? (fc.ndim == 1 ? 0 : 1) : fc.ndim - 1;
                    int64_t numel = 1;
                    for (int j = 0; j < fc.ndim; ++j)
                        numel *= fc.sizes[j];
                    ref_geom g = ref_geom_of(fc.ndim, fc.sizes, k);
                    double *x = malloc(sizeof(double) * (size_t)numel);
                    int64_t *t = malloc(sizeof(int64_t) * (size_t)g.rows);
                    double w[32];
                    for (int64_t i = 0; i < numel; ++i)
                        x[i] = (float)tu_uniform(&seed, -6, 6);
                    for (int64_t c = 0; c < g.classes; ++c)
                        w[c] = (float)tu_uniform(&seed, 0.1, 2.0);
                    for (int64_t r = 0; r < g.rows; ++r)
                        t[r] = tu_randint(&seed, 0, g.classes);
                    if (g.rows > 2)
                        t[1] = -100; /* one ignored row */
                    clce_loss_desc_init(&fc.desc);
                    fc.desc.reduction = (clce_reduction)(opt % 3);
                    fc.desc.label_smoothing = opt >= 3 ? 0.2 : 0.0;
                    fc.x = x;
                    fc.t = t;
                    fc.w = (opt & 1) ? w : NULL;
                    fc.layout = (tu_layout)lay;
                    fc.target_dtype = (opt & 2) ? CLCE_I32 : CLCE_I64;
                    ref_loss_opts ro = {(int)fc.desc.reduction, -100, fc.desc.label_smoothing,
                                        fc.w};
                    size_t nout = fc.desc.reduction == CLCE_REDUCTION_NONE ? (size_t)g.rows : 1;
                    double *ref = malloc(sizeof(double) * (nout ? nout : 1));
                    float *got = malloc(sizeof(float) * (nout ? nout : 1));
                    ref_cross_entropy(x, fc.ndim, fc.sizes, k, t, NULL, &ro, ref, NULL, NULL);
                    clce_status st = run_forward(&fc, got, NULL);
                    ck_assert_msg(st == CLCE_OK, "%s: %s", clce_status_name(st),
                                  clce_last_error_detail());
                    char what[160];
                    snprintf(what, sizeof what, "shape#%zu %s axis%d opt%d", s,
                             tu_layout_name((tu_layout)lay), k, opt);
                    bad += !tu_check_close(what, got, ref, nout, LOSS_ATOL, LOSS_RTOL);
                    ++cases;
                    free(x);
                    free(t);
                    free(ref);
                    free(got);
                }
            }
        }
    }
    ck_assert_msg(bad == 0, "%zu of %zu layout cases mismatched", bad, cases);
}
END_TEST

/* Stats = (max, log sum exp(x - max)) per row. */
START_TEST(test_stats_output) {
    int64_t sizes[3] = {3, 4, 5};
    double x[60];
    int64_t t[15];
    uint64_t seed = 77;
    for (int i = 0; i < 60; ++i)
        x[i] = (float)tu_uniform(&seed, -30, 30);
    for (int i = 0; i < 15; ++i)
        t[i] = i % 4;
    fwd_case fc;
    memset(&fc, 0, sizeof fc);
    fc.ndim = 3;
    memcpy(fc.sizes, sizes, sizeof sizes);
    fc.class_axis = CLCE_CLASS_AXIS_DEFAULT;
    fc.x = x;
    fc.t = t;
    clce_loss_desc_init(&fc.desc);
    fc.layout = TU_CHANNELS_LAST;
    fc.target_dtype = CLCE_I64;
    float loss, stats[30];
    ck_assert_int_eq(run_forward(&fc, &loss, stats), CLCE_OK);
    ref_geom g = ref_geom_of(3, sizes, 1);
    double m[15], l[15];
    for (int64_t r = 0; r < 15; ++r) {
        m[r] = -INFINITY;
        for (int c = 0; c < 4; ++c)
            m[r] = fmax(m[r], x[ref_at(&g, r, c)]);
        double s = 0;
        for (int c = 0; c < 4; ++c)
            s += exp(x[ref_at(&g, r, c)] - m[r]);
        l[r] = log(s);
    }
    float gm[15], gl[15];
    for (int r = 0; r < 15; ++r) {
        gm[r] = stats[2 * r];
        gl[r] = stats[2 * r + 1];
    }
    ck_assert(tu_check_close("stats max", gm, m, 15, 0, 0));
    ck_assert(tu_check_close("stats lse", gl, l, 15, 1e-6, 1e-6));
}
END_TEST

/* float32-only results of semantics.md section 9. */
START_TEST(test_float32_extremes) {
    struct {
        double x[3];
        int64_t t;
        double ref;
    } rows[] = {
        {{1e7 + 1, 1e7, 1e7 - 1}, 0, 0.4076059644},
        {{1e4, 0, -1e4}, 0, 0.0},
        {{1e4, 0, -1e4}, 2, 20000.0},
        {{3e38f, 3e38f, 0}, 0, 0.6931471825},
        {{-1e30f, 0, 1}, 0, 1.0000000150e30},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; ++i) {
        fwd_case fc;
        memset(&fc, 0, sizeof fc);
        fc.ndim = 1;
        fc.sizes[0] = 3;
        fc.class_axis = CLCE_CLASS_AXIS_DEFAULT;
        fc.x = rows[i].x;
        fc.t = &rows[i].t;
        clce_loss_desc_init(&fc.desc);
        fc.desc.reduction = CLCE_REDUCTION_SUM;
        fc.target_dtype = CLCE_I64;
        float loss;
        ck_assert_int_eq(run_forward(&fc, &loss, NULL), CLCE_OK);
        char what[64];
        snprintf(what, sizeof what, "extreme row %zu", i);
        ck_assert(tu_check_scalar(what, loss, rows[i].ref, 1e-9, 1e-7));
    }
}
END_TEST

/* Same input, same bits: a reduction over many rows, run repeatedly. */
START_TEST(test_determinism) {
    const int64_t N = 40000, C = 13;
    double *x = malloc(sizeof(double) * (size_t)(N * C));
    int64_t *t = malloc(sizeof(int64_t) * (size_t)N);
    double w[13];
    uint64_t seed = 4242;
    for (int64_t i = 0; i < N * C; ++i)
        x[i] = (float)tu_uniform(&seed, -10, 10);
    for (int64_t i = 0; i < N; ++i)
        t[i] = i % 97 == 0 ? -100 : tu_randint(&seed, 0, C);
    for (int c = 0; c < C; ++c)
        w[c] = (float)tu_uniform(&seed, 0.5, 1.5);
    for (int red = 1; red <= 2; ++red) {
        fwd_case fc;
        memset(&fc, 0, sizeof fc);
        fc.ndim = 2;
        fc.sizes[0] = N;
        fc.sizes[1] = C;
        fc.class_axis = CLCE_CLASS_AXIS_DEFAULT;
        fc.x = x;
        fc.t = t;
        fc.w = w;
        clce_loss_desc_init(&fc.desc);
        fc.desc.reduction = (clce_reduction)red;
        fc.desc.label_smoothing = 0.1;
        fc.target_dtype = CLCE_I64;
        float a, b, c3;
        ck_assert_int_eq(run_forward(&fc, &a, NULL), CLCE_OK);
        ck_assert_int_eq(run_forward(&fc, &b, NULL), CLCE_OK);
        ck_assert_int_eq(run_forward(&fc, &c3, NULL), CLCE_OK);
        ck_assert_msg(memcmp(&a, &b, sizeof a) == 0 && memcmp(&a, &c3, sizeof a) == 0,
                      "reduction %d not bitwise reproducible: %.9g %.9g %.9g", red, a, b, c3);
        double ref;
        ref_loss_opts ro = {red, -100, 0.1, w};
        ref_cross_entropy(x, 2, fc.sizes, 1, t, NULL, &ro, &ref, NULL, NULL);
        ck_assert(tu_check_scalar("determinism case vs reference", a, ref, LOSS_ATOL, LOSS_RTOL));
    }
    free(x);
    free(t);
}
END_TEST

/* A bad target is found by the kernels: status, value and position named, output untouched,
 * and the device works normally afterwards. */
START_TEST(test_target_out_of_range) {
    double x[12] = {1, 2, 3, 0.5, -1, 2.5, 0, 0, 0, 1, 1, 1};
    for (int red = 0; red < 3; ++red) {
        for (int which = 0; which < 3; ++which) {
            int64_t t[4] = {2, 0, 1, 1};
            int64_t bad_value = which == 0 ? 3 : which == 1 ? -1 : 1000000000000LL;
            t[2] = bad_value;
            t[3] = 7; /* a later bad row: the first one is reported */
            fwd_case fc;
            memset(&fc, 0, sizeof fc);
            fc.ndim = 2;
            fc.sizes[0] = 4;
            fc.sizes[1] = 3;
            fc.class_axis = CLCE_CLASS_AXIS_DEFAULT;
            fc.x = x;
            fc.t = t;
            clce_loss_desc_init(&fc.desc);
            fc.desc.reduction = (clce_reduction)red;
            fc.target_dtype = CLCE_I64;
            float loss[4] = {0};
            clce_status st = run_forward(&fc, loss, NULL);
            ck_assert_int_eq(st, CLCE_ERROR_TARGET_OUT_OF_RANGE);
            char expect[64];
            snprintf(expect, sizeof expect, "value %lld at position 2", (long long)bad_value);
            ck_assert_msg(strstr(clce_last_error_detail(), expect) != NULL, "detail: %s",
                          clce_last_error_detail());
            size_t n = red == 0 ? 4 : 1;
            for (size_t i = 0; i < n; ++i)
                ck_assert_msg(loss[i] == 12345.0f, "output %zu was written: %g", i, loss[i]);
            /* the record is cleared: the same op with good targets succeeds */
            t[2] = 1;
            t[3] = 0;
            ck_assert_int_eq(run_forward(&fc, loss, NULL), CLCE_OK);
        }
    }
    /* ignore_index outside [0, C) is not an error (semantics 15 #9); 254 is */
    int64_t t[4] = {255, 0, 255, 1};
    fwd_case fc;
    memset(&fc, 0, sizeof fc);
    fc.ndim = 2;
    fc.sizes[0] = 4;
    fc.sizes[1] = 3;
    fc.class_axis = CLCE_CLASS_AXIS_DEFAULT;
    fc.x = x;
    fc.t = t;
    clce_loss_desc_init(&fc.desc);
    fc.desc.ignore_index = 255;
    fc.target_dtype = CLCE_U8;
    float loss;
    ck_assert_int_eq(run_forward(&fc, &loss, NULL), CLCE_OK);
    t[0] = 254;
    ck_assert_int_eq(run_forward(&fc, &loss, NULL), CLCE_ERROR_TARGET_OUT_OF_RANGE);
    ck_assert_ptr_nonnull(strstr(clce_last_error_detail(), "value 254 at position 0"));
}
END_TEST

/* PyTorch's error cases (errors.golden) that apply to this API map to statuses. */
START_TEST(test_errors_golden) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/errors.golden", CLCE_GOLDEN_DIR);
    golden_case *cases;
    size_t n;
    ck_assert_msg(golden_load(path, &cases, &n, err, sizeof err) == 0, "%s", err);
    size_t checked = 0;
    for (size_t i = 0; i < n; ++i) {
        const golden_case *gc = &cases[i];
        if (strcmp(gc->op, "cross_entropy") != 0 || strcmp(gc->target_kind, "index") != 0)
            continue;
        /* clce accepts int32/uint8 targets everywhere and takes float32 only: dtype rows of
         * PyTorch's table do not apply */
        if (gc->target_dtype[0] || gc->input_dtype[0] || gc->weight_dtype[0] ||
            strstr(gc->error, "reduction"))
            continue;
        /* the golden format carries no weight shape; suite_api covers a 2-D weight */
        if (strstr(gc->name, "weight_2dim"))
            continue;
        /* a 0-d input is rejected for its shape before the target is looked at */
        clce_status want = gc->input_ndim == 0                    ? CLCE_ERROR_INVALID_SHAPE
                           : strstr(gc->error, "out of bounds")   ? CLCE_ERROR_TARGET_OUT_OF_RANGE
                           : strstr(gc->error, "label_smoothing") ? CLCE_ERROR_INVALID_ARGUMENT
                           : strstr(gc->error, "floating point")  ? CLCE_ERROR_INVALID_DTYPE
                                                                  : CLCE_ERROR_INVALID_SHAPE;
        int64_t numel = 1;
        for (int j = 0; j < gc->input_ndim; ++j)
            numel *= gc->input_shape[j];
        clce_tensor_desc dx =
            clce_tensor_contiguous(CLCE_F32, gc->input_ndim, (const int64_t *)gc->input_shape);
        clce_tensor_desc dt =
            clce_tensor_contiguous(CLCE_I64, gc->target_ndim, (const int64_t *)gc->target_shape);
        int64_t wn = (int64_t)gc->weight_numel;
        clce_tensor_desc dw = clce_tensor_contiguous(CLCE_F32, 1, &wn);
        clce_loss_desc d;
        clce_loss_desc_init(&d);
        d.reduction = reduction_of(gc->reduction);
        d.ignore_index = gc->ignore_index;
        d.label_smoothing = gc->label_smoothing;
        int64_t rows = gc->input_ndim >= 1
                           ? numel / (gc->input_shape[gc->input_ndim == 1 ? 0 : 1]
                                          ? gc->input_shape[gc->input_ndim == 1 ? 0 : 1]
                                          : 1)
                           : 1;
        clce_tensor_desc dl =
            d.reduction == CLCE_REDUCTION_NONE ? dt : clce_tensor_contiguous(CLCE_F32, 0, NULL);
        dl.dtype = CLCE_F32;
        float *xf = calloc((size_t)numel + 1, sizeof(float));
        for (int64_t j = 0; j < numel; ++j)
            xf[j] = (float)gc->input[j];
        cl_mem bx = tu_buffer(sizeof(float) * ((size_t)numel + 1), xf);
        int64_t *tv = calloc(gc->target_numel + 1, sizeof(int64_t));
        memcpy(tv, gc->target_index, sizeof(int64_t) * gc->target_numel);
        cl_mem bt = tu_buffer(sizeof(int64_t) * (gc->target_numel + 1), tv);
        free(tv);
        cl_mem bw = gc->has_weight ? tu_buffer(sizeof(float) * (gc->weight_numel + 1), NULL) : NULL;
        cl_mem bl = tu_buffer(sizeof(float) * ((size_t)rows + 8), NULL);
        clce_status st = clce_cross_entropy_forward_sync(tu_device(), &d, &dx, bx, &dt, bt,
                                                         bw ? &dw : NULL, bw, &dl, bl, NULL);
        ck_assert_msg(st == want, "%s (%s): got %s: %s", gc->name, gc->error, clce_status_name(st),
                      clce_last_error_detail());
        ck_assert_msg(clce_last_error_detail()[0] != '\0', "%s: empty detail", gc->name);
        free(xf);
        tu_release(bx);
        tu_release(bt);
        tu_release(bw);
        tu_release(bl);
        ++checked;
    }
    golden_free(cases, n);
    ck_assert_uint_ge(checked, 10);
}
END_TEST

/* A few small runs covering every kernel of the op, for Oclgrind (CK_RUN_CASE=small). */
START_TEST(test_small) {
    int64_t sizes[4] = {2, 3, 2, 2};
    double x[24], w[3] = {0.5, 1.0, 2.0};
    int64_t t[8] = {0, 1, 2, -100, 2, 1, 0, 1};
    uint64_t seed = 5;
    for (int i = 0; i < 24; ++i)
        x[i] = (float)tu_uniform(&seed, -4, 4);
    for (int red = 0; red < 3; ++red) {
        fwd_case fc;
        memset(&fc, 0, sizeof fc);
        fc.ndim = 4;
        memcpy(fc.sizes, sizes, sizeof sizes);
        fc.class_axis = CLCE_CLASS_AXIS_DEFAULT;
        fc.x = x;
        fc.t = t;
        fc.w = w;
        clce_loss_desc_init(&fc.desc);
        fc.desc.reduction = (clce_reduction)red;
        fc.desc.label_smoothing = 0.1;
        fc.layout = red == 1 ? TU_CHANNELS_LAST : TU_PADDED;
        fc.target_dtype = CLCE_I64;
        float got[8], stats[16];
        double ref[8];
        ref_loss_opts ro = {red, -100, 0.1, w};
        ref_cross_entropy(x, 4, sizes, 1, t, NULL, &ro, ref, NULL, NULL);
        ck_assert_int_eq(run_forward(&fc, got, stats), CLCE_OK);
        ck_assert(tu_check_close("small", got, ref, red == 0 ? 8 : 1, LOSS_ATOL, LOSS_RTOL));
        t[5] = 3; /* out of range */
        ck_assert_int_eq(run_forward(&fc, got, NULL), CLCE_ERROR_TARGET_OUT_OF_RANGE);
        t[5] = 1;
    }
}
END_TEST

static Suite *suite(void) {
    Suite *s = suite_create("ce_forward");
    TCase *ts = tcase_create("small");
    tcase_set_timeout(ts, 600);
    tcase_add_test(ts, test_small);
    suite_add_tcase(s, ts);
    if (tu_small_mode())
        return s; /* Oclgrind: the small case only */
    TCase *tc = tcase_create("golden");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_golden_spec);
    tcase_add_test(tc, test_golden_random);
    tcase_add_test(tc, test_errors_golden);
    suite_add_tcase(s, tc);
    TCase *tl = tcase_create("layouts");
    tcase_set_timeout(tl, 600);
    tcase_add_test(tl, test_layouts_vs_reference);
    tcase_add_test(tl, test_stats_output);
    tcase_add_test(tl, test_float32_extremes);
    tcase_add_test(tl, test_determinism);
    tcase_add_test(tl, test_target_out_of_range);
    suite_add_tcase(s, tl);
    return s;
}

int main(void) {
    return tu_run_suite(suite());
}
