/*
 * nll.cl - nll_loss forward and backward, one work-item per row, any strides.  The input holds
 * log-probabilities (any reals are accepted); only the target's element of a row is read.
 *   forward:  l_r = -w_t x_r[t] (0 on ignored rows); sum/mean go through reduce.cl as
 *             {nll, 0, den} triples, so the reduction equals cross_entropy's.
 *   den pass: {0, 0, w_t} per row for the backward's mean, reduced on the device.
 *   backward: dx_r[t] = w_t * -(g_r / den) (mean) or w_t * -g_r, every other element 0.
 * Every kernel that writes user outputs returns early when a bad target is recorded.
 *
 * clce-warmup: -DTARGET_T=long -DROW_DIMS=1
 * Required: TARGET_T.  Optional: OUT_NONE (forward: per-row loss through the output strides),
 * GO_NONE (backward: per-row grad_output), MEAN (backward: divide by den_in[0]).
 */
#ifndef TARGET_T
#error "TARGET_T must be defined"
#endif
#ifndef OUT_NONE
#define OUT_NONE 0
#endif
#ifndef GO_NONE
#define GO_NONE 0
#endif
#ifndef MEAN
#define MEAN 0
#endif

__kernel void nll_fwd_rows(__global const float *x, long x_off, long cstride,
                           __global const TARGET_T *t, long t_off, __global const float *w,
                           int has_weight, __global float *loss, long o_off,
                           __global acc_t *row_vals, long rows, long classes, long ignore_index,
                           long8 size, long8 sx, long8 st, long8 so, __global const int *rec) {
    const long r = get_global_id(0);
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long ox, ot, oo, unused;
    row_offsets(r, size, sx, st, so, so, &ox, &ot, &oo, &unused);
    const long tgt = (long)t[t_off + ot];
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
    acc_t nll = 0, d = 0;
    if (valid) {
        const acc_t wt = has_weight ? (acc_t)w[tgt] : 1;
        nll = -wt * (acc_t)x[x_off + ox + tgt * cstride];
        d = wt;
    }
#if OUT_NONE
    loss[o_off + oo] = (float)nll;
#else
    row_vals[3 * r] = nll;
    row_vals[3 * r + 1] = 0;
    row_vals[3 * r + 2] = d;
#endif
}

/* Per-row denominator parts for the backward's mean (writes scratch only). */
__kernel void nll_den_rows(__global const TARGET_T *t, long t_off, __global const float *w,
                           int has_weight, __global acc_t *row_vals, long rows, long classes,
                           long ignore_index, long8 size, long8 st) {
    const long r = get_global_id(0);
    if (r >= rows)
        return;
    long ot, u0, u1, u2;
    row_offsets(r, size, st, st, st, st, &ot, &u0, &u1, &u2);
    const long tgt = (long)t[t_off + ot];
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
    row_vals[3 * r] = 0;
    row_vals[3 * r + 1] = 0;
    row_vals[3 * r + 2] = valid ? (has_weight ? (acc_t)w[tgt] : 1) : 0;
}

__kernel void nll_bwd_rows(__global const TARGET_T *t, long t_off, __global const float *w,
                           int has_weight, __global const float *go, long go_off,
                           __global const acc_t *den_in, __global float *dx, long d_off,
                           long cstride, long rows, long classes, long ignore_index, long8 size,
                           long8 sd, long8 st, long8 sg, __global const int *rec) {
    const long r = get_global_id(0);
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long od, ot, og, unused;
    row_offsets(r, size, sd, st, sg, sg, &od, &ot, &og, &unused);
    const long tgt = (long)t[t_off + ot];
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
    __global float *dr = dx + d_off + od;
    for (long c = 0; c < classes; ++c)
        dr[c * cstride] = 0.0f;
    if (!valid)
        return;
#if GO_NONE
    acc_t scale = (acc_t)go[go_off + og];
#else
    acc_t scale = (acc_t)go[go_off];
#endif
#if MEAN
    scale = scale / den_in[0];
#endif
    const acc_t wt = has_weight ? (acc_t)w[tgt] : 1;
    dr[tgt * cstride] = (float)(wt * -scale);
}
