/* Error codes: 0 is success, a negative enum eb_err is a failure. */
#ifndef EB_CORE_ERR_H
#define EB_CORE_ERR_H

enum eb_err {
    EB_OK = 0,
    EB_EINVAL = -1,      /* bad input from the caller */
    EB_ENOTFOUND = -2,   /* no such row, or outside the caller's scope (indistinguishable) */
    EB_EEXIST = -3,      /* unique key already taken */
    EB_EDENIED = -4,     /* authenticated but not allowed (inside scope, wrong role) */
    EB_EAUTH = -5,       /* not authenticated or wrong credentials */
    EB_ETOOBIG = -6,     /* a size limit was exceeded */
    EB_EBUSY = -7,       /* database locked or resource exhausted; retry later */
    EB_ESTORE = -8,      /* database failure */
    EB_EIO = -9,         /* file or network failure */
    EB_ECONFLICT = -10,  /* state changed under the caller */
    EB_ETHROTTLED = -11, /* too many attempts; retry after a delay */
    EB_EINTERNAL = -12,
};

/** A short English description of err (never NULL). */
const char *eb_strerror(int err);

#endif
