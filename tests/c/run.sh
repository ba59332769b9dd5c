#!/bin/sh
# Builds tests/c/sctp_pingpong.c against the build tree's libapr_sctp (via a
# build-tree apr-sctp.pc from apr-sctp/install.sh) and runs it.
# Exit status: the program's (0 pass, 1 fail, 77 skipped: no SCTP).
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

# (Re)build the library when it is missing or older than its sources.
lib=target/release/libapr_sctp.so
if [ ! -f "$lib" ] || [ -n "$(find apr-sctp/src apr-sctp/build.rs apr-sctp/Cargo.toml -newer "$lib" -print -quit)" ]; then
  cargo build --release -p apr-sctp
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

apr-sctp/install.sh --build-tree "$tmp" >/dev/null
flags=$(PKG_CONFIG_PATH="$tmp" pkg-config --cflags --libs apr-sctp)
# shellcheck disable=SC2086 # $flags is a list of words
cc -std=c99 -Wall -Wextra -Werror -o "$tmp/sctp_pingpong" tests/c/sctp_pingpong.c $flags

rc=0
LD_LIBRARY_PATH="$repo/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  "$tmp/sctp_pingpong" || rc=$?
exit $rc
