#!/bin/sh
# Builds the C tests (tests/c/*.c: sctp_pingpong, adu_exchange) against the
# build tree's libapr_sctp (via a build-tree apr-sctp.pc from
# apr-sctp/install.sh) and runs each.
# Exit status: 0 all passed, 1 one failed, 77 skipped (no SCTP).
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

# (Re)build the library when it is missing or older than its sources.
lib=target/release/libapr_sctp.so
if [ ! -f "$lib" ] || [ -n "$(find apr-sctp/src apr-sctp/include apr-sctp/build.rs apr-sctp/Cargo.toml -newer "$lib" -print -quit)" ]; then
  cargo build --release -p apr-sctp
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

apr-sctp/install.sh --build-tree "$tmp" >/dev/null
flags=$(PKG_CONFIG_PATH="$tmp" pkg-config --cflags --libs apr-sctp)

rc=0
for prog in sctp_pingpong adu_exchange; do
  # shellcheck disable=SC2086 # $flags is a list of words
  cc -std=c99 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -o "$tmp/$prog" "tests/c/$prog.c" $flags
  one=0
  LD_LIBRARY_PATH="$repo/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$tmp/$prog" || one=$?
  case $one in
    0) ;;
    77) [ $rc -eq 0 ] && rc=77 ;;
    *) rc=1 ;;
  esac
done
exit $rc
