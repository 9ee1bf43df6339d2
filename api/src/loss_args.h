/*
 * loss_args.h - validation shared by the loss ops (cross_entropy, nll_loss; forward, backward,
 * fused): options, input/target/weight shapes with PyTorch's rules and messages, the target kind,
 * and the enqueue helpers for device-side target checks and deterministic reductions.
 */
#ifndef CLCE_LOSS_ARGS_H
#define CLCE_LOSS_ARGS_H

#include "ops.h"

typedef struct clce__loss_args {
    int class_axis;
    int prob_target; /* target holds class probabilities (same shape as input) */
    int has_weight;
    float eps; /* label smoothing, negative clamped to 0 */
    clce_reduction reduction;
    int64_t ignore_index;
    const char *target_type; /* OpenCL C type of the target elements */
} clce__loss_args;

/* Checks device, desc, input (f32, ndim >= 1), target (kind, dtype, shape), weight (C, f32).
 * `op` names the op in messages; allow_smoothing = 0 for nll_loss. */
clce_status clce__check_loss_inputs(const char *op, clce_device *dev, const clce_loss_desc *desc,
                                    const clce_tensor_desc *input_desc, cl_mem input,
                                    const clce_tensor_desc *target_desc, cl_mem target,
                                    const clce_tensor_desc *weight_desc, cl_mem weight,
                                    int allow_smoothing, int allow_prob, clce__loss_args *out);

/* Checks a loss output (or grad_output when is_output is false): NONE -> the row shape
 * (input without the class dim), SUM/MEAN -> one element. */
clce_status clce__check_loss_tensor(const char *name, const clce_tensor_desc *input_desc,
                                    int class_axis, clce_reduction reduction,
                                    const clce_tensor_desc *d, cl_mem mem, bool is_output);

/* Enqueues the device-side target check (no-op for zero rows). role = geometry role of the
 * target. */
clce_status clce__enqueue_target_check(clce_device *dev, clce__chain *chain, const clce__rowgeom *g,
                                       int role, const char *target_type, cl_mem target,
                                       int64_t ignore_index, int op_code);

/* Enqueues the two-pass reduction of rows {nll, smooth, den} triples (acc_t).
 * mode: 1 sum, 2 mean over den, 3 mean over `count`.  Writes out[out_off] and den_out[0]. */
clce_status clce__enqueue_reduce(clce_device *dev, clce__chain *chain, cl_mem row_vals,
                                 int64_t rows, int mode, int smooth, float eps, int64_t classes,
                                 int64_t count, cl_mem out, int64_t out_off, cl_mem den_out);

/* Bytes of one acc_t on this device (8 with fp64, else 4). */
size_t clce__acc_size(const clce_device *dev);

#endif
