#!/bin/sh
# STYLE R1: the dependency direction is daemons -> engine -> sandbox -> common
# and ring -> common. A library including a header from a layer above it fails.
# The storlet SDK stands alone.
set -eu
bad=0
check() { # dir forbidden-dirs...
    dir=$1; shift
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -f "$f" ] || continue
        for up in "$@"; do
            if grep -nE "^#include \"$up/" "$f"; then
                echo "deps-check: $f includes from $up/ (not allowed from $dir/)" >&2
                bad=1
            fi
        done
    done
}
check common ring sandbox engine objectd proxy
check ring sandbox engine objectd proxy
check sandbox ring engine objectd proxy
check engine objectd proxy
check objectd proxy
check proxy objectd
# the storlet SDK is shipped to storlet authors: it includes nothing of Cairn
check storlets/sdk common ring sandbox engine objectd proxy
[ $bad = 0 ] && echo "deps-check: ok"
exit $bad
