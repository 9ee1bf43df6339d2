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

#endif
