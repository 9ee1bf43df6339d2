/* golden_selftest.c - loads every *.golden file named on the command line with golden_load()
 * and prints its case counts per op. Exits non-zero on any parse error.
 *   gcc -std=c11 -Wall -Wextra -o /tmp/gs tests/util/golden_selftest.c tests/util/golden.c -lm
 *   /tmp/gs tests/golden/\*.golden
 */
#include "golden.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    int status = 0;
    size_t total = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.golden...\n", argv[0]);
        return 2;
    }
    for (int a = 1; a < argc; a++) {
        golden_case *cases = NULL;
        size_t n = 0, ce = 0, nll = 0, lsm = 0, sm = 0, err = 0, with_grad = 0;
        char msg[512];
        if (golden_load(argv[a], &cases, &n, msg, sizeof msg) != 0) {
            fprintf(stderr, "FAIL %s\n", msg);
            status = 1;
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            const golden_case *c = &cases[i];
            if (strcmp(c->op, "cross_entropy") == 0)
                ce++;
            else if (strcmp(c->op, "nll_loss") == 0)
                nll++;
            else if (strcmp(c->op, "log_softmax") == 0)
                lsm++;
            else
                sm++;
            if (c->error[0] != '\0')
                err++;
            if (c->grad_input != NULL)
                with_grad++;
        }
        printf("%s: %zu cases (cross_entropy %zu, nll_loss %zu, log_softmax %zu, softmax %zu; "
               "with grad_input %zu, error %zu)\n",
               argv[a], n, ce, nll, lsm, sm, with_grad, err);
        total += n;
        golden_free(cases, n);
    }
    printf("total: %zu cases\n", total);
    return status;
}
