#!/usr/bin/env bash
# Bans C library calls that the project does not use (curl's checksrc idea): unbounded string
# functions, atoi without error checks, and the raw allocator outside src/core/mem.c.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
banned='\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\('
if grep -rnE "$banned" src --include='*.c' --include='*.h'; then
    echo "check_src: banned string/number functions above (use snprintf, memcpy, strtol...)" >&2
    status=1
fi
raw='(^|[^_[:alnum:]])(malloc|calloc|realloc|free|strdup|strndup)[[:space:]]*\('
if grep -rnE "$raw" src --include='*.c' --include='*.h' | grep -v '^src/core/mem.c:' |
    grep -vE '^\S+:[0-9]+:\s*(/\*|\*)'; then
    echo "check_src: raw allocator calls above: use eb_xmalloc/eb_free (src/core/mem.h)" >&2
    status=1
fi
exit $status
