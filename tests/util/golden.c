/* golden.c - loader for the .golden files in tests/golden (C11, libc + libm only). See golden.h. */
#include "golden.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define GOLDEN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define GOLDEN_PRINTF(a, b)
#endif

/* Keys seen in the current case (to reject duplicates and check required ones). */
enum {
    K_OP,
    K_INPUT_SHAPE,
    K_INPUT,
    K_TARGET_KIND,
    K_TARGET_SHAPE,
    K_TARGET,
    K_WEIGHT,
    K_IGNORE_INDEX,
    K_LABEL_SMOOTHING,
    K_REDUCTION,
    K_DIM,
    K_OUTPUT_SHAPE,
    K_OUTPUT,
    K_GRAD_OUTPUT_SHAPE,
    K_GRAD_OUTPUT,
    K_GRAD_INPUT,
    K_ERROR,
    K_INPUT_DTYPE,
    K_TARGET_DTYPE,
    K_WEIGHT_DTYPE,
    K_COUNT
};

static const char *const key_names[K_COUNT] = {
    "op",         "input_shape",  "input",        "target_kind",       "target_shape",
    "target",     "weight",       "ignore_index", "label_smoothing",   "reduction",
    "dim",        "output_shape", "output",       "grad_output_shape", "grad_output",
    "grad_input", "error",        "input_dtype",  "target_dtype",      "weight_dtype"};

typedef struct parser {
    const char *path;
    unsigned long lineno;
    char *errbuf;
    size_t errlen;
    unsigned long key_line[K_COUNT]; /* 0 = not seen in this case */
} parser;

static int fail(parser *p, unsigned long line, const char *fmt, ...) GOLDEN_PRINTF(3, 4);

static int fail(parser *p, unsigned long line, const char *fmt, ...) {
    if (p->errbuf != NULL && p->errlen > 0) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        snprintf(p->errbuf, p->errlen, "%s:%lu: %s", p->path, line, msg);
    }
    return -1;
}

/* Reads one line of any length into *buf (growing it); strips the newline.
   Returns 1 on a line, 0 at EOF, -1 on a read / memory error. */
static int read_line(FILE *f, char **buf, size_t *cap) {
    size_t len = 0;
    if (*buf == NULL) {
        *cap = 4096;
        *buf = malloc(*cap);
        if (*buf == NULL)
            return -1;
    }
    for (;;) {
        if (*cap - len < 2) {
            size_t ncap = *cap * 2;
            char *nb = realloc(*buf, ncap);
            if (nb == NULL)
                return -1;
            *buf = nb;
            *cap = ncap;
        }
        int chunk = (*cap - len) > (size_t)INT_MAX ? INT_MAX : (int)(*cap - len);
        if (fgets(*buf + len, chunk, f) == NULL) {
            if (ferror(f))
                return -1;
            if (len == 0)
                return 0;
            break; /* last line without newline */
        }
        len += strlen(*buf + len);
        if (len > 0 && (*buf)[len - 1] == '\n')
            break;
    }
    while (len > 0 && ((*buf)[len - 1] == '\n' || (*buf)[len - 1] == '\r' ||
                       (*buf)[len - 1] == ' ' || (*buf)[len - 1] == '\t'))
        (*buf)[--len] = '\0';
    return 1;
}

static int is_space(char c) {
    return c == ' ' || c == '\t';
}

static char *skip_space(char *s) {
    while (is_space(*s))
        s++;
    return s;
}

static size_t count_tokens(const char *s) {
    size_t n = 0;
    while (*s != '\0') {
        while (is_space(*s))
            s++;
        if (*s == '\0')
            break;
        n++;
        while (*s != '\0' && !is_space(*s))
            s++;
    }
    return n;
}

/* Token end check: the number must be followed by a space or the end of the line. */
static int token_ok(const char *start, const char *end) {
    return end != start && (*end == '\0' || is_space(*end));
}

