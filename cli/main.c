/*
 * main.c - entry point of the clce tool: picks the subcommand and hands it the remaining
 * arguments; the tool's own --help and --version.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fputs("usage: clce <command> [options]\n"
          "\n"
          "clce computes PyTorch's cross-entropy loss family on an OpenCL device.\n"
          "\n"
          "commands:\n"
          "  info            platforms and devices found, the one clce picks and why\n"
          "  demo            cross_entropy on a classifier and a segmentation model's logits,\n"
          "                  beside PyTorch's values, and the gradient\n"
          "  run OP ...      run cross_entropy, nll_loss, log_softmax or softmax on .npy files\n"
          "  check [--full]  correctness sweep of every op and option against a double reference\n"
          "  bench           GB/s of cross_entropy forward and fused forward+backward\n"
          "\n"
          "options:\n"
          "  -h, --help      this help ('clce <command> --help' for a command's)\n"
          "  --version       the tool's and the library's version\n"
          "\n"
          "environment:\n"
          "  CLCE_DEVICE     device index or name substring (see 'clce info')\n",
          f);
}

int main(int argc, char **argv) {
    if (argc < 2)
        return cli_error("no command given (one of info, demo, run, check, bench; see "
                         "'clce --help')");
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("clce %s (library %s)\n", CLCE_VERSION_STRING, clce_version_string());
        return 0;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"info", cli_info},
                {"demo", cli_demo},
                {"run", cli_run},
                {"check", cli_check},
                {"bench", cli_bench}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; ++i)
        if (strcmp(cmd, cmds[i].name) == 0)
            return cmds[i].fn(argc - 2, argv + 2);
    if (cmd[0] == '-')
        return cli_error("unknown flag '%s' (see 'clce --help')", cmd);
    return cli_error("unknown command '%s' (one of info, demo, run, check, bench)", cmd);
}
