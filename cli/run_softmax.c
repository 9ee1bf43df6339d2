/*
 * run_softmax.c - 'clce run softmax|log_softmax': the forward into the output, then the
 * backward from that output and the upstream gradient when one is given.
 */
#include "run.h"

#include <stddef.h>

clce_status cli_invoke_softmax(const cli_job *j, int log_softmax, const char **what) {
    clce_status st;
    if (log_softmax) {
        *what = "clce_log_softmax_forward";
        st = clce_log_softmax_forward(j->dev, j->dim, &j->input_d, j->input, &j->out_d, j->out, 0,
                                      NULL, NULL);
    } else {
        *what = "clce_softmax_forward";
        st = clce_softmax_forward(j->dev, j->dim, &j->input_d, j->input, &j->out_d, j->out, 0, NULL,
                                  NULL);
    }
    if (st == CLCE_OK && j->gin) {
        if (log_softmax) {
            *what = "clce_log_softmax_backward";
            st = clce_log_softmax_backward(j->dev, j->dim, &j->out_d, j->out, &j->gout_d, j->gout,
                                           &j->gin_d, j->gin, 0, NULL, NULL);
        } else {
            *what = "clce_softmax_backward";
            st = clce_softmax_backward(j->dev, j->dim, &j->out_d, j->out, &j->gout_d, j->gout,
                                       &j->gin_d, j->gin, 0, NULL, NULL);
        }
    }
    if (st != CLCE_OK) {
        clFinish(clce_device_queue(j->dev)); /* a sync would clear the failing call's detail */
        return st;
    }
    return clce_device_sync(j->dev);
}
