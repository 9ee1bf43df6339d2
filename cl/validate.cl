/*
 * validate.cl - device-side check of class-index targets, run before an op writes anything.
 * The first (smallest) offending row is found with atomic_min, then one work-item records its
 * value, so the report is the same on every run.  If an earlier op's error is still pending
 * (REC_SEQ set), nothing is touched: the first error stays until clce_device_sync reports it.
 *
 * Required: TARGET_T.
 * clce-warmup: -DTARGET_T=long -DROW_DIMS=1
 */
#ifndef TARGET_T
#error "TARGET_T must be defined"
#endif

/* rpi consecutive rows per item; an item reports its first bad row (rows ascend). */
__kernel void validate_targets(__global const TARGET_T *t, long t_off, long rows, long rpi,
                               long classes, long ignore_index, long8 size, long8 st,
                               __global volatile int *rec) {
    const long i = get_global_id(0);
    if (i * rpi >= rows || rec[REC_SEQ] != 0)
        return;
    const long r1 = min(rows, (i + 1) * rpi);
    long ot, j;
    walk_start(i * rpi, size, st, &ot, &j);
    for (long r = i * rpi; r < r1;) {
        if (WALK16_OK(st, size, j, r, r1)) {
            /* 16 rows by one vector load; a bad one among them is found by the scalar loop */
            const long16 tv = convert_long16(vload16(0, t + t_off + ot));
            const int16 bad = convert_int16((tv != (long16)ignore_index) &
                                            ((tv < (long16)0) | (tv >= (long16)classes)));
            if (!any16(bad)) {
                r += 16;
                walk_step16(r, size, st, &ot, &j);
                continue;
            }
        }
        const long v = (long)t[t_off + ot];
        if (v != ignore_index && (v < 0 || v >= classes)) {
            atomic_min(&rec[REC_BAD_ROW], (int)r);
            return;
        }
        walk_step(++r, size, st, &ot, &j);
    }
}

__kernel void record_bad_target(__global const TARGET_T *t, long t_off, long classes, long8 size,
                                long8 st, int seq, int op, __global volatile int *rec) {
    if (get_global_id(0) != 0 || rec[REC_SEQ] != 0)
        return;
    /* a row kernel that checked targets itself left its finding in REC_PENDING_ROW */
    const int r = min(rec[REC_BAD_ROW], rec[REC_PENDING_ROW]);
    rec[REC_PENDING_ROW] = REC_CLEAR;
    if (r == REC_CLEAR)
        return;
    rec[REC_BAD_ROW] = r;
    long ox, ot, u0, u1;
    row_offsets(r, size, st, st, st, st, &ot, &ox, &u0, &u1);
    long v = (long)t[t_off + ot];
    rec[REC_VALUE_LO] = (int)(v & 0xffffffffL);
    rec[REC_VALUE_HI] = (int)(v >> 32);
    rec[REC_CLASSES] = (int)min(classes, (long)0x7fffffff);
    rec[REC_OP] = op;
    rec[REC_SEQ] = seq;
}
