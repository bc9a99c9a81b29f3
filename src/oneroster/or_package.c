/* Package access: a directory or a zip archive, read member by member without unpacking. */
#include "core/err.h"
#include "core/mem.h"
#include "oneroster/or_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#define CHUNK (64u * 1024)

struct eb__or_pkg {
    char *dir;  /* set for a directory */
    zip_t *zip; /* set for a zip archive */
    char **names;
    size_t n_names;
    char *chunk;
};

static void add_name(struct eb__or_pkg *p, const char *name)
{
    p->names = eb_xrealloc(p->names, (p->n_names + 1) * sizeof(*p->names));
    p->names[p->n_names++] = eb_xstrdup(name);
}

static int list_dir(struct eb__or_pkg *p)
{
    DIR *d = opendir(p->dir);
    if (!d)
        return EB_EIO;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        add_name(p, e->d_name);
    }
    closedir(d);
    return 0;
}

int eb__or_pkg_open(const char *path, struct eb__or_pkg **out, const char **why)
{
    struct stat sb;
    struct eb__or_pkg *p = NULL;
    int rc = EB_EIO;
    *out = NULL;
    *why = "";
    if (stat(path, &sb) != 0) {
        *why = strerror(errno);
        goto done;
    }
    p = eb_xcalloc(1, sizeof(*p));
    if (S_ISDIR(sb.st_mode)) {
        p->dir = eb_xstrdup(path);
        if (list_dir(p) != 0) {
            *why = strerror(errno);
            goto done;
        }
    } else if (S_ISREG(sb.st_mode)) {
        int zerr = 0;
        p->zip = zip_open(path, ZIP_RDONLY, &zerr);
        if (!p->zip) {
            *why = "not a directory or a zip archive";
            goto done;
        }
        zip_int64_t n = zip_get_num_entries(p->zip, 0);
        for (zip_int64_t i = 0; i < n; i++) {
            const char *name = zip_get_name(p->zip, (zip_uint64_t)i, 0);
            if (name)
                add_name(p, name);
        }
    } else {
        *why = "not a directory or a zip archive";
        goto done;
    }
    p->chunk = eb_xmalloc(CHUNK);
    *out = p;
    p = NULL;
    rc = 0;
done:
    eb__or_pkg_close(p);
    return rc;
}

void eb__or_pkg_close(struct eb__or_pkg *p)
{
    if (!p)
        return;
    if (p->zip)
        zip_discard(p->zip);
    for (size_t i = 0; i < p->n_names; i++)
        eb_free(p->names[i]);
    eb_free(p->names);
    eb_free(p->dir);
    eb_free(p->chunk);
    eb_free(p);
}

int eb__or_pkg_has(struct eb__or_pkg *p, const char *name)
{
    /* Names are compared exactly: "Users.csv" is not users.csv (§1.2 rule 4). */
    for (size_t i = 0; i < p->n_names; i++)
        if (strcmp(p->names[i], name) == 0)
            return 1;
    return 0;
}

size_t eb__or_pkg_count(const struct eb__or_pkg *p)
{
    return p->n_names;
}

const char *eb__or_pkg_name(const struct eb__or_pkg *p, size_t i)
{
    return i < p->n_names ? p->names[i] : NULL;
}

static int stream_dir(struct eb__or_pkg *p, const char *name, eb__or_chunk_fn fn, void *ctx)
{
    int rc = 0;
    char path[4096];
    int len = snprintf(path, sizeof(path), "%s/%s", p->dir, name);
    if (len < 0 || (size_t)len >= sizeof(path))
        return EB_EIO;
    FILE *f = fopen(path, "rb");
    if (!f)
        return EB_EIO;
    for (;;) {
        size_t got = fread(p->chunk, 1, CHUNK, f);
        if (got > 0) {
            rc = fn(ctx, p->chunk, got);
            if (rc != 0)
                goto done;
        }
        if (got < CHUNK) {
            if (ferror(f))
                rc = EB_EIO;
            goto done;
        }
    }
done:
    fclose(f);
    return rc;
}

static int stream_zip(struct eb__or_pkg *p, const char *name, eb__or_chunk_fn fn, void *ctx)
{
    int rc = 0;
    zip_file_t *zf = zip_fopen(p->zip, name, 0);
    if (!zf)
        return EB_EIO;
    for (;;) {
        zip_int64_t got = zip_fread(zf, p->chunk, CHUNK);
        if (got < 0) {
            rc = EB_EIO;
            goto done;
        }
        if (got == 0)
            goto done;
        rc = fn(ctx, p->chunk, (size_t)got);
        if (rc != 0)
            goto done;
    }
done:
    zip_fclose(zf);
    return rc;
}

int eb__or_pkg_stream(struct eb__or_pkg *p, const char *name, eb__or_chunk_fn fn, void *ctx)
{
    return p->dir ? stream_dir(p, name, fn, ctx) : stream_zip(p, name, fn, ctx);
}
