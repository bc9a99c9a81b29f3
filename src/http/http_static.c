/* The built web UI: every file of web_dir loaded into memory at start, served with ETags. */
#include "http/http_int.h"
#include "core/err.h"
#include "core/log.h"
#include "core/mem.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

/*
 * A built Vue/ECharts UI is a few MiB (the city map's GeoJSON is the biggest file). The limits
 * only stop a wrong --web directory (say, /) from filling memory at start.
 */
#define STATIC_MAX_FILES 4096
#define STATIC_MAX_FILE  (32u << 20)
#define STATIC_MAX_TOTAL (256u << 20)
#define STATIC_MAX_DEPTH 12

struct eb_static {
    struct eb_static_file *files; /* sorted by path */
    size_t n, cap;
    size_t total;
    const struct eb_static_file *index; /* /index.html, or NULL */
};

struct mime {
    const char *ext, *type;
};

static const struct mime mimes[] = {
    {"html", "text/html; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"geojson", "application/geo+json"},
    {"map", "application/json; charset=utf-8"},
    {"webmanifest", "application/manifest+json"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"avif", "image/avif"},
    {"ico", "image/x-icon"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"ttf", "font/ttf"},
    {"otf", "font/otf"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
};

static const char *content_type_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (dot)
        for (size_t i = 0; i < sizeof(mimes) / sizeof(mimes[0]); i++)
            if (strcasecmp(dot + 1, mimes[i].ext) == 0)
                return mimes[i].type;
    return "application/octet-stream";
}

static char *make_etag(const char *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    static const char hex[] = "0123456789abcdef";
    char *tag = eb_xmalloc(2 + 32 + 1);
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len < 16) {
        /* Never fails for SHA-256 in practice; an ETag that changes with the length still
         * lets clients revalidate. */
        snprintf(tag, 35, "\"len-%zu\"", len);
        return tag;
    }
    /* 128 bits of SHA-256 identify a version of a file beyond any accidental collision. */
    tag[0] = '"';
    for (int i = 0; i < 16; i++) {
        tag[1 + 2 * i] = hex[md[i] >> 4];
        tag[2 + 2 * i] = hex[md[i] & 15];
    }
    tag[33] = '"';
    tag[34] = '\0';
    return tag;
}

static int read_file(const char *full, size_t size, char **out)
{
    int rc = EB_EIO;
    char *data = eb_xmalloc(size ? size : 1);
    size_t got = 0;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        goto done;
    while (got < size) {
        ssize_t n = read(fd, data + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            goto done;
        got += (size_t)n;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (rc)
        eb_free(data);
    else
        *out = data;
    return rc;
}

static int add_file(struct eb_static *st, const char *full, const char *rel, size_t size)
{
    char *data = NULL;
    if (st->n >= STATIC_MAX_FILES || size > STATIC_MAX_FILE ||
        st->total + size > STATIC_MAX_TOTAL) {
        eb_error("http: web directory too big at %s (limits: %d files, %u MiB)", full,
                 STATIC_MAX_FILES, STATIC_MAX_TOTAL >> 20);
        return EB_ETOOBIG;
    }
    int rc = read_file(full, size, &data);
    if (rc) {
        eb_error("http: cannot read %s", full);
        return rc;
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->files = eb_xrealloc(st->files, st->cap * sizeof(*st->files));
    }
    struct eb_static_file *f = &st->files[st->n++];
    f->path = eb_xstrdup(rel);
    f->data = data;
    f->len = size;
    f->content_type = content_type_of(rel);
    f->etag = make_etag(data, size);
    /* Vite names everything under /assets/ by content hash: a new build gets new names, so
     * these can be cached for a year. Other files (index.html above all) keep their name
     * across builds and must be revalidated with the ETag on every use. */
    f->cache_control =
        strncmp(rel, "/assets/", 8) == 0 ? "public, max-age=31536000, immutable" : "no-cache";
    st->total += size;
    return 0;
}

static int load_dir(struct eb_static *st, const char *dir, const char *rel, int depth)
{
    int rc = 0;
    DIR *d = opendir(dir);
    if (!d) {
        eb_error("http: cannot open web directory %s", dir);
        return EB_EIO;
    }
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        /* Dot files (.git, .DS_Store, .env) are never part of a build and must not leak. */
        if (e->d_name[0] == '.')
            continue;
        char full[4096], sub[4096];
        int n1 = snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
        int n2 = snprintf(sub, sizeof(sub), "%s/%s", rel, e->d_name);
        if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof(full) || (size_t)n2 >= sizeof(sub))
            continue;
        struct stat sb;
        /* lstat: symbolic links inside the build are skipped, so nothing outside it is served. */
        if (lstat(full, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode)) {
            if (depth < STATIC_MAX_DEPTH)
                rc = load_dir(st, full, sub, depth + 1);
        } else if (S_ISREG(sb.st_mode)) {
            if (!eb__http_utf8_valid(sub, strlen(sub)))
                continue;
            rc = add_file(st, full, sub, (size_t)sb.st_size);
        }
    }
    closedir(d);
    return rc;
}

static int cmp_file(const void *a, const void *b)
{
    return strcmp(((const struct eb_static_file *)a)->path,
                  ((const struct eb_static_file *)b)->path);
}

static const struct eb_static_file *find_exact(const struct eb_static *st, const char *path)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(path, st->files[mid].path);
        if (c == 0)
            return &st->files[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

int eb__static_load(const char *dir, struct eb_static **out)
{
    struct eb_static *st = eb_xcalloc(1, sizeof(*st));
    int rc = load_dir(st, dir, "", 0);
    if (rc)
        goto done;
    if (st->n)
        qsort(st->files, st->n, sizeof(*st->files), cmp_file);
    st->index = find_exact(st, "/index.html");
    if (!st->index)
        eb_warn("http: %s has no index.html; the UI will not load", dir);
    eb_info("http: serving %zu UI files (%zu KiB) from %s", st->n, st->total >> 10, dir);
done:
    if (rc) {
        eb__static_free(st);
        st = NULL;
    }
    *out = st;
    return rc;
}

void eb__static_free(struct eb_static *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n; i++) {
        eb_free((void *)(uintptr_t)st->files[i].path);
        eb_free((void *)(uintptr_t)st->files[i].data);
        eb_free((void *)(uintptr_t)st->files[i].etag);
    }
    eb_free(st->files);
    eb_free(st);
}

const struct eb_static_file *eb__static_find(const struct eb_static *st, const char *path,
                                             int spa_fallback)
{
    if (!st)
        return NULL;
    if (strcmp(path, "/") == 0)
        return st->index;
    const struct eb_static_file *f = find_exact(st, path);
    if (f || !spa_fallback)
        return f;
    /* Client-side routes (/schools/345) get the app; a missing /assets/x.js or /logo.png
     * must stay a 404, or the browser would run HTML as a script. */
    const char *last = strrchr(path, '/');
    if (strncmp(path, "/assets/", 8) == 0 || (last && strchr(last, '.')))
        return NULL;
    return st->index;
}
