/*
 * nll.c - nll_loss forward and backward (PyTorch F.nll_loss, semantics.md sections 2, 6, 8):
 * the cross_entropy pipeline with class-index targets and no label smoothing, applied to an
 * input that already holds log-probabilities.  Validation is shared with cross_entropy
 * (loss_args.c).  Launches, all on one event chain:
 *   forward:  target check (2), row kernel, and for sum/mean the deterministic reduction (2);
 *   backward: target check (2), for mean a per-row denominator pass and its reduction (3), then
 *             the gradient kernel, which reads the denominator from the device buffer: no host
 *             round-trip inside the op.
 */
#include "loss_args.h"

#include <stdio.h>

clce_status clce_nll_loss_forward(clce_device *dev, const clce_loss_desc *desc,
                                  const clce_tensor_desc *input_desc, cl_mem input,
                                  const clce_tensor_desc *target_desc, cl_mem target,
                                  const clce_tensor_desc *weight_desc, cl_mem weight,
                                  const clce_tensor_desc *loss_desc, cl_mem loss,
                                  cl_uint num_wait_events, const cl_event *wait_events,
                                  cl_event *event) {
    clce__clear_detail();
    if (event)
        *event = NULL;
    clce__loss_args a;
    clce_status st = clce__check_loss_inputs("nll_loss", dev, desc, input_desc, input, target_desc,
                                             target, weight_desc, weight, 0, 0, &a);
    if (st != CLCE_OK)
        return st;
    st = clce__check_loss_tensor("loss", input_desc, a.class_axis, a.reduction, loss_desc, loss,
                                 true);
    if (st != CLCE_OK)
        return st;
    st = clce__check_wait_list(num_wait_events, wait_events);
    if (st != CLCE_OK)
        return st;

    const int reduced = a.reduction != CLCE_REDUCTION_NONE;
    const clce_tensor_desc *roles[CLCE__ROLES] = {input_desc, target_desc,
                                                  reduced ? NULL : loss_desc, NULL};
    clce__rowgeom g;
    clce__rowgeom_build(roles, a.class_axis, &g);

    clce__chain chain;
    clce__chain_init(&chain, dev, num_wait_events, wait_events);
    cl_kernel k = NULL;
    cl_mem row_vals = NULL, den = NULL;
    st = clce__enqueue_target_check(dev, &chain, &g, 1, a.target_type, target, a.ignore_index,
                                    CLCE__OP_NLL_FORWARD);
    char defines[128];
    snprintf(defines, sizeof defines, "-DTARGET_T=%s -DROW_DIMS=%d -DOUT_NONE=%d", a.target_type,
             g.nd, !reduced);
    if (st == CLCE_OK)
        st = clce__get_kernel(dev, "nll.cl", defines, "nll_fwd_rows", &k);
    if (st == CLCE_OK && reduced)
        st = clce__chain_scratch(&chain, 3 * (size_t)g.rows * clce__acc_size(dev),
                                 "per-row loss parts", &row_vals);
    if (st == CLCE_OK && reduced)
        st = clce__chain_scratch(&chain, clce__acc_size(dev), "mean denominator", &den);
    if (st == CLCE_OK && g.rows > 0) {
        cl_mem none_out = reduced ? dev->error_record : loss;
        cl_mem vals = reduced ? row_vals : dev->error_record;
        cl_mem w = a.has_weight ? weight : dev->error_record;
        cl_long x_off = g.offset[0], cs = g.class_stride[0], t_off = g.offset[1],
                o_off = g.offset[2], rows = g.rows, C = g.classes, ii = a.ignore_index;
        cl_int has_w = a.has_weight;
        cl_long8 size = clce__geom_sizes(&g), sx = clce__geom_strides(&g, 0),
                 stt = clce__geom_strides(&g, 1), so = clce__geom_strides(&g, 2);
        clce__arg args[] = {CLCE_ARG(input),  CLCE_ARG(x_off),    CLCE_ARG(cs),
                            CLCE_ARG(target), CLCE_ARG(t_off),    CLCE_ARG(w),
                            CLCE_ARG(has_w),  CLCE_ARG(none_out), CLCE_ARG(o_off),
                            CLCE_ARG(vals),   CLCE_ARG(rows),     CLCE_ARG(C),
                            CLCE_ARG(ii),     CLCE_ARG(size),     CLCE_ARG(sx),
                            CLCE_ARG(stt),    CLCE_ARG(so),       CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "nll_fwd_rows", args, sizeof args / sizeof args[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(&chain, k, "nll_fwd_rows", g.rows);
    }
    if (st == CLCE_OK && reduced)
        st = clce__enqueue_reduce(dev, &chain, row_vals, g.rows,
                                  a.reduction == CLCE_REDUCTION_SUM ? 1 : 2, 0, 0.0f, g.classes,
                                  g.rows, loss, loss_desc->offset, den);
    if (k)
        clReleaseKernel(k);
    return clce__chain_end(&chain, st, event);
}

/* Enqueues the per-row denominator pass and its reduction: den_out[0] = sum of valid w_t. */
static clce_status enqueue_den(clce_device *dev, clce__chain *chain, const clce__rowgeom *g,
                               const clce__loss_args *a, cl_mem target, cl_mem weight,
                               cl_mem den_out) {
    char defines[96];
    snprintf(defines, sizeof defines, "-DTARGET_T=%s -DROW_DIMS=%d", a->target_type, g->nd);
    cl_kernel k = NULL;
    cl_mem row_vals = NULL, unused_out = NULL;
    clce_status st = clce__get_kernel(dev, "nll.cl", defines, "nll_den_rows", &k);
    if (st == CLCE_OK)
        st = clce__chain_scratch(chain, 3 * (size_t)g->rows * clce__acc_size(dev),
                                 "per-row denominator parts", &row_vals);
    /* the reduction also writes a (0 / den) loss value; it goes to a scratch float */
    if (st == CLCE_OK)
        st = clce__chain_scratch(chain, sizeof(cl_float), "unused reduced loss", &unused_out);
    if (st == CLCE_OK) {
        cl_mem w = a->has_weight ? weight : dev->error_record;
        cl_long t_off = g->offset[1], rows = g->rows, C = g->classes, ii = a->ignore_index;
        cl_int has_w = a->has_weight;
        cl_long8 size = clce__geom_sizes(g), stt = clce__geom_strides(g, 1);
        clce__arg args[] = {CLCE_ARG(target),   CLCE_ARG(t_off), CLCE_ARG(w), CLCE_ARG(has_w),
                            CLCE_ARG(row_vals), CLCE_ARG(rows),  CLCE_ARG(C), CLCE_ARG(ii),
                            CLCE_ARG(size),     CLCE_ARG(stt)};
        st = clce__set_args(k, "nll_den_rows", args, sizeof args / sizeof args[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(chain, k, "nll_den_rows", g->rows);
    }
    if (st == CLCE_OK)
        st = clce__enqueue_reduce(dev, chain, row_vals, g->rows, 2, 0, 0.0f, g->classes, g->rows,
                                  unused_out, 0, den_out);
    if (k)
        clReleaseKernel(k);
    return st;
}

static const clce_dtype F32_ONLY[] = {CLCE_F32, CLCE_DTYPE_INVALID};

clce_status clce_nll_loss_backward(clce_device *dev, const clce_loss_desc *desc,
                                   const clce_tensor_desc *input_desc,
                                   const clce_tensor_desc *target_desc, cl_mem target,
                                   const clce_tensor_desc *weight_desc, cl_mem weight,
                                   const clce_tensor_desc *grad_output_desc, cl_mem grad_output,
                                   const clce_tensor_desc *grad_input_desc, cl_mem grad_input,
                                   cl_uint num_wait_events, const cl_event *wait_events,
                                   cl_event *event) {
    clce__clear_detail();
    if (event)
        *event = NULL;
    char s1[128], s2[128];
    if (!dev)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "nll_loss_backward: device is NULL");
    /* Only the input's shape matters (there is no input buffer): check it here, then let the
     * shared loss checks see grad_input, which has that shape, in the input's place. */
    if (!input_desc)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "input: descriptor is NULL");
    if (input_desc->dtype != CLCE_F32)
        return clce__fail(CLCE_ERROR_INVALID_DTYPE, "input: dtype is %s (%d), expected float32",
                          clce_dtype_name(input_desc->dtype), (int)input_desc->dtype);
    if (input_desc->ndim < 0 || input_desc->ndim > CLCE_MAX_DIMS)
        return clce__fail(CLCE_ERROR_INVALID_SHAPE, "input: ndim is %d, expected 0..%d",
                          input_desc->ndim, CLCE_MAX_DIMS);
    if (input_desc->ndim < 1)
        return clce__fail(CLCE_ERROR_INVALID_SHAPE,
                          "input: ndim is 0; expected (C), (N, C) or (N, C, d1, ..., dK)");
    /* no descriptor: the gradient keeps the input's layout (strides and offset) */
    clce_tensor_desc gi = grad_input_desc ? *grad_input_desc : *input_desc;
    clce_status st = clce__check_tensor("grad_input", &gi, grad_input, F32_ONLY, true);
    if (st != CLCE_OK)
        return st;
    int same = gi.ndim == input_desc->ndim;
    for (int k = 0; same && k < gi.ndim; ++k)
        same = gi.sizes[k] == input_desc->sizes[k];
    if (!same)
        return clce__fail(
            CLCE_ERROR_INVALID_SHAPE, "grad_input: shape %s does not match the input's shape %s",
            clce__shape_str(&gi, s1, sizeof s1), clce__shape_str(input_desc, s2, sizeof s2));
    clce__loss_args a;
    st = clce__check_loss_inputs("nll_loss_backward", dev, desc, &gi, grad_input, target_desc,
                                 target, weight_desc, weight, 0, 0, &a);
    if (st != CLCE_OK)
        return st;
    st = clce__check_loss_tensor("grad_output", input_desc, a.class_axis, a.reduction,
                                 grad_output_desc, grad_output, false);
    if (st != CLCE_OK)
        return st;
    st = clce__check_wait_list(num_wait_events, wait_events);
    if (st != CLCE_OK)
        return st;

    const int go_none = a.reduction == CLCE_REDUCTION_NONE;
    const int mean = a.reduction == CLCE_REDUCTION_MEAN;
    const clce_tensor_desc *roles[CLCE__ROLES] = {&gi, target_desc,
                                                  go_none ? grad_output_desc : NULL, NULL};
    clce__rowgeom g;
    clce__rowgeom_build(roles, a.class_axis, &g);
    if (g.rows == 0)
        return CLCE_OK; /* grad_input is empty */

    clce__chain chain;
    clce__chain_init(&chain, dev, num_wait_events, wait_events);
    cl_kernel k = NULL;
    cl_mem den = NULL;
    st = clce__enqueue_target_check(dev, &chain, &g, 1, a.target_type, target, a.ignore_index,
                                    CLCE__OP_NLL_BACKWARD);
    if (st == CLCE_OK && mean)
        st = clce__chain_scratch(&chain, clce__acc_size(dev), "mean denominator", &den);
    if (st == CLCE_OK && mean)
        st = enqueue_den(dev, &chain, &g, &a, target, weight, den);
    char defines[128];
    snprintf(defines, sizeof defines, "-DTARGET_T=%s -DROW_DIMS=%d -DGO_NONE=%d -DMEAN=%d",
             a.target_type, g.nd, go_none, mean);
    if (st == CLCE_OK)
        st = clce__get_kernel(dev, "nll.cl", defines, "nll_bwd_rows", &k);
    if (st == CLCE_OK) {
        cl_mem w = a.has_weight ? weight : dev->error_record;
        cl_mem d = mean ? den : dev->error_record;
        cl_long t_off = g.offset[1], go_off = go_none ? g.offset[2] : grad_output_desc->offset,
                d_off = g.offset[0], cs = g.class_stride[0], rows = g.rows, C = g.classes,
                ii = a.ignore_index;
        cl_int has_w = a.has_weight;
        cl_long8 size = clce__geom_sizes(&g), sd = clce__geom_strides(&g, 0),
                 stt = clce__geom_strides(&g, 1), sg = clce__geom_strides(&g, 2);
        clce__arg args[] = {CLCE_ARG(target), CLCE_ARG(t_off),       CLCE_ARG(w),
                            CLCE_ARG(has_w),  CLCE_ARG(grad_output), CLCE_ARG(go_off),
                            CLCE_ARG(d),      CLCE_ARG(grad_input),  CLCE_ARG(d_off),
                            CLCE_ARG(cs),     CLCE_ARG(rows),        CLCE_ARG(C),
                            CLCE_ARG(ii),     CLCE_ARG(size),        CLCE_ARG(sd),
                            CLCE_ARG(stt),    CLCE_ARG(sg),          CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "nll_bwd_rows", args, sizeof args / sizeof args[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(&chain, k, "nll_bwd_rows", g.rows);
    }
    if (k)
        clReleaseKernel(k);
    return clce__chain_end(&chain, st, event);
}
