/*
 * transpose_gen.c - OpenCL source for the 16-lane kernels' in-register transposes of one group
 * of 16 class-contiguous rows (channels-last, tiny rows), generated for the class count C of the
 * build (-DTRANSPOSE_C=C, 1..64).  The shuffles need compile-time indices; written out by the
 * preprocessor for every C up to 32 they were megabytes of source per build (1.4 s to compile),
 * generated here they are the few hundred statements this C needs.
 *
 * Block V[k] (k < C) holds floats 16k..16k+15 of the 16 x C row-major block: element e = r C + c.
 *  TR_COLS(cols, V): cols[c] lane r = element r C + c.  For each pair of block vectors a class
 *    touches, one two-source shuffle (vpermt2ps on AVX-512) and a constant-mask select.
 *  TR_ROWS(V, cols): the inverse: V[k] lane i = cols[e % C] lane e / C with e = 16k + i, from
 *    pairs of columns (c, c + 1).
 * Used instead where defined (fewer operations):
 *  TR_LOAD(cols, xb): the block at xb as class vectors, by row loads and 16 x 16 transposes
 *    (every C: (1e6, 10) forward 4% and fused 3% faster than TR_COLS, 9-13% with weights +
 *    smoothing); from 16 classes on, one transpose per range of 16 classes (ranges_of), a last
 *    range of <= 8 new classes by a 16 x 8 transpose (put_load8).
 *  TR_STORE(xb, cols): class vectors to the block at xb (C >= 16), by one 16 x 16 transpose
 *    per range and one two-source shuffle per aligned block vector, written by the kernel's store16
 *    (streaming where the build enables it): channels-last fused 16.3 -> 15.5 ms, with weights
 *    + smoothing 19.1 -> 16.4, (2e6, 17) 13.4 -> 11.8, against 32 overlapping row stores,
 *    which could not stream.  Below 16 classes, where it takes fewer operations than TR_ROWS
 *    (C = 9..15), one 16 x 16 transpose of the C columns and the rows each block vector spans:
 *    (1e6, C) fused 3-16% faster (C = 10: 4.27 -> 4.15 ms, with weights + smoothing 5.2 -> 4.9;
 *    C = 13: 5.7 -> 4.7).
 * Defined as macros after the common headers; programs built without TRANSPOSE_C get nothing.
 */
#include "runtime.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct text {
    char *buf;
    size_t len, cap;
    int failed;
} text;

static void put(text *t, const char *fmt, ...) {
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int w = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (w < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)w < t->cap - t->len) {
            t->len += (size_t)w;
            return;
        }
        size_t cap = t->cap * 2 + (size_t)w + 1;
        char *nb = realloc(t->buf, cap);
        if (!nb) {
            t->failed = 1;
            return;
        }
        t->buf = nb;
        t->cap = cap;
    }
}

/* One select of a shuffle of (a, b) with indices idx (-1: lane not taken) into acc. */
static void put_pair(text *t, int a, int b, const int idx[16], const char *src) {
    put(t, "    acc_ = select(acc_, __builtin_shufflevector(%s[%d], %s[%d]", src, a, src, b);
    for (int i = 0; i < 16; ++i)
        put(t, ", %d", idx[i]);
    put(t, "), (int16)(");
    for (int i = 0; i < 16; ++i)
        put(t, "%s%d", i ? ", " : "", idx[i] >= 0 ? -1 : 0);
    put(t, ")); \\\n");
}

/* One butterfly step of a transpose: vectors v[i] and v[i + b] swap their off-diagonal b x b
 * blocks, one two-source shuffle each.  The blocks repeat every `period` lanes (16: one 16 x 16
 * transpose; 8: two 8 x 8 ones side by side). */
static void put_butterfly(text *t, const char *v, int i, int b, int period) {
    put(t, "    { const float16 x_ = %s[%d], y_ = %s[%d]; ", v, i, v, i + b);
    put(t, "%s[%d] = __builtin_shufflevector(x_, y_", v, i);
    for (int j = 0; j < 16; ++j)
        put(t, ", %d", (j % period) & b ? 16 + j - b : j);
    put(t, "); %s[%d] = __builtin_shufflevector(x_, y_", v, i + b);
    for (int j = 0; j < 16; ++j)
        put(t, ", %d", (j % period) & b ? 16 + j : j + b);
    put(t, "); } \\\n");
}

