/*
 * loss_args.c - argument checks for the loss ops with PyTorch's rules (semantics.md section 10),
 * each failure naming the argument and the value, and the enqueue helpers shared by them.
 */
#include "loss_args.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

size_t clce__acc_size(const clce_device *dev) {
    return dev->info.has_fp64 ? 8 : 4;
}

static const clce_dtype F32_ONLY[] = {CLCE_F32, CLCE_DTYPE_INVALID};
static const clce_dtype INDEX_TYPES[] = {CLCE_I64, CLCE_I32, CLCE_U8, CLCE_DTYPE_INVALID};
static const clce_dtype ANY_TARGET[] = {CLCE_I64, CLCE_I32, CLCE_U8, CLCE_F32, CLCE_DTYPE_INVALID};

static int same_shape(const clce_tensor_desc *a, const clce_tensor_desc *b) {
    if (a->ndim != b->ndim)
        return 0;
    for (int k = 0; k < a->ndim; ++k)
        if (a->sizes[k] != b->sizes[k])
            return 0;
    return 1;
}

/* Is d the shape of `input` without dimension k? */
static int is_row_shape(const clce_tensor_desc *input, int k, const clce_tensor_desc *d) {
    if (d->ndim != input->ndim - 1)
        return 0;
    for (int j = 0, i = 0; j < input->ndim; ++j) {
        if (j == k)
            continue;
        if (d->sizes[i++] != input->sizes[j])
            return 0;
    }
    return 1;
}

static void row_shape_str(const clce_tensor_desc *input, int k, char *buf, size_t len) {
    clce_tensor_desc r = *input;
    r.ndim = 0;
    for (int j = 0; j < input->ndim; ++j)
        if (j != k)
            r.sizes[r.ndim++] = input->sizes[j];
    clce__shape_str(&r, buf, len);
}

