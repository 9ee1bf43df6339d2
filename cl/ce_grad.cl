/*
 * ce_grad.cl - cross_entropy with probability targets (forward), the mean denominator pass, the
 * backward and the fused loss + gradient, one work-item per row, any strides.
 *
 * Row statistics are the generic forward's (STATS_STEP in common.clh, the same operations as
 * ce_fwd.cl): an online max m and s = sum exp(x - m), lse = log(s); stats hold (m, lse).  The
 * gradient follows PyTorch's composite (log_softmax backward of dlogp), as tests/ref/ref.c does:
 *   dlogp_c = index: w_c * a + [c = t] w_t * b  (a = -(g eps / C), b = -(g (1 - eps)));
 *             eps = 0: [c = t] w_t * -g;  ignored row: 0
 *             prob:  -(q_c w_c) g  with q_c = (1 - eps) y_c + eps / C
 *   dx_c    = dlogp_c - p_c * sum_c dlogp_c,   p_c = exp((x_c - m) - lse)
 * so NaN logits in an ignored row still give a NaN row (0 - NaN * 0) and an all-ignored mean
 * (g / 0 = inf, never used) gives zeros.  The backward and the fused kernel call the same
 * inline functions in the same order with the same stats, so their gradients are identical
 * bits.
 *
 * clce-warmup: -DTARGET_T=long -DPROB=0 -DROW_DIMS=1
 * Required: TARGET_T (float for probability targets), PROB (0/1).  Optional: SMOOTH, OUT_NONE
 * (per-row loss written through the loss strides), GO_NONE (per-row grad_output).
 */
#ifndef TARGET_T
#error "TARGET_T must be defined"
#endif
#ifndef PROB
#define PROB 0
#endif
#ifndef SMOOTH
#define SMOOTH 0
#endif
#ifndef OUT_NONE
#define OUT_NONE 0
#endif
#ifndef GO_NONE
#define GO_NONE 0
#endif

/* Smoothed probability target q_c (acc_t). */
inline acc_t prob_q(float y, float eps, long classes) {
#if SMOOTH
    return (acc_t)y * (1 - (acc_t)eps) + (acc_t)eps / (acc_t)classes;
#else
    (void)eps;
    (void)classes;
    return (acc_t)y;
#endif
}

/* dlogp_c of a probability target. */
inline acc_t prob_dlp(float y, acc_t wc, acc_t scale, float eps, long classes) {
    return -(prob_q(y, eps, classes) * wc) * scale;
}

/* dlogp_c of a class-index target (valid row). */
inline acc_t index_dlp(long c, long tgt, acc_t wc, acc_t wt, acc_t a, acc_t b) {
#if SMOOTH
    acc_t d = wc * a;
    if (c == tgt)
        d += wt * b;
    return d;
#else
    (void)wc;
    (void)b;
    return c == tgt ? wt * a : 0;
#endif
}

/* The gradient scale g_r for a row: grad_output (per row or scalar), / den for mean. */
inline acc_t grad_scale(__global const float *go, long go_off, long go_row_off, int has_go,
                        int mean, __global const acc_t *den, long count) {
#if GO_NONE
    const acc_t g = has_go ? (acc_t)go[go_off + go_row_off] : 1;
#else
    (void)go_row_off;
    const acc_t g = has_go ? (acc_t)go[go_off] : 1;
#endif
    /* mean 1: over the device-summed weights; mean 2: over the row count (prob targets) */
    return mean == 1 ? g / den[0] : mean == 2 ? g / (acc_t)count : g;
}

/* Index-target coefficients a, b of dlogp (see the header). */
inline void index_ab(acc_t scale, float eps, long classes, acc_t *a, acc_t *b) {
#if SMOOTH
    *a = -(scale * (acc_t)eps / (acc_t)classes);
    *b = -(scale * (1 - (acc_t)eps));
#else
    (void)eps;
    (void)classes;
    *a = -scale;
    *b = 0;
#endif
}

/* sum_c dlogp_c of a valid index-target row, in class order. */
inline acc_t index_dlp_sum(long tgt, __global const float *w, int has_weight, acc_t wt, acc_t a,
                           acc_t b, long classes) {
#if SMOOTH
    acc_t sum = 0;
    for (long c = 0; c < classes; ++c)
        sum += index_dlp(c, tgt, has_weight ? (acc_t)w[c] : 1, wt, a, b);
    return sum;
#else
    (void)w;
    (void)has_weight;
    (void)b;
    (void)classes;
    (void)tgt;
    return wt * a;
#endif
}

