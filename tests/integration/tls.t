#!/usr/bin/perl
# TLS over SCTP: mod_ssl on an SCTP listener.
#
# (a) `withsctp openssl s_client` (lksctp-tools turns openssl's TCP socket
#     into an SCTP one; the port refuses TCP, so only SCTP can have served
#     it) fetches a page over TLS: 200 and the exact body. This is what
#     worked before item 5 too: one client stream, one TLS byte stream.
# (b) A client completes a TLS handshake on stream 0 (IO::Socket::SSL over
#     an SCTP socket), fetches the page, then sends clear-text messages on
#     streams 3 and 5 (raw writes with SCTP_DEFAULT_SNDINFO, bypassing TLS),
#     then a second GET on stream 0: the TLS session still works (the stray
#     bytes were never handed to mod_ssl, and nothing was answered beside the
#     TLS session: a clear-text answer would land in the client's TLS byte
#     stream and break it), the error log has exactly one refusal line naming
#     the association, stream 3 and the reason, and the association's end
#     line counts both dropped messages. Before item 5 the stray bytes were
#     fed to mod_ssl as TLS records and the second GET failed.
#
# Runs as root inside the SCTP VM (own httpd); MPM from $SCTP_TEST_MPM
# (default event).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use Socket qw(AF_INET SOCK_STREAM pack_sockaddr_in inet_aton);
use POSIX ();
use SCTPTest qw(sctp_only eventually start_own_httpd slurp stop_own_httpd);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
for my $need ('/usr/bin/withsctp', '/usr/bin/openssl', '/usr/lib/apache2/modules/mod_ssl.so') {
    -e $need or plan skip_all => "$need missing (ci/setup installs lksctp-tools, openssl, apache2)";
}
eval { require IO::Socket::SSL; 1 }
    or plan skip_all => 'IO::Socket::SSL missing (ci/setup installs libio-socket-ssl-perl)';

use constant IPPROTO_SCTP        => 132;
use constant SCTP_DEFAULT_SNDINFO => 34;   # linux/sctp.h

