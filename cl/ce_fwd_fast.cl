/*
 * ce_fwd_fast.cl - cross_entropy forward fast paths, chosen by api/src/ce_forward.c from the
 * tuning table when the geometry allows; ce_fwd.cl's row kernel handles everything else.
 *
 * One exp per logit: the logits are scanned in chunks; each chunk's max is found first (a
 * second pass over the chunk reads it from L1), the running max moves once per chunk, and the
 * running sum is rescaled with one exp per chunk.  Per element, with m the updated max:
 *   d = (x == -inf) ? -inf : x - m;   s += exp(d);   A += w_c d   (label smoothing)
 * so an all -inf history adds 0 (and keeps A's infinite terms, as ce_fwd.cl does), NaN
 * propagates through exp, and +inf makes exp(inf - inf) = NaN as in PyTorch.  A while m is
 * -inf holds only infinite terms and is not shifted.
 *
 * Kernels:
 *  ce_fwd_vrows  class stride 1: one work-item per row segment, float16 loads (any element
 *                alignment: vload16).  nseg > 1 splits a row over nseg items that write
 *                partials {m, s, A, W}; ce_fwd_merge folds them per row in segment order.
 *  ce_fwd_lanes  16 lanes = 16 consecutive positions of the innermost row dimension; classes
 *                at any stride.  Pixel-contiguous NCHW loads float16 per class; other strides
 *                (many tiny rows) gather.  The lanes' exps are float16 vector exps.
 * For sum/mean (not OUT_NONE) each item writes ONE {nll, smooth, den} triple (its rows summed
 * in a fixed order), and the target check is fused in (FUSED_CHECK): a bad target sets
 * rec[REC_PENDING_ROW] with atomic_min, record_bad_target moves it to rec[REC_BAD_ROW], and
 * only the final reduce kernel writes the user's output,
 * which it skips when the record is set.  Same input and launch sizes: same bits.
 *
 * Required: TARGET_T, CHV (float16 vectors per chunk), LCH (classes per chunk, lanes).
 * clce-warmup: -DTARGET_T=long -DROW_DIMS=1 -DSMOOTH=0 -DOUT_NONE=0 -DCHV=16 -DLCH=16 -DHAS_W=0
 * Optional: SMOOTH, OUT_NONE.
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
#ifndef CHV
#define CHV 16
#endif
#if CHV % 2
#error "CHV must be even: the row scans take the exps of two vectors at a time"
#endif
/* PF_ROW > 0 (the tuning table's row_prefetch_chunks; POCL only): scan_contig prefetches the
 * chunk PF_ROW chunks ahead, a 64-byte line per float16 vector.  A prefetch never faults, also
 * past the end of the buffer. */
#if defined(PF_ROW) && PF_ROW > 0 && defined(__has_builtin)
#if __has_builtin(__builtin_prefetch)
#define CLCE_ROW_PREFETCH(q)                                                                       \
    do {                                                                                           \
        _Pragma("unroll") for (int k_ = 0; k_ < CHV; ++k_)                                         \
            __builtin_prefetch((q) + 16 * k_, 0, 3);                                               \
    } while (0)
#endif
#endif
#ifndef CLCE_ROW_PREFETCH
#define CLCE_ROW_PREFETCH(q) (void)0
#endif
#ifndef HAS_W
#define HAS_W 1
#endif
#ifndef EXPV
#define EXPV 2
#endif
#ifndef LCH
#define LCH 8
#endif
#ifndef LKEEP
#define LKEEP 0
#endif
/* The 16-lane gradient builds with the class count fixed at build time (one chunk, so each exp
 * is taken against the row's final max) keep each class vector's exp(x - m), not its logits: the
 * writing pass multiplies by exp(-lse) instead of taking a second exp per logit (ce_grad_lanes) */
#if defined(GRAD) && GRAD && defined(NCLS) && NCLS > 0
#define CLCE_KEEP_EXP 1
#else
#define CLCE_KEEP_EXP 0
#endif
#define CLCE_CAT_(a, b) a##b
#define CLCE_CAT(a, b) CLCE_CAT_(a, b)
#if CLCE_HAS_FP64
typedef double16 acc16_t;
#define CONVERT_ACC16 convert_double16
#define ACC16_MASK(m) convert_long16(m) /* an int16 -1/0 mask as select's for acc16_t */
#else
typedef float16 acc16_t;
#define CONVERT_ACC16 convert_float16
#define ACC16_MASK(m) (m)
#endif

/* Running maximum: fmax(acc, v) for an acc that is never NaN (it starts at -inf and only takes
 * a v that compares greater), so a NaN v is dropped exactly as fmax drops it.  Written as a
 * compare + select because that is one max instruction on x86, where fmax's NaN rules cost
 * four (compare unordered, compare, mask or, blend): a third of the hot loop on POCL. */
#define RUN_MAX(acc, v) select((acc), (v), (v) > (acc))

/* max of 16 values none of which is NaN (a running maximum's lanes) */
inline float hmax16(float16 v) {
    float8 a = RUN_MAX(v.lo, v.hi);
    float4 b = RUN_MAX(a.lo, a.hi);
    float2 c = RUN_MAX(b.lo, b.hi);
    return RUN_MAX(c.lo, c.hi);
}
inline float hsum16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.lo + c.hi;
}

/* exp(d) for finite d <= 0 (and small positive d), the hot path: POCL's float16 exp made the
 * kernel compute-bound on this machine.  d is clamped at -87 (e^-87 ~ 1.6e-38 adds nothing next
 * to the max's exp(0) = 1); d = n ln2 + r with n = rint(d log2 e) (the 1.5 * 2^23 trick) and ONE
 * fma with float(ln2), which is within 3e-9 relative of ln2, so r errs by at most |n| * 2e-9
 * (Cody-Waite's second constant bought nothing measurable and cost an fma per vector); e^r on
 * |r| <= ln2/2 by a degree-6 Taylor-like polynomial; 2^n added into the exponent bits.  Relative
 * error against double exp (2e6 points per range): 9.6e-8 on [-10, 10], 1.5e-7 on [-30, -10],
 * 3.1e-7 below, where the terms are < 1e-13 of the max's.  (Degree 5 is ~6% faster at 1.7e-7
 * on [-10, 10]: not taken, the float32 extreme rows of semantics.md section 9 hold to 1e-7.) */
/* the constants of exp16_reduced and exp16x2_reduced */
#define EXP_LOG2E 1.44269504088896341f
#define EXP_SHIFTER 12582912.0f /* 1.5 * 2^23 */
#define EXP_LN2 0.693147182464599609375f
#define EXP_C6 0.001382942427881062f
#define EXP_C5 0.0083747748285532f
#define EXP_C4 0.0416683591902256f
#define EXP_C3 0.1666642129421234f
#define EXP_C2 0.49999991059303284f
/* sc * e^r for d = n ln2 + r, and t = d log2 e + 1.5 * 2^23, whose bits are 0x4B400000 + n: the
 * steps both exps share (fexp16_finite, fexp16).  sc is a power of two multiplied into every
 * coefficient, which scales each step's result exactly (no step nears a float's range): 1 for
 * fexp16_finite (the constants fold), 2^-32 for fexp16, whose 2^n then stays a normal float
 * down to n = -158 (see there). */
__attribute__((always_inline)) inline float16 exp16_reduced(float16 d, const float sc,
                                                            int16 *tbits) {
    const float16 t = fma(d, (float16)EXP_LOG2E, (float16)EXP_SHIFTER);
    const float16 n = t - (float16)EXP_SHIFTER;
    const float16 r = fma(n, (float16)(-EXP_LN2), d);
    float16 p = (float16)(EXP_C6 * sc);
    p = fma(p, r, (float16)(EXP_C5 * sc));
    p = fma(p, r, (float16)(EXP_C4 * sc));
    p = fma(p, r, (float16)(EXP_C3 * sc));
    p = fma(p, r, (float16)(EXP_C2 * sc));
    p = fma(p, r, (float16)sc);
    p = fma(p, r, (float16)sc);
    *tbits = as_int16(t);
    return p;
}

/* exp16_reduced of two vectors, stage by stage: the same operations (the same bits) in an order
 * an out-of-order core can overlap.  Written one vector after the other, each vector's chain of
 * ~11 dependent steps filled Zen 3's floating-point scheduler before the next vector's
 * independent steps could issue: a C loop of these exps ran 0.48-0.50 ns per logit from L2 as
 * one chain per 8 floats, 0.34-0.39 staged four 8-float vectors at a time (clang 15, one
 * core), and POCL keeps the order of the source.  Kernels whose hot loops take exps of two
 * vectors at once (two pieces of a row, or two rows) call the x2 exps below. */
__attribute__((always_inline)) inline void exp16x2_reduced(float16 d0, float16 d1, const float sc,
                                                           float16 *p0, float16 *p1, int16 *tb0,
                                                           int16 *tb1) {
    const float16 t0 = fma(d0, (float16)EXP_LOG2E, (float16)EXP_SHIFTER);
    const float16 t1 = fma(d1, (float16)EXP_LOG2E, (float16)EXP_SHIFTER);
    const float16 r0 = fma(t0 - (float16)EXP_SHIFTER, (float16)(-EXP_LN2), d0);
    const float16 r1 = fma(t1 - (float16)EXP_SHIFTER, (float16)(-EXP_LN2), d1);
    float16 a = fma((float16)(EXP_C6 * sc), r0, (float16)(EXP_C5 * sc));
    float16 b = fma((float16)(EXP_C6 * sc), r1, (float16)(EXP_C5 * sc));
    a = fma(a, r0, (float16)(EXP_C4 * sc));
    b = fma(b, r1, (float16)(EXP_C4 * sc));
    a = fma(a, r0, (float16)(EXP_C3 * sc));
    b = fma(b, r1, (float16)(EXP_C3 * sc));
    a = fma(a, r0, (float16)(EXP_C2 * sc));
    b = fma(b, r1, (float16)(EXP_C2 * sc));
    a = fma(a, r0, (float16)sc);
    b = fma(b, r1, (float16)sc);
    *p0 = fma(a, r0, (float16)sc);
    *p1 = fma(b, r1, (float16)sc);
    *tb0 = as_int16(t0);
    *tb1 = as_int16(t1);
}

/* The clamp at -87 keeps a NaN d (x86's max returns its second operand when either is NaN: one
 * instruction, as fmax's clamp would be), so a chunk holding a NaN or infinity shows in its
 * sum of exps: the fast loops find it there, after the exps, instead of from a sum of the
 * logits in their first pass. */
inline float16 fexp16_finite(float16 d) {
    int16 tb;
    const float16 p = exp16_reduced(select(d, (float16)(-87.0f), d < (float16)(-87.0f)), 1.0f, &tb);
    /* shifted by 23 the constant's bits fall off: n << 23 */
    return as_float16(as_int16(p) + (tb << 23));
}

/* fexp16_finite of d0 and d1 (its bits), stage by stage (exp16x2_reduced) */
__attribute__((always_inline)) inline void fexp16x2_finite(float16 d0, float16 d1, float16 *e0,
                                                           float16 *e1) {
    float16 p0, p1;
    int16 tb0, tb1;
    exp16x2_reduced(select(d0, (float16)(-87.0f), d0 < (float16)(-87.0f)),
                    select(d1, (float16)(-87.0f), d1 < (float16)(-87.0f)), 1.0f, &p0, &p1, &tb0,
                    &tb1);
    *e0 = as_float16(as_int16(p0) + (tb0 << 23));
    *e1 = as_float16(as_int16(p1) + (tb1 << 23));
}

/* fexp16's scale: exp16_reduced's polynomial times EXP_PSCALE, 2^n times its inverse */
#define EXP_PSCALE 0x1p-32f
/* 2^(n + 32) from t's bits 0x4B400000 + n: n << 23 added to 2^32's bits (0x4f800000) */
#define EXP_TWO_N(tb) as_float16(((tb) << 23) + (int16)0x4f800000)
/* e^d rounds to 0 in float32 below ln(2^-150) = -103.97 */
#define EXP_ZERO_BELOW (-104.0f)

/* exp(d) for any d <= 0 (and small positive d), subnormal results included: fexp16_finite's
 * steps without its clamp, the polynomial scaled by 2^-32 and 2^(n + 32) multiplied in as a
 * float.  2^(n + 32) is a normal power of two for n >= -158 (d >= -104 gives n >= -150) and
 * the scaled polynomial is exact, so the one rounding is the product's, into the subnormals
 * where the result is below 2^-126 (d < -87), as PyTorch's exp does: a softmax gradient of a
 * logit 87 to 104 below its row's max is a subnormal there, not 0.  A NaN d stays NaN through
 * p; d < -104 and -inf give 0.  Three instructions fewer than selecting -inf and NaN around
 * fexp16_finite (NCHW fused 17.3 -> 16.8 ms).  Above -87 its bits are fexp16_finite's; below,
 * fexp16_finite's terms (< 1.2e-38) and these never change a sum s >= 1: the row statistics do
 * not depend on which of the two a lane took. */
inline float16 fexp16(float16 d) {
    int16 tb;
    const float16 p = exp16_reduced(d, EXP_PSCALE, &tb);
    return select(p * EXP_TWO_N(tb), (float16)0.0f, d < (float16)EXP_ZERO_BELOW);
}

/* fexp16 of d0 and d1 (its bits), stage by stage (exp16x2_reduced) */
__attribute__((always_inline)) inline void fexp16x2(float16 d0, float16 d1, float16 *e0,
                                                    float16 *e1) {
    float16 p0, p1;
    int16 tb0, tb1;
    exp16x2_reduced(d0, d1, EXP_PSCALE, &p0, &p1, &tb0, &tb1);
    *e0 = select(p0 * EXP_TWO_N(tb0), (float16)0.0f, d0 < (float16)EXP_ZERO_BELOW);
    *e1 = select(p1 * EXP_TWO_N(tb1), (float16)0.0f, d1 < (float16)EXP_ZERO_BELOW);
}

