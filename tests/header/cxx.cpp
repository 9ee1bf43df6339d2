// cxx.cpp - the public header compiles as C++ and links (extern "C").
#include <clce/clce.h>

int main() {
    clce_loss_desc d;
    clce_loss_desc_init(&d);
    return d.reduction == CLCE_REDUCTION_MEAN ? 0 : 1;
}