static int parse_doubles(parser *p, char *s, const char *key, double **out, size_t *n) {
    size_t cnt = count_tokens(s), i = 0;
    double *v = malloc((cnt ? cnt : 1) * sizeof *v);
    if (v == NULL)
        return fail(p, p->lineno, "out of memory reading '%s'", key);
    for (s = skip_space(s); *s != '\0'; s = skip_space(s)) {
        char *end;
        v[i] = strtod(s, &end);
        if (!token_ok(s, end)) {
            char tok[40];
            size_t k = 0;
            while (s[k] != '\0' && !is_space(s[k]) && k + 1 < sizeof tok) {
                tok[k] = s[k];
                k++;
            }
            tok[k] = '\0';
            free(v);
            return fail(p, p->lineno, "bad number '%s' (value %zu of '%s')", tok, i + 1, key);
        }
        i++;
        s = end;
    }
    *out = v;
    *n = cnt;
    return 0;
}

static int parse_ll(parser *p, char *s, const char *key, long long *out) {
    char *end;
    s = skip_space(s);
    errno = 0;
    *out = strtoll(s, &end, 10);
    if (!token_ok(s, end) || errno == ERANGE)
        return fail(p, p->lineno, "bad integer in '%s'", key);
    return 0;
}

static int parse_ints(parser *p, char *s, const char *key, long long **out, size_t *n) {
    size_t cnt = count_tokens(s), i = 0;
    long long *v = malloc((cnt ? cnt : 1) * sizeof *v);
    if (v == NULL)
        return fail(p, p->lineno, "out of memory reading '%s'", key);
    for (s = skip_space(s); *s != '\0'; s = skip_space(s)) {
        char *end;
        errno = 0;
        v[i] = strtoll(s, &end, 10);
        if (!token_ok(s, end) || errno == ERANGE) {
            free(v);
            return fail(p, p->lineno, "bad integer (value %zu of '%s')", i + 1, key);
        }
        i++;
        s = end;
    }
    *out = v;
    *n = cnt;
    return 0;
}

/* "<ndim> <d0> ... <dn-1>" */
static int parse_shape(parser *p, char *s, const char *key, int *ndim, long long *shape,
                       size_t *numel) {
    long long *v = NULL;
    size_t n = 0, prod = 1;
    if (parse_ints(p, s, key, &v, &n) != 0)
        return -1;
    if (n == 0 || v[0] < 0 || v[0] > GOLDEN_MAX_NDIM) {
        free(v);
        return fail(p, p->lineno, "'%s' needs an ndim in 0..%d first", key, GOLDEN_MAX_NDIM);
    }
    if (n != (size_t)v[0] + 1) {
        size_t want = (size_t)v[0];
        free(v);
        return fail(p, p->lineno, "'%s' says ndim %zu but gives %zu dims", key, want, n - 1);
    }
    *ndim = (int)v[0];
    for (size_t i = 1; i < n; i++) {
        if (v[i] < 0) {
            free(v);
            return fail(p, p->lineno, "negative dim in '%s'", key);
        }
        shape[i - 1] = v[i];
        if (v[i] != 0 && prod > (size_t)-1 / (size_t)v[i]) {
            free(v);
            return fail(p, p->lineno, "'%s' numel overflows", key);
        }
        prod *= (size_t)v[i];
    }
    *numel = prod;
    free(v);
    return 0;
}

static int copy_word(parser *p, char *s, const char *key, char *dst, size_t cap) {
    s = skip_space(s);
    size_t n = strlen(s);
    if (n == 0)
        return fail(p, p->lineno, "'%s' needs a value", key);
    if (count_tokens(s) != 1)
        return fail(p, p->lineno, "'%s' takes a single word", key);
    if (n >= cap)
        return fail(p, p->lineno, "'%s' value too long (max %zu chars)", key, cap - 1);
    memcpy(dst, s, n + 1);
    return 0;
}

static void init_case(golden_case *c) {
    memset(c, 0, sizeof *c);
    strcpy(c->target_kind, "none");
    strcpy(c->reduction, "mean");
    c->ignore_index = -100;
    c->label_smoothing = 0.0;
    c->dim = 0;
}

static void free_case(golden_case *c) {
    free(c->input);
    free(c->target_index);
    free(c->target_prob);
    free(c->weight);
    free(c->output);
    free(c->grad_output);
    free(c->grad_input);
    c->input = c->target_prob = c->weight = c->output = c->grad_output = c->grad_input = NULL;
    c->target_index = NULL;
}

static int is_loss_op(const char *op) {
    return strcmp(op, "cross_entropy") == 0 || strcmp(op, "nll_loss") == 0;
}

