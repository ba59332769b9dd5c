# Shared by ci/test and tests/run-integration (sourced, bash): each step of a
# run records "NAME PASSED FAILED SKIPPED" in $SCTP_CI_RESULTS, and the
# summary adds them up. A step that is one check (build, clippy, fmt) counts
# as one test.

: "${SCTP_CI_RESULTS:=/dev/null}"

# record NAME PASSED FAILED [SKIPPED]
record() {
  local name=$1 p=$2 f=$3 s=${4:-0}
  printf '%s %d %d %d\n' "$name" "$p" "$f" "$s" >> "$SCTP_CI_RESULTS"
  local extra=""
  [ "$s" -gt 0 ] && extra=" ($s skipped)"
  echo "== $name: $p passed, $f failed$extra"
}

# step NAME COMMAND...: runs one check and records it as one test.
step() {
  local name=$1; shift
  local t0=$SECONDS
  echo "== $name: $*"
  if "$@"; then
    record "$name [$((SECONDS - t0)) s]" 1 0
  else
    record "$name [$((SECONDS - t0)) s]" 0 1
  fi
}

# rust_counts LOG: "PASSED FAILED IGNORED" summed over libtest's
# 'test result:' lines of a log.
rust_counts() {
  perl -ne '
    if (/^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored/) { $p += $1; $f += $2; $i += $3 }
    END { printf "%d %d %d\n", $p, $f, $i }' "$1"
}

# summary FILE: prints each step, then the totals; the last line is exactly
# "N passed, N failed". Returns 1 when anything failed.
summary() {
  local file=$1
  perl -e '
    my ($p, $f, $s) = (0, 0, 0);
    print "\n== Summary\n";
    open my $in, "<", $ARGV[0] or die "$ARGV[0]: $!";
    while (<$in>) {
      my @c = split;
      my ($sk, $fa, $pa) = (pop @c, pop @c, pop @c);
      printf "   %-60s %5d passed, %d failed%s\n", "@c", $pa, $fa, $sk ? ", $sk skipped" : "";
      $p += $pa; $f += $fa; $s += $sk;
    }
    print "   ($s skipped)\n" if $s;
    print "$p passed, $f failed\n";
    exit($f ? 1 : 0);' "$file"
}