/* x - m for the careful paths: -inf for a -inf logit also where m is -inf (exp 0, not NaN).
 * The statistics and the gradients' recomputed exps (lane_exp) take it from here alike, so a
 * row's exps come out of the same operations on every path (NaN bits included). */
inline float16 shift16(float16 v, float16 m) {
    return select(v - m, (float16)(-INFINITY), v == -INFINITY);
}

/* The lane-wise max of the CHV float16 vectors of one chunk at q (a NaN dropped, as fmax). */
__attribute__((always_inline)) inline float16 chunk_vmax(__global const float *q) {
    float16 vm = vload16(0, q);
#pragma unroll
    for (int k = 1; k < CHV; ++k)
        vm = RUN_MAX(vm, vload16(k, q));
    return vm;
}

/* The largest sum of a chunk's exps against the reference m that the row scans keep (scan_contig):
 * 16 CHV, the chunk's logit count, so no kept term exceeds e^ln(16 CHV); at most 256, the ln 256
 * bound on m that clce.h states for the stats, whatever chunk a tuning row sets. */
#define REF_SUM_MAX (16 * CHV < 256 ? 16 * CHV : 256)

/* A row scan's reference for the chunk at q: m, or a fresh row's (m = -inf) chunk max. */
inline float chunk_ref(__global const float *q, float m) {
    return m == -INFINITY ? hmax16(chunk_vmax(q)) : m;
}

/* x - ref clamped at 88 for the row scans' exps, whose x may lie above ref: e^88 ~ 1.7e38 is a
 * finite float, while fexp16_finite's 2^n would wrap past 2^127, so a logit far above ref
 * overflows the sum or makes it large, never small, and the scan redoes the chunk.  A NaN stays
 * NaN (NaN > 88 is false; one min instruction on x86, whose min returns its second operand for a
 * NaN, as fexp16_finite's -87 clamp). */
inline float16 ref_clamp16(float16 d) {
    return select(d, (float16)88.0f, d > (float16)88.0f);
}

/* The sum of exp(x - ref) over the chunk of 16 CHV logits at q (x - ref through ref_clamp16),
 * and with smoothing the sums of w (x - ref) (haa) and of w (hww; weights at wq): scan_contig's
 * hot loop. */
__attribute__((always_inline)) inline float chunk_exp_sum(__global const float *q,
                                                          __global const float *wq, float ref,
                                                          float *haa, float *hww) {
    float16 acc = (float16)0.0f;
#if SMOOTH
    float16 aa = (float16)0.0f, ww = (float16)0.0f;
#else
    (void)wq;
    (void)haa;
    (void)hww;
#endif
    /* two vectors' exps at a time (exp16x2_reduced: (1024, 32000) forward 0.90, fused 0.92,
     * weighted 0.91 of the time one at a time, paired medians of 10); the sums take them in the
     * same order, so the same bits */
#pragma unroll
    for (int k = 0; k < CHV; k += 2) {
        const float16 d0 = vload16(k, q) - ref, d1 = vload16(k + 1, q) - ref;
        float16 e0, e1;
        fexp16x2_finite(ref_clamp16(d0), ref_clamp16(d1), &e0, &e1);
        acc += e0;
        acc += e1;
#if SMOOTH
#if HAS_W
        const float16 wv0 = vload16(k, wq), wv1 = vload16(k + 1, wq);
        aa += wv0 * d0;
        ww += wv0;
        aa += wv1 * d1;
        ww += wv1;
#else
        aa += d0;
        aa += d1;
#endif
#endif
    }
#if SMOOTH
    *haa = hsum16(aa);
    *hww = hsum16(ww);
#endif
    return hsum16(acc);
}

/* Scan n contiguous logits (p) with weights wp (has_w) into the running state. */
inline void scan_contig(__global const float *p, long n, __global const float *wp, int has_w,
                        float *pm, float *ps, acc_t *pA, acc_t *pW) {
    float m = *pm, s = *ps;
#if SMOOTH
    acc_t A = *pA, W = *pW;
#endif
    long i = 0;
    /* Full chunks of finite logits: constant trip counts (unrolled, vectors stay in registers);
     * the first chunk holding a NaN or infinity ends this loop.  No max pass: a chunk's exps
     * are taken against the reference m (a fresh row's first chunk sets it to that chunk's
     * max), and the chunk is scanned again against its own max only if its sum shows a logit
     * above m (below).  A pass for the max before every chunk was ~15% of the forward's time on
     * AVX-512 ((8192, 32000) 25 -> 21 ms), and the max of a row is mostly in its first chunks
     * or near the first chunk's; where every chunk's max is at or below m the bits are those of
     * a max pass (the same m, exps and sums). */
    for (; i + 16 * CHV <= n; i += 16 * CHV) {
        __global const float *q = p + i;
        CLCE_ROW_PREFETCH(q + 16 * CHV * PF_ROW);
        const float ref = chunk_ref(q, m);
        float haa = 0.0f, hww = 0.0f;
        float hs = chunk_exp_sum(q, wp + i, ref, &haa, &hww);
        /* a NaN logit makes its exp NaN; an infinite one, or all -inf, makes x - m NaN or
         * clamped to 88 (below): the chunk is dropped before it touches the state and the
         * careful loop redoes it.  A -inf logit (m finite) adds exp(-87) ~ 1.6e-38 here, 0 there:
         * never a change to a sum that holds the max's exp(0) = 1, so the row's bits are the
         * careful loop's. */
        if (!isfinite(hs))
            break;
        float nm = ref;
        /* The sum above REF_SUM_MAX (16 CHV: the mean exp above 1): a logit may be more than
         * ln(REF_SUM_MAX) above m (or clamped at 88 above it, which overflows or lands here), so
         * this chunk's exps are taken again against its max and the state rescaled.  Below
         * that, m trails the row's max by at most ln(REF_SUM_MAX) (5.5 for 256 classes a
         * chunk), and log(s) grows by as much: ~1 ulp of the loss at worst, where terms up to
         * e^5.5 keep the sum's relative precision. */
        if (hs > (float)REF_SUM_MAX) {
            nm = fmax(m, hmax16(chunk_vmax(q)));
            hs = chunk_exp_sum(q, wp + i, nm, &haa, &hww);
            if (!isfinite(hs))
                break;
        }
        const float sc = m == -INFINITY ? 0.0f : (m == nm ? 1.0f : exp(m - nm));
        s = s * sc + hs;
#if SMOOTH
        if (m != -INFINITY && m != nm)
            A += W * (acc_t)(m - nm);
        A += (acc_t)haa;
#if HAS_W
        W += (acc_t)hww;
#else
        W += (acc_t)(16 * CHV);
#endif
#endif
        m = nm;
    }
    while (i < n) {
        const long left = n - i;
        const int nv = left >= 16 * CHV ? CHV : (int)(left / 16);
        /* the row's last < 16 logits join the last piece's pass as one vector (the row's last
         * 16 floats, the lanes scanned before masked: -inf, exp 0, no smoothing term): one
         * max, one sum and no rescaling exp for the tail (a second pass had both: (5e5, 100)
         * forward about 2% faster) */
        const int tail = left < 16 * CHV && left % 16 != 0 && n >= 16;
        if (nv > 0 || tail) {
            const int16 keep = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) >=
                               (int16)(int)(16 - left % 16);
            const float16 tv = tail ? select((float16)(-INFINITY), vload16(0, p + n - 16), keep)
                                    : (float16)(-INFINITY);
            float16 vm = RUN_MAX((float16)(-INFINITY), tv); /* a NaN dropped, as fmax */
            for (int k = 0; k < nv; ++k)
                vm = RUN_MAX(vm, vload16(k, p + i));
            const float nm = fmax(m, hmax16(vm));
            const float sc = m == -INFINITY ? 0.0f : exp(m - nm);
            float16 acc = (float16)0.0f;
#if SMOOTH
            float16 aa = (float16)0.0f, ww = (float16)0.0f;
#endif
            for (int k = 0; k < nv; ++k) {
                const float16 v = vload16(k, p + i);
                const float16 d = shift16(v, (float16)nm);
                acc += fexp16(d);
#if SMOOTH
                const float16 wv = has_w ? vload16(k, wp + i) : (float16)1.0f;
                aa += wv * d;
                ww += wv;
#endif
            }
            if (tail) {
                const float16 d = shift16(tv, (float16)nm);
                acc += fexp16(d);
#if SMOOTH
                const float16 wv =
                    select((float16)0.0f, has_w ? vload16(0, wp + n - 16) : (float16)1.0f, keep);
                aa += select((float16)0.0f, wv * d, keep);
                ww += wv;
#endif
            }
            s = s * sc + hsum16(acc);
#if SMOOTH
            if (m != -INFINITY)
                A += W * (acc_t)(m - nm);
            A += (acc_t)hsum16(aa);
            W += (acc_t)hsum16(ww);
#endif
            m = nm;
            i = tail ? n : i + 16 * nv;
        } else {
            /* fewer than 16 left: the same two passes, scalar */
            float cm = -INFINITY;
            for (long j = i; j < n; ++j)
                cm = fmax(cm, p[j]);
            const float nm = fmax(m, cm);
            const float sc = m == -INFINITY ? 0.0f : exp(m - nm);
            float acc = 0.0f;
#if SMOOTH
            acc_t aa = 0, ww = 0;
#endif
            for (long j = i; j < n; ++j) {
                const float v = p[j];
                const float d = v == -INFINITY ? -INFINITY : v - nm;
                acc += exp(d);
#if SMOOTH
                const acc_t wv = has_w ? (acc_t)wp[j] : 1;
                aa += wv * (acc_t)d;
                ww += wv;
#endif
            }
            s = s * sc + acc;
#if SMOOTH
            if (m != -INFINITY)
                A += W * (acc_t)(m - nm);
            A += aa;
            W += ww;
#endif
            m = nm;
            i = n;
        }
    }
    *pm = m;
    *ps = s;
#if SMOOTH
    *pA = A;
    *pW = W;
#endif
}

/* Short rows (SHORT_ROWS: one piece in scan_contig), SHORT_Q at a time.  Each row gets
 * scan_contig's operations from a fresh state (m = -inf, s = 0) in scan_contig's order, so its
 * bits: the max over its masked tail vector then its vectors, the exps of the vectors then of
 * the tail, their sum.  Row after row those chains (max, hmax, exps, sum, hsum) were
 * latency-bound; two rows interleaved overlap them.  Beyond 160 classes it lost (forward, ms,
 * one row at a time vs two: (5e5, 100) 12.5 vs 10.5, (2.5e5, 128) 6.3 vs 5.7, (4e5, 144) 10.8
 * vs 9.8, (4e5, 160) 11.6 vs 11.0, (4e5, 192) 13.2 vs 13.2, (4e5, 200) 15.4 vs 24, (4e5, 240)
 * 15.6 vs 21.3); four rows at a time lost from 128 classes on. */
#define SHORT_Q 2
#define SHORT_ROWS(n) ((n) >= 16 && (n) <= 160 && (n) < 16 * CHV)
inline void scan_short(__global const float *const *p, long n, __global const float *wp, int has_w,
                       float *m, float *s, acc_t *A, acc_t *W) {
    const int nv = (int)(n / 16);
    const int tail = n % 16 != 0;
    const int16 keep =
        (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) >= (int16)(int)(16 - n % 16);
    float16 tv[SHORT_Q], vm[SHORT_Q], acc[SHORT_Q];
    float nm[SHORT_Q];
#if SMOOTH
    float16 aa[SHORT_Q], ww = (float16)0.0f;
#else
    (void)wp;
    (void)has_w;
    (void)A;
    (void)W;
#endif
#pragma unroll
    for (int r = 0; r < SHORT_Q; ++r) {
        tv[r] = tail ? select((float16)(-INFINITY), vload16(0, p[r] + n - 16), keep)
                     : (float16)(-INFINITY);
        vm[r] = RUN_MAX((float16)(-INFINITY), tv[r]);
    }
    for (int k = 0; k < nv; ++k)
#pragma unroll
        for (int r = 0; r < SHORT_Q; ++r)
            vm[r] = RUN_MAX(vm[r], vload16(k, p[r]));
#pragma unroll
    for (int r = 0; r < SHORT_Q; ++r) {
        nm[r] = fmax(-INFINITY, hmax16(vm[r]));
        acc[r] = (float16)0.0f;
#if SMOOTH
        aa[r] = (float16)0.0f;
#endif
    }
    for (int k = 0; k < nv; ++k) {
#if SMOOTH
        /* one weights vector for the rows (each row's ww the same sum) */
        const float16 wv = has_w ? vload16(k, wp) : (float16)1.0f;
        ww += wv;
#endif
#pragma unroll
        for (int r = 0; r < SHORT_Q; ++r) {
            const float16 d = shift16(vload16(k, p[r]), (float16)nm[r]);
            acc[r] += fexp16(d);
#if SMOOTH
            aa[r] += wv * d;
#endif
        }
    }
    if (tail) {
#if SMOOTH
        const float16 wv =
            select((float16)0.0f, has_w ? vload16(0, wp + n - 16) : (float16)1.0f, keep);
        ww += wv;
#endif
#pragma unroll
        for (int r = 0; r < SHORT_Q; ++r) {
            const float16 d = shift16(tv[r], (float16)nm[r]);
            acc[r] += fexp16(d);
#if SMOOTH
            aa[r] += select((float16)0.0f, wv * d, keep);
#endif
        }
    }
#if SMOOTH
    const acc_t wsum = (acc_t)hsum16(ww);
#endif
#pragma unroll
    for (int r = 0; r < SHORT_Q; ++r) {
        s[r] = hsum16(acc[r]); /* scan_contig's 0 * 0 + hsum16(acc): the same bits */
        m[r] = nm[r];
#if SMOOTH
        A[r] = (acc_t)0 + (acc_t)hsum16(aa[r]); /* scan_contig's 0 + ...: its bits, -0 too */
        W[r] = (acc_t)0 + wsum;
#endif
    }
}

