#!/bin/sh
# Installs libapr_sctp.so, apr_sctp.h and apr-sctp.pc.
#
#   apr-sctp/install.sh [PREFIX] [--prefix P] [--destdir D]
#       copies target/release/libapr_sctp.so to D/P/lib, the header to
#       D/P/include and a filled-in apr-sctp.pc to D/P/lib/pkgconfig
#       (prefix /usr/local by default; run `cargo build --release -p apr-sctp`
#       first).
#   apr-sctp/install.sh --build-tree OUTDIR
#       only writes OUTDIR/apr-sctp.pc pointing at this build tree (for tests:
#       PKG_CONFIG_PATH=OUTDIR pkg-config --cflags --libs apr-sctp).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
prefix=/usr/local
destdir=
buildtree=

usage() {
  echo "usage: $0 [PREFIX] [--prefix P] [--destdir D] [--build-tree OUTDIR]" >&2
  exit 2
}

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || usage; prefix=$2; shift 2 ;;
    --destdir) [ $# -ge 2 ] || usage; destdir=$2; shift 2 ;;
    --build-tree) [ $# -ge 2 ] || usage; buildtree=$2; shift 2 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) prefix=$1; shift ;;
  esac
done

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)
[ -n "$version" ] || version=0

# fill_pc PREFIX LIBDIR INCLUDEDIR OUTFILE
fill_pc() {
  sed -e "s|@PREFIX@|$1|g" -e "s|@LIBDIR@|$2|g" -e "s|@INCLUDEDIR@|$3|g" \
      -e "s|@VERSION@|$version|g" "$here/apr-sctp.pc.in" > "$4"
}

if [ -n "$buildtree" ]; then
  mkdir -p "$buildtree"
  fill_pc "$repo" "$repo/target/release" "$here/include" "$buildtree/apr-sctp.pc"
  echo "wrote $buildtree/apr-sctp.pc"
  exit 0
fi

lib="$repo/target/release/libapr_sctp.so"
[ -f "$lib" ] || { echo "$0: $lib missing; run: cargo build --release -p apr-sctp" >&2; exit 1; }

libdir="$prefix/lib"
includedir="$prefix/include"
install -d "$destdir$libdir" "$destdir$includedir" "$destdir$libdir/pkgconfig"
install -m 0755 "$lib" "$destdir$libdir/libapr_sctp.so"
install -m 0644 "$here/include/apr_sctp.h" "$destdir$includedir/apr_sctp.h"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
fill_pc "$prefix" "$libdir" "$includedir" "$tmp"
install -m 0644 "$tmp" "$destdir$libdir/pkgconfig/apr-sctp.pc"
echo "installed into $destdir$prefix"
