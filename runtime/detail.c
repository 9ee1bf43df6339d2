/*
 * detail.c - the thread-local error detail string behind clce_last_error_detail().  A thread
 * local (not a global) so that concurrent callers never see each other's messages.
 */
#include "runtime.h"

#include <stdio.h>

static _Thread_local char detail_text[8192];

void clce__clear_detail(void) {
    detail_text[0] = '\0';
}

static void set_detail_v(const char *fmt, va_list ap) {
    vsnprintf(detail_text, sizeof detail_text, fmt, ap);
}

void clce__set_detail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_detail_v(fmt, ap);
    va_end(ap);
}

clce_status clce__fail(clce_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_detail_v(fmt, ap);
    va_end(ap);
    return status;
}

const char *clce_last_error_detail(void) {
    return detail_text;
}