/* Writes dx for one row: reads the logits (and prob targets) once, writes the gradient once. */
inline void write_grad_row(__global const float *xr, long cs, __global float *gr, long gs,
                           __global const float *yr, long ys, __global const float *w,
                           int has_weight, long classes, float m, float lse, int valid, long tgt,
                           acc_t wt, acc_t a, acc_t b, acc_t scale, float eps, acc_t sumd) {
    for (long c = 0; c < classes; ++c) {
        const float v = xr[c * cs];
        const acc_t p = exp((acc_t)(v - m) - (acc_t)lse);
        const acc_t wc = has_weight ? (acc_t)w[c] : 1;
        acc_t d = 0;
#if PROB
        (void)valid;
        (void)tgt;
        (void)wt;
        (void)a;
        (void)b;
        d = prob_dlp(yr[c * ys], wc, scale, eps, classes);
#else
        (void)yr;
        (void)ys;
        (void)scale;
        (void)eps;
        if (valid)
            d = index_dlp(c, tgt, wc, wt, a, b);
#endif
        gr[c * gs] = (float)(d - p * sumd);
    }
}

/* Per-row parts of a row's loss, as ce_fwd.cl (index) or the prob formula. */
inline void store_loss(acc_t nll, acc_t smooth, acc_t d, int valid, float eps, long classes,
                       __global float *loss, long o_off, long oo, __global acc_t *row_vals,
                       long r) {
#if OUT_NONE
    (void)d;
    (void)row_vals;
    (void)r;
#if PROB
    (void)valid;
    (void)smooth;
    (void)eps;
    (void)classes;
    const acc_t l = nll;
#elif SMOOTH
    const acc_t l = valid ? (1 - (acc_t)eps) * nll + ((acc_t)eps / (acc_t)classes) * smooth : 0;
#else
    (void)valid;
    (void)smooth;
    (void)eps;
    (void)classes;
    const acc_t l = nll;
#endif
    loss[o_off + oo] = (float)l;
#else
    (void)valid;
    (void)eps;
    (void)classes;
    (void)loss;
    (void)o_off;
    (void)oo;
    row_vals[3 * r] = nll;
    row_vals[3 * r + 1] = smooth;
    row_vals[3 * r + 2] = d;
#endif
}

/* One read of the logits and targets of a prob-target row: stats, the loss parts
 * B = sum w_c q_c (x_c - m) (relative to the running max) and S = sum w_c q_c, and with
 * want_sumd the gradient's sum_c dlogp_c. */
inline void prob_row_pass(__global const float *xr, long cs, __global const float *yr, long ys,
                          __global const float *w, int has_weight, long classes, float eps,
                          acc_t scale, int want_sumd, float *m_out, float *lse_out, acc_t *loss_out,
                          acc_t *sumd_out) {
    float m = -INFINITY;
    acc_t s = 0, B = 0, S = 0, sumd = 0;
    for (long c = 0; c < classes; ++c) {
        const float v = xr[c * cs];
        const float y = yr[c * ys];
        const acc_t wc = has_weight ? (acc_t)w[c] : 1;
        const acc_t wq = prob_q(y, eps, classes) * wc;
        if (v > m && m != -INFINITY)
            B += S * (acc_t)(m - v); /* shift to the new max; -inf terms stay infinite */
        STATS_STEP(v, m, s);
        if (v > m)
            m = v;
        /* w q (x - m); 0 * -inf is NaN as PyTorch's literal product is */
        B += wq * (v == -INFINITY ? (acc_t)-INFINITY : (acc_t)(v - m));
        S += wq;
        if (want_sumd)
            sumd += prob_dlp(y, wc, scale, eps, classes);
    }
    const float lse = STATS_LSE(s);
    *m_out = m;
    *lse_out = lse;
    *loss_out = -(B - S * (acc_t)lse);
    *sumd_out = sumd;
}

/* ---- prob-target forward ---------------------------------------------------------------- */

__kernel void ce_fwd_prob(__global const float *x, long x_off, long cstride,
                          __global const float *y, long y_off, long ycs, __global const float *w,
                          int has_weight, __global float *loss, long o_off,
                          __global acc_t *row_vals, __global float *stats, int has_stats, long rows,
                          long classes, float eps, long8 size, long8 sx, long8 sy, long8 so,
                          __global const int *rec) {
    const long r = get_global_id(0);
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long ox, oy, oo, unused;
    row_offsets(r, size, sx, sy, so, so, &ox, &oy, &oo, &unused);
    float m, lse;
    acc_t l, sumd;
    prob_row_pass(x + x_off + ox, cstride, y + y_off + oy, ycs, w, has_weight, classes, eps, 0, 0,
                  &m, &lse, &l, &sumd);
    if (has_stats) {
        stats[2 * r] = m;
        stats[2 * r + 1] = lse;
    }
    store_loss(l, 0, 0, 1, eps, classes, loss, o_off, oo, row_vals, r);
}

