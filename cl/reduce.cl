/*
 * reduce.cl - deterministic two-pass sum of per-row loss parts.  Each row holds three acc_t
 * values {nll, smooth, den}: the class-index loss is reduced as PyTorch does it,
 * (1 - eps) * (sum nll / den) + eps / C * (sum smooth / den), so a zero denominator gives NaN
 * exactly when PyTorch's does.
 * Pass 1: each work-item folds a fixed contiguous run of ITEMS rows serially, then the group
 * combines its items with a fixed-shape tree in local memory -> one partial per group.
 * Pass 2: one group folds the partials in a fixed order and writes the result.  No atomics, no
 * dependence on scheduling: same input, same launch sizes, same bits.
 *
 * Required: WG (power of two, the launch's local size), ITEMS.
 * clce-warmup: -DWG=16 -DITEMS=4096
 */
#ifndef WG
#error "WG must be defined"
#endif
#ifndef ITEMS
#error "ITEMS must be defined"
#endif

inline void tree3(__local acc_t *l0, __local acc_t *l1, __local acc_t *l2, int lid) {
    for (int s = WG / 2; s > 0; s >>= 1) {
        if (lid < s) {
            l0[lid] += l0[lid + s];
            l1[lid] += l1[lid + s];
            l2[lid] += l2[lid + s];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void
reduce_partials(__global const acc_t *vals, long n, __global acc_t *parts,
                __global const int *rec) {
    __local acc_t l0[WG], l1[WG], l2[WG];
    const int lid = get_local_id(0);
    /* after a bad target the rows were never written: read nothing (uniform for the group) */
    if (rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    const long start = ((long)get_group_id(0) * WG + lid) * ITEMS;
    acc_t a = 0, b = 0, d = 0;
    for (long i = start; i < start + ITEMS && i < n; ++i) {
        a += vals[3 * i];
        b += vals[3 * i + 1];
        d += vals[3 * i + 2];
    }
    l0[lid] = a;
    l1[lid] = b;
    l2[lid] = d;
    barrier(CLK_LOCAL_MEM_FENCE);
    tree3(l0, l1, l2, lid);
    if (lid == 0) {
        const long g = get_group_id(0);
        parts[3 * g] = l0[0];
        parts[3 * g + 1] = l1[0];
        parts[3 * g + 2] = l2[0];
    }
}

/* mode 1 = sum, 2 = mean over den (index targets), 3 = mean over count (prob targets).
 * smooth != 0: combine the smooth part with eps / classes.  den_out[0] receives the divisor
 * (1 for sum) for a backward that follows. */
__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void
reduce_final(__global const acc_t *parts, long nparts, int mode, int smooth, float eps,
             long classes, long count, __global float *out, long out_off, __global acc_t *den_out,
             __global const int *rec) {
    __local acc_t l0[WG], l1[WG], l2[WG];
    const int lid = get_local_id(0);
    if (rec[REC_BAD_ROW] != REC_CLEAR)
        return; /* a bad target: write nothing (uniform for the group) */
    acc_t a = 0, b = 0, d = 0;
    for (long i = lid; i < nparts; i += WG) {
        a += parts[3 * i];
        b += parts[3 * i + 1];
        d += parts[3 * i + 2];
    }
    l0[lid] = a;
    l1[lid] = b;
    l2[lid] = d;
    barrier(CLK_LOCAL_MEM_FENCE);
    tree3(l0, l1, l2, lid);
    if (lid == 0) {
        const acc_t divisor = mode == 1 ? 1 : mode == 3 ? (acc_t)count : l2[0];
        acc_t total = mode == 1 ? l0[0] : l0[0] / divisor;
        if (smooth) {
            const acc_t sm = mode == 1 ? l1[0] : l1[0] / divisor;
            total = (1 - (acc_t)eps) * total + ((acc_t)eps / (acc_t)classes) * sm;
        }
        out[out_off] = (float)total;
        den_out[0] = divisor;
    }
}