/* One 16 x 16 transpose of A_[0..15] (vector = row) in place: four butterfly stages, each
 * swapping the off-diagonal b x b blocks (b = 8, 4, 2, 1) with one two-source shuffle per vector:
 * 64 shuffles. */
static void put_transpose16(text *t) {
    for (int b = 8; b >= 1; b /= 2)
        for (int i = 0; i < 16; ++i)
            if (!(i & b))
                put_butterfly(t, "A_", i, b, 16);
}

/* TR_LOAD(cols, xb) for C < 16: row r as the 16 floats from its start (its C classes, then the
 * next rows' first), one 16 x 16 transpose, classes 0..C-1 kept (the shuffles of the other
 * columns are dead code).  Rows whose 16 floats would reach past the block come out of its last
 * 16 floats with one shuffle each: nothing is read outside the block. */
static void put_load_small(text *t, int C) {
    put(t, "#define TR_LOAD(cols, xb) do { float16 A_[16]; \\\n");
    put(t, "    const float16 tail_ = vload16(0, (xb) + %d); \\\n", 16 * C - 16);
    for (int r = 0; r < 16; ++r) {
        if (r * C + 16 <= 16 * C) {
            put(t, "    A_[%d] = vload16(0, (xb) + %d); \\\n", r, r * C);
            continue;
        }
        const int off = r * C - (16 * C - 16); /* row r's first float in tail_ */
        put(t, "    A_[%d] = __builtin_shufflevector(tail_, tail_", r);
        for (int j = 0; j < 16; ++j)
            put(t, ", %d", off + j < 16 ? off + j : -1);
        put(t, "); \\\n");
    }
    put_transpose16(t);
    for (int c = 0; c < C; ++c)
        put(t, "    (cols)[%d] = A_[%d]; \\\n", c, c);
    put(t, "} while (0)\n");
}

/* The class ranges of the C >= 16 transposes: 16 classes each, from 0 in steps of 16, the last
 * one ending at C (overlapping its neighbour unless 16 divides C).  Returns their count. */
static int ranges_of(int C, int off[4]) {
    const int n = (C + 15) / 16;
    for (int j = 0; j < n; ++j)
        off[j] = j + 1 < n ? 16 * j : C - 16;
    return n;
}

/* TR_LOAD's part for the classes 16 * (C / 16) .. C-1 (C mod 16 <= 8): each row's last 8
 * floats (vload8, inside the row), rows r and r + 8 paired into one vector, then an 8 x 8
 * butterfly transpose inside both halves at once (stages 4, 2, 1): vector c holds class
 * C - 8 + c of rows 0..7, then of rows 8..15.  16 half-width loads, 8 inserts and 24 shuffles
 * against 16 loads and 64 shuffles for a 16 x 16 transpose. */
static void put_load8(text *t, int C) {
    put(t, "    { float8 B_[16]; float16 Z_[8]; \\\n");
    for (int r = 0; r < 16; ++r)
        put(t, "    B_[%d] = vload8(0, (xb) + %d); \\\n", r, r * C + C - 8);
    for (int j = 0; j < 8; ++j)
        put(t, "    Z_[%d] = (float16)(B_[%d], B_[%d]); \\\n", j, j, j + 8);
    for (int b = 4; b >= 1; b /= 2)
        for (int i = 0; i < 8; ++i)
            if (!(i & b))
                put_butterfly(t, "Z_", i, b, 8);
    for (int c = 16 * (C / 16); c < C; ++c)
        put(t, "    (cols)[%d] = Z_[%d]; \\\n", c, c - (C - 8));
    put(t, "    } \\\n");
}

/* TR_LOAD(cols, xb) for C >= 16: each range of 16 classes (ranges_of) as 16 unaligned row
 * loads inside the block and one 16 x 16 transpose: 16 loads and 64 shuffles a range, where
 * TR_COLS takes ~2 per class and block-vector pair (~460 at C = 21). */
