/*
 * args.c - the tool's argument parser: "--name value", "--name=value" and "--flag" against a
 * table of known options, strict number parsing, and the reduction names.  Anything unknown is
 * an error naming the flag and the subcommand, never silently ignored.
 */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int cli_parse(const char *cmd, int argc, char **argv, const cli_opt *opts, int nopts, int *help) {
    *help = 0;
    for (int i = 0; i < nopts; ++i) {
        if (opts[i].value)
            *opts[i].value = NULL;
        if (opts[i].flag)
            *opts[i].flag = 0;
    }
    for (int i = 0; i < argc; ++i) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *help = 1;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0)
            return cli_error("%s: unexpected argument '%s' (see 'clce %s --help')", cmd, arg, cmd),
                   -1;
        const char *eq = strchr(arg, '=');
        size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
        const cli_opt *o = NULL;
        for (int k = 0; k < nopts; ++k)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, arg, nlen) == 0)
                o = &opts[k];
        if (!o)
            return cli_error("%s: unknown flag '%.*s' (see 'clce %s --help')", cmd, (int)nlen, arg,
                             cmd),
                   -1;
        if (o->kind == CLI_OPT_FLAG) {
            if (eq)
                return cli_error("%s: flag %s takes no value, got '%s'", cmd, o->name, eq + 1), -1;
            *o->flag = 1;
            continue;
        }
        const char *val;
        if (eq) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_error("%s: flag %s needs a value", cmd, o->name), -1;
            val = argv[++i];
        }
        if (*o->value)
            return cli_error("%s: flag %s given twice ('%s' and '%s')", cmd, o->name, *o->value,
                             val),
                   -1;
        *o->value = val;
    }
    return 0;
}

int cli_parse_i64(const char *flag, const char *text, int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno)
        return cli_error("%s: '%s' is not an integer", flag, text), -1;
    *out = (int64_t)v;
    return 0;
}

int cli_parse_double(const char *flag, const char *text, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || *end || errno || !isfinite(v))
        return cli_error("%s: '%s' is not a finite number", flag, text), -1;
    *out = v;
    return 0;
}

static const char *const reduction_names[] = {"none", "sum", "mean"};

const char *cli_reduction_name(clce_reduction r) {
    return (unsigned)r < 3 ? reduction_names[r] : "?";
}

int cli_parse_reduction(const char *flag, const char *text, clce_reduction *out) {
    for (int i = 0; i < 3; ++i)
        if (strcmp(text, reduction_names[i]) == 0) {
            *out = (clce_reduction)i;
            return 0;
        }
    return cli_error("%s: '%s' is not one of none, sum, mean", flag, text), -1;
}
