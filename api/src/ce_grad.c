/*
 * ce_grad.c - cross_entropy with probability targets (the forward's dispatch lands here), the
 * backward and the fused loss + gradient.  Kernels live in cl/ce_grad.cl.  The mean's
 * denominator (sum of w_t over valid rows) is summed on the device by a row pass plus the
 * deterministic reduction of reduce.cl, before the gradient kernel that divides by it: no host
 * round trip inside an op.
 */
#include "ce_grad.h"

#include <stdio.h>
#include <string.h>

static const clce_dtype F32_ONLY[] = {CLCE_F32, CLCE_DTYPE_INVALID};

clce_status clce__check_stats(cl_mem stats, int64_t rows) {
    if (!stats)
        return CLCE_OK;
    size_t bytes = 0;
    cl_int err = clGetMemObjectInfo(stats, CL_MEM_SIZE, sizeof bytes, &bytes, NULL);
    if (err != CL_SUCCESS)
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT, "stats: not a valid cl_mem (%s)",
                          clce__cl_error_name(err));
    if ((uint64_t)bytes < (uint64_t)rows * 2 * sizeof(cl_float))
        return clce__fail(CLCE_ERROR_INVALID_LAYOUT,
                          "stats: buffer holds %zu bytes, needs %lld (2 floats per row, %lld "
                          "rows)",
                          bytes, (long long)(rows * 2 * 4), (long long)rows);
    return CLCE_OK;
}

