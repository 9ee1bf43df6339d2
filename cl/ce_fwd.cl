/*
 * ce_fwd.cl - cross_entropy forward, one work-item per row, any strides.
 *
 * One read of the logits: an online max / sum-exp, the target logit captured on the way, and,
 * with label smoothing, A = sum_c w_c (x_c - m) kept relative to the running max.  Per row:
 *   lse = log sum exp(x - m);  logp_t = (x_t - m) - lse   (PyTorch's order; exact for 1e7 +- 1)
 *   nll = -w_t logp_t;  smooth = -(A - W lse);  loss = (1 - eps) nll + eps / C smooth
 * For sum/mean the parts {nll, smooth, den} go to row_vals and reduce.cl combines them.
 * NaN and +inf make s NaN (as exp(NaN) and exp(inf - inf) do in PyTorch); an all -inf row
 * ends with m = lse = -inf and logp = (-inf + inf) + inf = NaN, as in PyTorch.  Ignored rows give
 * exactly 0 and add nothing to the denominator.
 *
 * Required: TARGET_T.  Optional: SMOOTH, OUT_NONE (write the per-row loss through the output
 * strides instead of per-row parts).  Weight and stats are runtime switches (uniform branches).
 * clce-warmup: -DTARGET_T=long -DROW_DIMS=1
 */
#ifndef TARGET_T
#error "TARGET_T must be defined"
#endif
#ifndef SMOOTH
#define SMOOTH 0
#endif
#ifndef OUT_NONE
#define OUT_NONE 0
#endif

__kernel void ce_fwd_rows(__global const float *x, long x_off, long cstride,
                          __global const TARGET_T *t, long t_off, __global const float *w,
                          int has_weight, __global float *loss, long o_off,
                          __global acc_t *row_vals, __global float *stats, int has_stats, long rows,
                          long classes, long ignore_index, float eps, long8 size, long8 sx,
                          long8 st, long8 so, __global const int *rec) {
    const long r = get_global_id(0);
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long ox, ot, oo, unused;
    row_offsets(r, size, sx, st, so, so, &ox, &ot, &oo, &unused);
    const long tgt = (long)t[t_off + ot];
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;

    __global const float *xr = x + x_off + ox;
    float m = -INFINITY, xt = 0.0f;
    acc_t s = 0;
#if SMOOTH
    acc_t A = 0, W = 0;
#endif
    for (long c = 0; c < classes; ++c) {
        const float v = xr[c * cstride];
#if SMOOTH
        const acc_t wc = has_weight ? (acc_t)w[c] : 1;
        /* shift A to the new max; while m is -inf, A holds only infinite terms */
        if (v > m && m != -INFINITY)
            A += W * (acc_t)(m - v);
#endif
        STATS_STEP(v, m, s);
        if (v > m)
            m = v;
#if SMOOTH
        /* w (x - m); a -inf logit contributes w * -inf even while m is -inf */
        A += wc * (v == -INFINITY ? (acc_t)-INFINITY : (acc_t)(v - m));
        W += wc;
#endif
        if (c == tgt)
            xt = v;
    }
    const float lse = STATS_LSE(s);
    if (has_stats) {
        stats[2 * r] = m;
        stats[2 * r + 1] = lse;
    }
    acc_t nll = 0, smooth = 0, d = 0;
    if (valid) {
        const acc_t wt = has_weight ? (acc_t)w[tgt] : 1;
        const acc_t logpt = (acc_t)((xt - m) - lse);
        nll = -wt * logpt;
#if SMOOTH
        smooth = -(A - W * (acc_t)lse);
#endif
        d = wt;
    }
#if OUT_NONE
#if SMOOTH
    const acc_t l = valid ? (1 - (acc_t)eps) * nll + ((acc_t)eps / (acc_t)classes) * smooth : 0;
#else
    const acc_t l = nll;
#endif
    loss[o_off + oo] = (float)l;
#else
    row_vals[3 * r] = nll;
    row_vals[3 * r + 1] = smooth;
    row_vals[3 * r + 2] = d;
#endif
}