/* Checks one finished case. line = the line of its 'end'. */
static int validate(parser *p, golden_case *c, unsigned long line) {
    const unsigned long *kl = p->key_line;
    int is_err = kl[K_ERROR] != 0;
    if (!kl[K_OP])
        return fail(p, line, "case '%s' has no 'op'", c->name);
    int loss = is_loss_op(c->op);
    if (!loss && strcmp(c->op, "log_softmax") != 0 && strcmp(c->op, "softmax") != 0)
        return fail(p, kl[K_OP], "unknown op '%s'", c->op);
    if (!kl[K_INPUT_SHAPE] || !kl[K_INPUT])
        return fail(p, line, "case '%s' needs 'input_shape' and 'input'", c->name);
    {
        size_t want = 1;
        for (int i = 0; i < c->input_ndim; i++)
            want *= (size_t)c->input_shape[i];
        if (c->input_numel != want)
            return fail(p, kl[K_INPUT], "input has %zu values but input_shape has numel %zu",
                        c->input_numel, want);
    }
    if (strcmp(c->target_kind, "index") != 0 && strcmp(c->target_kind, "prob") != 0 &&
        strcmp(c->target_kind, "none") != 0)
        return fail(p, kl[K_TARGET_KIND], "unknown target_kind '%s'", c->target_kind);
    if (strcmp(c->target_kind, "none") == 0) {
        if (kl[K_TARGET] || kl[K_TARGET_SHAPE])
            return fail(p, kl[K_TARGET] ? kl[K_TARGET] : kl[K_TARGET_SHAPE],
                        "target given with target_kind none");
        if (loss)
            return fail(p, line, "case '%s': op %s needs target_kind index or prob", c->name,
                        c->op);
    } else {
        if (!loss)
            return fail(p, kl[K_TARGET_KIND], "op %s takes no target", c->op);
        if (!kl[K_TARGET_SHAPE] || !kl[K_TARGET])
            return fail(p, line, "case '%s' needs 'target_shape' and 'target'", c->name);
        if ((strcmp(c->target_kind, "index") == 0) != (c->target_index != NULL))
            return fail(p, kl[K_TARGET], "'target_kind' must come before 'target'");
        size_t want = 1;
        for (int i = 0; i < c->target_ndim; i++)
            want *= (size_t)c->target_shape[i];
        if (c->target_numel != want)
            return fail(p, kl[K_TARGET], "target has %zu values but target_shape has numel %zu",
                        c->target_numel, want);
    }
    if (c->has_weight && !is_err) {
        if (!loss)
            return fail(p, kl[K_WEIGHT], "op %s takes no weight", c->op);
        if (c->input_ndim == 0)
            return fail(p, kl[K_WEIGHT], "weight with a 0-dim input");
        long long C = c->input_shape[c->input_ndim == 1 ? 0 : 1];
        if ((long long)c->weight_numel != C)
            return fail(p, kl[K_WEIGHT], "weight has %zu values but the input has C = %lld",
                        c->weight_numel, C);
    }
    if (!is_err && strcmp(c->reduction, "none") != 0 && strcmp(c->reduction, "sum") != 0 &&
        strcmp(c->reduction, "mean") != 0)
        return fail(p, kl[K_REDUCTION], "unknown reduction '%s'", c->reduction);
    if (kl[K_OUTPUT] && !kl[K_OUTPUT_SHAPE])
        return fail(p, kl[K_OUTPUT], "'output' without 'output_shape'");
    if (kl[K_OUTPUT_SHAPE] && !kl[K_OUTPUT])
        return fail(p, kl[K_OUTPUT_SHAPE], "'output_shape' without 'output'");
    if (!is_err && !kl[K_OUTPUT])
        return fail(p, line, "case '%s' has neither 'output' nor 'error'", c->name);
    if (kl[K_OUTPUT]) {
        size_t want = 1;
        for (int i = 0; i < c->output_ndim; i++)
            want *= (size_t)c->output_shape[i];
        if (c->output_numel != want)
            return fail(p, kl[K_OUTPUT], "output has %zu values but output_shape has numel %zu",
                        c->output_numel, want);
    }
    if (kl[K_GRAD_OUTPUT] && !kl[K_GRAD_OUTPUT_SHAPE])
        return fail(p, kl[K_GRAD_OUTPUT], "'grad_output' without 'grad_output_shape'");
    if (kl[K_GRAD_OUTPUT_SHAPE] && !kl[K_GRAD_OUTPUT])
        return fail(p, kl[K_GRAD_OUTPUT_SHAPE], "'grad_output_shape' without 'grad_output'");
    if (kl[K_GRAD_OUTPUT]) {
        size_t want = 1;
        for (int i = 0; i < c->grad_output_ndim; i++)
            want *= (size_t)c->grad_output_shape[i];
        if (c->grad_output_numel != want)
            return fail(p, kl[K_GRAD_OUTPUT],
                        "grad_output has %zu values but grad_output_shape has numel %zu",
                        c->grad_output_numel, want);
    }
    if (kl[K_GRAD_INPUT] && c->grad_input_numel != c->input_numel)
        return fail(p, kl[K_GRAD_INPUT], "grad_input has %zu values but input has %zu",
                    c->grad_input_numel, c->input_numel);
    return 0;
}

