/*
 * status.c - status names and messages generated from the one X-macro list in clce.h, dtype
 * names, versions and the loss descriptor defaults.
 */
#include "runtime.h"

#include <string.h>

const char *clce_status_name(clce_status status) {
    switch (status) {
#define CLCE__NAME_CASE(name, value, text)                                                         \
    case name:                                                                                     \
        return #name;
        CLCE_STATUS_LIST(CLCE__NAME_CASE)
#undef CLCE__NAME_CASE
    }
    return "CLCE_UNKNOWN_STATUS";
}

const char *clce_status_message(clce_status status) {
    switch (status) {
#define CLCE__TEXT_CASE(name, value, text)                                                         \
    case name:                                                                                     \
        return text;
        CLCE_STATUS_LIST(CLCE__TEXT_CASE)
#undef CLCE__TEXT_CASE
    }
    return "unknown status";
}

unsigned clce_version_number(void) {
    return CLCE_VERSION_NUMBER;
}
const char *clce_version_string(void) {
    return CLCE_VERSION_STRING;
}

size_t clce_dtype_size(clce_dtype dtype) {
    switch (dtype) {
    case CLCE_F32:
    case CLCE_I32:
        return 4;
    case CLCE_F64:
    case CLCE_I64:
        return 8;
    case CLCE_F16:
    case CLCE_BF16:
        return 2;
    case CLCE_U8:
        return 1;
    case CLCE_DTYPE_INVALID:
        break;
    }
    return 0;
}

const char *clce_dtype_name(clce_dtype dtype) {
    switch (dtype) {
    case CLCE_F32:
        return "float32";
    case CLCE_F64:
        return "float64";
    case CLCE_F16:
        return "float16";
    case CLCE_BF16:
        return "bfloat16";
    case CLCE_I64:
        return "int64";
    case CLCE_I32:
        return "int32";
    case CLCE_U8:
        return "uint8";
    case CLCE_DTYPE_INVALID:
        break;
    }
    return "invalid";
}

void clce_loss_desc_init(clce_loss_desc *desc) {
    if (!desc)
        return;
    memset(desc, 0, sizeof *desc);
    desc->struct_version = CLCE_LOSS_DESC_VERSION;
    desc->reduction = CLCE_REDUCTION_MEAN;
    desc->ignore_index = -100;
    desc->label_smoothing = 0.0;
    desc->class_axis = CLCE_CLASS_AXIS_DEFAULT;
}
