#!/bin/sh
# Installs librsp_sockets.so, rsp_sockets.h and rsp-sockets.pc (see
# ci/lib/install-c-library for the options).
#
#   rsp-sockets/install.sh [PREFIX] [--prefix P] [--destdir D]
#   rsp-sockets/install.sh --build-tree OUTDIR  (OUTDIR/rsp-sockets.pc for tests)
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../ci/lib/install-c-library" "$here" "$@"
