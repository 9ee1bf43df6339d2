/*
 * errors.c - one-line error reporting: every failure of the tool is a single line on stderr that
 * starts with "clce: error:" and names the file, flag or value at fault.
 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cli_error(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* Keep it one line even when a library detail (e.g. a build log) holds newlines. */
    for (char *p = msg; *p; ++p)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "clce: error: %s\n", msg);
    return 1;
}

int cli_lib_error(const char *what, clce_status st) {
    const char *detail = clce_last_error_detail();
    if (detail && *detail)
        return cli_error("%s: %s: %s", what, clce_status_name(st), detail);
    return cli_error("%s: %s: %s", what, clce_status_name(st), clce_status_message(st));
}
