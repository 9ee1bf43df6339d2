/*
 * ce_grad.h - internal entry points of ce_grad.c used by other ops: the probability-target
 * forward (dispatched from clce_cross_entropy_forward) and the stats buffer check.
 */
#ifndef CLCE_CE_GRAD_H
#define CLCE_CE_GRAD_H

#include "loss_args.h"

/* Checks that a non-NULL stats buffer holds 2 floats per row. */
clce_status clce__check_stats(cl_mem stats, int64_t rows);

/* cross_entropy forward with probability targets; arguments already checked (a from
 * clce__check_loss_inputs with prob_target set, loss by clce__check_loss_tensor). */
clce_status clce__ce_forward_prob(clce_device *dev, const clce__loss_args *a,
                                  const clce_tensor_desc *input_desc, cl_mem input,
                                  const clce_tensor_desc *target_desc, cl_mem target, cl_mem weight,
                                  const clce_tensor_desc *loss_desc, cl_mem loss, cl_mem stats,
                                  cl_uint num_wait_events, const cl_event *wait_events,
                                  cl_event *event);

/* The forward's kernel variant for a geometry (cl/ce_fwd_fast.cl); the backward and the fused
 * call pick the same one from the same input geometry and tuning table, so that all three share
 * one row-statistics routine (and bits). */
typedef enum { CLCE__CE_GENERIC, CLCE__CE_VROWS, CLCE__CE_LANES, CLCE__CE_WGROW } clce__ce_variant;
clce__ce_variant clce__ce_fwd_pick(const clce__tuning *tu, const clce__loss_args *a,
                                   const clce__rowgeom *g);
/* Row split of the float16-row variant: nseg items of seg_len classes per row (nseg 1: none). */
int clce__ce_chunk_vecs(const clce__tuning *tu, const clce__loss_args *a);
int clce__ce_vrows_rows(const clce__tuning *tu, const clce__loss_args *a, int64_t nseg,
                        int64_t classes, int grad);
void clce__ce_lane_consts(const clce__tuning *tu, const clce__rowgeom *g, int *ncls, int *lch);
int clce__ce_lane_transpose(const clce__tuning *tu, const clce__rowgeom *g);
void clce__ce_fwd_split(const clce__tuning *tu, const clce__rowgeom *g, int64_t *nseg,
                        int64_t *seg_len);
/* Enqueues the forward on its fast variant (sets *handled = 0 and enqueues nothing for the
 * generic one); op: the op code its target checks report. */
clce_status clce__ce_fwd_fast(clce_device *dev, clce__chain *chain, const clce__loss_args *a,
                              const clce__rowgeom *g, cl_mem input, cl_mem target, cl_mem weight,
                              cl_mem loss, int64_t loss_off, cl_mem stats, int op, int *handled);

#endif
