#!/bin/sh
# Fails if any given object file references the heap (static buffers only).
set -u
[ $# -gt 0 ] || { echo "check-nomalloc: no objects given" >&2; exit 2; }
bad=0
for o in "$@"; do
    hits=$(nm -u "$o" | awk '{print $NF}' | grep -E '^(malloc|calloc|realloc|free|strdup|strndup|posix_memalign|aligned_alloc)$')
    if [ -n "$hits" ]; then
        echo "check-nomalloc: $o references: $hits"
        bad=1
    fi
done
[ $bad -eq 0 ] && echo "check-nomalloc: $# objects, no heap references"
exit $bad