static int find_key(const char *k) {
    for (int i = 0; i < K_COUNT; i++)
        if (strcmp(k, key_names[i]) == 0)
            return i;
    return -1;
}

/* Handles one "key rest" line inside a case. */
static int parse_key(parser *p, golden_case *c, int key, char *rest) {
    const char *kn = key_names[key];
    switch (key) {
    case K_OP:
        return copy_word(p, rest, kn, c->op, sizeof c->op);
    case K_INPUT_SHAPE:
        return parse_shape(p, rest, kn, &c->input_ndim, c->input_shape, &(size_t){0});
    case K_INPUT:
        return parse_doubles(p, rest, kn, &c->input, &c->input_numel);
    case K_TARGET_KIND:
        return copy_word(p, rest, kn, c->target_kind, sizeof c->target_kind);
    case K_TARGET_SHAPE:
        return parse_shape(p, rest, kn, &c->target_ndim, c->target_shape, &(size_t){0});
    case K_TARGET:
        if (strcmp(c->target_kind, "index") == 0)
            return parse_ints(p, rest, kn, &c->target_index, &c->target_numel);
        if (strcmp(c->target_kind, "prob") == 0)
            return parse_doubles(p, rest, kn, &c->target_prob, &c->target_numel);
        return fail(p, p->lineno, "'target' must come after 'target_kind index|prob'");
    case K_WEIGHT:
        if (strcmp(skip_space(rest), "none") == 0) {
            c->has_weight = 0;
            return 0;
        }
        c->has_weight = 1;
        return parse_doubles(p, rest, kn, &c->weight, &c->weight_numel);
    case K_IGNORE_INDEX:
        return parse_ll(p, rest, kn, &c->ignore_index);
    case K_LABEL_SMOOTHING: {
        double *v = NULL;
        size_t n = 0;
        if (parse_doubles(p, rest, kn, &v, &n) != 0)
            return -1;
        if (n != 1) {
            free(v);
            return fail(p, p->lineno, "'label_smoothing' takes one number");
        }
        c->label_smoothing = v[0];
        free(v);
        return 0;
    }
    case K_REDUCTION:
        return copy_word(p, rest, kn, c->reduction, sizeof c->reduction);
    case K_DIM: {
        long long d;
        if (parse_ll(p, rest, kn, &d) != 0)
            return -1;
        if (d < INT_MIN || d > INT_MAX)
            return fail(p, p->lineno, "'dim' out of int range");
        c->dim = (int)d;
        return 0;
    }
    case K_OUTPUT_SHAPE:
        return parse_shape(p, rest, kn, &c->output_ndim, c->output_shape, &(size_t){0});
    case K_OUTPUT:
        return parse_doubles(p, rest, kn, &c->output, &c->output_numel);
    case K_GRAD_OUTPUT_SHAPE:
        return parse_shape(p, rest, kn, &c->grad_output_ndim, c->grad_output_shape, &(size_t){0});
    case K_GRAD_OUTPUT:
        return parse_doubles(p, rest, kn, &c->grad_output, &c->grad_output_numel);
    case K_GRAD_INPUT:
        return parse_doubles(p, rest, kn, &c->grad_input, &c->grad_input_numel);
    case K_ERROR: {
        char *s = skip_space(rest);
        size_t n = strlen(s);
        if (n == 0)
            return fail(p, p->lineno, "'error' needs a message");
        if (n >= sizeof c->error)
            n = sizeof c->error - 1; /* keep the start of an over-long message */
        memcpy(c->error, s, n);
        c->error[n] = '\0';
        return 0;
    }
    case K_INPUT_DTYPE:
        return copy_word(p, rest, kn, c->input_dtype, sizeof c->input_dtype);
    case K_TARGET_DTYPE:
        return copy_word(p, rest, kn, c->target_dtype, sizeof c->target_dtype);
    case K_WEIGHT_DTYPE:
        return copy_word(p, rest, kn, c->weight_dtype, sizeof c->weight_dtype);
    default:
        return fail(p, p->lineno, "internal: unhandled key");
    }
}

