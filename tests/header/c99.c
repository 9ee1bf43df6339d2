/* c99.c - the public header compiles as strict C99 (built with -std=c99 -Wpedantic). */
#include <clce/clce.h>

int main(void) {
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    return d.reduction == CLCE_REDUCTION_MEAN ? 0 : 1;
}