static void put_load(text *t, int C) {
    int off[4];
    const int n = ranges_of(C, off);
    /* a last range of at most 8 new classes (C mod 16 in 1..8, C > 16): the rows' last 8
     * floats (inside each row) by one 16 x 8 transpose instead of a 16 x 16 one */
    const int half = C > 16 && C % 16 != 0 && C % 16 <= 8;
    put(t, "#define TR_LOAD(cols, xb) do { float16 A_[16]; \\\n");
    for (int j = 0; j < n; ++j) {
        if (half && j == n - 1) {
            put_load8(t, C);
            break;
        }
        for (int r = 0; r < 16; ++r)
            put(t, "    A_[%d] = vload16(0, (xb) + %d); \\\n", r, r * C + off[j]);
        put_transpose16(t);
        /* classes from this range's start (or the previous range's end) to its end */
        for (int c = j ? off[j - 1] + 16 : 0; c < off[j] + 16; ++c)
            put(t, "    (cols)[%d] = A_[%d]; \\\n", c, c - off[j]);
    }
    put(t, "} while (0)\n");
    /* TR_STORE(xb, cols): the inverse: each range transposed into rows (R<j>_[r]: classes
     * off[j]..off[j]+15 of row r), then each of the block's C aligned vectors as one two-source
     * shuffle of them (its 16 floats are the tail of one row, inside the last range, and the
     * head of the next, inside the first; or 16 classes of one row, inside two neighbouring
     * ranges), stored by store16 (streaming where the build allows): aligned full-vector stores
     * instead of overlapping row stores */
    put(t, "#define TR_STORE(xb, cols) do { float16 A_[16]");
    for (int j = 0; j < n; ++j)
        put(t, ", R%d_[16]", j);
    put(t, "; \\\n");
    for (int j = 0; j < n; ++j) {
        for (int c = 0; c < 16; ++c)
            put(t, "    A_[%d] = (cols)[%d]; \\\n", c, c + off[j]);
        put_transpose16(t);
        for (int r = 0; r < 16; ++r)
            put(t, "    R%d_[%d] = A_[%d]; \\\n", j, r, r);
    }
    for (int k = 0; k < C; ++k) {
        /* candidate sources: (range, row) for the one or two rows the vector touches; the
         * first pair, in order, that holds every lane */
        const int r0 = 16 * k / C;
        int src[2][2], idx[16], found = 0;
        for (int p = 0; p < 2 * n && !found; ++p)
            for (int q = p; q < 2 * n && !found; ++q) {
                src[0][0] = p % n;
                src[0][1] = r0 + p / n;
                src[1][0] = q % n;
                src[1][1] = r0 + q / n;
                found = 1;
                for (int i = 0; i < 16 && found; ++i) {
                    const int e = 16 * k + i, r = e / C, c = e % C;
                    idx[i] = -1;
                    for (int j = 1; j >= 0; --j) { /* the first source that has it */
                        const int o = off[src[j][0]];
                        if (src[j][1] == r && c >= o && c < o + 16)
                            idx[i] = 16 * j + c - o;
                    }
                    found = idx[i] >= 0;
                }
            }
        if (!found || src[1][1] > 15) {
            t->failed = 1;
            return;
        }
        put(t, "    store16(__builtin_shufflevector(R%d_[%d], R%d_[%d]", src[0][0], src[0][1],
            src[1][0], src[1][1]);
        for (int i = 0; i < 16; ++i)
            put(t, ", %d", idx[i]);
        put(t, "), (xb) + %d); \\\n", 16 * k);
    }
    put(t, "} while (0)\n");
}

/* The operations TR_ROWS takes for C: per block vector, a shuffle and a select per column pair
 * it touches. */
static int rows_ops(int C) {
    int ops = 0;
    for (int k = 0; k < C; ++k)
        for (int cp = 0; cp < C; cp += 2) {
            int any = 0;
            for (int i = 0; i < 16; ++i) {
                const int c = (16 * k + i) % C;
                any |= c == cp || c == cp + 1;
            }
            ops += 2 * any;
        }
    return ops;
}

/* TR_STORE(xb, cols) for C < 16 where it takes fewer operations than TR_ROWS: the C class
 * vectors as rows by one 16 x 16 transpose (the absent columns C..15 are never read: their
 * shuffles drop out, and they only fill lanes >= C of the rows), then each aligned block vector
 * from the rows it spans, a shuffle per pair of rows (and a select for each further pair).
 * Generated aside with its operations counted; appended only where TR_ROWS is costlier. */
