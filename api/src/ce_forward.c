/*
 * ce_forward.c - cross_entropy forward: argument checks, then up to five launches on one event
 * chain: target check (2), the row kernel, and for sum/mean the two-pass reduction.  The mean's
 * denominator is summed and divided on the device: no host round-trip inside the op.
 */
#include "ce_grad.h"
#include "loss_args.h"

#include <stdio.h>

clce_status clce_cross_entropy_forward(clce_device *dev, const clce_loss_desc *desc,
                                       const clce_tensor_desc *input_desc, cl_mem input,
                                       const clce_tensor_desc *target_desc, cl_mem target,
                                       const clce_tensor_desc *weight_desc, cl_mem weight,
                                       const clce_tensor_desc *loss_desc, cl_mem loss,
                                       cl_mem stats, cl_uint num_wait_events,
                                       const cl_event *wait_events, cl_event *event) {
    clce__clear_detail();
    if (event)
        *event = NULL;
    clce__loss_args a;
    clce_status st = clce__check_loss_inputs("cross_entropy", dev, desc, input_desc, input,
                                             target_desc, target, weight_desc, weight, 1, 1, &a);
    if (st != CLCE_OK)
        return st;
    st = clce__check_loss_tensor("loss", input_desc, a.class_axis, a.reduction, loss_desc, loss,
                                 true);
    if (st != CLCE_OK)
        return st;
    if (num_wait_events > 0 && !wait_events)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "wait_events is NULL but num_wait_events is %u", num_wait_events);
    if (a.prob_target) /* probability targets: ce_grad.c */
        return clce__ce_forward_prob(dev, &a, input_desc, input, target_desc, target, weight,
                                     loss_desc, loss, stats, num_wait_events, wait_events, event);

    const clce_tensor_desc *roles[CLCE__ROLES] = {
        input_desc, target_desc, a.reduction == CLCE_REDUCTION_NONE ? loss_desc : NULL, NULL};
    clce__rowgeom g;
    clce__rowgeom_build(roles, a.class_axis, &g);
    if (stats) {
        size_t bytes = 0;
        cl_int err = clGetMemObjectInfo(stats, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
        if (err != CL_SUCCESS)
            return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "stats: not a valid cl_mem (%s)",
                              clce__cl_error_name(err));
        if ((uint64_t)bytes < (uint64_t)g.rows * 2 * sizeof(cl_float))
            return clce__fail(CLCE_ERROR_INVALID_LAYOUT,
                              "stats: buffer holds %zu bytes, needs %lld (2 floats per row, "
                              "%lld rows)",
                              bytes, (long long)(g.rows * 2 * 4), (long long)g.rows);
    }

    clce__chain chain;
    clce__chain_init(&chain, dev, num_wait_events, wait_events);
    cl_kernel k = NULL;
    cl_mem row_vals = NULL, den = NULL;
    const int reduced = a.reduction != CLCE_REDUCTION_NONE;
    const int smooth = a.eps > 0.0f;

    st = clce__enqueue_target_check(dev, &chain, &g, 1, a.target_type, target, a.ignore_index,
                                    CLCE__OP_CROSS_ENTROPY_FORWARD);
    char defines[160];
    snprintf(defines, sizeof defines, "-DTARGET_T=%s -DROW_DIMS=%d -DSMOOTH=%d -DOUT_NONE=%d",
             a.target_type, g.nd, smooth, !reduced);
    if (st == CLCE_OK)
        st = clce__get_kernel(dev, "ce_fwd.cl", defines, "ce_fwd_rows", &k);
    if (st == CLCE_OK && reduced)
        st = clce__scratch(dev, 3 * (size_t)g.rows * clce__acc_size(dev), "per-row loss parts",
                           &row_vals);
    if (st == CLCE_OK && reduced)
        st = clce__scratch(dev, clce__acc_size(dev), "mean denominator", &den);
    if (st == CLCE_OK && g.rows > 0) {
        cl_mem none_out = reduced ? dev->error_record : loss;
        cl_mem vals = reduced ? row_vals : dev->error_record;
        cl_mem w = a.has_weight ? weight : dev->error_record;
        cl_mem s = stats ? stats : dev->error_record;
        cl_long x_off = g.offset[0], cs = g.class_stride[0], t_off = g.offset[1],
                o_off = g.offset[2], rows = g.rows, C = g.classes, ii = a.ignore_index;
        cl_int has_w = a.has_weight, has_s = stats != NULL;
        cl_float eps = a.eps;
        cl_long8 size = clce__geom_sizes(&g), sx = clce__geom_strides(&g, 0),
                 stt = clce__geom_strides(&g, 1), so = clce__geom_strides(&g, 2);
        clce__arg args[] = {CLCE_ARG(input), CLCE_ARG(x_off), CLCE_ARG(cs),
                            CLCE_ARG(target), CLCE_ARG(t_off), CLCE_ARG(w),
                            CLCE_ARG(has_w),  CLCE_ARG(none_out), CLCE_ARG(o_off),
                            CLCE_ARG(vals),   CLCE_ARG(s),     CLCE_ARG(has_s),
                            CLCE_ARG(rows),   CLCE_ARG(C),     CLCE_ARG(ii),
                            CLCE_ARG(eps),    CLCE_ARG(size),  CLCE_ARG(sx),
                            CLCE_ARG(stt),    CLCE_ARG(so),    CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "ce_fwd_rows", args, sizeof args / sizeof args[0]);
        size_t wg = dev->tuning.row_wg;
        if (st == CLCE_OK)
            st = clce__chain_launch(&chain, k, "ce_fwd_rows", clce__round_up((size_t)g.rows, wg),
                                    wg);
    }
    if (st == CLCE_OK && reduced)
        st = clce__enqueue_reduce(dev, &chain, row_vals, g.rows,
                                  a.reduction == CLCE_REDUCTION_SUM ? 1 : 2, smooth, a.eps,
                                  g.classes, g.rows, loss, loss_desc->offset, den);
    if (k)
        clReleaseKernel(k);
    if (row_vals)
        clReleaseMemObject(row_vals);
    if (den)
        clReleaseMemObject(den);
    if (st != CLCE_OK) {
        /* kernels already enqueued may still run; wait so no half-op outlives the error */
        if (chain.last)
            clWaitForEvents(1, &chain.last);
        clce__chain_finish(&chain, NULL);
        return st;
    }
    clce__chain_finish(&chain, event);
    return CLCE_OK;
}

clce_status clce_cross_entropy_forward_sync(clce_device *dev, const clce_loss_desc *desc,
                                            const clce_tensor_desc *input_desc, cl_mem input,
                                            const clce_tensor_desc *target_desc, cl_mem target,
                                            const clce_tensor_desc *weight_desc, cl_mem weight,
                                            const clce_tensor_desc *loss_desc, cl_mem loss,
                                            cl_mem stats) {
    clce_status st =
        clce_cross_entropy_forward(dev, desc, input_desc, input, target_desc, target, weight_desc,
                                   weight, loss_desc, loss, stats, 0, NULL, NULL);
    if (st != CLCE_OK)
        return st;
    return clce_device_sync(dev);
}
