/*
 * ref.c - see ref.h.  Mirrors PyTorch's composite: logp = (x - m) - lse; the class-index loss
 * reduced as (1 - eps) * nll_red + eps / C * smooth_red; gradients as dlogp - p * sum(dlogp)
 * (log_softmax backward), which reproduces PyTorch's NaN/inf behaviour (semantics.md 6, 9).
 */
#include "ref.h"

#include <math.h>
#include <stdlib.h>

ref_geom ref_geom_of(int ndim, const int64_t *sizes, int k) {
    ref_geom g = {1, 1, 1, 1};
    for (int j = 0; j < ndim; ++j) {
        if (j < k)
            g.outer *= sizes[j];
        else if (j == k)
            g.classes = sizes[j];
        else
            g.inner *= sizes[j];
    }
    g.rows = g.outer * g.inner;
    return g;
}

/* log_softmax of one row into lp (C values). */
static void row_log_softmax(const double *x, const ref_geom *g, int64_t r, double *lp) {
    double m = -INFINITY;
    for (int64_t c = 0; c < g->classes; ++c) {
        double v = x[ref_at(g, r, c)];
        if (v > m)
            m = v;
    }
    double s = 0;
    for (int64_t c = 0; c < g->classes; ++c)
        s += exp(x[ref_at(g, r, c)] - m);
    double lse = log(s);
    for (int64_t c = 0; c < g->classes; ++c)
        lp[c] = (x[ref_at(g, r, c)] - m) - lse;
}

/* dx = dlp - exp(lp) * sum(dlp) for one row */
static void row_lsm_backward(const double *lp, const double *dlp, const ref_geom *g, int64_t r,
                             double *dx) {
    double sum = 0;
    for (int64_t c = 0; c < g->classes; ++c)
        sum += dlp[c];
    for (int64_t c = 0; c < g->classes; ++c)
        dx[ref_at(g, r, c)] = dlp[c] - exp(lp[c]) * sum;
}

void ref_cross_entropy(const double *x, int ndim, const int64_t *sizes, int k, const int64_t *tidx,
                       const double *tprob, const ref_loss_opts *o, double *out,
                       const double *grad_out, double *grad) {
    ref_geom g = ref_geom_of(ndim, sizes, k);
    const int64_t C = g.classes;
    const double eps = o->label_smoothing > 0 ? o->label_smoothing : 0;
    double *lp = malloc(sizeof(double) * (size_t)(C ? C : 1));
    double *dlp = malloc(sizeof(double) * (size_t)(C ? C : 1));
    double nll_sum = 0, smooth_sum = 0, den = 0;
    /* forward */
    for (int64_t r = 0; r < g.rows; ++r) {
        row_log_softmax(x, &g, r, lp);
        if (tprob) {
            double l = 0;
            for (int64_t c = 0; c < C; ++c) {
                double q = eps > 0 ? tprob[ref_at(&g, r, c)] * (1 - eps) + eps / (double)C
                                   : tprob[ref_at(&g, r, c)];
                double w = o->weight ? o->weight[c] : 1.0;
                l += lp[c] * q * w;
            }
            l = -l;
            if (o->reduction == 0)
                out[r] = l;
            nll_sum += l;
            continue;
        }
        int64_t t = tidx[r];
        int valid = t != o->ignore_index;
        double nll = 0, smooth = 0, wt = 0;
        if (valid) {
            wt = o->weight ? o->weight[t] : 1.0;
            nll = -wt * lp[t];
            for (int64_t c = 0; c < C; ++c)
                smooth += (o->weight ? o->weight[c] : 1.0) * lp[c];
            smooth = -smooth;
        }
        if (o->reduction == 0)
            out[r] = eps > 0 ? (1 - eps) * nll + eps / (double)C * smooth : nll;
        nll_sum += nll;
        smooth_sum += smooth;
        den += wt;
    }
    if (o->reduction != 0) {
        if (tprob) {
            out[0] = o->reduction == 1 ? nll_sum : nll_sum / (double)g.rows;
        } else {
            double a = o->reduction == 1 ? nll_sum : nll_sum / den;
            double b = o->reduction == 1 ? smooth_sum : smooth_sum / den;
            out[0] = eps > 0 ? (1 - eps) * a + eps / (double)C * b : a;
        }
    }
    /* backward */
    if (grad) {
        for (int64_t r = 0; r < g.rows; ++r) {
            row_log_softmax(x, &g, r, lp);
            double go = o->reduction == 0 ? grad_out[r] : grad_out[0];
            double scale = go;
            if (o->reduction == 2)
                scale = tprob ? go / (double)g.rows : go / den;
            if (tprob) {
                for (int64_t c = 0; c < C; ++c) {
                    double q = eps > 0 ? tprob[ref_at(&g, r, c)] * (1 - eps) + eps / (double)C
                                       : tprob[ref_at(&g, r, c)];
                    double w = o->weight ? o->weight[c] : 1.0;
                    dlp[c] = -(q * w) * scale;
                }
            } else {
                int64_t t = tidx[r];
                for (int64_t c = 0; c < C; ++c)
                    dlp[c] = 0;
                if (t != o->ignore_index) {
                    double wt = o->weight ? o->weight[t] : 1.0;
                    if (eps > 0) {
                        for (int64_t c = 0; c < C; ++c)
                            dlp[c] = (o->weight ? o->weight[c] : 1.0) * -(scale * eps / (double)C);
                        dlp[t] += wt * -(scale * (1 - eps));
                    } else {
                        dlp[t] = wt * -scale;
                    }
                }
            }
            row_lsm_backward(lp, dlp, &g, r, grad);
        }
    }
    free(lp);
    free(dlp);
}

