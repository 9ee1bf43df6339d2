/*
 * ce_forward.c - cross_entropy forward: argument checks, then up to five launches on one event
 * chain: target check (2), the row kernel, and for sum/mean the two-pass reduction.  The mean's
 * denominator is summed and divided on the device: no host round-trip inside the op.
 * Geometries the tuning table allows go to the fast paths of cl/ce_fwd_fast.cl (ce_fwd_fast
 * below: float16 rows, optionally split; 16-lane pixels/tiny rows; on GPUs a work-group per
 * row; target check fused into
 * the row kernel for sum/mean); everything else to the generic row kernel.
 */
#include "ce_grad.h"
#include "loss_args.h"

#include <stdio.h>

/* ---- fast paths (cl/ce_fwd_fast.cl), chosen from the tuning table ------------------------ */

/* Records the first bad target found by a fused check (the pre-pass's second kernel). */
static clce_status ce_fwd_record(clce_device *dev, clce__chain *chain, const clce__rowgeom *g,
                                 const char *target_type, cl_mem target, int op_code) {
    char defines[128];
    snprintf(defines, sizeof defines, "-DTARGET_T=%s -DROW_DIMS=%d", target_type, g->nd);
    cl_kernel k = NULL;
    clce_status st = clce__get_kernel(dev, "validate.cl", defines, "record_bad_target", &k);
    if (st == CLCE_OK) {
        cl_long t_off = g->offset[1], classes = g->classes;
        cl_long8 size = clce__geom_sizes(g), strides = clce__geom_strides(g, 1);
        cl_int seq = clce__next_seq(dev), op = op_code;
        clce__arg ar[] = {
            CLCE_ARG(target),  CLCE_ARG(t_off), CLCE_ARG(classes), CLCE_ARG(size),
            CLCE_ARG(strides), CLCE_ARG(seq),   CLCE_ARG(op),      CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "record_bad_target", ar, sizeof ar / sizeof ar[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch(chain, k, "record_bad_target", 1, 1);
    }
    if (k)
        clReleaseKernel(k);
    return st;
}

/* Which kernel a geometry gets.  vrows needs class stride 1 (vload16 along the row); lanes is
 * correct for any strides (it gathers unless the innermost row dimension is contiguous).  Only
 * the input's class stride, innermost row stride, rows and classes matter: the same for every
 * op over the same input. */
clce__ce_variant clce__ce_fwd_pick(const clce__tuning *tu, const clce__loss_args *a,
                                   const clce__rowgeom *g) {
    if (!tu->fwd_fast || a->prob_target || g->rows == 0 || g->classes == 0)
        return CLCE__CE_GENERIC;
    const int64_t cs = g->class_stride[0], sx0 = g->stride[0][0];
    if (cs == 1 && g->classes >= tu->fwd_wgrow_min_classes)
        return CLCE__CE_WGROW;
    /* contiguous 16-row blocks the 16-lane kernels transpose in registers (up to the tuning
     * row's lane_transpose_max_classes) before vrows' item per row: (1e6, 32) forward 29 -> 6
     * ms, (5e5, 64) 16 -> 7 ms */
    if (cs == 1 && clce__ce_lane_transpose(tu, g))
        return CLCE__CE_LANES;
    if (cs == 1 && g->classes >= tu->fwd_vrow_min_classes)
        return CLCE__CE_VROWS;
    if ((cs != 1 && sx0 == 1) || g->classes < tu->fwd_vrow_min_classes)
        return CLCE__CE_LANES;
    return CLCE__CE_GENERIC;
}

/* TRANSPOSE_C for the 16-lane kernels: the class count when a group's 16 rows are one contiguous
 * row-major block (class stride 1, row stride C) of few enough classes, in a problem large enough
 * to repay a build per class count (tuning row); else 0 (per-lane loads). */
int clce__ce_lane_transpose(const clce__tuning *tu, const clce__rowgeom *g) {
    const int64_t C = g->classes;
    return g->rows >= tu->lane_specialize_min_rows && g->class_stride[0] == 1 &&
                   g->stride[0][0] == C && C <= tu->lane_transpose_max_classes
               ? (int)C
               : 0;
}

/* Class count and chunk (NCLS, LCH) of the 16-lane kernels: small class counts are fixed at
 * build time with one chunk covering them (the tuning row's lane_const_max_classes) for
 * problems large enough to repay a build per class count; else NCLS = 0 and the row's chunk. */
void clce__ce_lane_consts(const clce__tuning *tu, const clce__rowgeom *g, int *ncls, int *lch) {
    *ncls = 0;
    *lch = tu->fwd_lane_chunk;
    if (g->rows >= tu->lane_specialize_min_rows && g->classes >= 1 &&
        g->classes <= tu->lane_const_max_classes) {
        *ncls = (int)g->classes;
        *lch = (int)((g->classes + 7) / 8 * 8);
    }
}

/* Groups per log in the reduced unweighted 16-lane forward (LOGPROD): each group's s lies in
 * [1, C] (every term exp(x - max) <= 1, the max's is 1), so the product of k of them stays
 * below 2^120 while k * log2(C + 1) <= 120; at most 16. */
static int logprod_groups(int64_t classes) {
    int bits = 1;
    while (bits < 62 && ((int64_t)1 << bits) <= classes)
        ++bits;
    const int k = 120 / bits;
    return k < 1 ? 1 : k > 16 ? 16 : k;
}

/* CHV of a build: every kernel over the same rows must chunk them alike (same bits). */
int clce__ce_chunk_vecs(const clce__tuning *tu, const clce__loss_args *a) {
    return a->eps > 0.0f && a->has_weight ? tu->fwd_chunk_vecs_weighted : tu->fwd_chunk_vecs;
}

/* VROWS_R of a row build: rows not split into segments take fwd_vrow_weighted_rows rows per
 * item with weights + smoothing, else fwd_vrow_rows, as many as fit vrow_fwd_floats (forward)
 * or vrow_grad_floats (backward, fused) logits (the same for forward, backward and fused
 * with weights + smoothing, whose rows share each weights vector). */
int clce__ce_vrows_rows(const clce__tuning *tu, const clce__loss_args *a, int64_t nseg,
                        int64_t classes, int grad) {
    if (nseg != 1)
        return 1;
    int64_t r = tu->fwd_vrow_weighted_rows;
    if (!(a->eps > 0.0f && a->has_weight)) {
        const int64_t fit = (grad ? tu->vrow_grad_floats : tu->vrow_fwd_floats) / classes;
        r = fit < tu->fwd_vrow_rows ? fit : tu->fwd_vrow_rows;
    }
    return r < 1 ? 1 : r > 16 ? 16 : (int)r;
}

void clce__ce_fwd_split(const clce__tuning *tu, const clce__rowgeom *g, int64_t *nseg,
                        int64_t *seg_len) {
    /* segments a multiple of every chunk length (CHV 16 or 8 on CPUs; 4 on GPUs) */
    const int64_t chunk = 16 * (int64_t)(tu->fwd_chunk_vecs > tu->fwd_chunk_vecs_weighted
                                             ? tu->fwd_chunk_vecs
                                             : tu->fwd_chunk_vecs_weighted);
    *nseg = 1;
    *seg_len = g->classes;
    if (g->rows < tu->fwd_split_items && g->classes >= tu->fwd_split_min_classes) {
        int64_t n = (tu->fwd_split_items + g->rows - 1) / g->rows;
        int64_t len = (g->classes + n - 1) / n;
        len = (len + chunk - 1) / chunk * chunk;
        *seg_len = len;
        *nseg = (g->classes + len - 1) / len;
    }
}

/* Enqueues the whole op on a fast path, or sets *handled = 0 and enqueues nothing. */
clce_status clce__ce_fwd_fast(clce_device *dev, clce__chain *chain, const clce__loss_args *a,
                              const clce__rowgeom *g, cl_mem input, cl_mem target, cl_mem weight,
                              cl_mem loss, int64_t loss_off, cl_mem stats, int op, int *handled) {
    const clce__tuning *tu = &dev->tuning;
    const clce__ce_variant v = clce__ce_fwd_pick(tu, a, g);
    *handled = v != CLCE__CE_GENERIC;
    if (!*handled)
        return CLCE_OK;
    const int reduced = a->reduction != CLCE_REDUCTION_NONE;
    const int smooth = a->eps > 0.0f;
    int64_t nseg = 1, seg_len = g->classes, slots = g->rows, gpi = 1;
    size_t global, wg;
    int vrows_r = 1; /* rows per item sharing each weights vector (weights + smoothing) */
    if (v == CLCE__CE_VROWS) {
        clce__ce_fwd_split(tu, g, &nseg, &seg_len);
        vrows_r = clce__ce_vrows_rows(tu, a, nseg, g->classes, 0);
        wg = tu->fwd_vrow_wg;
        global = clce__round_up((size_t)((g->rows + vrows_r - 1) / vrows_r * nseg), wg);
    } else if (v == CLCE__CE_WGROW) {
        wg = tu->fwd_wgrow_wg;
        global = (size_t)g->rows * wg;
    } else {
        const int64_t inner = g->size[0], gpo = (inner + 15) / 16;
        const int64_t groups = g->rows / inner * gpo;
        gpi = (int64_t)tu->fwd_lane_groups;
        slots = (groups + gpi - 1) / gpi;
        wg = tu->fwd_lane_wg;
        global = clce__round_up((size_t)slots, wg);
    }

    clce_status st = CLCE_OK;
    if (!reduced) /* nothing but the row kernel writes: the check must come first */
        st = clce__enqueue_target_check(dev, chain, g, 1, a->target_type, target, a->ignore_index,
                                        op);
    int ncls = 0, lch = tu->fwd_lane_chunk;
    if (v == CLCE__CE_LANES)
        clce__ce_lane_consts(tu, g, &ncls, &lch);
    char defines[256];
    int used = snprintf(
        defines, sizeof defines,
        "-DTARGET_T=%s -DROW_DIMS=%d -DSMOOTH=%d -DOUT_NONE=%d -DCHV=%d -DLCH=%d -DHAS_W=%d "
        "-DTRANSPOSE_C=%d -DNCLS=%d -DVROWS_R=%d -DLOGPROD=%d -DPF_GROUPS=%d "
        "-DPF_PLANES=%d -DPF_L2=1 -DPF_ROW=%d",
        a->target_type, g->nd, smooth, !reduced, clce__ce_chunk_vecs(tu, a), lch,
        smooth && a->has_weight, v == CLCE__CE_LANES ? clce__ce_lane_transpose(tu, g) : 0, ncls,
        vrows_r,
        v == CLCE__CE_LANES && reduced && !smooth && !a->has_weight && !stats
            ? logprod_groups(g->classes)
            : 0,
        tu->fwd_lane_prefetch_groups, tu->lane_plane_prefetch_groups,
        v == CLCE__CE_VROWS ? tu->row_prefetch_chunks : 0);
    if (v == CLCE__CE_WGROW && used > 0 && (size_t)used < sizeof defines)
        snprintf(defines + used, sizeof defines - (size_t)used, " -DWG=%zu", wg);
    cl_kernel k = NULL, km = NULL;
    cl_mem row_vals = NULL, den = NULL, parts = NULL;
    const size_t acc = clce__acc_size(dev);
    if (st == CLCE_OK)
        st = clce__get_kernel(dev, "ce_fwd_fast.cl", defines,
                              v == CLCE__CE_VROWS   ? "ce_fwd_vrows"
                              : v == CLCE__CE_WGROW ? "ce_fwd_wgrow"
                                                    : "ce_fwd_lanes",
                              &k);
    if (st == CLCE_OK && nseg > 1)
        st = clce__get_kernel(dev, "ce_fwd_fast.cl", defines, "ce_fwd_merge", &km);
    if (st == CLCE_OK && reduced)
        st = clce__chain_scratch(chain, 3 * (size_t)slots * acc, "per-item loss parts", &row_vals);
    if (st == CLCE_OK && reduced)
        st = clce__chain_scratch(chain, acc, "mean denominator", &den);
    if (st == CLCE_OK && nseg > 1)
        st = clce__chain_scratch(chain, 4 * (size_t)(g->rows * nseg) * acc, "row-split partials",
                                 &parts);
    if (st == CLCE_OK) {
        cl_mem none_out = reduced ? dev->error_record : loss;
        cl_mem vals = reduced ? row_vals : dev->error_record;
        cl_mem w = a->has_weight ? weight : dev->error_record;
        cl_mem s = stats ? stats : dev->error_record;
        cl_mem pm = parts ? parts : dev->error_record;
        cl_long x_off = g->offset[0], cs = g->class_stride[0], t_off = g->offset[1],
                o_off = g->offset[2], rows = g->rows, C = g->classes, ii = a->ignore_index,
                sl = seg_len, ns = nseg, gp = gpi;
        cl_int has_w = a->has_weight, has_s = stats != NULL;
        cl_float eps = a->eps;
        cl_long8 size = clce__geom_sizes(g), sx = clce__geom_strides(g, 0),
                 stt = clce__geom_strides(g, 1), so = clce__geom_strides(g, 2);
        if (v == CLCE__CE_VROWS) {
            clce__arg args[] = {CLCE_ARG(input),
                                CLCE_ARG(x_off),
                                CLCE_ARG(target),
                                CLCE_ARG(t_off),
                                CLCE_ARG(w),
                                CLCE_ARG(has_w),
                                CLCE_ARG(none_out),
                                CLCE_ARG(o_off),
                                CLCE_ARG(vals),
                                CLCE_ARG(s),
                                CLCE_ARG(has_s),
                                CLCE_ARG(rows),
                                CLCE_ARG(C),
                                CLCE_ARG(ii),
                                CLCE_ARG(eps),
                                CLCE_ARG(sl),
                                CLCE_ARG(ns),
                                CLCE_ARG(pm),
                                CLCE_ARG(size),
                                CLCE_ARG(sx),
                                CLCE_ARG(stt),
                                CLCE_ARG(so),
                                CLCE_ARG(dev->error_record)};
            st = clce__set_args(k, "ce_fwd_vrows", args, sizeof args / sizeof args[0]);
            if (st == CLCE_OK)
                st = clce__chain_launch(chain, k, "ce_fwd_vrows", global, wg);
            if (st == CLCE_OK && km) {
                clce__arg margs[] = {CLCE_ARG(input),    CLCE_ARG(x_off),
                                     CLCE_ARG(target),   CLCE_ARG(t_off),
                                     CLCE_ARG(w),        CLCE_ARG(has_w),
                                     CLCE_ARG(none_out), CLCE_ARG(o_off),
                                     CLCE_ARG(vals),     CLCE_ARG(s),
                                     CLCE_ARG(has_s),    CLCE_ARG(rows),
                                     CLCE_ARG(C),        CLCE_ARG(ii),
                                     CLCE_ARG(eps),      CLCE_ARG(ns),
                                     CLCE_ARG(pm),       CLCE_ARG(size),
                                     CLCE_ARG(sx),       CLCE_ARG(stt),
                                     CLCE_ARG(so),       CLCE_ARG(dev->error_record)};
                st = clce__set_args(km, "ce_fwd_merge", margs, sizeof margs / sizeof margs[0]);
                if (st == CLCE_OK)
                    st = clce__chain_launch(chain, km, "ce_fwd_merge",
                                            clce__round_up((size_t)g->rows, wg), wg);
            }
        } else if (v == CLCE__CE_WGROW) {
            clce__arg args[] = {CLCE_ARG(input),  CLCE_ARG(x_off),    CLCE_ARG(cs),
                                CLCE_ARG(target), CLCE_ARG(t_off),    CLCE_ARG(w),
                                CLCE_ARG(has_w),  CLCE_ARG(none_out), CLCE_ARG(o_off),
                                CLCE_ARG(vals),   CLCE_ARG(s),        CLCE_ARG(has_s),
                                CLCE_ARG(rows),   CLCE_ARG(C),        CLCE_ARG(ii),
                                CLCE_ARG(eps),    CLCE_ARG(size),     CLCE_ARG(sx),
                                CLCE_ARG(stt),    CLCE_ARG(so),       CLCE_ARG(dev->error_record)};
            st = clce__set_args(k, "ce_fwd_wgrow", args, sizeof args / sizeof args[0]);
            if (st == CLCE_OK)
                st = clce__chain_launch(chain, k, "ce_fwd_wgrow", global, wg);
        } else {
            clce__arg args[] = {CLCE_ARG(input), CLCE_ARG(x_off),
                                CLCE_ARG(cs),    CLCE_ARG(target),
                                CLCE_ARG(t_off), CLCE_ARG(w),
                                CLCE_ARG(has_w), CLCE_ARG(none_out),
                                CLCE_ARG(o_off), CLCE_ARG(vals),
                                CLCE_ARG(s),     CLCE_ARG(has_s),
                                CLCE_ARG(rows),  CLCE_ARG(C),
                                CLCE_ARG(ii),    CLCE_ARG(eps),
                                CLCE_ARG(size),  CLCE_ARG(sx),
                                CLCE_ARG(stt),   CLCE_ARG(so),
                                CLCE_ARG(gp),    CLCE_ARG(dev->error_record)};
            st = clce__set_args(k, "ce_fwd_lanes", args, sizeof args / sizeof args[0]);
            if (st == CLCE_OK)
                st = clce__chain_launch(chain, k, "ce_fwd_lanes", global, wg);
        }
    }
    if (st == CLCE_OK && reduced)
        st = ce_fwd_record(dev, chain, g, a->target_type, target, op);
    if (st == CLCE_OK && reduced)
        st = clce__enqueue_reduce(dev, chain, row_vals, slots,
                                  a->reduction == CLCE_REDUCTION_SUM ? 1 : 2, smooth, a->eps,
                                  g->classes, g->rows, loss, loss_off, den);
    if (k)
        clReleaseKernel(k);
    if (km)
        clReleaseKernel(km);
    return st; /* scratch buffers belong to the chain (released when its last command ends) */
}

clce_status clce_cross_entropy_forward(clce_device *dev, const clce_loss_desc *desc,
                                       const clce_tensor_desc *input_desc, cl_mem input,
                                       const clce_tensor_desc *target_desc, cl_mem target,
                                       const clce_tensor_desc *weight_desc, cl_mem weight,
                                       const clce_tensor_desc *loss_desc, cl_mem loss, cl_mem stats,
                                       cl_uint num_wait_events, const cl_event *wait_events,
                                       cl_event *event) {
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
    st = clce__check_wait_list(num_wait_events, wait_events);
    if (st != CLCE_OK)
        return st;
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
    int handled = 0;
    st = clce__ce_fwd_fast(dev, &chain, &a, &g, input, target, weight, loss, loss_desc->offset,
                           stats, CLCE__OP_CROSS_ENTROPY_FORWARD, &handled);
    if (handled)
        return clce__chain_end(&chain, st, event);
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
        st = clce__chain_scratch(&chain, 3 * (size_t)g.rows * clce__acc_size(dev),
                                 "per-row loss parts", &row_vals);
    if (st == CLCE_OK && reduced)
        st = clce__chain_scratch(&chain, clce__acc_size(dev), "mean denominator", &den);
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
        clce__arg args[] = {CLCE_ARG(input),  CLCE_ARG(x_off),    CLCE_ARG(cs),
                            CLCE_ARG(target), CLCE_ARG(t_off),    CLCE_ARG(w),
                            CLCE_ARG(has_w),  CLCE_ARG(none_out), CLCE_ARG(o_off),
                            CLCE_ARG(vals),   CLCE_ARG(s),        CLCE_ARG(has_s),
                            CLCE_ARG(rows),   CLCE_ARG(C),        CLCE_ARG(ii),
                            CLCE_ARG(eps),    CLCE_ARG(size),     CLCE_ARG(sx),
                            CLCE_ARG(stt),    CLCE_ARG(so),       CLCE_ARG(dev->error_record)};
        st = clce__set_args(k, "ce_fwd_rows", args, sizeof args / sizeof args[0]);
        if (st == CLCE_OK)
            st = clce__chain_launch_rows(&chain, k, "ce_fwd_rows", g.rows);
    }
    if (st == CLCE_OK && reduced)
        st = clce__enqueue_reduce(dev, &chain, row_vals, g.rows,
                                  a.reduction == CLCE_REDUCTION_SUM ? 1 : 2, smooth, a.eps,
                                  g.classes, g.rows, loss, loss_desc->offset, den);
    if (k)
        clReleaseKernel(k);
    return clce__chain_end(&chain, st, event);
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