clce_status clce__check_loss_inputs(const char *op, clce_device *dev, const clce_loss_desc *desc,
                                    const clce_tensor_desc *input_desc, cl_mem input,
                                    const clce_tensor_desc *target_desc, cl_mem target,
                                    const clce_tensor_desc *weight_desc, cl_mem weight,
                                    int allow_smoothing, int allow_prob, clce__loss_args *a) {
    char s1[128], s2[128];
    memset(a, 0, sizeof *a);
    if (!dev)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "%s: device is NULL", op);
    if (!desc)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "%s: desc is NULL", op);
    if (desc->struct_version != CLCE_LOSS_DESC_VERSION)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "%s: desc->struct_version is %u, expected %u (call "
                          "clce_loss_desc_init first)",
                          op, desc->struct_version, CLCE_LOSS_DESC_VERSION);
    if (desc->reduction != CLCE_REDUCTION_NONE && desc->reduction != CLCE_REDUCTION_SUM &&
        desc->reduction != CLCE_REDUCTION_MEAN)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "%s: desc->reduction is %d, expected NONE (0), SUM (1) or MEAN (2)", op,
                          (int)desc->reduction);
    double ls = desc->label_smoothing;
    if (isnan(ls) || ls > 1.0)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "%s: label_smoothing must be between 0.0 and 1.0. Got: %g", op, ls);
    if (!allow_smoothing && ls > 0.0)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "%s: label_smoothing is %g but this op has no label smoothing", op, ls);
    a->eps = ls > 0.0 ? (float)ls : 0.0f;
    a->reduction = desc->reduction;
    a->ignore_index = desc->ignore_index;

    clce_status st = clce__check_tensor("input", input_desc, input, F32_ONLY, false);
    if (st != CLCE_OK)
        return st;
    if (input_desc->ndim < 1)
        return clce__fail(CLCE_ERROR_INVALID_SHAPE,
                          "input: ndim is 0; expected (C), (N, C) or (N, C, d1, ..., dK)");
    a->class_axis = clce__resolve_class_axis(desc->class_axis, input_desc->ndim);
    if (a->class_axis < 0)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "%s: desc->class_axis is %d, out of range for a %d-D input", op,
                          desc->class_axis, input_desc->ndim);
    const int k = a->class_axis;
    const int64_t C = input_desc->sizes[k];

    st = clce__check_tensor("target", target_desc, target, allow_prob ? ANY_TARGET : INDEX_TYPES,
                            false);
    if (st != CLCE_OK)
        return st;
    if (same_shape(target_desc, input_desc)) {
        if (target_desc->dtype != CLCE_F32)
            return clce__fail(CLCE_ERROR_INVALID_DTYPE,
                              "target: has the input's shape %s, so it holds class "
                              "probabilities and must be float32, got %s",
                              clce__shape_str(input_desc, s1, sizeof s1),
                              clce_dtype_name(target_desc->dtype));
        if (!allow_prob)
            return clce__fail(CLCE_ERROR_UNSUPPORTED,
                              "%s: class-probability targets are not supported", op);
        if (desc->ignore_index >= 0)
            return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                              "%s: ignore_index is %lld; ignore_index is not supported for "
                              "floating point target (use a negative value)",
                              op, (long long)desc->ignore_index);
        a->prob_target = 1;
        a->target_type = "float";
    } else {
        if (target_desc->dtype == CLCE_F32)
            return clce__fail(CLCE_ERROR_INVALID_DTYPE,
                              "target: float32 class indices are not accepted (shape %s differs "
                              "from the input's %s, so class indices of type int64, int32 or "
                              "uint8 are expected)",
                              clce__shape_str(target_desc, s1, sizeof s1),
                              clce__shape_str(input_desc, s2, sizeof s2));
        if (!is_row_shape(input_desc, k, target_desc)) {
            row_shape_str(input_desc, k, s2, sizeof s2);
            if (input_desc->ndim >= 2 && target_desc->ndim >= 1 &&
                target_desc->sizes[0] != input_desc->sizes[0] && k != 0)
                return clce__fail(CLCE_ERROR_INVALID_SHAPE,
                                  "target: Expected input batch_size (%lld) to match target "
                                  "batch_size (%lld); target shape %s, expected %s",
                                  (long long)input_desc->sizes[0], (long long)target_desc->sizes[0],
                                  clce__shape_str(target_desc, s1, sizeof s1), s2);
            char s3[128];
            return clce__fail(CLCE_ERROR_INVALID_SHAPE,
                              "target: shape %s does not match the input %s: expected %s (the "
                              "input's shape without class dimension %d)",
                              clce__shape_str(target_desc, s1, sizeof s1),
                              clce__shape_str(input_desc, s3, sizeof s3), s2, k);
        }
        a->target_type = target_desc->dtype == CLCE_I64   ? "long"
                         : target_desc->dtype == CLCE_I32 ? "int"
                                                          : "uchar";
    }

    if (weight_desc || weight) {
        st = clce__check_tensor("weight", weight_desc, weight, F32_ONLY, false);
        if (st != CLCE_OK)
            return st;
        if (weight_desc->ndim != 1 || weight_desc->sizes[0] != C)
            return clce__fail(CLCE_ERROR_INVALID_SHAPE,
                              "weight: weight tensor should be defined either for all %lld "
                              "classes or no classes but got weight tensor of shape: %s",
                              (long long)C, clce__shape_str(weight_desc, s1, sizeof s1));
        a->has_weight = 1;
    }
    int64_t rows = C > 0 ? clce_tensor_numel(input_desc) / C : 0;
    if (C == 0) {
        rows = 1;
        for (int j = 0; j < input_desc->ndim; ++j)
            if (j != k)
                rows *= input_desc->sizes[j];
    }
    if (rows >= INT_MAX)
        return clce__fail(CLCE_ERROR_UNSUPPORTED, "input: %lld rows; at most %d are supported",
                          (long long)rows, INT_MAX - 1);
    return CLCE_OK;
}

clce_status clce__check_loss_tensor(const char *name, const clce_tensor_desc *input_desc,
                                    int class_axis, clce_reduction reduction,
                                    const clce_tensor_desc *d, cl_mem mem, bool is_output) {
    char s1[128], s2[128];
    clce_status st = clce__check_tensor(name, d, mem, F32_ONLY, is_output);
    if (st != CLCE_OK)
        return st;
    if (reduction == CLCE_REDUCTION_NONE) {
        if (!is_row_shape(input_desc, class_axis, d)) {
            row_shape_str(input_desc, class_axis, s2, sizeof s2);
            return clce__fail(CLCE_ERROR_INVALID_SHAPE,
                              "%s: shape %s, expected %s for reduction none", name,
                              clce__shape_str(d, s1, sizeof s1), s2);
        }
    } else if (clce_tensor_numel(d) != 1) {
        return clce__fail(CLCE_ERROR_INVALID_SHAPE,
                          "%s: shape %s, expected one element (0-d) for reduction %s", name,
                          clce__shape_str(d, s1, sizeof s1),
                          reduction == CLCE_REDUCTION_SUM ? "sum" : "mean");
    }
    return CLCE_OK;
}

