/* golden.h - loader for the PyTorch golden-value files in tests/golden/ (*.golden).
 *
 * Format (see tests/golden/README.md): text, one case per block
 *     case <name>
 *     <key> <values...>
 *     ...
 *     end
 * Lines starting with '#' and blank lines are ignored. Numbers are parsed with strtod/strtoll
 * (nan, inf, -inf and -0.0 are accepted). All arrays are owned by the case and released by
 * golden_free().
 */
#ifndef CLCE_TESTS_GOLDEN_H
#define CLCE_TESTS_GOLDEN_H

#include <stddef.h>

#define GOLDEN_MAX_NDIM 8

typedef struct golden_case {
    char name[128];
    char op[32]; /* "cross_entropy", "nll_loss", "log_softmax", "softmax" */
    int input_ndim;
    long long input_shape[GOLDEN_MAX_NDIM];
    size_t input_numel;
    double *input;
    char target_kind[8]; /* "index", "prob", "none" (default "none") */
    int target_ndim;
    long long target_shape[GOLDEN_MAX_NDIM];
    size_t target_numel;
    long long *target_index; /* when index, else NULL */
    double *target_prob;     /* when prob, else NULL */
    int has_weight;
    size_t weight_numel;
    double *weight;         /* weight NULL when has_weight == 0 */
    long long ignore_index; /* default -100 */
    double label_smoothing; /* default 0 */
    char reduction[8]; /* "none", "sum", "mean" (default "mean"); errors.golden may hold others */
    int dim;           /* softmax ops only; as given to torch (may be negative); default 0 */
    int output_ndim;
    long long output_shape[GOLDEN_MAX_NDIM];
    size_t output_numel;
    double *output;
    int grad_output_ndim;
    long long grad_output_shape[GOLDEN_MAX_NDIM];
    size_t grad_output_numel;
    double *grad_output; /* NULL if absent */
    size_t grad_input_numel;
    double *grad_input; /* NULL if absent */
    char error[256];    /* errors.golden only: "<ExcType>: <message>"; "" otherwise */
    /* errors.golden only; "" when absent (meaning float64 input/weight, int64 index target,
       float64 prob target): "int64", "int32", "int16", "uint8", "float32", "float64". */
    char input_dtype[16];
    char target_dtype[16];
    char weight_dtype[16];
} golden_case;

/* Loads every case of a file. Returns 0 and sets *cases / *count (the array is NULL when the file
 * holds no case), or -1 with a message in errbuf naming the file, line number and problem (bad
 * number, numel/shape mismatch, unknown key, missing end, ...); on failure nothing is allocated. */
int golden_load(const char *path, golden_case **cases, size_t *count, char *errbuf, size_t errlen);

/* Frees what golden_load returned (NULL / 0 is fine). */
void golden_free(golden_case *cases, size_t count);

#endif /* CLCE_TESTS_GOLDEN_H */
