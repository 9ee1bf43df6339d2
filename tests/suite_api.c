/*
 * suite_api.c - the contract around the ops: status names and messages, versions, descriptor
 * helpers, device selection (CLCE_DEVICE by index and name, errors), adopted queues, the
 * program cache (same program twice, distinct options, build failure with the log, concurrent
 * builds), and a table of invalid arguments that must each get their status, a detail naming
 * the argument, and leave the output untouched.
 */
#include "runtime.h"
#include "testutil.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_status_names) {
    ck_assert_str_eq(clce_status_name(CLCE_OK), "CLCE_OK");
    ck_assert_str_eq(clce_status_name(CLCE_ERROR_TARGET_OUT_OF_RANGE),
                     "CLCE_ERROR_TARGET_OUT_OF_RANGE");
    ck_assert_str_eq(clce_status_name((clce_status)12345), "CLCE_UNKNOWN_STATUS");
    ck_assert_str_eq(clce_status_message(CLCE_ERROR_BUILD), "OpenCL kernel build failed");
    /* values are pinned forever */
    ck_assert_int_eq(CLCE_ERROR_INVALID_ARGUMENT, -1);
    ck_assert_int_eq(CLCE_ERROR_TARGET_OUT_OF_RANGE, -10);
    ck_assert_uint_eq(clce_version_number(), CLCE_VERSION_NUMBER);
    ck_assert_str_eq(clce_version_string(), CLCE_VERSION_STRING);
    ck_assert_uint_eq(clce_dtype_size(CLCE_I64), 8);
    ck_assert_uint_eq(clce_dtype_size(CLCE_U8), 1);
    ck_assert_uint_eq(clce_dtype_size((clce_dtype)99), 0);
    ck_assert_str_eq(clce_dtype_name(CLCE_F32), "float32");
}
END_TEST

START_TEST(test_tensor_helpers) {
    int64_t sizes[3] = {2, 3, 4};
    clce_tensor_desc d = clce_tensor_contiguous(CLCE_F32, 3, sizes);
    ck_assert_int_eq(d.strides[0], 12);
    ck_assert_int_eq(d.strides[1], 4);
    ck_assert_int_eq(d.strides[2], 1);
    ck_assert_int_eq(d.offset, 0);
    ck_assert_int_eq(clce_tensor_numel(&d), 24);
    clce_tensor_desc z = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    ck_assert_int_eq(clce_tensor_numel(&z), 1);
    clce_tensor_desc bad = clce_tensor_contiguous(CLCE_F32, 9, sizes);
    ck_assert_int_eq(bad.ndim, -1);
    clce_loss_desc ld;
    clce_loss_desc_init(&ld);
    ck_assert_int_eq(ld.reduction, CLCE_REDUCTION_MEAN);
    ck_assert_int_eq(ld.ignore_index, -100);
    ck_assert(ld.label_smoothing == 0.0);
    ck_assert_int_eq(ld.class_axis, CLCE_CLASS_AXIS_DEFAULT);
}
END_TEST