int golden_load(const char *path, golden_case **cases, size_t *count, char *errbuf, size_t errlen) {
    parser p;
    FILE *f;
    char *buf = NULL;
    size_t cap = 0, n = 0, ncap = 0;
    golden_case *arr = NULL, cur;
    int in_case = 0, rc = -1;
    unsigned long case_line = 0;

    memset(&p, 0, sizeof p);
    p.path = path;
    p.errbuf = errbuf;
    p.errlen = errlen;
    if (errbuf != NULL && errlen > 0)
        errbuf[0] = '\0';
    if (cases == NULL || count == NULL) {
        fail(&p, 0, "golden_load: NULL output argument");
        return -1;
    }
    *cases = NULL;
    *count = 0;
    init_case(&cur);

    f = fopen(path, "r");
    if (f == NULL) {
        fail(&p, 0, "cannot open: %s", strerror(errno));
        return -1;
    }
    for (;;) {
        int r = read_line(f, &buf, &cap);
        if (r < 0) {
            fail(&p, p.lineno + 1, "read error or out of memory");
            goto out;
        }
        if (r == 0)
            break;
        p.lineno++;
        char *s = skip_space(buf);
        if (*s == '\0' || *s == '#')
            continue;
        /* split "key rest" */
        char *rest = s;
        while (*rest != '\0' && !is_space(*rest))
            rest++;
        if (*rest != '\0')
            *rest++ = '\0';
        rest = skip_space(rest);

        if (strcmp(s, "case") == 0) {
            if (in_case) {
                fail(&p, p.lineno, "'case' inside case '%s' (started line %lu): missing 'end'",
                     cur.name, case_line);
                goto out;
            }
            init_case(&cur);
            memset(p.key_line, 0, sizeof p.key_line);
            if (copy_word(&p, rest, "case", cur.name, sizeof cur.name) != 0)
                goto out;
            in_case = 1;
            case_line = p.lineno;
            continue;
        }
        if (!in_case) {
            fail(&p, p.lineno, "'%s' outside a case (expected 'case <name>')", s);
            goto out;
        }
        if (strcmp(s, "end") == 0) {
            if (*rest != '\0') {
                fail(&p, p.lineno, "'end' takes no value");
                goto out;
            }
            if (validate(&p, &cur, p.lineno) != 0)
                goto out;
            if (n == ncap) {
                size_t nc = ncap ? ncap * 2 : 64;
                golden_case *na = realloc(arr, nc * sizeof *na);
                if (na == NULL) {
                    fail(&p, p.lineno, "out of memory");
                    goto out;
                }
                arr = na;
                ncap = nc;
            }
            arr[n++] = cur;
            init_case(&cur); /* ownership moved to arr */
            in_case = 0;
            continue;
        }
        int key = find_key(s);
        if (key < 0) {
            fail(&p, p.lineno, "unknown key '%s' in case '%s'", s, cur.name);
            goto out;
        }
        if (p.key_line[key]) {
            fail(&p, p.lineno, "duplicate key '%s' in case '%s' (first on line %lu)", s, cur.name,
                 p.key_line[key]);
            goto out;
        }
        p.key_line[key] = p.lineno;
        if (parse_key(&p, &cur, key, rest) != 0)
            goto out;
    }
    if (in_case) {
        fail(&p, p.lineno, "end of file inside case '%s' (started line %lu): missing 'end'",
             cur.name, case_line);
        goto out;
    }
    rc = 0;
out:
    free(buf);
    fclose(f);
    free_case(&cur);
    if (rc != 0) {
        golden_free(arr, n);
        return -1;
    }
    *cases = arr;
    *count = n;
    return 0;
}

void golden_free(golden_case *cases, size_t count) {
    if (cases == NULL)
        return;
    for (size_t i = 0; i < count; i++)
        free_case(&cases[i]);
    free(cases);
}
