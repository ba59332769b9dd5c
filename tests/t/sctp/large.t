# Large responses: a 50 MB file, with EnableSendfile/EnableMMAP on and off
# (two <Directory> blocks in extra.conf.in), byte-identical over SCTP: each
# write must be a bounded SCTP message, or the kernel refuses it (EMSGSIZE).
# Fetched by the Perl SCTP client and by curl (withsctp makes curl's socket
# an SCTP one; the port refuses TCP, so success means SCTP).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Digest::SHA;
use Time::HiRes qw(time);
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only);

my $have_curl = -x '/usr/bin/withsctp' && -x '/usr/bin/curl';
plan tests => 8 + ($have_curl ? 2 : 0);

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');

my $docroot = Apache::Test::vars('documentroot');
my $size = 50 * 1024 * 1024;
my $want = Digest::SHA->new(256);
my $block = join '', map { pack 'N', $_ * 2654435761 % 4294967296 } 1 .. 16384;   # 64 KB
for my $dir ('sendfile', 'nosendfile') {
    mkdir "$docroot/$dir";
    open my $f, '>', "$docroot/$dir/big.bin" or die $!;
    binmode $f;
    for my $i (0 .. $size / length($block) - 1) {
        my $b = pack('N', $i) . substr($block, 4);
        print $f $b;
        $want->add($b) if $dir eq 'sendfile';
    }
    close $f;
}
my $digest = $want->hexdigest;

# A large receive buffer keeps the transfer fast in the VM: with the
# kernel's default one, Linux SCTP stalls on window updates (see
# tests/README.md); correctness is the same either way.
for my $dir ('sendfile', 'nosendfile') {
    my $c = SCTPClient->new(port => SCTP_PORT, timeout => 120, rcvbuf => 4 << 20);
    my $got = Digest::SHA->new(256);
    my $n = 0;
    my $t0 = time;
    my $r = $c->get("/$dir/big.bin", sink => sub { $got->add($_[0]); $n += length $_[0] });
    t_debug(sprintf '%s: %d bytes in %.1f s', $dir, $n, time - $t0);
    ok t_cmp($r->{status}, 200, "$dir: status");
    ok t_cmp($n, $size, "$dir: length");
    ok t_cmp($got->hexdigest, $digest, "$dir: sha256");
}
ok t_cmp(sctp_only(SCTP_PORT), 1, 'still SCTP only after the transfers');

if ($have_curl) {
    my $out = Apache::Test::vars('t_dir') . '/curl-big.bin';
    my $t0 = time;
    my $code = `withsctp curl -sS --max-time 600 -o $out -w '%{http_code}' http://127.0.0.1:@{[SCTP_PORT]}/sendfile/big.bin 2>&1`;
    t_debug(sprintf 'curl: %.1f s', time - $t0);
    ok t_cmp($code, '200', 'withsctp curl: status');
    my $sha = -f $out ? Digest::SHA->new(256)->addfile($out)->hexdigest : 'no file';
    ok t_cmp($sha, $digest, 'withsctp curl: sha256');
    unlink $out;
}