my $PORT = 8890;
my $dir = tempdir('tls.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";
my $page = join '', map { "line $_ of the TLS test page\n" } 1 .. 200;
open my $f, '>', "$dir/htdocs/page.txt" or die;
print $f $page;
close $f;

# A throw-away self-signed certificate.
system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $dir/key.pem -out $dir/cert.pem"
     . " -days 2 -subj /CN=localhost >$dir/openssl-req.log 2>&1") == 0
    or BAIL_OUT('openssl req failed: ' . (slurp("$dir/openssl-req.log") // ''));

ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) with mod_ssl started")
LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so
LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so
SSLSessionCache shmcb:$dir/ssl_scache(512000)
Listen 127.0.0.1:$PORT sctp
<VirtualHost 127.0.0.1:$PORT>
    SSLEngine on
    SSLCertificateFile $dir/cert.pem
    SSLCertificateKeyFile $dir/key.pem
</VirtualHost>
EOX
    or BAIL_OUT('httpd did not start: ' . (slurp("$dir/error_log") // ''));
ok(sctp_only($PORT), "$PORT is SCTP only (eps, TCP refused)");

# (a) openssl s_client through withsctp.
{
    open my $req, '>', "$dir/req" or die;
    print $req "GET /page.txt HTTP/1.0\r\nHost: localhost\r\n\r\n";
    close $req;
    my $out = `timeout 30 withsctp openssl s_client -connect 127.0.0.1:$PORT -servername localhost -quiet <$dir/req 2>$dir/s_client.err`;
    my ($head, $body) = split /\r\n\r\n/, $out, 2;
    like($head // '', qr{^HTTP/1\.1 200 }, 'withsctp openssl s_client: 200')
        or diag("s_client stderr:\n" . (slurp("$dir/s_client.err") // ''));
    ok(defined $body && $body eq $page, 'withsctp openssl s_client: the exact body');
}

# (b) TLS on stream 0, clear text on streams 3 and 5, TLS again.
$SIG{PIPE} = 'IGNORE';
socket(my $s, AF_INET, SOCK_STREAM, IPPROTO_SCTP) or die "SCTP socket: $!";
connect($s, pack_sockaddr_in($PORT, inet_aton('127.0.0.1'))) or die "connect: $!";
my $tls = IO::Socket::SSL->start_SSL($s, SSL_verify_mode => 0, SSL_hostname => 'localhost', Timeout => 10);
ok($tls, 'TLS handshake over SCTP') or BAIL_OUT('handshake: ' . IO::Socket::SSL::errstr());
my $fd = fileno $tls;

# One keep-alive GET over TLS: (status, body), or (error) on failure.
sub tls_get {
    my $resp = '';
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 15;
        print {$tls} "GET /page.txt HTTP/1.1\r\nHost: localhost\r\n\r\n" or die "write: $!\n";
        while ($resp !~ /\r\n\r\n/) {
            my $n = sysread $tls, $resp, 65536, length $resp;
            die "read: " . ($n // IO::Socket::SSL::errstr()) . "\n" unless $n;
        }
        my ($len) = $resp =~ /^Content-Length:\s*(\d+)/mi;
        die "no Content-Length\n" unless defined $len;
        my $want = index($resp, "\r\n\r\n") + 4 + $len;
        while (length $resp < $want) {
            my $n = sysread $tls, $resp, 65536, length $resp;
            die "read: " . ($n // IO::Socket::SSL::errstr()) . "\n" unless $n;
        }
        alarm 0;
        1;
    };
    alarm 0;
    return ($@ || 'failed') unless $ok;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
    return ($status // "no status line: $head", $body);
}

# Sets the stream of the socket's next plain writes.
sub default_stream {
    my ($sid) = @_;
    setsockopt($s, IPPROTO_SCTP, SCTP_DEFAULT_SNDINFO, pack('SSLLl', $sid, 0, 0, 0, 0))
        or die "SCTP_DEFAULT_SNDINFO: $!";
}

my ($st1, $b1) = tls_get();
is($st1, 200, 'first GET over TLS on stream 0: 200');
ok(defined $b1 && $b1 eq $page, 'first GET: the exact body');

# Clear text beside the TLS session, written on the socket itself (not
# through TLS), as separate SCTP messages on streams 3 and 5.
my $stray = "GET /page.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
for my $sid (3, 5) {
    default_stream($sid);
    is(POSIX::write($fd, $stray, length $stray), length $stray, "clear-text message sent on stream $sid");
}
default_stream(0);
sleep 1;   # the stray messages reach the server before the next request

my ($st2, $b2) = tls_get();
is($st2, 200, 'second GET over TLS on stream 0, after the stray messages: 200');
ok(defined $b2 && $b2 eq $page, 'second GET: the exact body');
$tls->close(SSL_no_shutdown => 1);

my $refusals = sub {
    my @l = grep { /association \d+: message on stream \d+ dropped, unanswered: the association speaks TLS on stream 0/ }
            split /\n/, slurp("$dir/error_log") // '';
    return @l;
};
is(eventually(10, 1, sub { scalar $refusals->() }), 1, 'one refusal line for the association');
my @r = $refusals->();
like($r[0] // '', qr/\[sctp:info\].*association [1-9]\d*: message on stream 3 dropped/,
     'at info, with the association id and the first refused stream');
my $dropped = 2 * length $stray;
is(eventually(10, 1, sub {
    (slurp("$dir/error_log") // '') =~ /TLS on stream 0 ended; 2 message\(s\), $dropped byte\(s\) on other streams dropped/ ? 1 : 0
}), 1, 'the association\'s end counts both dropped messages');

stop_own_httpd($dir);
eventually(20, 0, sub { scalar(SCTPTest::sctp_listening($PORT)) ? 1 : 0 });
if (!Test::More->builder->is_passing) {
    diag(join '', grep { /sctp|ssl|error|emerg/i } split /^/, slurp("$dir/error_log") // '');
}
done_testing();
