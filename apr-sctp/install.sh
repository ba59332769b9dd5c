#!/bin/sh
# Installs libapr_sctp.so, apr_sctp.h and apr-sctp.pc (see
# ci/lib/install-c-library for the options).
#
#   apr-sctp/install.sh [PREFIX] [--prefix P] [--destdir D]
#   apr-sctp/install.sh --build-tree OUTDIR     (OUTDIR/apr-sctp.pc for tests)
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/../ci/lib/install-c-library" "$here" "$@"