/* The statistics of rows r0 .. r0 + nr - 1 (input strides sx) from a fresh state: short rows
 * in pairs by scan_short, the rest one by one by scan_contig (the same bits either way). */
inline void scan_rows(__global const float *x, long r0, int nr, long classes, long8 size, long8 sx,
                      __global const float *w, int has_w, float *m, float *s, acc_t *A, acc_t *W) {
    int j = 0;
    for (; SHORT_ROWS(classes) && j + SHORT_Q <= nr; j += SHORT_Q) {
        __global const float *rp[SHORT_Q];
        for (int q = 0; q < SHORT_Q; ++q) {
            long ox, u;
            row_offsets(r0 + j + q, size, sx, sx, sx, sx, &ox, &u, &u, &u);
            rp[q] = x + ox;
            A[j + q] = 0; /* scan_short sets them with smoothing only */
            W[j + q] = 0;
        }
        scan_short(rp, classes, w, has_w, m + j, s + j, A + j, W + j);
    }
    for (; j < nr; ++j) {
        long ox, u;
        row_offsets(r0 + j, size, sx, sx, sx, sx, &ox, &u, &u, &u);
        m[j] = -INFINITY;
        s[j] = 0.0f;
        A[j] = 0;
        W[j] = 0;
        scan_contig(x + ox, classes, w, has_w, &m[j], &s[j], &A[j], &W[j]);
    }
}

/* VROWS_R rows at once (weights + label smoothing): the class weights are a second stream next
 * to the logits, read once per row by scan_contig, and on a CPU that stream cost as much as the
 * exponentials ((8192, 32000): 34 ms without it, 65 ms with it).  Here each weights vector serves
 * VROWS_R rows.  Every row gets scan_contig's operations in scan_contig's order (so its bits):
 * the full finite chunks run here in lockstep, and from the first chunk that is not finite in
 * any of the rows, scan_contig finishes each row from the same position with its state. */
#ifndef VROWS_R
#define VROWS_R 1
#endif
#if VROWS_R > 1
inline void scan_contig_rows(__global const float *const *p, int nr, long n,
                             __global const float *wp, float *m, float *s, acc_t *A, acc_t *W) {
    if (SHORT_ROWS(n)) { /* one piece per row: in pairs by scan_short (same bits) */
        int r = 0;
        for (; r + SHORT_Q <= nr; r += SHORT_Q)
            scan_short(p + r, n, wp, 1, m + r, s + r, A + r, W + r);
        for (; r < nr; ++r)
            scan_contig(p[r], n, wp, 1, &m[r], &s[r], &A[r], &W[r]);
        return;
    }
    if (nr < VROWS_R) { /* the last item's few rows: one at a time (same bits) */
        for (int r = 0; r < nr; ++r)
            scan_contig(p[r], n, wp, 1, &m[r], &s[r], &A[r], &W[r]);
        return;
    }
    long i = 0;
    for (; i + 16 * CHV <= n; i += 16 * CHV) {
        /* scan_contig's reference: a fresh row's first chunk max, then m (no max pass); a chunk
         * that shows a logit above it (the sum check below) goes to scan_contig with the rest */
        float nm[VROWS_R];
        float16 acc[VROWS_R], aa[VROWS_R];
#pragma unroll
        for (int r = 0; r < VROWS_R; ++r) {
            nm[r] = chunk_ref(p[r] + i, m[r]);
            acc[r] = (float16)0.0f;
            aa[r] = (float16)0.0f;
        }
        float16 ww = (float16)0.0f;
        /* unrolled by 4, not by CHV: CHV x VROWS_R exp blocks were ~16 KiB of code per chunk
         * ((8192, 32000) forward 53 -> 49 ms; the one-row loop above is faster fully unrolled) */
#pragma unroll 4
        for (int k = 0; k < CHV; ++k) {
            const float16 wv = vload16(k, wp + i);
            ww += wv;
            /* rows in pairs, their exps stage by stage (exp16x2_reduced; each row's bits) */
#pragma unroll
            for (int r = 0; r + 1 < VROWS_R; r += 2) {
                const float16 d0 = vload16(k, p[r] + i) - nm[r];
                const float16 d1 = vload16(k, p[r + 1] + i) - nm[r + 1];
                float16 e0, e1;
                fexp16x2_finite(ref_clamp16(d0), ref_clamp16(d1), &e0, &e1);
                acc[r] += e0;
                acc[r + 1] += e1;
                aa[r] += wv * d0;
                aa[r + 1] += wv * d1;
            }
#if VROWS_R % 2
            {
                const float16 d = vload16(k, p[VROWS_R - 1] + i) - nm[VROWS_R - 1];
                acc[VROWS_R - 1] += fexp16_finite(ref_clamp16(d));
                aa[VROWS_R - 1] += wv * d;
            }
#endif
        }
        /* a NaN or an infinity in the chunk, or an overflowing x - m, makes some w * (x - m)
         * and so its sum aa non-finite (inf * w is inf or NaN, never finite); a logit more than
         * ln(REF_SUM_MAX) above m makes the exps' sum exceed it (scan_contig): the chunk is
         * dropped before it touches the state and scan_contig redoes it, with the rows' rest.
         * Checked after the chunk instead of a third sum in the first pass ((8192, 32000)
         * weighted forward 42 -> 35 ms: the four sums' registers were spilled); chunks below
         * m get scan_contig's operations. */
        float haa[VROWS_R], hs[VROWS_R];
        int special = 0;
#pragma unroll
        for (int r = 0; r < VROWS_R; ++r) {
            haa[r] = hsum16(aa[r]);
            hs[r] = hsum16(acc[r]);
            special |= !isfinite(haa[r]) | !(hs[r] <= (float)REF_SUM_MAX);
        }
        if (special)
            break;
        const acc_t wsum = (acc_t)hsum16(ww);
#pragma unroll
        for (int r = 0; r < VROWS_R; ++r) {
            /* scan_contig's sc: 0 for a fresh row, else 1 (nm is m) */
            s[r] = s[r] * (m[r] == -INFINITY ? 0.0f : 1.0f) + hs[r];
            A[r] += (acc_t)haa[r];
            W[r] += wsum;
            m[r] = nm[r];
        }
    }
    for (int r = 0; r < VROWS_R; ++r)
        if (i < n)
            scan_contig(p[r] + i, n - i, wp + i, 1, &m[r], &s[r], &A[r], &W[r]);
}
#endif

/* Loss parts of one row from its state (lse = log(s), the row's log-sum-exp less its max m);
 * returns whether the target is valid. */
inline int row_parts(float m, float lse, acc_t A, acc_t W, float xt, long tgt, long classes,
                     long ignore_index, __global const float *w, int has_w, acc_t *nll,
                     acc_t *smooth, acc_t *den) {
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
    *nll = 0;
    *smooth = 0;
    *den = 0;
    if (valid) {
        const acc_t wt = has_w ? (acc_t)w[tgt] : 1;
        *nll = -wt * (acc_t)((xt - m) - lse);
#if SMOOTH
        *smooth = -(A - W * (acc_t)lse);
#endif
        *den = wt;
    }
    return valid;
}

inline acc_t row_loss(acc_t nll, acc_t smooth, int valid, float eps, long classes) {
#if SMOOTH
    return valid ? (1 - (acc_t)eps) * nll + ((acc_t)eps / (acc_t)classes) * smooth : 0;
#else
    return nll;
#endif
}

inline int target_bad(long tgt, long classes, long ignore_index) {
    return tgt != ignore_index && (tgt < 0 || tgt >= classes);
}

/* lse[j] = log(s[j]) for the nr <= 16 rows of an item, by one float16 log: a scalar log per row
 * was a quarter of the row kernels' time (runtime/tuning.c's fwd_vrow_rows).  Every row kernel
 * of the vrows family (forward, merge, backward, fused) takes a row's lse from here, so a row
 * gets the same bits from each of them whatever its lane. */
inline void rows_log(const float *s, int nr, float *lse) {
    float v[16];
    for (int j = 0; j < 16; ++j)
        v[j] = j < nr ? s[j] : 1.0f;
    vstore16(log(vload16(0, v)), 0, v);
    for (int j = 0; j < nr; ++j)
        lse[j] = v[j];
}

/* Finishes row r: output (none) or the item's triple (sum/mean), stats, fused target check. */
inline void finish_row(long r, float m, float lse, acc_t A, acc_t W, __global const float *xr,
                       long tgt, long classes, long ignore_index, __global const float *w,
                       int has_w, __global float *loss, long oo, __global acc_t *row_vals,
                       long slot, __global float *stats, int has_stats, float eps,
                       __global volatile int *rec) {
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
    const float xt = valid ? xr[tgt] : 0.0f;
    acc_t nll, smooth, den;
    row_parts(m, lse, A, W, xt, tgt, classes, ignore_index, w, has_w, &nll, &smooth, &den);
    if (has_stats) {
        stats[2 * r] = m;
        stats[2 * r + 1] = lse;
    }
#if OUT_NONE
    loss[oo] = (float)row_loss(nll, smooth, valid, eps, classes);
#else
    if (target_bad(tgt, classes, ignore_index))
        atomic_min(&rec[REC_PENDING_ROW], (int)r);
    row_vals[3 * slot] = nll;
    row_vals[3 * slot + 1] = smooth;
    row_vals[3 * slot + 2] = den;
#endif
}

