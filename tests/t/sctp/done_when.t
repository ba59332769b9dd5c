# The issue's "done when": with 'Listen 127.0.0.1:8601 sctp', the kernel
# lists the port in /proc/net/sctp/eps, a TCP connect to it is refused, and
# an SCTP client gets a file byte-identical (and the same as over TCP).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Apache::TestRequest qw(GET_BODY);
use Digest::SHA qw(sha256_hex);
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_listening tcp_refused);

my $have_curl = -x '/usr/bin/withsctp' && -x '/usr/bin/curl';
plan tests => 5 + ($have_curl ? 1 : 0);

my @eps = sctp_listening(SCTP_PORT);
ok t_cmp("@eps", qr/\b127\.0\.0\.1\b/, '/proc/net/sctp/eps lists 127.0.0.1:' . SCTP_PORT);
ok t_cmp(tcp_refused(SCTP_PORT), 1, 'a TCP connect to ' . SCTP_PORT . ' is refused');

# A file made now (2 MB of varied bytes, every byte value present).
my $docroot = Apache::Test::vars('documentroot');
mkdir "$docroot/done";
my $data = join '', map { pack('N', $_ * 2246822519 % 4294967296) . chr($_ % 256) x 4 } 1 .. (1 << 18);
open my $f, '>', "$docroot/done/file.bin" or die $!;
binmode $f;
print $f $data;
close $f;

my $r = SCTPClient->new(port => SCTP_PORT, rcvbuf => 4 << 20)->get('/done/file.bin');
ok t_cmp($r->{status}, 200, 'SCTP client: 200');
ok t_cmp(sha256_hex($r->{body}), sha256_hex($data), 'SCTP client: byte-identical');
ok t_cmp(sha256_hex(GET_BODY('/done/file.bin')), sha256_hex($data), 'the same file over TCP');
if ($have_curl) {
    my $got = `withsctp curl -sS --max-time 300 http://127.0.0.1:@{[SCTP_PORT]}/done/file.bin`;
    ok t_cmp(sha256_hex($got), sha256_hex($data), 'withsctp curl: byte-identical');
}
