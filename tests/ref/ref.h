/*
 * ref.h - double-precision host reference for the whole op family, written from
 * semantics.md (sections 2-8) and independent of the kernels.  Arrays are logical row-major;
 * the class dimension is axis k; rows are the non-class positions in row-major order
 * (row r = o * inner + i for outer index o and inner index i).
 * Reductions: 0 none, 1 sum, 2 mean (as clce_reduction).
 */
#ifndef CLCE_REF_H
#define CLCE_REF_H

#include <stddef.h>
#include <stdint.h>

typedef struct ref_geom {
    int64_t outer, classes, inner, rows;
} ref_geom;
ref_geom ref_geom_of(int ndim, const int64_t *sizes, int k);
static inline size_t ref_at(const ref_geom *g, int64_t r, int64_t c) {
    return (size_t)((r / g->inner) * g->classes * g->inner + c * g->inner + r % g->inner);
}

typedef struct ref_loss_opts {
    int reduction;
    int64_t ignore_index;
    double label_smoothing; /* negative acts as 0 */
    const double *weight;   /* NULL or C values */
} ref_loss_opts;

/* cross_entropy forward (+ backward when grad != NULL).  Exactly one of tidx / tprob is
 * non-NULL.  out: rows values for none, else out[0].  grad_out: rows values (none) or one
 * value (sum/mean); grad: the input's shape. */
void ref_cross_entropy(const double *x, int ndim, const int64_t *sizes, int k, const int64_t *tidx,
                       const double *tprob, const ref_loss_opts *o, double *out,
                       const double *grad_out, double *grad);

/* nll_loss forward (+ backward when grad != NULL); input is used as log-probabilities. */
void ref_nll_loss(const double *x, int ndim, const int64_t *sizes, int k, const int64_t *tidx,
                  const ref_loss_opts *o, double *out, const double *grad_out, double *grad);

/* softmax / log_softmax along axis k (ndim 0 allowed: a single element). */
void ref_softmax(const double *x, int ndim, const int64_t *sizes, int k, int log_softmax,
                 double *y);
/* backward from output y and upstream g. */
void ref_softmax_backward(const double *y, const double *g, int ndim, const int64_t *sizes, int k,
                          int log_softmax, double *dx);

#endif