static void put_store_small(text *t, int C) {
    text s = {malloc(4096), 0, 4096, 0};
    int ops = 0, valid[16];
    if (!s.buf) {
        t->failed = 1;
        return;
    }
    put(&s, "#define TR_STORE(xb, cols) do { float16 A_[16], acc_; \\\n");
    for (int c = 0; c < C; ++c) {
        put(&s, "    A_[%d] = (cols)[%d]; \\\n", c, c);
        valid[c] = 1;
    }
    for (int c = C; c < 16; ++c)
        valid[c] = 0;
    for (int b = 8; b >= 1; b /= 2)
        for (int i = 0; i < 16; ++i) {
            /* columns are absent from C on: where x is, y is absent or present */
            if ((i & b) || !valid[i])
                continue;
            if (valid[i + b]) {
                put_butterfly(&s, "A_", i, b, 16);
                ops += 2;
            } else {
                /* an absent y: A_[i] keeps x (the lanes y would fill are never read), A_[i + b]
                 * takes x's other half */
                put(&s, "    A_[%d] = __builtin_shufflevector(A_[%d], A_[%d]", i + b, i, i);
                for (int j = 0; j < 16; ++j)
                    put(&s, ", %d", j & b ? j : j + b);
                put(&s, "); \\\n");
                ops += 1;
            }
            valid[i + b] = 1;
        }
    for (int k = 0; k < C; ++k) {
        const int r0 = 16 * k / C, r1 = (16 * k + 15) / C;
        for (int ra = r0; ra <= r1; ra += 2) {
            const int rb = ra + 1 <= r1 ? ra + 1 : ra;
            int idx[16];
            for (int i = 0; i < 16; ++i) {
                const int e = 16 * k + i, r = e / C, c = e % C;
                idx[i] = r == ra ? c : r == rb ? 16 + c : -1;
            }
            if (ra == r0) {
                put(&s, "    acc_ = __builtin_shufflevector(A_[%d], A_[%d]", ra, rb);
                for (int i = 0; i < 16; ++i)
                    put(&s, ", %d", idx[i] >= 0 ? idx[i] : 0);
                put(&s, "); \\\n");
                ops += 1;
            } else {
                put_pair(&s, ra, rb, idx, "A_");
                ops += 2;
            }
        }
        put(&s, "    store16(acc_, (xb) + %d); \\\n", 16 * k);
    }
    put(&s, "} while (0)\n");
    if (s.failed)
        t->failed = 1;
    else if (ops < rows_ops(C))
        put(t, "%s", s.buf);
    free(s.buf);
}

char *clce__transpose_source(int C) {
    if (C < 1 || C > 64)
        return NULL;
    text t = {malloc(4096), 0, 4096, 0};
    if (!t.buf)
        return NULL;
    put(&t, "/* generated by runtime/transpose_gen.c for C = %d */\n", C);
    put(&t, "#define TR_C %d\n", C);
    put(&t, "#define TR_COLS(cols, V) do { float16 acc_; \\\n");
    for (int c = 0; c < C; ++c) {
        put(&t, "    acc_ = (float16)0.0f; \\\n");
        for (int j = 0; 2 * j < C; ++j) { /* pair (V[2j], V[2j + 1]): elements 32j .. 32j+31 */
            int idx[16], any = 0;
            for (int r = 0; r < 16; ++r) {
                const int e = r * C + c;
                idx[r] = e >> 5 == j ? e & 31 : -1;
                any |= idx[r] >= 0;
            }
            if (any)
                put_pair(&t, 2 * j, 2 * j + 1 < C ? 2 * j + 1 : 2 * j, idx, "V");
        }
        put(&t, "    cols[%d] = acc_; \\\n", c);
    }
    put(&t, "} while (0)\n");
    put(&t, "#define TR_ROWS(V, cols) do { float16 acc_; \\\n");
    for (int k = 0; k < C; ++k) {
        put(&t, "    acc_ = (float16)0.0f; \\\n");
        for (int cp = 0; cp < C; cp += 2) { /* columns (cp, cp + 1) */
            int idx[16], any = 0;
            for (int i = 0; i < 16; ++i) {
                const int e = 16 * k + i, c = e % C, lane = e / C;
                idx[i] = c == cp ? lane : c == cp + 1 ? 16 + lane : -1;
                any |= idx[i] >= 0;
            }
            if (any)
                put_pair(&t, cp, cp + 1 < C ? cp + 1 : cp, idx, "cols");
        }
        put(&t, "    V[%d] = acc_; \\\n", k);
    }
    put(&t, "} while (0)\n");
    if (C >= 16)
        put_load(&t, C);
    else {
        put_load_small(&t, C);
        put_store_small(&t, C);
    }
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}