__kernel void ce_fwd_vrows(__global const float *x, long x_off, __global const TARGET_T *t,
                           long t_off, __global const float *w, int has_w, __global float *loss,
                           long o_off, __global acc_t *row_vals, __global float *stats,
                           int has_stats, long rows, long classes, long ignore_index, float eps,
                           long seg_len, long nseg, __global acc_t *parts, long8 size, long8 sx,
                           long8 st, long8 so, __global volatile int *rec) {
    const long gid = get_global_id(0);
#if VROWS_R > 1 && SMOOTH && HAS_W
    /* nseg == 1: VROWS_R consecutive rows per item, each weights vector read once for all */
    {
        const long r0 = gid * VROWS_R;
        if (r0 >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
            return;
        const int nr = (int)min((long)VROWS_R, rows - r0);
        __global const float *pr[VROWS_R];
        long tr[VROWS_R], orr[VROWS_R];
        float m[VROWS_R], s[VROWS_R];
        acc_t A[VROWS_R], W[VROWS_R];
        for (int j = 0; j < VROWS_R; ++j) {
            long ox, unused;
            row_offsets(r0 + min(j, nr - 1), size, sx, st, so, so, &ox, &tr[j], &orr[j], &unused);
            pr[j] = x + x_off + ox;
            m[j] = -INFINITY;
            s[j] = 0.0f;
            A[j] = 0;
            W[j] = 0;
        }
        scan_contig_rows(pr, nr, classes, w, m, s, A, W);
        float lse[VROWS_R];
        rows_log(s, nr, lse);
        for (int j = 0; j < nr; ++j)
            finish_row(r0 + j, m[j], lse[j], A[j], W[j], pr[j], (long)t[t_off + tr[j]], classes,
                       ignore_index, w, has_w, loss, o_off + orr[j], row_vals, r0 + j, stats,
                       has_stats, eps, rec);
        return;
    }
#elif VROWS_R > 1
    /* nseg == 1: VROWS_R consecutive rows per item, one after the other, their logs at once */
    {
        const long r0 = gid * VROWS_R;
        if (r0 >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
            return;
        const int nr = (int)min((long)VROWS_R, rows - r0);
        float m[VROWS_R], s[VROWS_R], lse[VROWS_R];
        acc_t A[VROWS_R], W[VROWS_R];
        scan_rows(x + x_off, r0, nr, classes, size, sx, w, has_w, m, s, A, W);
        rows_log(s, nr, lse);
        for (int j = 0; j < nr; ++j) {
            long ox, ot, oo, unused;
            row_offsets(r0 + j, size, sx, st, so, so, &ox, &ot, &oo, &unused);
            finish_row(r0 + j, m[j], lse[j], A[j], W[j], x + x_off + ox, (long)t[t_off + ot],
                       classes, ignore_index, w, has_w, loss, o_off + oo, row_vals, r0 + j, stats,
                       has_stats, eps, rec);
        }
        return;
    }
#endif
    const long r = gid / nseg, sg = gid % nseg;
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long ox, ot, oo, unused;
    row_offsets(r, size, sx, st, so, so, &ox, &ot, &oo, &unused);
    __global const float *xr = x + x_off + ox;
    const long c0 = sg * seg_len;
    const long c1 = min(classes, c0 + seg_len);
    float m = -INFINITY, s = 0.0f;
    acc_t A = 0, W = 0;
    if (c1 > c0)
        scan_contig(xr + c0, c1 - c0, w + (has_w ? c0 : 0), has_w, &m, &s, &A, &W);
    if (nseg > 1) {
        parts[4 * gid] = m;
        parts[4 * gid + 1] = s;
        parts[4 * gid + 2] = A;
        parts[4 * gid + 3] = W;
        return;
    }
    float lse;
    rows_log(&s, 1, &lse);
    const long tgt = (long)t[t_off + ot];
    finish_row(r, m, lse, A, W, xr, tgt, classes, ignore_index, w, has_w, loss, o_off + oo,
               row_vals, r, stats, has_stats, eps, rec);
}

/* One item per row: folds the row's nseg partials in segment order. */
__kernel void ce_fwd_merge(__global const float *x, long x_off, __global const TARGET_T *t,
                           long t_off, __global const float *w, int has_w, __global float *loss,
                           long o_off, __global acc_t *row_vals, __global float *stats,
                           int has_stats, long rows, long classes, long ignore_index, float eps,
                           long nseg, __global const acc_t *parts, long8 size, long8 sx, long8 st,
                           long8 so, __global volatile int *rec) {
    const long r = get_global_id(0);
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long ox, ot, oo, unused;
    row_offsets(r, size, sx, st, so, so, &ox, &ot, &oo, &unused);
    __global const acc_t *pr = parts + 4 * r * nseg;
    float m = -INFINITY;
    for (long k = 0; k < nseg; ++k)
        m = fmax(m, (float)pr[4 * k]);
    float s = 0.0f;
    acc_t A = 0, W = 0;
    for (long k = 0; k < nseg; ++k) {
        const float mk = (float)pr[4 * k];
        const float sc = mk == -INFINITY ? 0.0f : exp(mk - m);
        s += (float)pr[4 * k + 1] * sc;
        A += pr[4 * k + 2] + (mk == -INFINITY ? 0 : pr[4 * k + 3] * (acc_t)(mk - m));
        W += pr[4 * k + 3];
    }
    float lse;
    rows_log(&s, 1, &lse);
    const long tgt = (long)t[t_off + ot];
    finish_row(r, m, lse, A, W, x + x_off + ox, tgt, classes, ignore_index, w, has_w, loss,
               o_off + oo, row_vals, r, stats, has_stats, eps, rec);
}

/* 16 lanes along the innermost row dimension (stride sx.s0), classes at stride cs. */
inline float16 lane_load(__global const float *p, long ls, int nl) {
    if (nl == 16 && ls == 1)
        return vload16(0, p);
    float tmp[16];
    if (nl == 16) {
        for (int l = 0; l < 16; ++l)
            tmp[l] = p[l * ls];
    } else {
        for (int l = 0; l < 16; ++l)
            tmp[l] = p[(l < nl ? l : nl - 1) * ls];
    }
    return vload16(0, tmp);
}

#if CLCE_HAS_FP64
inline double hsum_acc16(double16 v) {
    double8 a = v.lo + v.hi;
    double4 b = a.lo + a.hi;
    double2 c = b.lo + b.hi;
    return c.lo + c.hi;
}
#else
inline float hsum_acc16(float16 v) {
    return hsum16(v);
}
#endif

/* Class-contiguous rows of exactly TRANSPOSE_C classes (channels-last, tiny rows): a group's 16
 * rows are one contiguous block, loaded as C vectors and transposed with shuffles (TR_COLS,
 * TR_ROWS: generated for this C by runtime/transpose_gen.c and prepended to the program)
 * instead of 16 scalar loads (or stores) per class vector. */
#if defined(TRANSPOSE_C) && TRANSPOSE_C > 0 && defined(__has_builtin)
#if __has_builtin(__builtin_shufflevector)
#define CLCE_TR 1
#endif
#endif
#ifndef CLCE_TR
#define CLCE_TR 0
#endif
#if CLCE_TR
/* The 16 x TR_C block at xb as TR_C class vectors: a macro, not a function (POCL kept the
 * function's array argument in memory: channels-last forward 14 -> 20 ms). */
#ifdef TR_LOAD
/* with the block PF_GROUPS groups ahead prefetched (a hint: it never faults, also past the
 * end of the buffer; C = 10: within noise either way) */
#if defined(PF_L2) && PF_L2
#define PF_LOCALITY 1 /* prefetcht1: L2 */
#else
#define PF_LOCALITY 3 /* prefetcht0: L1 */
#endif
#if defined(PF_GROUPS) && PF_GROUPS > 0 && __has_builtin(__builtin_prefetch)
#define TR_LOAD_COLS(xb, cols)                                                                     \
    do {                                                                                           \
        for (int k_ = 0; k_ < TR_C; ++k_) /* the block's TR_C lines of 64 bytes */                 \
            __builtin_prefetch((xb) + PF_GROUPS * 16 * TR_C + 16 * k_, 0, PF_LOCALITY);            \
        TR_LOAD(cols, xb);                                                                         \
    } while (0)
#else
#define TR_LOAD_COLS(xb, cols) TR_LOAD(cols, xb)
#endif
#else
#define TR_LOAD_COLS(xb, cols)                                                                     \
    do {                                                                                           \
        float16 V_[TR_C];                                                                          \
        _Pragma("unroll") for (int k_ = 0; k_ < TR_C; ++k_) V_[k_] = vload16(k_, (xb));            \
        TR_COLS((cols), V_);                                                                       \
    } while (0)
#endif
#endif

/* The TR_C class vectors cols as the 16 x TR_C block at gb (a macro, as TR_LOAD_COLS) */
#ifdef TR_STORE
#define TR_STORE_COLS(gb, cols) TR_STORE(gb, cols)
#else
/* the row stores unrolled from 5 classes up (fused: C = 5 4.15 -> 3.19 ms, C = 10 5.31 -> 5.00,
 * C = 13 unchanged; C = 3 4.4 -> 4.7 ms) */
#if defined(TR_C) && TR_C >= 5
#define TR_UNROLL_STORES _Pragma("unroll")
#else
#define TR_UNROLL_STORES
#endif
#define TR_STORE_COLS(gb, cols)                                                                    \
    do {                                                                                           \
        float16 V_[TR_C];                                                                          \
        TR_ROWS(V_, (cols));                                                                       \
        TR_UNROLL_STORES for (int k_ = 0; k_ < TR_C; ++k_) store16(V_[k_], (gb) + 16 * k_);        \
    } while (0)
#endif

/* Class vectors a plane apart (NCHW: contiguous lanes, ls = 1): each class's vector PF_PLANES
 * groups ahead prefetched to L2 (locality 1, prefetcht2 on x86: into L1 the planes' lines,
 * all in one cache set, evicted each other first): NCHW forward 8.4 -> 7.6 ms.  A hint: it
 * never faults, also past the end of the buffer. */
#if defined(PF_PLANES) && PF_PLANES > 0 && defined(__has_builtin)
#if __has_builtin(__builtin_prefetch)
#define CLCE_PLANE_PREFETCH(p, ls)                                                                 \
    do {                                                                                           \
        if ((ls) == 1)                                                                             \
            __builtin_prefetch((p) + 16 * PF_PLANES, 0, 1);                                        \
    } while (0)
#endif
#endif
#ifndef CLCE_PLANE_PREFETCH
#define CLCE_PLANE_PREFETCH(p, ls) (void)0
#endif

/* Smoothing with the class count fixed at build time (one chunk): the kernels load the weights
 * (or ones) into a private array and sum them once per item (CLCE_WL_PRELOAD), not per class and
 * group (NCHW forward with weights + smoothing 10.7 -> 9.4 ms, channels-last 11.4 -> 10.7 ms);
 * CLCE_WCLASS(c) is class c's weight for the gradient loops. */
#if SMOOTH && defined(NCLS) && NCLS > 0
#define CLCE_WL 1
#define CLCE_WL_PRELOAD                                                                            \
    float wl[NCLS];                                                                                \
    acc_t wlsum = 0;                                                                               \
    for (int c_ = 0; c_ < NCLS; ++c_) {                                                            \
        wl[c_] = has_w ? w[c_] : 1.0f;                                                             \
        wlsum += (acc_t)wl[c_];                                                                    \
    }
#define CLCE_WL_ARGS wl, wlsum
#define CLCE_WCLASS(c) wl[c]
#else
#define CLCE_WL 0
#define CLCE_WL_PRELOAD
#define CLCE_WL_ARGS 0, 0
#define CLCE_WCLASS(c) (has_w ? w[c] : 1.0f)
#endif

/* A gradient's parts other than the softmax (grad_dl: the target's and smoothing's), the
 * 16-lane gradient from a kept exp (grad_from_exp, see lane_exp) and the gradient stores: here,
 * before lanes_chunk, whose pending writes (CLCE_PIPE) use them */
inline float16 grad_dl(float16 wv, int16 tdiff, float16 af, float16 tc) {
    const float16 tsel = select((float16)0.0f, tc, tdiff == (int16)0);
#if SMOOTH
    return fma(wv, af, tsel);
#else
    (void)wv;
    (void)af;
    return tsel;
#endif
}

inline float16 grad_from_exp(float16 e, float16 wv, float16 rsd, int16 tdiff, float16 af,
                             float16 tc) {
    return grad_dl(wv, tdiff, af, tc) - e * rsd;
}

/* Stores 16 floats at q: a non-temporal (streaming) store where the build enables it (NT_STORE,
 * from the tuning table, for gradients larger than the caches) and q is 64-byte aligned.
 * Streaming stores skip the read-for-ownership of the destination line (a third of the fused
 * call's memory traffic) and keep the written lines from evicting the logits still to be read;
 * clang (POCL) lowers __builtin_nontemporal_store to a movntps. */
#if defined(NT_STORE) && NT_STORE && defined(__has_builtin)
#if __has_builtin(__builtin_nontemporal_store)
#define CLCE_NT 1
/* a streaming store to a 64-byte aligned q */
inline void store16_nt(float16 g, __global float *q) {
    __builtin_nontemporal_store(g, (__global float16 *)q);
}
#endif
#endif
#ifndef CLCE_NT
#define CLCE_NT 0
#endif
inline void store16(float16 g, __global float *q) {
#if CLCE_NT
    if (((ulong)q & 63) == 0) {
        store16_nt(g, q);
        return;
    }
#endif
    vstore16(g, 0, q);
}

/* The fused per-class-count builds (every class vector's exp kept) write a group's gradients
 * while the next group's exps are taken (CLCE_PIPE, see ce_grad_lanes): lanes_chunk stores the
 * pending group's class k (pgb non-null: its gradient lanes, pkept its kept exps) next to class
 * k's exp in NCHW builds, lanes_stats_at a transposed block in one. */
#if defined(NCLS) && NCLS > 0 && CLCE_KEEP_EXP
#define CLCE_PIPE 1
#else
#define CLCE_PIPE 0
#endif
typedef struct lane_pend {
    float16 rsd, af, tc;
    int16 tg;
    long gcs;
} lane_pend;

/* class c's gradient lanes from its kept exp e (weight wc) with a pending group's coefficients */
__attribute__((always_inline)) inline float16 pend_grad(const lane_pend *p, float16 e, float wc,
                                                        int c) {
    return grad_from_exp(e, (float16)wc, p->rsd, p->tg - (int16)c, p->af, p->tc);
}

/* class c of a pending group: its gradient lanes out to gb + c * gcs (NCHW's contiguous lanes) */
#define CLCE_PEND_CLASS(p, pk, gb, c)                                                              \
    store16(pend_grad((p), (pk)[c], CLCE_WCLASS(c), (int)(c)), (gb) + (c) * (p)->gcs)

/* a transposed build's pending block: its gradients from the kept exps pk, out to gb */
#define CLCE_PEND_BLOCK(p, pk, gb)                                                                 \
    do {                                                                                           \
        float16 g_[TR_C];                                                                          \
        _Pragma("unroll") for (int c_ = 0; c_ < TR_C; ++c_) g_[c_] =                               \
            pend_grad((p), (pk)[c_], CLCE_WCLASS(c_), c_);                                         \
        TR_STORE_COLS((gb), g_);                                                                   \
    } while (0)

/* a pending group's gradients out, all at once: one transposed block (CLCE_PEND_BLOCK), or
 * NCHW's contiguous lanes class by class */
#if CLCE_TR
#define CLCE_PEND_WRITE(p, pk, gb) CLCE_PEND_BLOCK(p, pk, gb)
#else
#define CLCE_PEND_WRITE(p, pk, gb)                                                                 \
    do {                                                                                           \
        _Pragma("unroll") for (int c_ = 0; c_ < NCLS; ++c_) CLCE_PEND_CLASS(p, pk, gb, c_);        \
    } while (0)
#endif

/* One chunk of the 16-lane row statistics: classes [c0, c0 + LCH) of the running state (max m,
 * s = sum exp(x - m), the target logits xt and, with SMOOTH, A and W).  Each lane's result
 * depends on its own row only, and a row's bits on the chunking alone (LCH): the forward, the
 * backward and the fused kernel all step through them (lanes_stats).  Always inlined: the
 * callers' arrays must stay in registers. */
__attribute__((always_inline)) inline void
lanes_chunk(__global const float *xb, long cs, long ls, int nl, int16 tg16, long c0, long classes,
            __global const float *w, int has_w, const float *wl, acc_t wlsum, const float16 *cols,
            int tr, float16 *pm, float16 *ps, float16 *pxt, acc16_t *pA, acc_t *pW, float16 *keep,
            long nkeep, const lane_pend *pd, __global float *pgb, const float16 *pkept) {
    float16 m = *pm, xt = *pxt;
    float16 buf[LCH];
    float16 vm = (float16)(-INFINITY), vs = (float16)0.0f;
#pragma unroll
    for (int k = 0; k < LCH; ++k) {
        if (c0 + k < classes) {
#if CLCE_TR
            const float16 v = tr ? cols[c0 + k] : lane_load(xb + (c0 + k) * cs, ls, nl);
#else
            const float16 v = lane_load(xb + (c0 + k) * cs, ls, nl);
#endif
            CLCE_PLANE_PREFETCH(xb + (c0 + k) * cs, ls);
            buf[k] = v;
            if (!CLCE_KEEP_EXP && c0 + k < nkeep)
                keep[c0 + k] = v;
            vm = RUN_MAX(vm, v);
            vs += v;
            xt = select(xt, v, tg16 == (int16)(int)(c0 + k));
        }
    }
    const float16 nm = fmax(m, vm);
    /* exp(m - nm) rescales the running sum; 0 while m is -inf.  fexp16_finite serves every other
     * case: m - nm is finite unless m or nm is +inf, and then this chunk or an earlier one held a
     * +inf whose exp(inf - inf) = NaN the sum carries whatever the scale. */
    const float16 sc = select(fexp16_finite(m - nm), (float16)0.0f, m == -INFINITY);
    /* NaN or infinities in this chunk: the exact-semantics exp */
    const int special = any16(!isfinite(vs));
    float16 acc = (float16)0.0f;
#if SMOOTH
    float16 aa = (float16)0.0f;
    acc_t ww = 0;
#if CLCE_WL
    /* the item's weights and their sum (in class order, from 0: this chunk's ww bits) */
    ww = wlsum;
#define CLCE_CHUNK_SMOOTH(k, d) (aa += wl[c0 + (k)] * (d))
#else
#define CLCE_CHUNK_SMOOTH(k, d)                                                                    \
    do {                                                                                           \
        const float wc = CLCE_WCLASS(c0 + (k));                                                    \
        aa += wc * (d);                                                                            \
        ww += (acc_t)wc;                                                                           \
    } while (0)
#endif
#else
#define CLCE_CHUNK_SMOOTH(k, d) (void)(d)
#endif
    /* one class of a chunk without specials: its exp (kept where the build keeps exps), the sum
     * and the smoothing term.  Kept exps are the special loop's exp (lane_exp's bits, whichever
     * loop a group took; the sum's bits are fexp16_finite's, see fexp16) */
#if CLCE_KEEP_EXP
#define CLCE_CHUNK_EXP(d) fexp16(d)
#else
#define CLCE_CHUNK_EXP(d) fexp16_finite(d)
#endif
#define CLCE_PENDING_WRITE(k)                                                                      \
    do {                                                                                           \
        if (pgb)                                                                                   \
            CLCE_PEND_CLASS(pd, pkept, pgb, c0 + (k));                                             \
    } while (0)
#define CLCE_CHUNK_ONE(k)                                                                          \
    do {                                                                                           \
        const float16 d1_ = buf[k] - nm;                                                           \
        const float16 e1_ = CLCE_CHUNK_EXP(d1_);                                                   \
        if (CLCE_KEEP_EXP && c0 + (k) < nkeep)                                                     \
            keep[c0 + (k)] = e1_;                                                                  \
        acc += e1_;                                                                                \
        CLCE_CHUNK_SMOOTH(k, d1_);                                                                 \
        CLCE_PENDING_WRITE(k);                                                                     \
    } while (0)
    /* the exact-semantics exp in a loop of its own (one branch per chunk): channels-last
     * forward 16.7 -> 14.9 ms with weights + smoothing; NCHW forward 7.3 -> 6.7 ms once its
     * lane loads had no tests left (lanes_stats), 8% slower before */
    if (!special) {
#if !(CLCE_TR && CLCE_KEEP_EXP)
        /* classes in pairs, their exps stage by stage (exp16x2_reduced; the same operations in
         * the same order: each lane's bits).  Paired medians against one at a time: NCHW
         * forward 0.93, fused 0.79, fused with weights + smoothing 0.93; channels-last forward
         * 0.93.  Not in the transposed builds that keep exps (channels-last and tiny rows,
         * fused): (1e6, 10) fused 1.13 with pairs */
#pragma unroll
        for (int k = 0; k < LCH; k += 2) {
            if (k + 1 < LCH && c0 + k + 1 < classes) {
                const float16 d0 = buf[k] - nm, d1 = buf[k + 1] - nm;
                float16 e0, e1;
#if CLCE_KEEP_EXP
                /* fexp16: lane_exp's bits (see the one-class loop below) */
                fexp16x2(d0, d1, &e0, &e1);
                if (c0 + k < nkeep)
                    keep[c0 + k] = e0;
                if (c0 + k + 1 < nkeep)
                    keep[c0 + k + 1] = e1;
#else
                fexp16x2_finite(d0, d1, &e0, &e1);
#endif
                acc += e0;
                CLCE_CHUNK_SMOOTH(k, d0);
                acc += e1;
                CLCE_CHUNK_SMOOTH(k + 1, d1);
                CLCE_PENDING_WRITE(k);
                CLCE_PENDING_WRITE(k + 1);
                continue;
            }
            if (c0 + k < classes)
                CLCE_CHUNK_ONE(k);
        }
#else
#pragma unroll
        for (int k = 0; k < LCH; ++k) {
            if (c0 + k < classes)
                CLCE_CHUNK_ONE(k);
        }
#endif
    } else {
#pragma unroll
        for (int k = 0; k < LCH; ++k) {
            if (c0 + k < classes) {
                const float16 v = buf[k];
                const float16 d = shift16(v, (float16)nm);
                const float16 e = fexp16(d);
                if (CLCE_KEEP_EXP && c0 + k < nkeep)
                    keep[c0 + k] = e;
                acc += e;
                CLCE_CHUNK_SMOOTH(k, d);
                CLCE_PENDING_WRITE(k);
            }
        }
    }
#undef CLCE_CHUNK_ONE
#undef CLCE_PENDING_WRITE
#undef CLCE_CHUNK_EXP
#undef CLCE_CHUNK_SMOOTH
    *ps = *ps * sc + acc;
#if SMOOTH
    const acc_t W = *pW;
    const float16 shift = select((float16)((float)W) * (m - nm), (float16)0.0f, m == -INFINITY);
    *pA += CONVERT_ACC16(shift) + CONVERT_ACC16(aa);
    *pW = W + ww;
#else
    (void)pA;
    (void)pW;
    (void)w;
    (void)has_w;
#endif
    *pm = nm;
    *pxt = xt;
    (void)wl;
    (void)wlsum;
#if !CLCE_TR
    (void)cols;
    (void)tr;
#endif
}

/* The 16-lane row statistics of one group (running max m, s = sum exp(x - m), the target logits
 * xt and, with SMOOTH, A and W), chunk after chunk (lanes_chunk): one routine for the forward,
 * the backward and the fused kernel, so all three get the same bits for a row.  The pending
 * group's gradients (pgb non-null) are written on the transposed-block path (CLCE_TR) or by
 * lanes_chunk, class by class (the others). */
__attribute__((always_inline)) inline void
lanes_stats_at(__global const float *xb, long cs, long ls, int nl, int16 tg16, long classes,
               __global const float *w, int has_w, const float *wl, acc_t wlsum, float16 *pm,
               float16 *ps, float16 *pxt, acc16_t *pA, acc_t *pW, float16 *keep, long nkeep,
               const lane_pend *pd, __global float *pgb, const float16 *pkept) {
#if defined(NCLS) && NCLS > 0
    /* the class count fixed at build time (small C, from the tuning row): constant trip counts,
     * no per-class bounds checks left in the unrolled loops */
    classes = NCLS;
#endif
    float16 m = (float16)(-INFINITY), s = (float16)0.0f, xt = (float16)0.0f;
    acc16_t A = (acc16_t)0;
    acc_t W = 0;
    int tr = 0;
#if CLCE_TR
    float16 cols[TR_C];
    tr = nl == 16 && cs == 1 && ls == TR_C && classes == TR_C;
    if (tr) {
        TR_LOAD_COLS(xb, cols);
#if CLCE_PIPE
        if (pgb) /* the pending block's gradients out, draining while this block's exps run */
            CLCE_PEND_BLOCK(pd, pkept, pgb);
#endif
    }
    pgb = 0; /* no per-class pending writes in the transposed builds */
#else
    const float16 *cols = 0;
#endif
    for (long c0 = 0; c0 < classes; c0 += LCH)
        lanes_chunk(xb, cs, ls, nl, tg16, c0, classes, w, has_w, wl, wlsum, cols, tr, &m, &s, &xt,
                    &A, &W, keep, nkeep, pd, pgb, pkept);
    *pm = m;
    *ps = s;
    *pxt = xt;
#if SMOOTH
    *pA = A;
    *pW = W;
#else
    (void)pA;
    (void)pW;
#endif
}

/* lanes_stats_at, with the common geometries given as constants in copies of their own, where
 * each class's lane_load and prefetch tests fold away: 16 full pixel-contiguous lanes (21
 * branch diamonds a group for NCHW's C = 21: forward 7.6 -> 7.3 ms, channels-last 8.4 -> 7.7
 * ms, code placement alone: it takes the other path) and a transposed block of at most 16
 * classes ((1e6, 10) forward 2.32 -> 2.25 ms; channels-last's 21 classes lost 3% with it).
 * The pending group's gradients (pgb non-null) are written during the statistics on the path
 * matching the build (transposed blocks, or NCHW's pixel-contiguous lanes), else first. */
__attribute__((always_inline)) inline void
lanes_stats(__global const float *xb, long cs, long ls, int nl, int16 tg16, long classes,
            __global const float *w, int has_w, const float *wl, acc_t wlsum, float16 *pm,
            float16 *ps, float16 *pxt, acc16_t *pA, acc_t *pW, float16 *keep, long nkeep,
            const lane_pend *pd, __global float *pgb, const float16 *pkept) {
#if CLCE_TR && TR_C <= 16
    if (nl == 16 && cs == 1 && ls == TR_C && classes == TR_C) {
        lanes_stats_at(xb, 1, TR_C, 16, tg16, TR_C, w, has_w, wl, wlsum, pm, ps, pxt, pA, pW, keep,
                       nkeep, pd, pgb, pkept);
        return;
    }
#endif
    const int pix = nl == 16 && ls == 1;
#if CLCE_PIPE
    if (pgb && (CLCE_TR || !pix)) { /* a path without pending writes: the pending group first */
        CLCE_PEND_WRITE(pd, pkept, pgb);
        pgb = 0;
    }
#endif
    if (pix)
        lanes_stats_at(xb, cs, 1, 16, tg16, classes, w, has_w, wl, wlsum, pm, ps, pxt, pA, pW, keep,
                       nkeep, pd, pgb, pkept);
    else
        lanes_stats_at(xb, cs, ls, nl, tg16, classes, w, has_w, wl, wlsum, pm, ps, pxt, pA, pW,
                       keep, nkeep, 0, 0, 0);
}

/* The 16-lane kernels' reduced loss parts (ce_fwd_lanes; ce_grad_lanes) are summed per lane
 * over the item's groups (GPI terms each, in float: ~GPI * 6e-8 relative; the smoothing term in
 * acc_t) and across lanes once at the end: (1e6, 10) forward 3.0 -> 2.75 ms, fused 6.9 -> 6.0
 * ms; with weights + smoothing forward 3.36 -> 3.12 ms, fused 6.25 -> 6.08, channels-last
 * 10.7 -> 10.3 / 23.3 -> 21.9 (per-group sums across lanes measured faster for those until the
 * weights were preloaded and the lane loads lost their tests). */

/* wt16 = the 16 lanes' target weights w[tg] (0 where tg < 0).  A macro: tg is a private array,
 * which POCL kept in memory when passed to a function. */
#define LANE_TARGET_WEIGHTS(wt16, tg, w)                                                           \
    do {                                                                                           \
        float wtv_[16];                                                                            \
        for (int l_ = 0; l_ < 16; ++l_)                                                            \
            wtv_[l_] = (tg)[l_] >= 0 ? (w)[(tg)[l_]] : 0.0f;                                       \
        (wt16) = vload16(0, wtv_);                                                                 \
    } while (0)

/* The 16 lanes' weighted nll, lse - x_target (0 where not valid) */
inline float16 lane_nll16(float16 wt16, float16 xt, float16 m, float16 lse, int16 valid) {
    return -wt16 * select((float16)0.0f, (xt - m) - lse, valid);
}

/* The next group of 16 lanes of an item: 16 rows on along the innermost row dimension, or the
 * first group of the next outer row; offsets o0..o2 in the tensors of strides s0..s2 follow
 * without row_offsets' divisions (three 64-bit divisions per group for NCHW rows: channels-last
 * forward 12.7 -> 11.3 ms).  recompute (a build-time constant): row_offsets every group, as
 * the smoothing forward measured faster that way (channels-last 13.1 vs 14.9 ms, POCL). */
inline void lane_step(long *o, long *j0, long inner, long8 size, long8 s0, long8 s1, long8 s2,
                      long *o0, long *o1, long *o2, int recompute) {
    *j0 += 16;
    if (recompute && *j0 < inner) {
        long u;
        row_offsets(*o * inner + *j0, size, s0, s1, s2, s2, o0, o1, o2, &u);
    } else if (*j0 < inner) {
        *o0 += 16 * s0.s0;
        *o1 += 16 * s1.s0;
        *o2 += 16 * s2.s0;
    } else {
        long u;
        *j0 = 0;
        *o += 1;
        row_offsets(*o * inner, size, s0, s1, s2, s2, o0, o1, o2, &u);
    }
}

/* Each item takes GPI consecutive groups of 16 lanes (long sequential streams per class for
 * the prefetcher) and, for sum/mean, writes one triple: its groups summed in order. */
__kernel void ce_fwd_lanes(__global const float *x, long x_off, long cs, __global const TARGET_T *t,
                           long t_off, __global const float *w, int has_w, __global float *loss,
                           long o_off, __global acc_t *row_vals, __global float *stats,
                           int has_stats, long rows, long classes, long ignore_index, float eps,
                           long8 size, long8 sx, long8 st, long8 so, long gpi,
                           __global volatile int *rec) {
    const long gid = get_global_id(0);
    const long inner = size.s0;
    const long gpo = (inner + 15) / 16;
    const long ngroups = rows / inner * gpo;
    if (gid * gpi >= ngroups || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    const long ls = sx.s0;
    CLCE_WL_PRELOAD
    float16 tn16 = (float16)0.0f, td16 = (float16)0.0f;
#if SMOOTH
    acc16_t tsm16 = (acc16_t)0;
#endif
#if LOGPROD
    float16 tl16 = (float16)0.0f, ps16 = (float16)1.0f;
    int np = 0;
#endif
    acc_t tn = 0, tsm = 0, td = 0;
    int bad = 0x7fffffff;
    const long q1 = min(ngroups, (gid + 1) * gpi);
    long o = gid * gpi / gpo, j0 = (gid * gpi % gpo) * 16, ox, ot, oo, unused;
    row_offsets(o * inner + j0, size, sx, st, so, so, &ox, &ot, &oo, &unused);
    for (long q = gid * gpi; q < q1;
         ++q, lane_step(&o, &j0, inner, size, sx, st, so, &ox, &ot, &oo, SMOOTH)) {
        const long r0 = o * inner + j0;
        const int nl = (int)min((long)16, inner - j0);
        __global const float *xb = x + x_off + ox;

        /* targets: -1 for ignored, invalid and padding lanes */
        int tg[16];
        int16 tg16;
        if (nl == 16 && st.s0 == 1) { /* contiguous targets: one vector load and compares */
            const long16 tv = CLCE_CAT(convert_long, 16)(vload16(0, t + t_off + ot));
            const long16 ok =
                (tv >= (long16)0) & (tv < (long16)classes) & (tv != (long16)ignore_index);
            tg16 = select((int16)(-1), convert_int16(tv), convert_int16(ok));
            vstore16(tg16, 0, tg);
            if (any16(convert_int16(~ok & (tv != (long16)ignore_index))) && bad == 0x7fffffff)
                for (int l = 0; l < 16 && bad == 0x7fffffff; ++l)
                    if (target_bad((long)t[t_off + ot + l], classes, ignore_index))
                        bad = (int)(r0 + l);
        } else {
            for (int l = 0; l < 16; ++l) {
                const long tv = l < nl ? (long)t[t_off + ot + l * st.s0] : ignore_index;
                tg[l] = (tv >= 0 && tv < classes && tv != ignore_index) ? (int)tv : -1;
                if (l < nl && target_bad(tv, classes, ignore_index) && bad == 0x7fffffff)
                    bad = (int)(r0 + l);
            }
            tg16 = vload16(0, tg);
        }

        float16 m, s, xt;
#if SMOOTH
        acc16_t A;
        acc_t W;
        lanes_stats(xb, cs, ls, nl, tg16, classes, w, has_w, CLCE_WL_ARGS, &m, &s, &xt, &A, &W, 0,
                    0, 0, 0, 0);
#else
        lanes_stats(xb, cs, ls, nl, tg16, classes, w, has_w, CLCE_WL_ARGS, &m, &s, &xt, 0, 0, 0, 0,
                    0, 0, 0);
#endif
        const int16 valid = tg16 >= (int16)0;
        float16 wt16 = select((float16)0.0f, (float16)1.0f, valid);
#if LOGPROD
        /* unweighted sum/mean without stats: the rows' sum of lse - xt as sum(m - xt) + one log
         * of the product of LOGPROD groups' s (each in [1, C]: the product stays finite) */
        tn16 += select((float16)0.0f, m - xt, valid);
        td16 += wt16;
        ps16 *= select((float16)1.0f, s, valid);
        if (++np == LOGPROD) {
            tl16 += log(ps16);
            ps16 = (float16)1.0f;
            np = 0;
        }
        continue;
#endif
        const float16 lse = log(s);
        if (has_w)
            LANE_TARGET_WEIGHTS(wt16, tg, w);
        /* products and the 16-lane sums in float (16 terms: ~1e-7 relative), then acc_t */
        const float16 nll16 = lane_nll16(wt16, xt, m, lse, valid);
#if SMOOTH
        const acc16_t sm16 = -(A - (acc16_t)W * CONVERT_ACC16(lse));
#endif
        if (has_stats) {
            float mv[16], lv[16];
            vstore16(m, 0, mv);
            vstore16(lse, 0, lv);
            for (int l = 0; l < nl; ++l) {
                stats[2 * (r0 + l)] = mv[l];
                stats[2 * (r0 + l) + 1] = lv[l];
            }
        }
#if OUT_NONE
        float nv[16];
        vstore16(nll16, 0, nv);
#if SMOOTH
        acc_t smv[16];
        vstore16(sm16, 0, smv);
#endif
        for (int l = 0; l < nl; ++l) {
#if SMOOTH
            const acc_t lo =
                tg[l] >= 0 ? (1 - (acc_t)eps) * nv[l] + ((acc_t)eps / (acc_t)classes) * smv[l] : 0;
#else
            const acc_t lo = (acc_t)nv[l];
#endif
            loss[o_off + oo + l * so.s0] = (float)lo;
        }
#else
        tn16 += nll16;
        td16 += wt16;
#if SMOOTH
        tsm16 += select((acc16_t)0, sm16, ACC16_MASK(valid));
#endif
#endif
    }
#if !OUT_NONE
    if (bad != 0x7fffffff)
        atomic_min(&rec[REC_PENDING_ROW], bad);
    tn = hsum_acc16(CONVERT_ACC16(tn16));
    td = hsum_acc16(CONVERT_ACC16(td16));
#if SMOOTH
    tsm = hsum_acc16(tsm16);
#endif
#if LOGPROD
    tn += hsum_acc16(CONVERT_ACC16(tl16 + log(ps16)));
#endif
    row_vals[3 * gid] = tn;
    row_vals[3 * gid + 1] = tsm;
    row_vals[3 * gid + 2] = td;
#else
    (void)row_vals;
    (void)tn;
    (void)tsm;
    (void)td;
    (void)bad;
#endif
}

/* ---- GPU shape: one work-group per row, items stride the row (coalesced for class stride 1),
 * then a fixed-shape local-memory tree merges the items' {m, s, A, W}.  WG (a power of two) is
 * the launch's local size.  Chosen by the tuning table for GPUs; on POCL this shape is slow
 * (every barrier phase is a loop over the group's items). */
#ifdef WG
inline void merge_state(float *m, float *s, acc_t *A, acc_t *W, float mb, float sb, acc_t Ab,
                        acc_t Wb) {
    const float nm = fmax(*m, mb);
    const float sa = *m == -INFINITY ? 0.0f : *s * exp(*m - nm);
    const float sbb = mb == -INFINITY ? 0.0f : sb * exp(mb - nm);
    /* keep NaN: a NaN partial sum stays NaN even when its scale is 0 */
    *s = (isnan(*s) ? *s : sa) + (isnan(sb) ? sb : sbb);
#if SMOOTH
    *A = *A + (*m == -INFINITY ? 0 : *W * (acc_t)(*m - nm)) + Ab +
         (mb == -INFINITY ? 0 : Wb * (acc_t)(mb - nm));
    *W += Wb;
#endif
    *m = nm;
}

__kernel __attribute__((reqd_work_group_size(WG, 1, 1))) void
ce_fwd_wgrow(__global const float *x, long x_off, long cs, __global const TARGET_T *t, long t_off,
             __global const float *w, int has_w, __global float *loss, long o_off,
             __global acc_t *row_vals, __global float *stats, int has_stats, long rows,
             long classes, long ignore_index, float eps, long8 size, long8 sx, long8 st, long8 so,
             __global volatile int *rec) {
    __local float lm[WG], ls_[WG];
    __local acc_t lA[WG], lW[WG];
    __local int skip;
    const long r = get_group_id(0);
    const int lid = get_local_id(0);
    /* one read of the record per group (another group's fused check may set it meanwhile):
     * the whole group returns or none of it, so no barrier is skipped by part of a group */
    if (lid == 0)
        skip = r >= rows || rec[REC_BAD_ROW] != REC_CLEAR;
    barrier(CLK_LOCAL_MEM_FENCE);
    if (skip)
        return;
    long ox, ot, oo, unused;
    row_offsets(r, size, sx, st, so, so, &ox, &ot, &oo, &unused);
    __global const float *xr = x + x_off + ox;
    float m = -INFINITY, s = 0.0f;
    acc_t A = 0, W = 0;
    for (long c = lid; c < classes; c += WG) {
        const float v = xr[c * cs];
        if (v > m) {
            s = s * exp(m - v) + ((v - v) + 1.0f);
#if SMOOTH
            if (m != -INFINITY)
                A += W * (acc_t)(m - v);
#endif
            m = v;
        } else {
            s += v == -INFINITY ? 0.0f : exp(v - m);
        }
#if SMOOTH
        const acc_t wc = has_w ? (acc_t)w[c] : 1;
        A += wc * (v == -INFINITY ? (acc_t)-INFINITY : (acc_t)(v - m));
        W += wc;
#endif
    }
    lm[lid] = m;
    ls_[lid] = s;
    lA[lid] = A;
    lW[lid] = W;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = WG / 2; h > 0; h >>= 1) {
        if (lid < h) {
            float mm = lm[lid], ss = ls_[lid];
            acc_t AA = lA[lid], WW = lW[lid];
            merge_state(&mm, &ss, &AA, &WW, lm[lid + h], ls_[lid + h], lA[lid + h], lW[lid + h]);
            lm[lid] = mm;
            ls_[lid] = ss;
            lA[lid] = AA;
            lW[lid] = WW;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        const long tgt = (long)t[t_off + ot];
        const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
        const float xt = valid ? xr[tgt * cs] : 0.0f;
        acc_t nll, smooth, den;
        const float lse = log(ls_[0]);
        row_parts(lm[0], lse, lA[0], lW[0], xt, tgt, classes, ignore_index, w, has_w, &nll, &smooth,
                  &den);
        if (has_stats) {
            stats[2 * r] = lm[0];
            stats[2 * r + 1] = lse;
        }
#if OUT_NONE
        loss[o_off + oo] = (float)row_loss(nll, smooth, valid, eps, classes);
#else
        if (target_bad(tgt, classes, ignore_index))
            atomic_min(&rec[REC_PENDING_ROW], (int)r);
        row_vals[3 * r] = nll;
        row_vals[3 * r + 1] = smooth;
        row_vals[3 * r + 2] = den;
#endif
    }
}
#endif

/* ---- backward and fused loss + gradient (GRAD=1) -----------------------------------------
 * The row statistics come from the same routines as the forward's (scan_contig for float16
 * rows, lanes_stats for 16 lanes), or from the stats buffer (stats_in): so backward without
 * stats, backward with the forward's stats and the fused kernel write the same gradient bits.
 * Gradient (PyTorch's composite, as ce_grad.cl): with scale g (grad_output, / den for mean),
 *   a = -(g eps / C), b = -(g (1 - eps))  (SMOOTH);  eps = 0: a = 0, b = -g
 *   dx_c = w_c a + [c = t] w_t b - p_c (a W + w_t b),   p_c = exp((x_c - m) - lse)
 * in float (af, tc = w_t b, sd = a W + w_t b computed in acc_t, then rounded).  An ignored row
 * has af = tc = sd = 0: dx = -p * 0, NaN where p is NaN (as PyTorch).  One exp per logit in the
 * writing pass; the fused kernel re-reads the row it has just scanned from cache.  The 16-lane
 * kernel takes p = exp(x_c - m) exp(-lse) (grad_from_exp), and with the class count fixed at
 * build time its fused form keeps the statistics pass's exps: one exp per logit in all.
 * Required: GRAD, GO_NONE (per-row grad_output), OUT_NONE (per-row loss), SMOOTH, HAS_W. */
#if GRAD
#ifndef GO_NONE
#define GO_NONE 0
#endif

/* Sum of the weights in a fixed (vector) order; C without weights. */
inline acc_t weight_sum(__global const float *w, int has_w, long classes) {
    if (!has_w)
        return (acc_t)classes;
    acc16_t a16 = (acc16_t)0;
    long c = 0;
    for (; c + 16 <= classes; c += 16)
        a16 += CONVERT_ACC16(vload16(0, w + c));
    acc_t s = hsum_acc16(a16);
    for (; c < classes; ++c)
        s += (acc_t)w[c];
    return s;
}

/* g for a row: grad_output (scalar or per row), divided by the device-summed weights (mean). */
inline acc_t row_scale(__global const float *go, long go_off, long ogo, int has_go, int mean,
                       __global const acc_t *den) {
#if !GO_NONE
    (void)ogo;
    ogo = 0;
#endif
    const acc_t g = has_go ? (acc_t)go[go_off + ogo] : 1;
    return mean ? g / den[0] : g;
}

/* The parts of a row's gradient coefficients that depend on its scale alone: b (tc = w_t b),
 * af = (float)a and afw = af W (sd = afw + tc). */
inline void scale_coefs(acc_t scale, float eps, long classes, acc_t wsum, acc_t *b, float *af,
                        acc_t *afw) {
#if SMOOTH
    *af = (float)(-(scale * (acc_t)eps / (acc_t)classes));
    *b = -(scale * (1 - (acc_t)eps));
    *afw = (acc_t)*af * wsum;
#else
    (void)eps;
    (void)classes;
    (void)wsum;
    *af = 0.0f;
    *b = -scale;
    *afw = 0;
#endif
}

inline void grad_coefs(int valid, long tgt, __global const float *w, int has_w, acc_t scale,
                       float eps, long classes, acc_t wsum, float *af, float *tc, float *sd) {
    *af = 0.0f;
    *tc = 0.0f;
    *sd = 0.0f;
    if (!valid)
        return;
    const acc_t wt = has_w ? (acc_t)w[tgt] : 1;
    acc_t b, afw;
    scale_coefs(scale, eps, classes, wsum, &b, af, &afw);
    *tc = (float)(wt * b);
    *sd = SMOOTH ? (float)(afw + (acc_t)*tc) : *tc;
}

/* grad_coefs of 16 lanes with one scale (scale_coefs' b, af, afw) and target weights wt16: the
 * same operations lane by lane, vectorised, instead of a loop of 16 grad_coefs calls per group
 * (NCHW fused with weights + smoothing 16.1 -> 15.6 ms); 0 where not valid. */
inline void lane_grad_coefs(float16 wt16, int16 valid, acc_t b, float af, acc_t afw, float16 *paf,
                            float16 *ptc, float16 *psd) {
    const float16 tc = convert_float16(CONVERT_ACC16(wt16) * (acc16_t)b);
#if SMOOTH
    const float16 sd = convert_float16((acc16_t)afw + CONVERT_ACC16(tc));
#else
    (void)afw;
    const float16 sd = tc;
#endif
    *paf = select((float16)0.0f, (float16)af, valid);
    *ptc = select((float16)0.0f, tc, valid);
    *psd = select((float16)0.0f, sd, valid);
}

/* One vector of gradients: logits v at classes c0 + lane.  dl = w af + [c = t] tc in one fma and
 * sd = af W + tc from the same rounded af, tc: a row whose gradient is exactly zero (C = 1:
 * p = 1, dl = sd) stays exactly zero. */
inline float16 grad_vec(float16 v, float16 wv, float16 m, float16 lse, int16 tdiff, float16 af,
                        float16 tc, float16 sd) {
    const float16 p = fexp16((v - m) - lse);
    return grad_dl(wv, tdiff, af, tc) - p * sd;
}

/* grad_vec of two vectors of one row (its bits), their exps stage by stage (exp16x2_reduced) */
__attribute__((always_inline)) inline void grad_vec2(float16 v0, float16 v1, float16 wv0,
                                                     float16 wv1, float m, float lse, int16 td0,
                                                     float af, float tc, float sd, float16 *g0,
                                                     float16 *g1) {
    float16 e0, e1;
    fexp16x2((v0 - (float16)m) - (float16)lse, (v1 - (float16)m) - (float16)lse, &e0, &e1);
    *g0 = grad_dl(wv0, td0, (float16)af, (float16)tc) - e0 * (float16)sd;
    *g1 = grad_dl(wv1, td0 + (int16)16, (float16)af, (float16)tc) - e1 * (float16)sd;
}

/* The 16-lane kernels' gradients (grad_from_exp): from e = exp(x - m) as lanes_chunk takes it (a
 * -inf logit gives 0 also where m is -inf), p = e exp(-lse), with rsd = exp(-lse) sd per lane.  One
 * exp per logit where the statistics pass kept e (CLCE_KEEP_EXP).  p errs by a few ulp (e's and
 * exp(-lse)'s), less than exp((x - m) - lse), whose argument's rounding costs |x - m| ulp; C = 1
 * still gives exactly 0 (e = 1, lse = 0, exp(-0) = 1: dl - sd).  NaN and infinities as
 * grad_vec: a NaN or +inf in a row makes lse NaN, and so rsd; an all -inf row NaN too.
 * shift16 matters for the bits alone: without it an all -inf row's NaN came out of other
 * operations than the kept exps' (Oclgrind's NaNs then differed between the backward with and
 * without stats; x86's did not). */
inline float16 lane_exp(float16 v, float16 m) {
    return fexp16(shift16(v, m));
}

/* Writes the gradient of n contiguous logits p (classes c0..c0+n-1) to q (stride qs). */
inline void grad_contig(__global const float *p, __global float *q, long qs, long c0, long n,
                        __global const float *w, int has_w, float m, float lse, long tgt, float af,
                        float tc, float sd) {
    const int16 iota = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    long i = 0;
    /* A piece whose length is not a multiple of 16 ends with one vector over its last 16 logits
     * (overlapping the vector before: those gradients are written twice, the same bits, from
     * the same logits), not with a scalar copy of the rest.  Loaded before any store, so an
     * in-place gradient (q = p) still reads logits there.  (500000, 100) fused: 0.81 of the
     * time (median of 8 interleaved pairs) */
    const int vtail = qs == 1 && n >= 16 && n % 16 != 0;
    const float16 tv = vtail ? vload16(0, p + n - 16) : (float16)0.0f;
#if !(VROWS_R > 1 && SMOOTH && HAS_W)
    /* 32 logits at a time, two exps stage by stage (grad_vec2; (1024, 32000) fused 0.92 of the
     * time, paired medians of 10).  Not where grad_contig_rows is the hot loop and this one only
     * its tail: that kernel, bigger by the loop, was slower ((1024, 32000) weighted fused 27.4
     * against 22.0 ms, minima of 4) */
    for (; i + 32 <= n && qs == 1; i += 32) {
        float16 wv0 = (float16)1.0f, wv1 = (float16)1.0f;
#if SMOOTH
        if (has_w) {
            wv0 = vload16(0, w + c0 + i);
            wv1 = vload16(0, w + c0 + i + 16);
        }
#endif
        float16 g0, g1;
        grad_vec2(vload16(0, p + i), vload16(0, p + i + 16), wv0, wv1, m, lse,
                  iota - (int16)(int)(tgt - c0 - i), af, tc, sd, &g0, &g1);
        store16(g0, q + i);
        store16(g1, q + i + 16);
    }
#endif
    for (; i < n; i += 16) {
        const int nv = (int)min((long)16, n - i);
        if (nv < 16 && vtail) {
            float16 wv = (float16)1.0f;
#if SMOOTH
            if (has_w)
                wv = vload16(0, w + c0 + n - 16);
#endif
            const float16 g =
                grad_vec(tv, wv, (float16)m, (float16)lse, iota - (int16)(int)(tgt - c0 - (n - 16)),
                         (float16)af, (float16)tc, (float16)sd);
            store16(g, q + n - 16);
            break;
        }
        float16 v, wv = (float16)1.0f;
        if (nv == 16) {
            v = vload16(0, p + i);
#if SMOOTH
            if (has_w)
                wv = vload16(0, w + c0 + i);
#endif
        } else {
            float tmp[16], tw[16];
            for (int l = 0; l < 16; ++l) {
                tmp[l] = l < nv ? p[i + l] : 0.0f;
                tw[l] = l < nv && has_w ? w[c0 + i + l] : 1.0f;
            }
            v = vload16(0, tmp);
            wv = vload16(0, tw);
        }
        const int16 tdiff = iota - (int16)(int)(tgt - c0 - i);
        const float16 g =
            grad_vec(v, wv, (float16)m, (float16)lse, tdiff, (float16)af, (float16)tc, (float16)sd);
        if (nv == 16 && qs == 1) {
            store16(g, q + i);
        } else {
            float tg[16];
            vstore16(g, 0, tg);
            for (int l = 0; l < nv; ++l)
                q[(i + l) * qs] = tg[l];
        }
    }
}

#if VROWS_R > 1
/* grad_contig for nr rows in lockstep: each weights vector loaded once for all of them (the
 * element-wise grad_vec gives each row grad_contig's bits); the tail (or a strided gradient)
 * goes to grad_contig row by row. */
inline void grad_contig_rows(__global const float *const *p, __global float *const *q, long qs,
                             int nr, long n, __global const float *w, const float *m,
                             const float *lse, const long *tgt, const float *af, const float *tc,
                             const float *sd) {
    const int16 iota = (int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    long i = 0;
    for (; i + 16 <= n && qs == 1; i += 16) {
        const float16 wv = vload16(0, w + i);
#pragma unroll
        for (int r = 0; r < VROWS_R; ++r) {
            if (r < nr) {
                const int16 tdiff = iota - (int16)(int)(tgt[r] - i);
                store16(grad_vec(vload16(0, p[r] + i), wv, (float16)m[r], (float16)lse[r], tdiff,
                                 (float16)af[r], (float16)tc[r], (float16)sd[r]),
                        q[r] + i);
            }
        }
    }
    if (i < n)
        for (int r = 0; r < nr; ++r)
            grad_contig(p[r] + i, q[r] + i * qs, qs, i, n - i, w, 1, m[r], lse[r], tgt[r], af[r],
                        tc[r], sd[r]);
}
#endif

/* ce_grad_vrows' loss of row r from its state (the loss at loss[oo] or the row's triple, when
 * the call has a loss).  The gradient kernels' twin of finish_row. */
inline void grad_row_loss(long r, float m, float lse, acc_t A, acc_t W, __global const float *xr,
                          long tgt, int valid, long classes, long ignore_index,
                          __global const float *w, int has_w, int has_loss, __global float *loss,
                          long oo, __global acc_t *row_vals, float eps) {
    const float xt = valid ? xr[tgt] : 0.0f;
    acc_t nll, smooth, dn;
    row_parts(m, lse, A, W, xt, tgt, classes, ignore_index, w, has_w, &nll, &smooth, &dn);
    if (has_loss) {
#if OUT_NONE
        loss[oo] = (float)row_loss(nll, smooth, valid, eps, classes);
#else
        (void)loss;
        (void)oo;
        row_vals[3 * r] = nll;
        row_vals[3 * r + 1] = smooth;
        row_vals[3 * r + 2] = dn;
#endif
    }
}

/* Geometry A (size): 0 input, 1 target, 2 grad_input; geometry B (size_b): 1 loss (OUT_NONE),
 * 2 grad_output (GO_NONE).  One item per (row, segment); nseg > 1 only with stats_in. */
__kernel void ce_grad_vrows(__global const float *x, long x_off, __global const TARGET_T *t,
                            long t_off, __global const float *w, int has_w,
                            __global const float *go, long go_off, int has_go, __global float *grad,
                            long g_off, long gcs, __global const float *stats, int stats_in,
                            __global float *loss, long o_off, int has_loss,
                            __global acc_t *row_vals, __global const acc_t *den, int mean,
                            long rows, long classes, long ignore_index, float eps, long seg_len,
                            long nseg, long8 size, long8 sx, long8 st, long8 sgi, long8 size_b,
                            long8 so, long8 sgo, __global const int *rec) {
    const long gid = get_global_id(0);
#if VROWS_R > 1 && SMOOTH && HAS_W
    /* nseg == 1: VROWS_R consecutive rows per item sharing each weights vector (as
     * ce_fwd_vrows), and the weights' sum once per item instead of once per row */
    {
        const long r0 = gid * VROWS_R;
        if (r0 >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
            return;
        const int nr = (int)min((long)VROWS_R, rows - r0);
        __global const float *pr[VROWS_R];
        __global float *qr[VROWS_R];
        long tg[VROWS_R], oov[VROWS_R], ogov[VROWS_R];
        float m[VROWS_R], s[VROWS_R], lse[VROWS_R], af[VROWS_R], tc[VROWS_R], sd[VROWS_R];
        acc_t A[VROWS_R], W[VROWS_R];
        for (int j = 0; j < VROWS_R; ++j) {
            const long r = r0 + min(j, nr - 1);
            long ox, ot, og, u;
            row_offsets(r, size, sx, st, sgi, sgi, &ox, &ot, &og, &u);
            oov[j] = 0;
            ogov[j] = 0;
            if (GO_NONE || OUT_NONE)
                row_offsets(r, size_b, so, so, sgo, sgo, &u, &oov[j], &ogov[j], &u);
            pr[j] = x + x_off + ox;
            qr[j] = grad + g_off + og;
            tg[j] = (long)t[t_off + ot];
            m[j] = stats_in ? stats[2 * r] : -INFINITY;
            lse[j] = stats_in ? stats[2 * r + 1] : 0.0f;
            s[j] = 0.0f;
            A[j] = 0;
            W[j] = 0;
        }
        if (!stats_in) {
            scan_contig_rows(pr, nr, classes, w, m, s, A, W);
            rows_log(s, nr, lse);
        }
        const acc_t wsum = weight_sum(w, has_w, classes);
        for (int j = 0; j < nr; ++j) {
            const long tgt = tg[j];
            const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
            if (!stats_in)
                grad_row_loss(r0 + j, m[j], lse[j], A[j], W[j], pr[j], tgt, valid, classes,
                              ignore_index, w, has_w, has_loss, loss, o_off + oov[j], row_vals,
                              eps);
            const acc_t scale = row_scale(go, go_off, ogov[j], has_go, mean, den);
            grad_coefs(valid, tgt, w, has_w, scale, eps, classes, valid ? wsum : 0, &af[j], &tc[j],
                       &sd[j]);
        }
        grad_contig_rows(pr, qr, gcs, nr, classes, w, m, lse, tg, af, tc, sd);
        return;
    }
#elif VROWS_R > 1
    /* nseg == 1: VROWS_R consecutive rows per item (as ce_fwd_vrows): the rows' statistics, their
     * logs at once, then each row's loss and gradient */
    {
        const long r0 = gid * VROWS_R;
        if (r0 >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
            return;
        const int nr = (int)min((long)VROWS_R, rows - r0);
        float m[VROWS_R], s[VROWS_R], lse[VROWS_R];
        acc_t A[VROWS_R], W[VROWS_R];
        if (stats_in) {
            for (int j = 0; j < nr; ++j) {
                m[j] = stats[2 * (r0 + j)];
                lse[j] = stats[2 * (r0 + j) + 1];
            }
        } else {
            scan_rows(x + x_off, r0, nr, classes, size, sx, w, has_w, m, s, A, W);
            rows_log(s, nr, lse);
        }
        for (int j = 0; j < nr; ++j) {
            const long r = r0 + j;
            long ox, ot, og, oo = 0, ogo = 0, u;
            row_offsets(r, size, sx, st, sgi, sgi, &ox, &ot, &og, &u);
            if (GO_NONE || OUT_NONE)
                row_offsets(r, size_b, so, so, sgo, sgo, &u, &oo, &ogo, &u);
            __global const float *xr = x + x_off + ox;
            const long tgt = (long)t[t_off + ot];
            const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
            if (!stats_in)
                grad_row_loss(r, m[j], lse[j], A[j], W[j], xr, tgt, valid, classes, ignore_index, w,
                              has_w, has_loss, loss, o_off + oo, row_vals, eps);
            const acc_t scale = row_scale(go, go_off, ogo, has_go, mean, den);
            float af, tc, sd;
            grad_coefs(valid, tgt, w, has_w, scale, eps, classes,
                       SMOOTH && valid ? weight_sum(w, has_w, classes) : 0, &af, &tc, &sd);
            grad_contig(xr, grad + g_off + og, gcs, 0, classes, w, has_w, m[j], lse[j], tgt, af, tc,
                        sd);
        }
        return;
    }
#endif
    const long r = gid / nseg, sg = gid % nseg;
    if (r >= rows || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    long ox, ot, og, oo = 0, ogo = 0, u;
    row_offsets(r, size, sx, st, sgi, sgi, &ox, &ot, &og, &u);
    if (GO_NONE || OUT_NONE)
        row_offsets(r, size_b, so, so, sgo, sgo, &u, &oo, &ogo, &u);
    __global const float *xr = x + x_off + ox;
    const long tgt = (long)t[t_off + ot];
    const int valid = tgt != ignore_index && tgt >= 0 && tgt < classes;
    float m, lse;
    if (stats_in) {
        m = stats[2 * r];
        lse = stats[2 * r + 1];
    } else {
        float s = 0.0f;
        acc_t A = 0, W = 0;
        m = -INFINITY;
        scan_contig(xr, classes, w, has_w, &m, &s, &A, &W);
        rows_log(&s, 1, &lse);
        grad_row_loss(r, m, lse, A, W, xr, tgt, valid, classes, ignore_index, w, has_w, has_loss,
                      loss, o_off + oo, row_vals, eps);
    }
    const acc_t scale = row_scale(go, go_off, ogo, has_go, mean, den);
    float af, tc, sd;
    grad_coefs(valid, tgt, w, has_w, scale, eps, classes,
               SMOOTH && valid ? weight_sum(w, has_w, classes) : 0, &af, &tc, &sd);
    const long c0 = sg * seg_len, c1 = min(classes, c0 + seg_len);
    if (c1 > c0)
        grad_contig(xr + c0, grad + g_off + og + c0 * gcs, gcs, c0, c1 - c0, w, has_w, m, lse, tgt,
                    af, tc, sd);
}

/* CLCE_PIPE (defined above lane_pend): the fused per-class-count builds (exps kept) write each
 * group's gradients during the next group's exps: NCHW class by class (lanes_chunk's pending
 * writes), the transposed builds (channels-last, tiny rows) as one block between the next block's
 * loads and its exps (lanes_stats_at); the item's last pending group after the loop, and one whose
 * next group's statistics take another path before them (lanes_stats), all at once
 * (CLCE_PEND_WRITE). Unrolled over the build-time class count (NCHW fused 18.9 -> 18.4 ms against
 * the general write loop unrolled, which bloated every variant; channels-last 21.6 -> 19.9 ms with
 * the gradients kept in registers for one transpose out).  Written right after their group's
 * statistics, the 21 streaming stores of an NCHW group waited on the core's write-combining buffers
 * (a quarter of the kernel's profile samples); issued before or among the next group's exps they
 * drain while it computes.  Paired medians against the stores after the statistics (Zen 3, AVX2):
 * NCHW (8, 21, 512, 512) fused 0.87-0.90, with weights + smoothing 0.85; then the transposed builds
 * too: channels-last 0.91-0.98 (weights + smoothing 1.00), (1e6, 10) 0.90-0.96 (0.97).  The same
 * operations on the same values: the same bits. */
/* 16 lanes along the innermost row dimension, as ce_fwd_lanes; GPI groups per item.  With a
 * reduced loss each item writes one {nll, smooth, den} triple (its groups in order). */
__kernel void ce_grad_lanes(__global const float *x, long x_off, long cs,
                            __global const TARGET_T *t, long t_off, __global const float *w,
                            int has_w, __global const float *go, long go_off, int has_go,
                            __global float *grad, long g_off, long gcs, __global const float *stats,
                            int stats_in, __global float *loss, long o_off, int has_loss,
                            __global acc_t *row_vals, __global const acc_t *den, int mean,
                            long rows, long classes, long ignore_index, float eps, long8 size,
                            long8 sx, long8 st, long8 sgi, long8 size_b, long8 so, long8 sgo,
                            long gpi, __global const int *rec) {
    const long gid = get_global_id(0);
    const long inner = size.s0;
    const long gpo = (inner + 15) / 16;
    const long ngroups = rows / inner * gpo;
    if (gid * gpi >= ngroups || rec[REC_BAD_ROW] != REC_CLEAR)
        return;
    const long ls = sx.s0, gls = sgi.s0;
    CLCE_WL_PRELOAD
    const acc_t wsum = SMOOTH ? weight_sum(w, has_w, classes) : 0;
    /* without per-row grad_output the scale is the same for every row: computed once */
    const acc_t scale0 = GO_NONE ? 0 : row_scale(go, go_off, 0, has_go, mean, den);
    float vaf = 0.0f, vtc = 0.0f, vsd = 0.0f, caf = 0.0f;
    acc_t cb = 0, cafw = 0;
    if (!GO_NONE && !has_w)
        grad_coefs(1, 0, w, 0, scale0, eps, classes, wsum, &vaf, &vtc, &vsd);
    else if (!GO_NONE)
        scale_coefs(scale0, eps, classes, wsum, &cb, &caf, &cafw);
#if !OUT_NONE /* the reduced loss parts as ce_fwd_lanes sums them */
    float16 tn16 = (float16)0.0f, td16 = (float16)0.0f;
#if SMOOTH
    acc16_t tsm16 = (acc16_t)0;
#endif
#endif
    acc_t tn = 0, tsm = 0, td = 0;
#if CLCE_PIPE
    /* the kept exps of this group and of the pending one, whose gradients this group's stats
     * write (lanes_chunk); pgb: the pending group's gradient lanes, 0 when none */
    float16 kbuf[2][NCLS];
    int cur = 0;
    lane_pend pd;
    __global float *pgb = 0;
#endif
    const long q1 = min(ngroups, (gid + 1) * gpi);
    long o = gid * gpi / gpo, j0 = (gid * gpi % gpo) * 16, ox, ot, og, u;
    row_offsets(o * inner + j0, size, sx, st, sgi, sgi, &ox, &ot, &og, &u);
    for (long q = gid * gpi; q < q1;
         ++q, lane_step(&o, &j0, inner, size, sx, st, sgi, &ox, &ot, &og, 0)) {
        const long r0 = o * inner + j0;
        const int nl = (int)min((long)16, inner - j0);
        __global const float *xb = x + x_off + ox;
        __global float *gb = grad + g_off + og;
        int tg[16];
        int16 tg16;
        if (nl == 16 && st.s0 == 1) { /* contiguous targets: one vector load and compares */
            const long16 tv = CLCE_CAT(convert_long, 16)(vload16(0, t + t_off + ot));
            const long16 ok =
                (tv >= (long16)0) & (tv < (long16)classes) & (tv != (long16)ignore_index);
            tg16 = select((int16)(-1), convert_int16(tv), convert_int16(ok));
            vstore16(tg16, 0, tg);
        } else {
            for (int l = 0; l < 16; ++l) {
                const long tv = l < nl ? (long)t[t_off + ot + l * st.s0] : ignore_index;
                tg[l] = (tv >= 0 && tv < classes && tv != ignore_index) ? (int)tv : -1;
            }
            tg16 = vload16(0, tg);
        }
        long oo[16], ogo[16];
        for (int l = 0; l < 16; ++l) {
            oo[l] = 0;
            ogo[l] = 0;
            if ((GO_NONE || OUT_NONE) && l < nl)
                row_offsets(r0 + l, size_b, so, so, sgo, sgo, &u, &oo[l], &ogo[l], &u);
        }
        float16 m, lse;
        /* the stats pass's loaded vectors (the same bits as re-reading), or with
         * CLCE_KEEP_EXP their exps (lane_exp's bits), reused by the write pass */
        const long nkeep = stats_in ? 0 : min(classes, (long)LKEEP);
#if CLCE_PIPE
        float16 *kept = kbuf[cur];
        const float16 *pkept = kbuf[cur ^ 1];
#else
        float16 kept[LKEEP > 0 ? LKEEP : 1];
        lane_pend pd;
        __global float *const pgb = 0;
        const float16 *const pkept = 0;
#endif
        if (stats_in && nl == 16) { /* {m, lse} pairs of 16 consecutive rows: 32 floats */
            const float16 a = vload16(0, stats + 2 * r0), b = vload16(1, stats + 2 * r0);
            m = (float16)(a.even, b.even);
            lse = (float16)(a.odd, b.odd);
        } else if (stats_in) {
            float mv[16], lv[16];
            for (int l = 0; l < 16; ++l) {
                const long rr = r0 + (l < nl ? l : nl - 1);
                mv[l] = stats[2 * rr];
                lv[l] = stats[2 * rr + 1];
            }
            m = vload16(0, mv);
            lse = vload16(0, lv);
        } else {
            float16 s, xt;
#if SMOOTH
            acc16_t A;
            acc_t W;
            lanes_stats(xb, cs, ls, nl, tg16, classes, w, has_w, CLCE_WL_ARGS, &m, &s, &xt, &A, &W,
                        kept, nkeep, &pd, pgb, pkept);
#else
            lanes_stats(xb, cs, ls, nl, tg16, classes, w, has_w, CLCE_WL_ARGS, &m, &s, &xt, 0, 0,
                        kept, nkeep, &pd, pgb, pkept);
#endif
#if CLCE_PIPE
            pgb = 0; /* written by lanes_stats */
#endif
            lse = log(s);
#if !OUT_NONE /* the reduced loss parts as ce_fwd_lanes sums them */
            if (has_loss) {
                const int16 valid = tg16 >= (int16)0;
                float16 wt16 = select((float16)0.0f, (float16)1.0f, valid);
                if (has_w)
                    LANE_TARGET_WEIGHTS(wt16, tg, w);
                const float16 nll16 = lane_nll16(wt16, xt, m, lse, valid);
                tn16 += nll16;
                td16 += wt16;
#if SMOOTH
                tsm16 +=
                    select((acc16_t)0, -(A - (acc16_t)W * CONVERT_ACC16(lse)), ACC16_MASK(valid));
#endif
            }
#else
            if (has_loss) {
                float mv[16], lv[16], xv[16];
#if SMOOTH
                acc_t av[16];
                vstore16(A, 0, av);
#endif
                vstore16(m, 0, mv);
                vstore16(lse, 0, lv);
                vstore16(xt, 0, xv);
                for (int l = 0; l < nl; ++l) { /* per-row losses */
                    acc_t nll = 0, smooth = 0;
                    if (tg[l] >= 0) {
                        const acc_t wt = has_w ? (acc_t)w[tg[l]] : 1;
                        nll = -wt * (acc_t)((xv[l] - mv[l]) - lv[l]);
#if SMOOTH
                        smooth = -(av[l] - W * (acc_t)lv[l]);
#endif
                    }
                    loss[o_off + oo[l]] = (float)row_loss(nll, smooth, tg[l] >= 0, eps, classes);
                }
            }
#endif
        }
        float16 af16, tc16, sd16;
        if (!GO_NONE && !has_w) {
            /* one scale and no weights: every valid lane has the same coefficients (the same
             * grad_coefs call, so the same bits), invalid lanes 0 */
            const int16 valid = tg16 >= (int16)0;
            af16 = select((float16)0.0f, (float16)vaf, valid);
            tc16 = select((float16)0.0f, (float16)vtc, valid);
            sd16 = select((float16)0.0f, (float16)vsd, valid);
        } else if (!GO_NONE) { /* one scale, weights */
            float16 wt16;
            LANE_TARGET_WEIGHTS(wt16, tg, w);
            lane_grad_coefs(wt16, tg16 >= (int16)0, cb, caf, cafw, &af16, &tc16, &sd16);
        } else {
            float af[16], tc[16], sd[16];
            for (int l = 0; l < 16; ++l) {
                const acc_t scale =
                    GO_NONE ? row_scale(go, go_off, ogo[l], has_go, mean, den) : scale0;
                grad_coefs(l < nl && tg[l] >= 0, tg[l], w, has_w, scale, eps, classes, wsum, &af[l],
                           &tc[l], &sd[l]);
            }
            af16 = vload16(0, af);
            tc16 = vload16(0, tc);
            sd16 = vload16(0, sd);
        }
        const float16 rsd16 = fexp16(-lse) * sd16;
#if CLCE_TR
        /* contiguous 16-row blocks: logits not kept are transposed in, gradients out */
        const int trr = nl == 16 && cs == 1 && ls == TR_C && classes == TR_C && nkeep < classes;
        const int trw = nl == 16 && gcs == 1 && gls == TR_C && classes == TR_C;
        float16 tcols[TR_C], gcols[TR_C];
        if (trr)
            TR_LOAD_COLS(xb, tcols);
#endif
#if CLCE_PIPE
#if CLCE_TR
        const int defer = nkeep == NCLS && nl == 16 && gcs == 1 && gls == TR_C && classes == TR_C;
#else
        const int defer = nkeep == NCLS && nl == 16 && gls == 1;
#endif
        /* every class's exp kept, a full group whose gradient lanes are contiguous (NCHW) or a
         * contiguous 16-row block (transposed builds): written during the next group's stats
         * (lanes_stats) or after the loop */
        if (defer) {
            pd.rsd = rsd16;
            pd.af = af16;
            pd.tc = tc16;
            pd.tg = tg16;
            pd.gcs = gcs;
            pgb = gb;
            cur ^= 1;
            continue;
        }
#endif
        for (long c = 0; c < classes; ++c) {
#if CLCE_TR
            const float16 v = c < nkeep ? kept[c] : trr ? tcols[c] : lane_load(xb + c * cs, ls, nl);
#else
            const float16 v = c < nkeep ? kept[c] : lane_load(xb + c * cs, ls, nl);
#endif
            const float16 e = CLCE_KEEP_EXP && c < nkeep ? v : lane_exp(v, m);
            const float16 wv = (float16)CLCE_WCLASS(c);
            const float16 g = grad_from_exp(e, wv, rsd16, tg16 - (int16)(int)c, af16, tc16);
#if CLCE_TR
            if (trw) {
                gcols[c] = g;
                continue;
            }
#endif
            __global float *gc = gb + c * gcs;
            if (nl == 16 && gls == 1) {
                store16(g, gc);
            } else {
                float gv[16];
                vstore16(g, 0, gv);
                for (int l = 0; l < nl; ++l)
                    gc[l * gls] = gv[l];
            }
        }
#if CLCE_TR
        if (trw)
            TR_STORE_COLS(gb, gcols);
#endif
    }
#if CLCE_PIPE
    if (pgb)
        CLCE_PEND_WRITE(&pd, kbuf[cur ^ 1], pgb);
#endif
#if !OUT_NONE
    if (has_loss) {
        tn = hsum_acc16(CONVERT_ACC16(tn16));
        td = hsum_acc16(CONVERT_ACC16(td16));
#if SMOOTH
        tsm = hsum_acc16(tsm16);
#endif
        row_vals[3 * gid] = tn;
        row_vals[3 * gid + 1] = tsm;
        row_vals[3 * gid + 2] = td;
    }
#else
    (void)row_vals;
    (void)tn;
    (void)tsm;
    (void)td;
#endif
}
#endif
