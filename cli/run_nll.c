/*
 * run_nll.c - 'clce run nll_loss': clce_nll_loss_forward, then clce_nll_loss_backward when a
 * gradient is asked for; one sync at the end reports a target out of range.
 */
#include "run.h"

#include <stddef.h>

clce_status cli_invoke_nll_loss(const cli_job *j, const char **what) {
    const clce_tensor_desc *wd = j->weight ? &j->weight_d : NULL;
    *what = "clce_nll_loss_forward";
    clce_status st =
        clce_nll_loss_forward(j->dev, &j->desc, &j->input_d, j->input, &j->target_d, j->target, wd,
                              j->weight, &j->out_d, j->out, 0, NULL, NULL);
    if (st == CLCE_OK && j->gin) {
        *what = "clce_nll_loss_backward";
        st = clce_nll_loss_backward(j->dev, &j->desc, &j->input_d, &j->target_d, j->target, wd,
                                    j->weight, &j->gout_d, j->gout, &j->gin_d, j->gin, 0, NULL,
                                    NULL);
    }
    if (st != CLCE_OK) {
        clFinish(clce_device_queue(j->dev)); /* a sync would clear the failing call's detail */
        return st;
    }
    return clce_device_sync(j->dev);
}
