/* edubrain oneroster check: validates a OneRoster 1.1 CSV package and prints the report. */
#include "cli/cli.h"
#include "core/buf.h"
#include "core/err.h"
#include "oneroster/oneroster.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fputs(
        "usage: edubrain oneroster check DIR_OR_ZIP [--json] [--lang zh|en] [--max-per-code N]\n"
        "\n"
        "  check              validate a OneRoster 1.1 CSV package (a directory or a .zip):\n"
        "                     the manifest, bulk/delta rules, headers and their order, formats,\n"
        "                     case-sensitive enumerations and references between files\n"
        "  --json             the report as JSON (findings with both messages, zh and en)\n"
        "  --lang zh|en       the language of the text report (default zh)\n"
        "  --max-per-code N   findings listed per file and code (default 100; counts stay exact)\n"
        "\n"
        "exit status: 0 no errors (warnings allowed), 1 errors (the package would be rejected),\n"
        "2 bad usage\n",
        f);
}

static int check(const char *path, int json, const char *lang, size_t max_per_code)
{
    struct eb_or_report *r = eb_or_report_create(max_per_code);
    struct eb_buf out;
    eb_buf_init(&out, 0);
    int rc = eb_or_validate(path, r);
    if (json)
        eb_or_report_json(r, &out);
    else
        eb_or_report_text(r, lang, &out);
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    if (json)
        fputc('\n', stdout);
    int status = rc != 0 || eb_or_report_errors(r) > 0 ? 1 : 0;
    eb_buf_free(&out);
    eb_or_report_destroy(r);
    return status;
}

int eb_cli_oneroster(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, 0, 'j'},
        {"lang", required_argument, 0, 'l'},
        {"max-per-code", required_argument, 0, 'm'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "check") != 0) {
        fprintf(stderr, "edubrain oneroster: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    int json = 0;
    const char *lang = "zh";
    size_t max_per_code = 100;
    int c;
    while ((c = getopt_long(argc - 1, argv + 1, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'j':
            json = 1;
            break;
        case 'l':
            if (strcmp(optarg, "zh") != 0 && strcmp(optarg, "en") != 0) {
                fprintf(stderr, "edubrain oneroster: --lang must be zh or en\n");
                return 2;
            }
            lang = optarg;
            break;
        case 'm': {
            char *end = NULL;
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end != '\0' || v < 1 || v > 1000000) {
                fprintf(stderr, "edubrain oneroster: --max-per-code must be 1..1000000\n");
                return 2;
            }
            max_per_code = (size_t)v;
            break;
        }
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 2) {
        usage(stderr);
        return 2;
    }
    return check(argv[optind + 1], json, lang, max_per_code);
}
