/*
 * testutil.h - helpers shared by the Check suites: one device per process, buffers, strided
 * layouts (scatter/gather between a logical row-major array and a strided buffer), a seeded
 * RNG and a tolerance checker that prints the max error of every comparison.
 */
#ifndef CLCE_TESTUTIL_H
#define CLCE_TESTUTIL_H

#include <clce/clce.h>

#include <check.h>

#include <stddef.h>
#include <stdint.h>

/* ---- runner ---- */
/* Runs a suite without forking (children must not inherit OpenCL state), releases the shared
 * device, and returns the process exit status. */
int tu_run_suite(Suite *s);

/* ---- device ---- */
/* The process-wide device, created on first use.  If none can be created the test fails (the
 * suites always require a device; CLCE_REQUIRE_DEVICE is set by CI as well). */
clce_device *tu_device(void);
cl_mem tu_buffer(size_t bytes, const void *init); /* init may be NULL (zero-filled) */
void tu_read(cl_mem b, size_t bytes, void *out);
void tu_write(cl_mem b, size_t bytes, const void *in);
void tu_release(cl_mem b);

/* CLCE_TEST_SMALL=1 (set by ci/oclgrind.sh): run only a small subset of cases. */
int tu_small_mode(void);

/* ---- layouts ---- */
typedef enum tu_layout {
    TU_CONTIG = 0,        /* row-major */
    TU_CHANNELS_LAST = 1, /* dim 1 innermost (NHWC for 4-D); same as contig for ndim < 3 */
    TU_PADDED = 2,        /* row-major with every stride padded (gaps between elements/rows) */
    TU_REVERSED = 3,      /* dims in reverse memory order (dim 0 innermost, Fortran order) */
    TU_OFFSET = 4,        /* row-major inside a larger buffer, starting at an offset */
    TU_LAYOUT_COUNT = 5
} tu_layout;
const char *tu_layout_name(tu_layout l);
/* A descriptor of the given logical shape and layout; *buffer_elems receives the number of
 * elements the buffer needs (>= 1). */
clce_tensor_desc tu_make_layout(clce_dtype dtype, int ndim, const int64_t *sizes, tu_layout l,
                                size_t *buffer_elems);
/* logical (row-major, contiguous) <-> strided buffer, elements of esize bytes */
void tu_scatter(const clce_tensor_desc *d, const void *logical, void *buffer, size_t esize);
void tu_gather(const clce_tensor_desc *d, const void *buffer, void *logical, size_t esize);

/* ---- rng (splitmix64) ---- */
uint64_t tu_rng_next(uint64_t *state);
double tu_uniform(uint64_t *state, double lo, double hi);
int64_t tu_randint(uint64_t *state, int64_t lo, int64_t hi_exclusive);

/* ---- tolerance ---- */
/* |got - ref| <= atol + rtol * |ref| elementwise; NaN matches NaN, inf matches inf of the same
 * sign, -0 matches +0.  Prints one line "what: n=.. max_abs=.. max_rel=.. worst[i] got .. ref .."
 * and the first few mismatches.  Returns 1 when every element passes. */
int tu_check_close(const char *what, const float *got, const double *ref, size_t n, double atol,
                   double rtol);
/* The same for a single value. */
int tu_check_scalar(const char *what, float got, double ref, double atol, double rtol);

/* The tolerances, with NaN == NaN and inf == inf of the same sign (-0 == +0):
 * outputs and losses |got - ref| <= 1e-5 max(1, |ref|); gradients |got - ref| <= 1e-4 |ref| +
 * 1e-6 max|ref| (max over the finite ref values).  Each prints its first mismatches and returns
 * 1 when all pass; the worst ratios to the tolerance so far are kept in tu_errs. */
typedef struct tu_err_stats {
    double out_ratio, out_abs;   /* worst |err| / tolerance, worst |err| (outputs) */
    double grad_ratio, grad_rel; /* worst |err| / tolerance, worst |err| / |ref| (gradients) */
} tu_err_stats;
extern tu_err_stats tu_errs;
int tu_check_out(const char *what, const float *got, const double *ref, size_t n);
int tu_check_grad(const char *what, const float *got, const double *ref, size_t n);

#endif
