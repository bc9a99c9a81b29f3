/* Replays every file of a corpus directory through LLVMFuzzerTestOneInput (no libFuzzer needed). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || sb.st_size < 0) {
        fclose(f);
        return -1;
    }
    size_t size = (size_t)sb.st_size;
    /* An exact-size heap copy, so that ASan flags any read past the input. */
    uint8_t *data = eb_xmalloc(size ? size : 1);
    size_t got = size ? fread(data, 1, size, f) : 0;
    fclose(f);
    if (got != size) {
        eb_free(data);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, size);
    eb_free(data);
    return 0;
}

int main(int argc, char **argv)
{
    int n = 0, failed = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 2;
        }
        if (!S_ISDIR(sb.st_mode)) {
            failed += replay_file(argv[i]) != 0;
            n++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d)
            return 2;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char path[4096];
            if (e->d_name[0] == '.')
                continue;
            int len = snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
            if (len < 0 || (size_t)len >= sizeof(path))
                continue;
            if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
                continue;
            failed += replay_file(path) != 0;
            n++;
        }
        closedir(d);
    }
    printf("replay %s: %d inputs, %d unreadable\n", argv[0], n, failed);
    return failed ? 1 : 0;
}
