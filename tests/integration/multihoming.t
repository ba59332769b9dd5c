#!/usr/bin/perl
# Multihoming survives a path failure: two network namespaces
# (server, client) joined by two veth pairs, httpd bound to both server
# addresses (SCTPListen A B), the client (sctp-http, bound to both of its
# addresses) downloading a large file; the first path is taken down in the
# middle of the transfer. The download completes byte-identical, and the
# bytes after the failure came over the second path (its veth counters).
#
# SCTP's timers are per network namespace; both namespaces get short ones
# (RTO 100-500 ms, 2 retransmissions per path) so the failover takes about
# a second instead of the default half a minute.
#
# Runs as root inside the SCTP VM; MPM from $SCTP_TEST_MPM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use Digest::SHA qw(sha256_hex);
use Time::HiRes qw(sleep time);
use SCTPTest qw(eventually own_httpd_conf own_httpd_generations slurp);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $client = $ENV{SCTP_HTTP} // dirname($so) . '/sctp-http';
-x $client or BAIL_OUT("$client not built (cargo build --release --workspace)");
$> == 0 or plan skip_all => 'skipped: needs root for network namespaces (run inside the SCTP VM)';

my ($S, $C) = ("mhs$$", "mhc$$");
my $PORT = 8860;
my ($SA, $SB, $CA, $CB) = ('10.81.1.1', '10.81.2.1', '10.81.1.2', '10.81.2.2');
my $dir = tempdir('multihoming.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";

sub sh {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return $? == 0 ? 1 : (diag("$cmd: $out"), 0)[1];
}

sub cleanup {
    system("ip netns exec $S /usr/sbin/apache2 -f $dir/httpd.conf -k stop >/dev/null 2>&1");
    sleep 1;
    system("ip netns del $_ >/dev/null 2>&1") for $S, $C;
}
END { cleanup() if $S }

my $net_ok = sh("ip netns add $S") && sh("ip netns add $C")
    && sh("ip link add va0 type veth peer name va1") && sh("ip link add vb0 type veth peer name vb1")
    && sh("ip link set va0 netns $S && ip link set vb0 netns $S && ip link set va1 netns $C && ip link set vb1 netns $C")
    && sh("ip -n $S addr add $SA/24 dev va0 && ip -n $S addr add $SB/24 dev vb0")
    && sh("ip -n $C addr add $CA/24 dev va1 && ip -n $C addr add $CB/24 dev vb1")
    && sh("for n in $S $C; do ip -n \$n link set lo up; done")
    && sh("ip -n $S link set va0 up && ip -n $S link set vb0 up && ip -n $C link set va1 up && ip -n $C link set vb1 up");
ok($net_ok, 'two namespaces joined by two veth pairs') or BAIL_OUT('cannot build the topology');
for my $ns ($S, $C) {
    ok(sh("ip netns exec $ns sysctl -q -w net.sctp.rto_min=100 net.sctp.rto_max=500 net.sctp.rto_initial=200 "
          . "net.sctp.path_max_retrans=2 net.sctp.hb_interval=500"), "short SCTP timers in $ns");
}
# Slow the server's sending paths down so the transfer lasts a few seconds.
my $netem = sh("tc -n $S qdisc add dev va0 root netem rate 40mbit && tc -n $S qdisc add dev vb0 root netem rate 40mbit");
my $size = $netem ? 16 << 20 : 64 << 20;
note($netem ? 'netem: 40 Mbit/s per path' : 'no netem here: a larger file instead');

my $data = join '', map { pack 'N', $_ * 2654435761 % 4294967296 } 1 .. $size / 4;
{ open my $f, '>', "$dir/htdocs/big.bin" or die; binmode $f; print $f $data; }
open my $c, '>', "$dir/httpd.conf" or die;
print $c own_httpd_conf(dir => $dir, mpm => $mpm, so => $so, extra => "SCTPListen $SA:$PORT $SB\nTimeout 60\n");
close $c;
ok(sh("ip netns exec $S /usr/sbin/apache2 -f $dir/httpd.conf -k start"), 'httpd started in the server namespace');
is(eventually(60, 1, sub { own_httpd_generations($dir) ? 1 : 0 }), 1, "httpd ($mpm) running");

sub rx { my ($dev) = @_; chomp(my $n = `ip netns exec $C cat /sys/class/net/$dev/statistics/rx_bytes`); $n }

mkdir "$dir/out";
my $t0 = time;
my $pid = fork // die;
if (!$pid) {
    chdir "$dir/out";
    exec 'ip', 'netns', 'exec', $C, $client, 'get', '-q', '--local', $CA, '--local', $CB,
         '--timeout', '60', '-o', 'big.bin', "http://$SA:$PORT/big.bin";
    exit 127;
}
# Down with the primary path once a quarter of the file has arrived.
my $quarter = eventually(30, 1, sub { (-s "$dir/out/big.bin" // 0) > $size / 4 ? 1 : 0 });
is($quarter, 1, 'a quarter of the file arrived over the first path');
my $b_before = rx('vb1');
ok(sh("ip -n $C link set va1 down"), 'primary path (veth va) taken down mid-transfer');
my $down_at = -s "$dir/out/big.bin";
waitpid $pid, 0;
my $rc = $? >> 8;
my $took = time - $t0;
is($rc, 0, sprintf('the download completed (%.1f s)', $took));
my $got = slurp("$dir/out/big.bin") // '';
is(length $got, $size, 'all bytes');
is(sha256_hex($got), sha256_hex($data), 'byte-identical (sha256)');
my $moved = rx('vb1') - $b_before;
cmp_ok($moved, '>=', ($size - $down_at) * 0.9, "the rest ($moved bytes) came over the second path");

my $warned = eventually(10, 1, sub {
    (slurp("$dir/error_log") // '') =~ /\[sctp:warn\].*peer address \Q$CA\E:\d+ ADDR_(UNREACHABLE|POTENTIALLY_FAILED)/ ? 1 : 0;
});
is($warned, 1, 'the path failure is in the error log (warn)');

if (!Test::More->builder->is_passing) {
    diag(join '', grep { /sctp|error|emerg/i } split /^/, slurp("$dir/error_log") // '');
}
done_testing();