clce_status clce__ce_forward_prob(clce_device *dev, const clce__loss_args *a,
                                  const clce_tensor_desc *input_desc, cl_mem input,
                                  const clce_tensor_desc *target_desc, cl_mem target, cl_mem weight,
                                  const clce_tensor_desc *loss_desc, cl_mem loss, cl_mem stats,
                                  cl_uint num_wait_events, const cl_event *wait_events,
                                  cl_event *event) {
    const int reduced = a->reduction != CLCE_REDUCTION_NONE;
    const clce_tensor_desc *roles[CLCE__ROLES] = {input_desc, target_desc,
                                                  reduced ? NULL : loss_desc, NULL};
    clce__rowgeom g;
    clce__rowgeom_build(roles, a->class_axis, &g);
    clce_status st = clce__check_stats(stats, g.rows);
    if (st != CLCE_OK)
        return st;
    clce__chain chain;
    clce__chain_init(&chain, dev, num_wait_events, wait_events);
    cl_kernel k = NULL;
    cl_mem row_vals = NULL, den = NULL;
    char defines[160];
    snprintf(defines, sizeof defines,
             "-DTARGET_T=float -DPROB=1 -DROW_DIMS=%d -DSMOOTH=%d "
             "-DOUT_NONE=%d",
             g.nd, a->eps > 0.0f, !reduced);
    st = clce__get_kernel(dev, "ce_grad.cl", defines, "ce_fwd_prob", &k);
    if (st == CLCE_OK && reduced)
        st = clce__chain_scratch(&chain, 3 * (size_t)g.rows * clce__acc_size(dev), "per-row losses",
                                 &row_vals);
    if (st == CLCE_OK && reduced)
        st = clce__chain_scratch(&chain, clce__acc_size(dev), "mean denominator", &den);
    if (st == CLCE_OK && g.rows > 0) {
        cl_mem none_out = reduced ? dev->error_record : loss;
        cl_mem vals = reduced ? row_vals : dev->error_record;
        cl_mem w = a->has_weight ? weight : dev->error_record;
        cl_mem s = stats ? stats : dev->error_record;
        cl_long x_off = g.offset[0], cs = g.class_stride[0], y_off = g.offset[1],
                ycs = g.class_stride[1], o_off = g.offset[2], rows = g.rows, C = g.classes;
        cl_int has_w = a->has_weight, has_s = stats != NULL;
        cl_float eps = a->eps;
        cl_long8 size = clce__geom_sizes(&g), sx = clce__geom_strides(&g, 0),
                 sy = clce__geom_strides(&g, 1), so = clce__geom_strides(&g, 2);
        clce__arg args[] = {CLCE_ARG(input),  CLCE_ARG(x_off), CLCE_ARG(cs),
                            CLCE_ARG(target), CLCE_ARG(y_off), CLCE_ARG(ycs),
                            CLCE_ARG(w),      CLCE_ARG(has_w), CLCE_ARG(none_out),
                            CLCE_ARG(o_off),  CLCE_ARG(vals),  CLCE_ARG(s),
                            CLCE_ARG(has_s),  CLCE_ARG(rows),  CLCE_ARG(C),
                            CLCE_ARG(eps),    CLCE_ARG(size),  CLCE_ARG(sx),
                            CLCE_ARG(sy),     CLCE_ARG(so),    CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "ce_fwd_prob", args, sizeof args / sizeof args[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(&chain, k, "ce_fwd_prob", g.rows);
    }
    if (st == CLCE_OK && reduced)
        st = clce__enqueue_reduce(dev, &chain, row_vals, g.rows,
                                  a->reduction == CLCE_REDUCTION_SUM ? 1 : 3, 0, a->eps, g.classes,
                                  g.rows, loss, loss_desc->offset, den);
    if (k)
        clReleaseKernel(k);
    return clce__chain_end(&chain, st, event);
}

/* Enqueues den_out[0] = sum of w_t over valid rows (index targets; target role 1 of g): one
 * partial per item of target_rows_per_item rows, then the deterministic reduction. */
static clce_status enqueue_den(clce_device *dev, clce__chain *chain, const clce__rowgeom *g,
                               const clce__loss_args *a, cl_mem target, cl_mem weight,
                               cl_mem den_out) {
    cl_kernel k = NULL;
    cl_mem vals = NULL, dummy = NULL;
    const int64_t rpi = dev->tuning.target_rows_per_item;
    const int64_t items = (g->rows + rpi - 1) / rpi;
    char defines[128];
    snprintf(defines, sizeof defines, "-DTARGET_T=%s -DROW_DIMS=%d", a->target_type, g->nd);
    clce_status st = clce__get_kernel(dev, "ce_grad.cl", defines, "ce_den_items", &k);
    if (st == CLCE_OK)
        st = clce__chain_scratch(chain, 3 * (size_t)items * clce__acc_size(dev),
                                 "denominator parts", &vals);
    if (st == CLCE_OK)
        st = clce__chain_scratch(chain, sizeof(cl_float), "denominator scratch", &dummy);
    if (st == CLCE_OK) {
        cl_mem w = a->has_weight ? weight : dev->error_record;
        cl_long t_off = g->offset[1], rows = g->rows, per = rpi, C = g->classes,
                ii = a->ignore_index;
        cl_int has_w = a->has_weight;
        cl_long8 size = clce__geom_sizes(g), st_ = clce__geom_strides(g, 1);
        clce__arg args[] = {CLCE_ARG(target), CLCE_ARG(t_off), CLCE_ARG(w),
                            CLCE_ARG(has_w),  CLCE_ARG(vals),  CLCE_ARG(rows),
                            CLCE_ARG(per),    CLCE_ARG(C),     CLCE_ARG(ii),
                            CLCE_ARG(size),   CLCE_ARG(st_),   CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "ce_den_items", args, sizeof args / sizeof args[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(chain, k, "ce_den_items", items);
    }
    /* mode 2 leaves the summed weights in den_out; the float result goes to a scratch */
    if (st == CLCE_OK)
        st = clce__enqueue_reduce(dev, chain, vals, items, 2, 0, 0.0f, g->classes, g->rows, dummy,
                                  0, den_out);
    if (k)
        clReleaseKernel(k);
    return st;
}

static int same_desc(const clce_tensor_desc *x, const clce_tensor_desc *y) {
    if (x->ndim != y->ndim || x->offset != y->offset || x->dtype != y->dtype)
        return 0;
    for (int k = 0; k < x->ndim; ++k)
        if (x->sizes[k] != y->sizes[k] || (x->sizes[k] > 1 && x->strides[k] != y->strides[k]))
            return 0;
    return 1;
}

/* Checks grad_input (input's shape, f32; NULL desc = the input's) into *gi. */
static clce_status check_grad_input(const clce_tensor_desc *input_desc, cl_mem input,
                                    const clce_tensor_desc *grad_input_desc, cl_mem grad_input,
                                    clce_tensor_desc *gi) {
    char s1[128], s2[128];
    *gi = grad_input_desc ? *grad_input_desc : *input_desc;
    clce_status st = clce__check_tensor("grad_input", gi, grad_input, F32_ONLY, true);
    if (st != CLCE_OK)
        return st;
    int same = gi->ndim == input_desc->ndim;
    for (int k = 0; same && k < gi->ndim; ++k)
        same = gi->sizes[k] == input_desc->sizes[k];
    if (!same)
        return clce__fail(
            CLCE_ERROR_INVALID_SHAPE, "grad_input: shape %s, expected the input's shape %s",
            clce__shape_str(gi, s1, sizeof s1), clce__shape_str(input_desc, s2, sizeof s2));
    if (grad_input == input && !same_desc(gi, input_desc))
        return clce__fail(CLCE_ERROR_INVALID_ARGUMENT,
                          "grad_input: is the input buffer but its descriptor differs from the "
                          "input's (in place needs equal descriptors)");
    return CLCE_OK;
}

/* The generic backward kernel (ce_grad.cl): roles of g: 0 input, 1 target, 2 grad_output
 * (none), 3 grad_input. */
static clce_status enqueue_bwd_rows(clce_device *dev, clce__chain *chain, const clce__loss_args *pa,
                                    const clce__rowgeom *pg, cl_mem input, cl_mem target,
                                    cl_mem weight, cl_mem grad_output, int64_t go_offset,
                                    int has_grad_output, cl_mem grad_input, cl_mem stats,
                                    cl_mem den, int mean) {
    const clce__loss_args a = *pa;
    const clce__rowgeom g = *pg;
    const int go_none = a.reduction == CLCE_REDUCTION_NONE;
    cl_kernel k = NULL;
    clce_status st = CLCE_OK;
    cl_mem go = has_grad_output ? grad_output : dev->error_record;
    char defines[192];
    snprintf(defines, sizeof defines,
             "-DTARGET_T=%s -DPROB=%d -DROW_DIMS=%d -DSMOOTH=%d -DGO_NONE=%d", a.target_type,
             a.prob_target, g.nd, a.eps > 0.0f, go_none);
    if (st == CLCE_OK)
        st = clce__get_kernel(dev, "ce_grad.cl", defines, "ce_bwd_rows", &k);
    if (st == CLCE_OK) {
        cl_mem w = a.has_weight ? weight : dev->error_record;
        cl_mem s = stats ? stats : dev->error_record;
        cl_mem d = den ? den : dev->error_record;
        cl_long x_off = g.offset[0], cs = g.class_stride[0], t_off = g.offset[1],
                tcs = g.class_stride[1], go_off = go_offset, g_off = g.offset[3],
                gcs = g.class_stride[3], rows = g.rows, C = g.classes, ii = a.ignore_index;
        cl_int has_w = a.has_weight, has_go = has_grad_output, has_s = stats != NULL, mn = mean;
        cl_float eps = a.eps;
        cl_long8 size = clce__geom_sizes(&g), sx = clce__geom_strides(&g, 0),
                 stt = clce__geom_strides(&g, 1), sgo = clce__geom_strides(&g, 2),
                 sgi = clce__geom_strides(&g, 3);
        clce__arg args[] = {
            CLCE_ARG(input), CLCE_ARG(x_off),  CLCE_ARG(cs),     CLCE_ARG(target),
            CLCE_ARG(t_off), CLCE_ARG(tcs),    CLCE_ARG(w),      CLCE_ARG(has_w),
            CLCE_ARG(go),    CLCE_ARG(go_off), CLCE_ARG(has_go), CLCE_ARG(grad_input),
            CLCE_ARG(g_off), CLCE_ARG(gcs),    CLCE_ARG(s),      CLCE_ARG(has_s),
            CLCE_ARG(d),     CLCE_ARG(mn),     CLCE_ARG(rows),   CLCE_ARG(C),
            CLCE_ARG(ii),    CLCE_ARG(eps),    CLCE_ARG(size),   CLCE_ARG(sx),
            CLCE_ARG(stt),   CLCE_ARG(sgo),    CLCE_ARG(sgi),    CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "ce_bwd_rows", args, sizeof args / sizeof args[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(chain, k, "ce_bwd_rows", g.rows);
    }
    if (k)
        clReleaseKernel(k);
    return st;
}

/* Row statistics (and the loss, into loss when given) on the forward's fast variant, into a
 * stats scratch of the chain.  Without a loss the forward sums into a scratch float. */
static clce_status stats_via_forward(clce_device *dev, clce__chain *chain, const clce__loss_args *a,
                                     const clce_tensor_desc *input_desc, cl_mem input,
                                     const clce_tensor_desc *target_desc, cl_mem target,
                                     cl_mem weight, const clce_tensor_desc *loss_desc, cl_mem loss,
                                     int op, cl_mem *stats) {
    clce__loss_args a2 = *a;
    int64_t loss_off = loss ? loss_desc->offset : 0;
    clce_status st = CLCE_OK;
    if (!loss) {
        a2.reduction = CLCE_REDUCTION_SUM;
        st = clce__chain_scratch(chain, sizeof(cl_float), "loss scratch", &loss);
    }
    const clce_tensor_desc *roles[CLCE__ROLES] = {
        input_desc, target_desc, a2.reduction == CLCE_REDUCTION_NONE ? loss_desc : NULL, NULL};
    clce__rowgeom g;
    clce__rowgeom_build(roles, a->class_axis, &g);
    if (st == CLCE_OK)
        st = clce__chain_scratch(chain, (size_t)g.rows * 2 * sizeof(cl_float), "row stats", stats);
    int handled = 0;
    if (st == CLCE_OK)
        st = clce__ce_fwd_fast(dev, chain, &a2, &g, input, target, weight, loss, loss_off, *stats,
                               op, &handled);
    if (st == CLCE_OK && !handled)
        st = clce__fail(CLCE_ERROR_UNSUPPORTED, "cross_entropy: fast variant mismatch");
    return st;
}

/* Backward / fused (loss != NULL or loss_desc: fused with a loss) on the forward's fast variant
 * (cl/ce_fwd_fast.cl, GRAD=1), index targets; target check and mean denominator already
 * enqueued.  *handled: 0 generic variant (nothing enqueued); 1 done; 2 row stats (and the loss)
 * are in *stats_out, the caller runs the generic gradient kernel with them (work-group-per-row
 * variant, whose stats the generic kernel can take). */
static clce_status grad_fast(clce_device *dev, clce__chain *chain, const clce__loss_args *a,
                             const clce_tensor_desc *input_desc, cl_mem input,
                             const clce_tensor_desc *target_desc, cl_mem target, cl_mem weight,
                             const clce_tensor_desc *loss_desc, cl_mem loss,
                             const clce_tensor_desc *go_desc, cl_mem grad_output, int has_go,
                             const clce_tensor_desc *gi, cl_mem grad_input, cl_mem stats,
                             cl_mem den, int op, int *handled, cl_mem *stats_out) {
    const clce__tuning *tu = &dev->tuning;
    const int none = a->reduction == CLCE_REDUCTION_NONE;
    const int has_loss = loss != NULL;
    const clce_tensor_desc *ra[CLCE__ROLES] = {input_desc, target_desc, gi, NULL};
    const clce_tensor_desc *rb[CLCE__ROLES] = {input_desc, has_loss && none ? loss_desc : NULL,
                                               has_go && none ? go_desc : NULL, NULL};
    clce__rowgeom g, gb;
    clce__rowgeom_build(ra, a->class_axis, &g);
    clce__rowgeom_build(rb, a->class_axis, &gb);
    const clce__ce_variant v = clce__ce_fwd_pick(tu, a, &g);
    *handled = 0;
    if (v == CLCE__CE_GENERIC)
        return CLCE_OK;
    int64_t nseg = 1, seg_len = g.classes;
    if (v == CLCE__CE_VROWS)
        clce__ce_fwd_split(tu, &g, &nseg, &seg_len);
    clce_status st = CLCE_OK;
    int loss_in_kernel = has_loss;
    if (!stats && (v == CLCE__CE_WGROW || nseg > 1)) {
        /* the statistics need a merge across items: the forward's kernels produce them */
        st = stats_via_forward(dev, chain, a, input_desc, input, target_desc, target, weight,
                               loss_desc, loss, op, &stats);
        loss_in_kernel = 0;
        if (v == CLCE__CE_WGROW) {
            *handled = 2;
            *stats_out = stats;
            return st;
        }
    } else if (v == CLCE__CE_WGROW) {
        *handled = 2;
        *stats_out = stats;
        return st;
    }
    *handled = 1;
    if (stats)
        loss_in_kernel = 0;
    const int reduced_loss = loss_in_kernel && !none;
    const int smooth = a->eps > 0.0f;
    const int nd = g.nd > gb.nd ? g.nd : gb.nd;
    size_t global, wg;
    int64_t slots = g.rows, gpi = 1;
    int vrows_r = 1; /* rows per item sharing each weights vector (weights + smoothing) */
    if (v == CLCE__CE_VROWS) {
        wg = tu->fwd_vrow_wg;
        if (!stats)
            nseg = 1, seg_len = g.classes;
        vrows_r = clce__ce_vrows_rows(tu, a, nseg, g.classes, 1);
        global = clce__round_up((size_t)((g.rows + vrows_r - 1) / vrows_r * nseg), wg);
    } else {
        const int64_t inner = g.size[0], gpo = (inner + 15) / 16;
        const int64_t groups = g.rows / inner * gpo;
        gpi = (int64_t)tu->fwd_lane_groups;
        slots = (groups + gpi - 1) / gpi;
        wg = tu->fwd_lane_wg;
        global = clce__round_up((size_t)slots, wg);
    }
    /* streaming stores for a gradient larger than the caches; rows of C % 16 != 0 classes
     * only when long (tuning table) */
    const int nt_store =
        tu->grad_stream_min_bytes > 0 &&
        g.rows * g.classes * (int64_t)sizeof(cl_float) >= tu->grad_stream_min_bytes &&
        (v != CLCE__CE_VROWS || g.classes % 16 == 0 || g.classes >= tu->stream_odd_classes);
    int ncls = 0, lch = tu->fwd_lane_chunk;
    if (v == CLCE__CE_LANES)
        clce__ce_lane_consts(tu, &g, &ncls, &lch);
    char defines[304];
    snprintf(
        defines, sizeof defines,
        "-DTARGET_T=%s -DROW_DIMS=%d -DSMOOTH=%d -DOUT_NONE=%d -DCHV=%d -DLCH=%d -DHAS_W=%d "
        "-DGRAD=1 -DGO_NONE=%d -DLKEEP=%zu -DNT_STORE=%d -DTRANSPOSE_C=%d -DNCLS=%d -DVROWS_R=%d "
        "-DPF_GROUPS=%d -DPF_PLANES=%d -DPF_ROW=%d",
        a->target_type, nd, smooth, loss_in_kernel && none, clce__ce_chunk_vecs(tu, a), lch,
        smooth && a->has_weight, has_go && none, tu->grad_lane_keep, nt_store,
        v == CLCE__CE_LANES ? clce__ce_lane_transpose(tu, &g) : 0, ncls, vrows_r,
        tu->lane_prefetch_groups, tu->lane_plane_prefetch_groups,
        v == CLCE__CE_VROWS ? tu->row_prefetch_chunks : 0);
    const char *name = v == CLCE__CE_VROWS ? "ce_grad_vrows" : "ce_grad_lanes";
    cl_kernel k = NULL;
    cl_mem row_vals = NULL, loss_den = NULL;
    const size_t acc = clce__acc_size(dev);
    if (st == CLCE_OK)
        st = clce__get_kernel(dev, "ce_fwd_fast.cl", defines, name, &k);
    if (st == CLCE_OK && reduced_loss)
        st = clce__chain_scratch(chain, 3 * (size_t)slots * acc, "per-item loss parts", &row_vals);
    if (st == CLCE_OK && reduced_loss)
        st = clce__chain_scratch(chain, acc, "loss denominator", &loss_den);
    if (st == CLCE_OK) {
        cl_mem w = a->has_weight ? weight : dev->error_record;
        cl_mem go = has_go ? grad_output : dev->error_record;
        cl_mem s = stats ? stats : dev->error_record;
        cl_mem lo = loss_in_kernel && none ? loss : dev->error_record;
        cl_mem vals = row_vals ? row_vals : dev->error_record;
        cl_mem d = den ? den : dev->error_record;
        cl_long x_off = g.offset[0], cs = g.class_stride[0], t_off = g.offset[1],
                go_off = !has_go ? 0
                         : none  ? gb.offset[2]
                                 : go_desc->offset,
                g_off = g.offset[2], gcs = g.class_stride[2], o_off = none ? gb.offset[1] : 0,
                rows = g.rows, C = g.classes, ii = a->ignore_index, sl = seg_len, ns = nseg,
                gp = gpi;
        cl_int has_w = a->has_weight, hg = has_go, s_in = stats != NULL, hl = loss_in_kernel,
               mn = a->reduction == CLCE_REDUCTION_MEAN;
        cl_float eps = a->eps;
        cl_long8 size = clce__geom_sizes(&g), sx = clce__geom_strides(&g, 0),
                 stt = clce__geom_strides(&g, 1), sgi = clce__geom_strides(&g, 2),
                 size_b = clce__geom_sizes(&gb), so = clce__geom_strides(&gb, 1),
                 sgo = clce__geom_strides(&gb, 2);
        if (v == CLCE__CE_VROWS) {
            clce__arg args[] = {CLCE_ARG(input),  CLCE_ARG(x_off),
                                CLCE_ARG(target), CLCE_ARG(t_off),
                                CLCE_ARG(w),      CLCE_ARG(has_w),
                                CLCE_ARG(go),     CLCE_ARG(go_off),
                                CLCE_ARG(hg),     CLCE_ARG(grad_input),
                                CLCE_ARG(g_off),  CLCE_ARG(gcs),
                                CLCE_ARG(s),      CLCE_ARG(s_in),
                                CLCE_ARG(lo),     CLCE_ARG(o_off),
                                CLCE_ARG(hl),     CLCE_ARG(vals),
                                CLCE_ARG(d),      CLCE_ARG(mn),
                                CLCE_ARG(rows),   CLCE_ARG(C),
                                CLCE_ARG(ii),     CLCE_ARG(eps),
                                CLCE_ARG(sl),     CLCE_ARG(ns),
                                CLCE_ARG(size),   CLCE_ARG(sx),
                                CLCE_ARG(stt),    CLCE_ARG(sgi),
                                CLCE_ARG(size_b), CLCE_ARG(so),
                                CLCE_ARG(sgo),    CLCE_ARG(dev->error_record)};
            st = clce__set_args(k, name, args, sizeof args / sizeof args[0]);
        } else {
            clce__arg args[] = {CLCE_ARG(input),      CLCE_ARG(x_off),
                                CLCE_ARG(cs),         CLCE_ARG(target),
                                CLCE_ARG(t_off),      CLCE_ARG(w),
                                CLCE_ARG(has_w),      CLCE_ARG(go),
                                CLCE_ARG(go_off),     CLCE_ARG(hg),
                                CLCE_ARG(grad_input), CLCE_ARG(g_off),
                                CLCE_ARG(gcs),        CLCE_ARG(s),
                                CLCE_ARG(s_in),       CLCE_ARG(lo),
                                CLCE_ARG(o_off),      CLCE_ARG(hl),
                                CLCE_ARG(vals),       CLCE_ARG(d),
                                CLCE_ARG(mn),         CLCE_ARG(rows),
                                CLCE_ARG(C),          CLCE_ARG(ii),
                                CLCE_ARG(eps),        CLCE_ARG(size),
                                CLCE_ARG(sx),         CLCE_ARG(stt),
                                CLCE_ARG(sgi),        CLCE_ARG(size_b),
                                CLCE_ARG(so),         CLCE_ARG(sgo),
                                CLCE_ARG(gp),         CLCE_ARG(dev->error_record)};
            st = clce__set_args(k, name, args, sizeof args / sizeof args[0]);
        }
        if (st == CLCE_OK)
            st = clce__chain_launch(chain, k, name, global, wg);
    }
    if (st == CLCE_OK && reduced_loss)
        st = clce__enqueue_reduce(dev, chain, row_vals, slots,
                                  a->reduction == CLCE_REDUCTION_SUM ? 1 : 2, smooth, a->eps,
                                  g.classes, g.rows, loss, loss_desc->offset, loss_den);
    if (k)
        clReleaseKernel(k);
    return st;
}
clce_status clce_cross_entropy_backward(
    clce_device *dev, const clce_loss_desc *desc, const clce_tensor_desc *input_desc, cl_mem input,
    const clce_tensor_desc *target_desc, cl_mem target, const clce_tensor_desc *weight_desc,
    cl_mem weight, const clce_tensor_desc *grad_output_desc, cl_mem grad_output, cl_mem stats,
    const clce_tensor_desc *grad_input_desc, cl_mem grad_input, cl_uint num_wait_events,
    const cl_event *wait_events, cl_event *event) {
    clce__clear_detail();
    if (event)
        *event = NULL;
    clce__loss_args a;
    clce_status st = clce__check_loss_inputs("cross_entropy_backward", dev, desc, input_desc, input,
                                             target_desc, target, weight_desc, weight, 1, 1, &a);
    if (st != CLCE_OK)
        return st;
    st = clce__check_loss_tensor("grad_output", input_desc, a.class_axis, a.reduction,
                                 grad_output_desc, grad_output, false);
    if (st != CLCE_OK)
        return st;
    clce_tensor_desc gi;
    st = check_grad_input(input_desc, input, grad_input_desc, grad_input, &gi);
    if (st != CLCE_OK)
        return st;
    st = clce__check_wait_list(num_wait_events, wait_events);
    if (st != CLCE_OK)
        return st;
    const int go_none = a.reduction == CLCE_REDUCTION_NONE;
    const clce_tensor_desc *roles[CLCE__ROLES] = {input_desc, target_desc,
                                                  go_none ? grad_output_desc : NULL, &gi};
    clce__rowgeom g;
    clce__rowgeom_build(roles, a.class_axis, &g);
    st = clce__check_stats(stats, g.rows);
    if (st != CLCE_OK)
        return st;

    clce__chain chain;
    clce__chain_init(&chain, dev, num_wait_events, wait_events);
    const int mean = a.reduction != CLCE_REDUCTION_MEAN ? 0 : a.prob_target ? 2 : 1;
    cl_mem den = NULL;
    if (g.rows == 0)
        return clce__chain_end(&chain, CLCE_OK, event);
    if (!a.prob_target)
        st = clce__enqueue_target_check(dev, &chain, &g, 1, a.target_type, target, a.ignore_index,
                                        CLCE__OP_CROSS_ENTROPY_BACKWARD);
    if (st == CLCE_OK && mean == 1)
        st = clce__chain_scratch(&chain, clce__acc_size(dev), "mean denominator", &den);
    if (st == CLCE_OK && mean == 1)
        st = enqueue_den(dev, &chain, &g, &a, target, weight, den);
    if (st == CLCE_OK && !a.prob_target) {
        int handled = 0;
        st = grad_fast(dev, &chain, &a, input_desc, input, target_desc, target, weight, NULL, NULL,
                       grad_output_desc, grad_output, 1, &gi, grad_input, stats, den,
                       CLCE__OP_CROSS_ENTROPY_BACKWARD, &handled, &stats);
        if (handled == 1 || st != CLCE_OK)
            return clce__chain_end(&chain, st, event);
    }
    if (st == CLCE_OK)
        st = enqueue_bwd_rows(dev, &chain, &a, &g, input, target, weight, grad_output,
                              go_none ? g.offset[2] : grad_output_desc->offset, 1, grad_input,
                              stats, den, mean);
    return clce__chain_end(&chain, st, event);
}

clce_status clce_cross_entropy_fused(clce_device *dev, const clce_loss_desc *desc,
                                     const clce_tensor_desc *input_desc, cl_mem input,
                                     const clce_tensor_desc *target_desc, cl_mem target,
                                     const clce_tensor_desc *weight_desc, cl_mem weight,
                                     const clce_tensor_desc *loss_desc, cl_mem loss,
                                     const clce_tensor_desc *grad_output_desc, cl_mem grad_output,
                                     const clce_tensor_desc *grad_input_desc, cl_mem grad_input,
                                     cl_uint num_wait_events, const cl_event *wait_events,
                                     cl_event *event) {
    clce__clear_detail();
    if (event)
        *event = NULL;
    clce__loss_args a;
    clce_status st = clce__check_loss_inputs("cross_entropy_fused", dev, desc, input_desc, input,
                                             target_desc, target, weight_desc, weight, 1, 1, &a);
    if (st != CLCE_OK)
        return st;
    const int has_loss = loss != NULL || loss_desc != NULL;
    if (has_loss)
        st = clce__check_loss_tensor("loss", input_desc, a.class_axis, a.reduction, loss_desc, loss,
                                     true);
    const int has_go = grad_output != NULL || grad_output_desc != NULL;
    if (st == CLCE_OK && has_go)
        st = clce__check_loss_tensor("grad_output", input_desc, a.class_axis, a.reduction,
                                     grad_output_desc, grad_output, false);
    if (st != CLCE_OK)
        return st;
    clce_tensor_desc gi;
    st = check_grad_input(input_desc, input, grad_input_desc, grad_input, &gi);
    if (st != CLCE_OK)
        return st;
    st = clce__check_wait_list(num_wait_events, wait_events);
    if (st != CLCE_OK)
        return st;
    const int none = a.reduction == CLCE_REDUCTION_NONE;
    /* five tensors share the rows: two geometries over the same row order */
    const clce_tensor_desc *ra[CLCE__ROLES] = {input_desc, target_desc, &gi, NULL};
    const clce_tensor_desc *rb[CLCE__ROLES] = {input_desc, has_loss && none ? loss_desc : NULL,
                                               has_go && none ? grad_output_desc : NULL, NULL};
    clce__rowgeom g, gb;
    clce__rowgeom_build(ra, a.class_axis, &g);
    clce__rowgeom_build(rb, a.class_axis, &gb);
    const int nd = g.nd > gb.nd ? g.nd : gb.nd;
    const int mean = a.reduction != CLCE_REDUCTION_MEAN ? 0 : a.prob_target ? 2 : 1;

    clce__chain chain;
    clce__chain_init(&chain, dev, num_wait_events, wait_events);
    cl_kernel k = NULL;
    cl_mem den = NULL, row_vals = NULL, loss_den = NULL;
    if (g.rows == 0 && (!has_loss || none))
        return clce__chain_end(&chain, CLCE_OK, event);
    if (!a.prob_target)
        st = clce__enqueue_target_check(dev, &chain, &g, 1, a.target_type, target, a.ignore_index,
                                        CLCE__OP_CROSS_ENTROPY_FUSED);
    if (st == CLCE_OK && mean == 1 && g.rows > 0)
        st = clce__chain_scratch(&chain, clce__acc_size(dev), "mean denominator", &den);
    if (st == CLCE_OK && mean == 1 && g.rows > 0)
        st = enqueue_den(dev, &chain, &g, &a, target, weight, den);
    if (st == CLCE_OK && !a.prob_target && g.rows > 0) {
        int handled = 0;
        cl_mem fstats = NULL;
        st = grad_fast(dev, &chain, &a, input_desc, input, target_desc, target, weight, loss_desc,
                       has_loss ? loss : NULL, grad_output_desc, grad_output, has_go, &gi,
                       grad_input, NULL, den, CLCE__OP_CROSS_ENTROPY_FUSED, &handled, &fstats);
        if (handled == 1 || st != CLCE_OK)
            return clce__chain_end(&chain, st, event);
        if (handled == 2) {
            const clce_tensor_desc *r4[CLCE__ROLES] = {
                input_desc, target_desc, has_go && none ? grad_output_desc : NULL, &gi};
            clce__rowgeom g4;
            clce__rowgeom_build(r4, a.class_axis, &g4);
            st = enqueue_bwd_rows(dev, &chain, &a, &g4, input, target, weight, grad_output,
                                  !has_go ? 0
                                  : none  ? g4.offset[2]
                                          : grad_output_desc->offset,
                                  has_go, grad_input, fstats, den, mean);
            return clce__chain_end(&chain, st, event);
        }
    }
    const int reduced_loss = has_loss && !none;
    if (st == CLCE_OK && reduced_loss)
        st = clce__chain_scratch(&chain, 3 * (size_t)g.rows * clce__acc_size(dev),
                                 "per-row loss parts", &row_vals);
    if (st == CLCE_OK && reduced_loss)
        st = clce__chain_scratch(&chain, clce__acc_size(dev), "loss denominator", &loss_den);
    char defines[192];
    snprintf(defines, sizeof defines,
             "-DTARGET_T=%s -DPROB=%d -DROW_DIMS=%d -DSMOOTH=%d -DGO_NONE=%d -DOUT_NONE=%d",
             a.target_type, a.prob_target, nd, a.eps > 0.0f, none, none);
    if (st == CLCE_OK && g.rows > 0)
        st = clce__get_kernel(dev, "ce_grad.cl", defines, "ce_fused_rows", &k);
    if (st == CLCE_OK && g.rows > 0) {
        cl_mem w = a.has_weight ? weight : dev->error_record;
        cl_mem d = den ? den : dev->error_record;
        cl_mem go = has_go ? grad_output : dev->error_record;
        cl_mem lo = has_loss && none ? loss : dev->error_record;
        cl_mem vals = row_vals ? row_vals : dev->error_record;
        cl_long x_off = g.offset[0], cs = g.class_stride[0], t_off = g.offset[1],
                tcs = g.class_stride[1],
                go_off = !has_go ? 0
                         : none  ? gb.offset[2]
                                 : grad_output_desc->offset,
                g_off = g.offset[2], gcs = g.class_stride[2], o_off = none ? gb.offset[1] : 0,
                rows = g.rows, C = g.classes, ii = a.ignore_index;
        cl_int has_w = a.has_weight, hg = has_go, hl = has_loss, mn = mean;
        cl_float eps = a.eps;
        cl_long8 size = clce__geom_sizes(&g), sx = clce__geom_strides(&g, 0),
                 stt = clce__geom_strides(&g, 1), sgi = clce__geom_strides(&g, 2),
                 size_b = clce__geom_sizes(&gb), so = clce__geom_strides(&gb, 1),
                 sgo = clce__geom_strides(&gb, 2);
        clce__arg args[] = {
            CLCE_ARG(input),  CLCE_ARG(x_off),  CLCE_ARG(cs),  CLCE_ARG(target),
            CLCE_ARG(t_off),  CLCE_ARG(tcs),    CLCE_ARG(w),   CLCE_ARG(has_w),
            CLCE_ARG(go),     CLCE_ARG(go_off), CLCE_ARG(hg),  CLCE_ARG(grad_input),
            CLCE_ARG(g_off),  CLCE_ARG(gcs),    CLCE_ARG(lo),  CLCE_ARG(o_off),
            CLCE_ARG(hl),     CLCE_ARG(vals),   CLCE_ARG(d),   CLCE_ARG(mn),
            CLCE_ARG(rows),   CLCE_ARG(C),      CLCE_ARG(ii),  CLCE_ARG(eps),
            CLCE_ARG(size),   CLCE_ARG(sx),     CLCE_ARG(stt), CLCE_ARG(sgi),
            CLCE_ARG(size_b), CLCE_ARG(so),     CLCE_ARG(sgo), CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "ce_fused_rows", args, sizeof args / sizeof args[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(&chain, k, "ce_fused_rows", g.rows);
    }
    if (st == CLCE_OK && reduced_loss) {
        const int mode = a.reduction == CLCE_REDUCTION_SUM ? 1 : a.prob_target ? 3 : 2;
        st = clce__enqueue_reduce(dev, &chain, row_vals, g.rows, mode,
                                  !a.prob_target && a.eps > 0.0f, a.eps, g.classes, g.rows, loss,
                                  loss_desc->offset, loss_den);
    }
    if (k)
        clReleaseKernel(k);
    return clce__chain_end(&chain, st, event);
}