clce_status clce__enqueue_target_check(clce_device *dev, clce__chain *chain, const clce__rowgeom *g,
                                       int role, const char *target_type, cl_mem target,
                                       int64_t ignore_index, int op_code) {
    if (g->rows == 0)
        return CLCE_OK;
    char defines[128];
    snprintf(defines, sizeof defines, "-DTARGET_T=%s -DROW_DIMS=%d", target_type, g->nd);
    cl_kernel kv = NULL, kr = NULL;
    clce_status st = clce__get_kernel(dev, "validate.cl", defines, "validate_targets", &kv);
    if (st == CLCE_OK)
        st = clce__get_kernel(dev, "validate.cl", defines, "record_bad_target", &kr);
    if (st == CLCE_OK) {
        cl_long t_off = g->offset[role], rows = g->rows, classes = g->classes, ii = ignore_index;
        cl_long rpi = dev->tuning.target_rows_per_item, items = (rows + rpi - 1) / rpi;
        cl_long8 size = clce__geom_sizes(g), strides = clce__geom_strides(g, role);
        cl_int seq = clce__next_seq(dev), op = op_code;
        clce__arg av[] = {CLCE_ARG(target), CLCE_ARG(t_off),   CLCE_ARG(rows),
                          CLCE_ARG(rpi),    CLCE_ARG(classes), CLCE_ARG(ii),
                          CLCE_ARG(size),   CLCE_ARG(strides), CLCE_ARG(dev->error_record)};
        st = clce__set_args(kv, "validate_targets", av, sizeof av / sizeof av[0]);
        clce__arg ar[] = {
            CLCE_ARG(target),  CLCE_ARG(t_off), CLCE_ARG(classes), CLCE_ARG(size),
            CLCE_ARG(strides), CLCE_ARG(seq),   CLCE_ARG(op),      CLCE_ARG(dev->error_record)};
        if (st == CLCE_OK)
            st = clce__set_args(kr, "record_bad_target", ar, sizeof ar / sizeof ar[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(chain, kv, "validate_targets", items);
        if (st == CLCE_OK)
            st = clce__chain_launch(chain, kr, "record_bad_target", 1, 1);
    }
    if (kv)
        clReleaseKernel(kv);
    if (kr)
        clReleaseKernel(kr);
    return st;
}

clce_status clce__enqueue_reduce(clce_device *dev, clce__chain *chain, cl_mem row_vals,
                                 int64_t rows, int mode, int smooth, float eps, int64_t classes,
                                 int64_t count, cl_mem out, int64_t out_off, cl_mem den_out) {
    const size_t wg = dev->tuning.reduce_wg, items = dev->tuning.reduce_items;
    const size_t per_group = wg * items;
    size_t groups = rows > 0 ? ((size_t)rows + per_group - 1) / per_group : 1;
    char defines[96];
    snprintf(defines, sizeof defines, "-DITEMS=%zu -DWG=%zu", items, wg);
    cl_kernel kp = NULL, kf = NULL;
    cl_mem parts = NULL;
    clce_status st = clce__get_kernel(dev, "reduce.cl", defines, "reduce_partials", &kp);
    if (st == CLCE_OK)
        st = clce__get_kernel(dev, "reduce.cl", defines, "reduce_final", &kf);
    if (st == CLCE_OK)
        st = clce__chain_scratch(chain, 3 * groups * clce__acc_size(dev), "reduction partials",
                                 &parts);
    if (st == CLCE_OK) {
        cl_long n = rows, nparts = (cl_long)groups, C = classes, cnt = count, off = out_off;
        cl_int m = mode, sm = smooth;
        cl_float e = eps;
        clce__arg ap[] = {CLCE_ARG(row_vals), CLCE_ARG(n), CLCE_ARG(parts),
                          CLCE_ARG(dev->error_record)};
        st = clce__set_args(kp, "reduce_partials", ap, 4);
        clce__arg af[] = {CLCE_ARG(parts),
                          CLCE_ARG(nparts),
                          CLCE_ARG(m),
                          CLCE_ARG(sm),
                          CLCE_ARG(e),
                          CLCE_ARG(C),
                          CLCE_ARG(cnt),
                          CLCE_ARG(out),
                          CLCE_ARG(off),
                          CLCE_ARG(den_out),
                          CLCE_ARG(dev->error_record)};
        if (st == CLCE_OK)
            st = clce__set_args(kf, "reduce_final", af, sizeof af / sizeof af[0]);
        /* one group's worth: the final kernel folds the values directly (one launch less) */
        if (groups == 1 && st == CLCE_OK) {
            cl_long nv = rows;
            st = clce__set_args(kf, "reduce_final", (clce__arg[]){CLCE_ARG(row_vals), CLCE_ARG(nv)},
                                2);
        }
        if (st == CLCE_OK && groups > 1)
            st = clce__chain_launch(chain, kp, "reduce_partials", groups * wg, wg);
        if (st == CLCE_OK)
            st = clce__chain_launch(chain, kf, "reduce_final", wg, wg);
    }
    if (kp)
        clReleaseKernel(kp);
    if (kf)
        clReleaseKernel(kf);
    return st;
}
