/*
 * softmax.cl - softmax / log_softmax forward and backward along one dimension of an N-D strided
 * tensor, one work-item per row (a row = one position of the other dimensions).
 *
 * Forward reads the row twice: an online max / sum-exp pass (the same recurrence as ce_fwd.cl,
 * so log_softmax followed by nll_loss matches cross_entropy), then a write pass:
 *   log_softmax: (x - m) - log(s)   (PyTorch's order; exact for [1e7+1, 1e7, 1e7-1])
 *   softmax:     exp(x - m) / s
 * NaN or +inf in a row make s NaN, so the whole row is NaN; an all -inf row keeps m = -inf and
 * s = 0, so x - m = -inf + inf = NaN, as in PyTorch.
 * Backward reads y and g twice: sums over the row in acc_t, then
 *   log_softmax: dx = g - exp(y) * sum(g);
 *   softmax:     dx = y * ((g - g*) - (sum(g y) - g* sum(y)))
 * where g* is g at the row's largest y.  With exact y (sum(y) = 1) this is y (g - sum(g y));
 * with float32 y, sum(y) = 1 + O(eps) and g - sum(g y) cancels badly when one y is close to 1
 * (the direct form was off by 1e-4 relative on PyTorch's golden values and gave 1e-8 instead
 * of 0 for a constant g).  Re-basing on g* removes the dominant rounding term; NaN in y or g
 * still propagates through the sums.
 *
 * clce-warmup: -DLOG=1 -DROW_DIMS=1
 * Required: LOG (0 softmax, 1 log_softmax).  Tensors: x/y/g/dx each with own offset, stride
 * along the dimension and row strides (long8, see common.clh).
 */
#ifndef LOG
#error "LOG must be defined"
#endif

__kernel void softmax_fwd_rows(__global const float *x, long x_off, long x_cs, __global float *y,
                               long y_off, long y_cs, long rows, long classes, long8 size, long8 sx,
                               long8 sy) {
    const long r = get_global_id(0);
    if (r >= rows)
        return;
    long ox, oy, u0, u1;
    row_offsets(r, size, sx, sy, sy, sy, &ox, &oy, &u0, &u1);
    __global const float *xr = x + x_off + ox;
    __global float *yr = y + y_off + oy;
    float m = -INFINITY;
    acc_t s = 0;
    for (long c = 0; c < classes; ++c) {
        const float v = xr[c * x_cs];
        STATS_STEP(v, m, s);
        if (v > m)
            m = v;
    }
#if LOG
    const float lse = STATS_LSE(s);
    for (long c = 0; c < classes; ++c)
        yr[c * y_cs] = (xr[c * x_cs] - m) - lse;
#else
    for (long c = 0; c < classes; ++c)
        yr[c * y_cs] = (float)((acc_t)exp(xr[c * x_cs] - m) / s);
#endif
}

__kernel void softmax_bwd_rows(__global const float *y, long y_off, long y_cs,
                               __global const float *g, long g_off, long g_cs, __global float *dx,
                               long d_off, long d_cs, long rows, long classes, long8 size, long8 sy,
                               long8 sg, long8 sd) {
    const long r = get_global_id(0);
    if (r >= rows)
        return;
    long oy, og, od, u0;
    row_offsets(r, size, sy, sg, sd, sd, &oy, &og, &od, &u0);
    __global const float *yr = y + y_off + oy;
    __global const float *gr = g + g_off + og;
    __global float *dr = dx + d_off + od;
#if LOG
    acc_t sum = 0;
    for (long c = 0; c < classes; ++c)
        sum += (acc_t)gr[c * g_cs];
    for (long c = 0; c < classes; ++c)
        dr[c * d_cs] = (float)((acc_t)gr[c * g_cs] - exp((acc_t)yr[c * y_cs]) * sum);
#else
    acc_t sgy = 0, ysum = 0, gstar = 0;
    float ymax = -INFINITY;
    for (long c = 0; c < classes; ++c) {
        const float yv = yr[c * y_cs], gv = gr[c * g_cs];
        sgy += (acc_t)gv * (acc_t)yv;
        ysum += (acc_t)yv;
        if (yv > ymax) {
            ymax = yv;
            gstar = (acc_t)gv;
        }
    }
    const acc_t rest = sgy - gstar * ysum;
    for (long c = 0; c < classes; ++c) {
        const acc_t yv = (acc_t)yr[c * y_cs], gv = (acc_t)gr[c * g_cs];
        dr[c * d_cs] = (float)(yv * ((gv - gstar) - rest));
    }
#endif
}
