/* Texts for enum eb_err. */
#include "core/err.h"

const char *eb_strerror(int err)
{
    switch (err) {
    case EB_OK:
        return "ok";
    case EB_EINVAL:
        return "invalid input";
    case EB_ENOTFOUND:
        return "not found";
    case EB_EEXIST:
        return "already exists";
    case EB_EDENIED:
        return "permission denied";
    case EB_EAUTH:
        return "authentication required";
    case EB_ETOOBIG:
        return "too large";
    case EB_EBUSY:
        return "busy";
    case EB_ESTORE:
        return "database error";
    case EB_EIO:
        return "i/o error";
    case EB_ECONFLICT:
        return "conflict";
    case EB_ETHROTTLED:
        return "too many attempts";
    default:
        return "internal error";
    }
}
