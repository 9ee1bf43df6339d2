/*
 * run.h - what 'clce run' hands to each op's invocation (run_ce.c, run_nll.c, run_softmax.c):
 * the device, descriptors and buffers, already loaded and validated by run.c.
 */
#ifndef CLCE_CLI_RUN_H
#define CLCE_CLI_RUN_H

#include "cli.h"

typedef struct cli_job {
    clce_device *dev;
    clce_loss_desc desc; /* loss ops */
    int dim;             /* softmax ops */
    clce_tensor_desc input_d, target_d, weight_d, out_d, gout_d, gin_d;
    cl_mem input, target, weight, out, gout, gin; /* weight/gout/gin NULL when not given */
} cli_job;

/* Each enqueues its op(s), waits, and returns the first failing status (its detail set);
 * *what receives the name of the call that failed. */
clce_status cli_invoke_cross_entropy(const cli_job *j, const char **what);
clce_status cli_invoke_nll_loss(const cli_job *j, const char **what);
clce_status cli_invoke_softmax(const cli_job *j, int log_softmax, const char **what);

#endif