/* ---- mean denominator: {0, 0, sum of w_t over valid rows} per item, for reduce.cl --------
 * Each item sums rpi consecutive rows in row order (one triple per item, not per row: the
 * per-row version wrote and page-faulted 24 bytes per row, 48 MB for a 512x512x8 batch). */

__kernel void ce_den_items(__global const TARGET_T *t, long t_off, __global const float *w,
                           int has_weight, __global acc_t *item_vals, long rows, long rpi,
                           long classes, long ignore_index, long8 size, long8 st,
                           __global const int *rec) {
    const long i = get_global_id(0);
    if (i * rpi >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    const long r1 = min(rows, (i + 1) * rpi);
    acc_t den = 0;
    long ot, j;
    walk_start(i * rpi, size, st, &ot, &j);
    for (long r = i * rpi; r < r1;) {
        if (WALK16_OK(st, size, j, r, r1)) {
            /* 16 rows by one vector load and compares; the weights (if any) added in row order,
             * so the sum is the scalar loop's */
            const long16 tv = convert_long16(vload16(0, t + t_off + ot));
            const int16 ok = convert_int16((tv != (long16)ignore_index) & (tv >= (long16)0) &
                                           (tv < (long16)classes));
            if (has_weight) {
                long tl[16];
                int okl[16];
                vstore16(tv, 0, tl);
                vstore16(ok, 0, okl);
                for (int l = 0; l < 16; ++l)
                    if (okl[l])
                        den += (acc_t)w[tl[l]];
            } else {
                const int16 n = -ok; /* 1 per valid row */
                const int8 a = n.lo + n.hi;
                const int4 b = a.lo + a.hi;
                const int2 c = b.lo + b.hi;
                den += (acc_t)(c.lo + c.hi); /* a count: exact, as 16 additions of 1 are */
            }
            r += 16;
            walk_step16(r, size, st, &ot, &j);
            continue;
        }
        const long tgt = (long)t[t_off + ot];
        if (tgt != ignore_index && tgt >= 0 && tgt < classes)
            den += has_weight ? (acc_t)w[tgt] : 1;
        walk_step(++r, size, st, &ot, &j);
    }
    item_vals[3 * i] = 0;
    item_vals[3 * i + 1] = 0;
    item_vals[3 * i + 2] = den;
}

/* ---- backward ---------------------------------------------------------------------------- */

/* Roles: 0 input, 1 target (prob: with class stride tcs), 2 grad_output (GO_NONE), 3 grad. */
__kernel void ce_bwd_rows(__global const float *x, long x_off, long cstride,
                          __global const TARGET_T *t, long t_off, long tcs, __global const float *w,
                          int has_weight, __global const float *go, long go_off, int has_go,
                          __global float *grad, long g_off, long gcs, __global const float *stats,
                          int has_stats, __global const acc_t *den, int mean, long rows,
                          long classes, long ignore_index, float eps, long8 size, long8 sx,
                          long8 st, long8 sg_o, long8 sgi, __global const int *rec) {
    const long r = get_global_id(0);
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long ox, ot, ogo, og;
    row_offsets(r, size, sx, st, sg_o, sgi, &ox, &ot, &ogo, &og);
    __global const float *xr = x + x_off + ox;
    const acc_t scale = grad_scale(go, go_off, ogo, has_go, mean, den, rows);
    float m = -INFINITY, lse;
#if PROB
    (void)ignore_index;
    __global const float *yr = (__global const float *)t + t_off + ot;
    acc_t l, sumd;
    if (has_stats) {
        m = stats[2 * r];
        lse = stats[2 * r + 1];
        sumd = 0;
        for (long c = 0; c < classes; ++c)
            sumd += prob_dlp(yr[c * tcs], has_weight ? (acc_t)w[c] : 1, scale, eps, classes);
    } else {
        prob_row_pass(xr, cstride, yr, tcs, w, has_weight, classes, eps, scale, 1, &m, &lse, &l,
                      &sumd);
    }
    write_grad_row(xr, cstride, grad + g_off + og, gcs, yr, tcs, w, has_weight, classes, m, lse, 1,
                   0, 0, 0, 0, scale, eps, sumd);
#else
    (void)tcs;
    const long tgt = (long)t[t_off + ot];
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
    if (has_stats) {
        m = stats[2 * r];
        lse = stats[2 * r + 1];
    } else {
        acc_t s = 0;
        for (long c = 0; c < classes; ++c) {
            const float v = xr[c * cstride];
            STATS_STEP(v, m, s);
            if (v > m)
                m = v;
        }
        lse = STATS_LSE(s);
    }
    acc_t a = 0, b = 0, wt = 0, sumd = 0;
    if (valid) {
        wt = has_weight ? (acc_t)w[tgt] : 1;
        index_ab(scale, eps, classes, &a, &b);
        sumd = index_dlp_sum(tgt, w, has_weight, wt, a, b, classes);
    }
    write_grad_row(xr, cstride, grad + g_off + og, gcs, x, 0, w, has_weight, classes, m, lse, valid,
                   tgt, wt, a, b, scale, eps, sumd);
#endif
}

/* ---- fused ------------------------------------------------------------------------------- */

/* Roles of geometry A: 0 input, 1 target, 2 grad_input; geometry B (same rows): 1 loss (none),
 * 2 grad_output (none).  Pass 1 reads the row for stats and the loss, pass 2 writes dx. */
__kernel void ce_fused_rows(__global const float *x, long x_off, long cstride,
                            __global const TARGET_T *t, long t_off, long tcs,
                            __global const float *w, int has_weight, __global const float *go,
                            long go_off, int has_go, __global float *grad, long g_off, long gcs,
                            __global float *loss, long o_off, int has_loss,
                            __global acc_t *row_vals, __global const acc_t *den, int mean,
                            long rows, long classes, long ignore_index, float eps, long8 size,
                            long8 sx, long8 st, long8 sgi, long8 size_b, long8 so, long8 sg_o,
                            __global const int *rec) {
    const long r = get_global_id(0);
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long ox, ot, og, oo, ogo, u0, u1;
    row_offsets(r, size, sx, st, sgi, sgi, &ox, &ot, &og, &u0);
    row_offsets(r, size_b, so, so, sg_o, sg_o, &u1, &oo, &ogo, &u0);
    __global const float *xr = x + x_off + ox;
    const acc_t scale = grad_scale(go, go_off, ogo, has_go, mean, den, rows);
    float m, lse;
#if PROB
    (void)ignore_index;
    __global const float *yr = (__global const float *)t + t_off + ot;
    acc_t l, sumd;
    prob_row_pass(xr, cstride, yr, tcs, w, has_weight, classes, eps, scale, 1, &m, &lse, &l, &sumd);
    if (has_loss)
        store_loss(l, 0, 0, 1, eps, classes, loss, o_off, oo, row_vals, r);
    write_grad_row(xr, cstride, grad + g_off + og, gcs, yr, tcs, w, has_weight, classes, m, lse, 1,
                   0, 0, 0, 0, scale, eps, sumd);
#else
    (void)tcs;
    const long tgt = (long)t[t_off + ot];
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
    /* pass 1: ce_fwd.cl's loop (stats, target logit, smoothing sum) */
    acc_t s = 0;
    float xt = 0.0f;
    m = -INFINITY;
#if SMOOTH
    acc_t A = 0, W = 0;
#endif
    for (long c = 0; c < classes; ++c) {
        const float v = xr[c * cstride];
#if SMOOTH
        const acc_t wc = has_weight ? (acc_t)w[c] : 1;
        if (v > m && m != -INFINITY)
            A += W * (acc_t)(m - v);
#endif
        STATS_STEP(v, m, s);
        if (v > m)
            m = v;
#if SMOOTH
        A += wc * (v == -INFINITY ? (acc_t)-INFINITY : (acc_t)(v - m));
        W += wc;
#endif
        if (c == tgt)
            xt = v;
    }
    lse = STATS_LSE(s);
    acc_t a = 0, b = 0, wt = 0, sumd = 0;
    if (valid) {
        wt = has_weight ? (acc_t)w[tgt] : 1;
        index_ab(scale, eps, classes, &a, &b);
        sumd = index_dlp_sum(tgt, w, has_weight, wt, a, b, classes);
    }
    if (has_loss) {
        acc_t nll = 0, smooth = 0, d = 0;
        if (valid) {
            nll = -wt * (acc_t)((xt - m) - lse);
#if SMOOTH
            smooth = -(A - W * (acc_t)lse);
#endif
            d = wt;
        }
        store_loss(nll, smooth, d, valid, eps, classes, loss, o_off, oo, row_vals, r);
    }
    /* pass 2 */
    write_grad_row(xr, cstride, grad + g_off + og, gcs, x, 0, w, has_weight, classes, m, lse, valid,
                   tgt, wt, a, b, scale, eps, sumd);
#endif
}