START_TEST(test_device_selection) {
    size_t count = 0;
    ck_assert_int_eq(clce_enumerate_devices(NULL, 0, &count), CLCE_OK);
    ck_assert_uint_ge(count, 1);
    clce_device_info *infos = calloc(count, sizeof *infos);
    ck_assert_int_eq(clce_enumerate_devices(infos, count, &count), CLCE_OK);
    ck_assert_int_eq(infos[0].index, 0);
    ck_assert(infos[0].max_work_group_size >= 1);

    clce_device *dev = NULL;
    setenv("CLCE_DEVICE", "0", 1);
    ck_assert_int_eq(clce_device_create(NULL, &dev), CLCE_OK);
    clce_device_info info;
    ck_assert_int_eq(clce_device_get_info(dev, &info), CLCE_OK);
    ck_assert_ptr_nonnull(strstr(info.selection_reason, "CLCE_DEVICE=0"));
    ck_assert_int_eq(info.index, 0);
    clce_device_destroy(dev);

    /* a name substring, case-insensitive */
    char sub[8];
    snprintf(sub, sizeof sub, "%.3s", infos[0].name);
    for (char *p = sub; *p; ++p)
        *p = (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : (*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
    setenv("CLCE_DEVICE", sub, 1);
    ck_assert_int_eq(clce_device_create(NULL, &dev), CLCE_OK);
    clce_device_destroy(dev);

    setenv("CLCE_DEVICE", "no-such-device-xyz", 1);
    ck_assert_int_eq(clce_device_create(NULL, &dev), CLCE_ERROR_NO_DEVICE);
    ck_assert_ptr_null(dev);
    ck_assert_ptr_nonnull(strstr(clce_last_error_detail(), "no-such-device-xyz"));
    setenv("CLCE_DEVICE", "99", 1);
    ck_assert_int_eq(clce_device_create(NULL, &dev), CLCE_ERROR_NO_DEVICE);
    ck_assert_ptr_nonnull(strstr(clce_last_error_detail(), "CLCE_DEVICE=99"));
    unsetenv("CLCE_DEVICE");

    clce_device_options opts;
    clce_device_options_init(&opts);
    opts.device_index = (int)count; /* one past the end */
    ck_assert_int_eq(clce_device_create(&opts, &dev), CLCE_ERROR_NO_DEVICE);
    opts.struct_version = 0;
    ck_assert_int_eq(clce_device_create(&opts, &dev), CLCE_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clce_device_create(NULL, NULL), CLCE_ERROR_INVALID_ARGUMENT);
    clce_device_destroy(NULL); /* accepted */
    free(infos);
}
END_TEST

START_TEST(test_adopt_queue) {
    clce_device *owner = tu_device();
    clce_device *dev = NULL;
    ck_assert_int_eq(clce_device_create_from_queue(NULL, &dev), CLCE_ERROR_INVALID_ARGUMENT);
    ck_assert_int_eq(clce_device_create_from_queue(clce_device_queue(owner), &dev), CLCE_OK);
    ck_assert_ptr_eq(clce_device_context(dev), clce_device_context(owner));
    clce_device_info info;
    clce_device_get_info(dev, &info);
    ck_assert_ptr_nonnull(strstr(info.selection_reason, "adopted"));
    /* an op on the adopted device works */
    float x[3] = {1, 2, 3};
    int64_t t = 2, c3 = 3;
    cl_mem bx = tu_buffer(sizeof x, x), bt = tu_buffer(sizeof t, &t), bl = tu_buffer(4, NULL);
    clce_tensor_desc dx = clce_tensor_contiguous(CLCE_F32, 1, &c3);
    clce_tensor_desc dt = clce_tensor_contiguous(CLCE_I64, 0, NULL);
    clce_tensor_desc dl = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    ck_assert_int_eq(
        clce_cross_entropy_forward_sync(dev, &d, &dx, bx, &dt, bt, NULL, NULL, &dl, bl, NULL),
        CLCE_OK);
    float loss;
    tu_read(bl, 4, &loss);
    ck_assert(tu_check_scalar("adopted queue loss", loss, 0.4076059644, 1e-6, 1e-6));
    clce_device_destroy(dev); /* the owner's queue stays usable */
    ck_assert_int_eq(clFinish(clce_device_queue(owner)), CL_SUCCESS);
    tu_release(bx);
    tu_release(bt);
    tu_release(bl);
}
END_TEST

static void *build_in_thread(void *arg) {
    cl_program *out = arg;
    clce_status st = clce__get_program(tu_device(), "reduce.cl", "-DWG=4 -DITEMS=3", out);
    return (void *)(intptr_t)st;
}

START_TEST(test_program_cache) {
    clce_device *dev = tu_device();
    cl_program a, b, c;
    ck_assert_int_eq(clce__get_program(dev, "reduce.cl", "-DWG=8 -DITEMS=2", &a), CLCE_OK);
    /* the same options in another order give the cached program */
    ck_assert_int_eq(clce__get_program(dev, "reduce.cl", "-DITEMS=2 -DWG=8", &b), CLCE_OK);
    ck_assert_ptr_eq(a, b);
    ck_assert_int_eq(clce__get_program(dev, "reduce.cl", "-DWG=16 -DITEMS=2", &c), CLCE_OK);
    ck_assert_ptr_ne(a, c);
    clReleaseProgram(a);
    clReleaseProgram(b);
    clReleaseProgram(c);
    /* a missing required macro is a build failure with the log in the detail */
    cl_program p;
    ck_assert_int_eq(clce__get_program(dev, "reduce.cl", "-DITEMS=2", &p), CLCE_ERROR_BUILD);
    ck_assert_ptr_nonnull(strstr(clce_last_error_detail(), "WG must be defined"));
    ck_assert_int_eq(clce__get_program(dev, "nope.cl", "", &p), CLCE_ERROR_BUILD);
    /* concurrent first builds agree on one program */
    pthread_t th[4];
    cl_program progs[4];
    for (int i = 0; i < 4; ++i)
        pthread_create(&th[i], NULL, build_in_thread, &progs[i]);
    for (int i = 0; i < 4; ++i) {
        void *ret;
        pthread_join(th[i], &ret);
        ck_assert_int_eq((int)(intptr_t)ret, CLCE_OK);
    }
    cl_program again;
    ck_assert_int_eq(clce__get_program(dev, "reduce.cl", "-DWG=4 -DITEMS=3", &again), CLCE_OK);
    for (int i = 0; i < 4; ++i) {
        ck_assert_int_eq(clGetProgramInfo(progs[i], CL_PROGRAM_REFERENCE_COUNT, sizeof(cl_uint),
                                          &(cl_uint){0}, NULL),
                         CL_SUCCESS);
        clReleaseProgram(progs[i]);
    }
    clReleaseProgram(again);
    /* every embedded kernel file builds */
    ck_assert_int_eq(clce_device_warm_up(dev), CLCE_OK);
}
END_TEST

/* ---- invalid arguments: each row mutates a valid call ---- */
typedef struct call {
    clce_loss_desc d;
    clce_tensor_desc dx, dt, dw, dl;
    cl_mem bx, bt, bw, bl, stats;
    int use_weight;
} call;

typedef struct bad_row {
    const char *name;
    void (*mutate)(call *c);
    clce_status want;
    const char *detail; /* substring the detail must contain */
} bad_row;

static cl_mem g_small; /* a 4-byte buffer */
static void m_null_input(call *c) {
    c->bx = NULL;
}
static void m_null_target(call *c) {
    c->bt = NULL;
}
static void m_null_loss(call *c) {
    c->bl = NULL;
}
static void m_input_f64(call *c) {
    c->dx.dtype = CLCE_F64;
}
static void m_input_i32(call *c) {
    c->dx.dtype = CLCE_I32;
}
static void m_target_f32(call *c) {
    c->dt.dtype = CLCE_F32;
}
static void m_target_bad_dtype(call *c) {
    c->dt.dtype = (clce_dtype)77;
}
static void m_batch(call *c) {
    c->dt.sizes[0] = 3;
}
static void m_target_2d(call *c) {
    c->dt.ndim = 2;
    c->dt.sizes[1] = 1;
    c->dt.strides[1] = 1;
}
static void m_weight_size(call *c) {
    c->use_weight = 1;
    c->dw.sizes[0] = 4;
}
static void m_weight_2d(call *c) {
    c->use_weight = 1;
    c->dw.ndim = 2;
    c->dw.sizes[0] = 1;
    c->dw.sizes[1] = 3;
    c->dw.strides[0] = 3;
    c->dw.strides[1] = 1;
}
static void m_weight_i64(call *c) {
    c->use_weight = 1;
    c->dw.dtype = CLCE_I64;
}
static void m_smoothing(call *c) {
    c->d.label_smoothing = 1.5;
}
static void m_reduction(call *c) {
    c->d.reduction = (clce_reduction)7;
}
static void m_version(call *c) {
    c->d.struct_version = 0;
}
static void m_axis(call *c) {
    c->d.class_axis = 5;
}
static void m_overrun(call *c) {
    c->dx.strides[0] = 4;
}
static void m_offset(call *c) {
    c->dx.offset = 1;
}
static void m_negative_stride(call *c) {
    c->dx.strides[1] = -1;
}
static void m_negative_size(call *c) {
    c->dx.sizes[0] = -2;
}
static void m_ndim(call *c) {
    c->dx.ndim = 9;
}
static void m_input_0d(call *c) {
    c->dx.ndim = 0;
}
static void m_loss_shape(call *c) {
    c->dl.ndim = 1, c->dl.sizes[0] = 2, c->dl.strides[0] = 1;
}
static void m_loss_overlap(call *c) {
    c->d.reduction = CLCE_REDUCTION_NONE;
    c->dl.ndim = 1;
    c->dl.sizes[0] = 2;
    c->dl.strides[0] = 0;
}
static void m_loss_small(call *c) {
    c->bl = g_small, c->dl.offset = 1;
}
static void m_stats_small(call *c) {
    c->stats = g_small;
}

static const bad_row bad_rows[] = {
    {"NULL input buffer", m_null_input, CLCE_ERROR_INVALID_ARGUMENT, "input: buffer is NULL"},
    {"NULL target buffer", m_null_target, CLCE_ERROR_INVALID_ARGUMENT, "target: buffer"},
    {"NULL loss buffer", m_null_loss, CLCE_ERROR_INVALID_ARGUMENT, "loss: buffer"},
    {"float64 input", m_input_f64, CLCE_ERROR_INVALID_DTYPE, "input: dtype is float64"},
    {"int32 input", m_input_i32, CLCE_ERROR_INVALID_DTYPE, "input: dtype is int32"},
    {"float32 index target", m_target_f32, CLCE_ERROR_INVALID_DTYPE, "target"},
    {"unknown target dtype", m_target_bad_dtype, CLCE_ERROR_INVALID_DTYPE, "(77)"},
    {"batch mismatch", m_batch, CLCE_ERROR_INVALID_SHAPE,
     "batch_size (2) to match target "
     "batch_size (3)"},
    {"(N,1) target", m_target_2d, CLCE_ERROR_INVALID_SHAPE, "target: shape (2, 1)"},
    {"weight of 4", m_weight_size, CLCE_ERROR_INVALID_SHAPE, "all 3 classes"},
    {"2-D weight", m_weight_2d, CLCE_ERROR_INVALID_SHAPE, "shape: (1, 3)"},
    {"int64 weight", m_weight_i64, CLCE_ERROR_INVALID_DTYPE, "weight: dtype is int64"},
    {"label_smoothing 1.5", m_smoothing, CLCE_ERROR_INVALID_ARGUMENT,
     "label_smoothing must be between 0.0 and 1.0. Got: 1.5"},
    {"reduction 7", m_reduction, CLCE_ERROR_INVALID_ARGUMENT, "reduction is 7"},
    {"struct_version 0", m_version, CLCE_ERROR_INVALID_ARGUMENT, "struct_version is 0"},
    {"class_axis 5", m_axis, CLCE_ERROR_INVALID_ARGUMENT, "class_axis is 5"},
    {"strides overrun the buffer", m_overrun, CLCE_ERROR_INVALID_LAYOUT, "the buffer holds 24"},
    {"offset overruns the buffer", m_offset, CLCE_ERROR_INVALID_LAYOUT, "input: offset 1"},
    {"negative stride", m_negative_stride, CLCE_ERROR_INVALID_LAYOUT, "strides[1] is -1"},
    {"negative size", m_negative_size, CLCE_ERROR_INVALID_SHAPE, "sizes[0] is -2"},
    {"ndim 9", m_ndim, CLCE_ERROR_INVALID_SHAPE, "ndim is 9"},
    {"0-d input", m_input_0d, CLCE_ERROR_INVALID_SHAPE, "input: ndim is 0"},
    {"loss shape for mean", m_loss_shape, CLCE_ERROR_INVALID_SHAPE, "loss: shape (2)"},
    {"loss overlapping itself", m_loss_overlap, CLCE_ERROR_INVALID_LAYOUT, "must not overlap"},
    {"loss buffer too small", m_loss_small, CLCE_ERROR_INVALID_LAYOUT, "loss: offset 1"},
    {"stats buffer too small", m_stats_small, CLCE_ERROR_INVALID_LAYOUT, "stats: buffer holds"},
};

START_TEST(test_invalid_arguments) {
    clce_device *dev = tu_device();
    float x[6] = {1, 2, 3, 0.5f, -1, 2.5f}, w[8] = {1, 1, 1, 1, 1, 1, 1, 1},
          sentinel[2] = {-7.0f, -7.0f};
    int64_t t[8] = {2, 0, 1, 1, 0, 0, 0, 0}, xs[2] = {2, 3}, ts[1] = {2}, c3 = 3;
    g_small = tu_buffer(4, NULL);
    size_t nrows = sizeof bad_rows / sizeof bad_rows[0];
    for (size_t i = 0; i < nrows; ++i) {
        call c;
        clce_loss_desc_init(&c.d);
        c.dx = clce_tensor_contiguous(CLCE_F32, 2, xs);
        c.dt = clce_tensor_contiguous(CLCE_I64, 1, ts);
        c.dw = clce_tensor_contiguous(CLCE_F32, 1, &c3);
        c.dl = clce_tensor_contiguous(CLCE_F32, 0, NULL);
        c.bx = tu_buffer(sizeof x, x);
        c.bt = tu_buffer(sizeof t, t);
        c.bw = tu_buffer(sizeof w, w);
        c.bl = tu_buffer(sizeof sentinel, sentinel);
        cl_mem bl = c.bl, bx = c.bx, bt = c.bt, bw = c.bw;
        c.stats = NULL;
        c.use_weight = 0;
        bad_rows[i].mutate(&c);
        clce_status st = clce_cross_entropy_forward_sync(
            dev, &c.d, &c.dx, c.bx, &c.dt, c.bt, c.use_weight ? &c.dw : NULL,
            c.use_weight ? c.bw : NULL, &c.dl, c.bl, c.stats);
        ck_assert_msg(st == bad_rows[i].want, "%s: got %s, want %s (%s)", bad_rows[i].name,
                      clce_status_name(st), clce_status_name(bad_rows[i].want),
                      clce_last_error_detail());
        ck_assert_msg(strstr(clce_last_error_detail(), bad_rows[i].detail) != NULL,
                      "%s: detail \"%s\" lacks \"%s\"", bad_rows[i].name, clce_last_error_detail(),
                      bad_rows[i].detail);
        float after[2];
        tu_read(bl, sizeof after, after);
        ck_assert_msg(after[0] == -7.0f && after[1] == -7.0f, "%s: the output was written",
                      bad_rows[i].name);
        tu_release(bx);
        tu_release(bt);
        tu_release(bw);
        tu_release(bl);
    }
    ck_assert_int_eq(clce_cross_entropy_forward_sync(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                                     NULL, NULL, NULL),
                     CLCE_ERROR_INVALID_ARGUMENT);
    tu_release(g_small);
    fprintf(stderr, "invalid-argument table: %zu rows\n", nrows);
}
END_TEST

/* A backward without a gradient descriptor writes in the input's (softmax: output's) layout:
 * the same bits as with that descriptor passed explicitly. */
START_TEST(test_default_grad_layouts) {
    clce_device *dev = tu_device();
    int64_t sizes[2] = {3, 4};
    size_t ne;
    clce_tensor_desc d = tu_make_layout(CLCE_F32, 2, sizes, TU_PADDED, &ne);
    float x[12], buf[64] = {0}, g[64] = {0};
    for (int i = 0; i < 12; ++i)
        x[i] = (float)(i % 5) - 1.5f;
    tu_scatter(&d, x, buf, sizeof(float));
    tu_scatter(&d, x, g, sizeof(float));
    int64_t t[3] = {1, 3, 0}, three = 3;
    clce_tensor_desc dt = clce_tensor_contiguous(CLCE_I64, 1, &three);
    clce_tensor_desc dg = clce_tensor_contiguous(CLCE_F32, 0, NULL);
    float one = 1.0f;
    cl_mem bx = tu_buffer(ne * 4, buf), bg = tu_buffer(ne * 4, g), bt = tu_buffer(sizeof t, t),
           bone = tu_buffer(4, &one);
    clce_loss_desc ld;
    clce_loss_desc_init(&ld);
    for (int op = 0; op < 3; ++op) {
        float a[64], b[64];
        for (int pass = 0; pass < 2; ++pass) {
            float fill[64];
            for (int i = 0; i < 64; ++i)
                fill[i] = -3.0f;
            cl_mem out = tu_buffer(ne * 4, fill);
            const clce_tensor_desc *gd = pass ? &d : NULL;
            clce_status st =
                op == 0   ? clce_nll_loss_backward(dev, &ld, &d, &dt, bt, NULL, NULL, &dg, bone, gd,
                                                   out, 0, NULL, NULL)
                : op == 1 ? clce_softmax_backward(dev, 1, &d, bx, &d, bg, gd, out, 0, NULL, NULL)
                          : clce_cross_entropy_backward(dev, &ld, &d, bx, &dt, bt, NULL, NULL, &dg,
                                                        bone, NULL, gd, out, 0, NULL, NULL);
            ck_assert_msg(st == CLCE_OK, "op %d: %s", op, clce_last_error_detail());
            ck_assert_int_eq(clce_device_sync(dev), CLCE_OK);
            tu_read(out, ne * 4, pass ? b : a);
            tu_release(out);
        }
        ck_assert_msg(memcmp(a, b, ne * 4) == 0, "op %d: default layout differs", op);
        ck_assert_msg(a[0] == -3.0f, "op %d: padding element 0 was written", op);
    }
    tu_release(bx);
    tu_release(bg);
    tu_release(bt);
    tu_release(bone);
}
END_TEST

int main(void) {
    Suite *s = suite_create("api");
    TCase *tc = tcase_create("api");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_status_names);
    tcase_add_test(tc, test_tensor_helpers);
    tcase_add_test(tc, test_device_selection);
    tcase_add_test(tc, test_adopt_queue);
    tcase_add_test(tc, test_program_cache);
    tcase_add_test(tc, test_invalid_arguments);
    tcase_add_test(tc, test_default_grad_layouts);
    suite_add_tcase(s, tc);
    return tu_run_suite(s);
}
