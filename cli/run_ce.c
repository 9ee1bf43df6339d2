/*
 * run_ce.c - 'clce run cross_entropy': the loss alone through clce_cross_entropy_forward, or
 * loss and gradient together through clce_cross_entropy_fused (one pass over the logits, the
 * way a training step calls it).
 */
#include "run.h"

#include <stddef.h>

clce_status cli_invoke_cross_entropy(const cli_job *j, const char **what) {
    const clce_tensor_desc *wd = j->weight ? &j->weight_d : NULL;
    clce_status st;
    if (!j->gin) {
        *what = "clce_cross_entropy_forward";
        return clce_cross_entropy_forward_sync(j->dev, &j->desc, &j->input_d, j->input,
                                               &j->target_d, j->target, wd, j->weight, &j->out_d,
                                               j->out, NULL);
    }
    *what = "clce_cross_entropy_fused";
    st = clce_cross_entropy_fused(j->dev, &j->desc, &j->input_d, j->input, &j->target_d, j->target,
                                  wd, j->weight, &j->out_d, j->out, &j->gout_d, j->gout, &j->gin_d,
                                  j->gin, 0, NULL, NULL);
    if (st != CLCE_OK)
        return st;
    return clce_device_sync(j->dev);
}
