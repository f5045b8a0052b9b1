#!/bin/sh
# Fails if an object exports a symbol without the sse_ prefix.
set -u
bad=$(nm -g --defined-only "$@" | awk 'NF == 3 {print $3}' | grep -v '^sse_' | sort -u)
if [ -n "$bad" ]; then
    echo "check-prefix: exported symbols without sse_: $bad"
    exit 1
fi
echo "check-prefix: every exported symbol starts with sse_"