void ref_nll_loss(const double *x, int ndim, const int64_t *sizes, int k, const int64_t *tidx,
                  const ref_loss_opts *o, double *out, const double *grad_out, double *grad) {
    ref_geom g = ref_geom_of(ndim, sizes, k);
    double sum = 0, den = 0;
    for (int64_t r = 0; r < g.rows; ++r) {
        int64_t t = tidx[r];
        double l = 0, wt = 0;
        if (t != o->ignore_index) {
            wt = o->weight ? o->weight[t] : 1.0;
            l = -wt * x[ref_at(&g, r, t)];
        }
        if (o->reduction == 0)
            out[r] = l;
        sum += l;
        den += wt;
    }
    if (o->reduction == 1)
        out[0] = sum;
    else if (o->reduction == 2)
        out[0] = sum / den;
    if (grad) {
        for (int64_t r = 0; r < g.rows; ++r) {
            for (int64_t c = 0; c < g.classes; ++c)
                grad[ref_at(&g, r, c)] = 0;
            int64_t t = tidx[r];
            if (t == o->ignore_index)
                continue;
            double go = o->reduction == 0 ? grad_out[r] : grad_out[0];
            double scale = o->reduction == 2 ? go / den : go;
            double wt = o->weight ? o->weight[t] : 1.0;
            grad[ref_at(&g, r, t)] = wt * -scale;
        }
    }
}

void ref_softmax(const double *x, int ndim, const int64_t *sizes, int k, int log_softmax,
                 double *y) {
    ref_geom g = ndim == 0 ? (ref_geom){1, 1, 1, 1} : ref_geom_of(ndim, sizes, k);
    for (int64_t r = 0; r < g.rows; ++r) {
        double m = -INFINITY;
        for (int64_t c = 0; c < g.classes; ++c)
            if (x[ref_at(&g, r, c)] > m)
                m = x[ref_at(&g, r, c)];
        double s = 0;
        for (int64_t c = 0; c < g.classes; ++c)
            s += exp(x[ref_at(&g, r, c)] - m);
        for (int64_t c = 0; c < g.classes; ++c) {
            double v = x[ref_at(&g, r, c)] - m;
            y[ref_at(&g, r, c)] = log_softmax ? v - log(s) : exp(v) / s;
        }
    }
}

void ref_softmax_backward(const double *y, const double *gr, int ndim, const int64_t *sizes, int k,
                          int log_softmax, double *dx) {
    ref_geom g = ndim == 0 ? (ref_geom){1, 1, 1, 1} : ref_geom_of(ndim, sizes, k);
    for (int64_t r = 0; r < g.rows; ++r) {
        double sum = 0;
        for (int64_t c = 0; c < g.classes; ++c)
            sum += log_softmax ? gr[ref_at(&g, r, c)] : gr[ref_at(&g, r, c)] * y[ref_at(&g, r, c)];
        for (int64_t c = 0; c < g.classes; ++c) {
            size_t i = ref_at(&g, r, c);
            dx[i] = log_softmax ? gr[i] - exp(y[i]) * sum : y[i] * (gr[i] - sum);
        }
    }
}
