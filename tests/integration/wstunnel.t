#!/usr/bin/perl
# Small writes in a tunnel are sent at once: a websocket echo through
# mod_proxy_wstunnel over SCTP. The client talks SCTP to httpd, httpd
# proxies to a websocket echo backend over TCP that this test runs itself;
# frames of 1..10 bytes must each come back within 100 ms. mod_proxy's
# tunnel passes each piece it reads from the backend without a FLUSH and
# then asks the connection's last output filter whether data is pending
# (ap_filter_output_pending): SCTP_OUT used to keep such pieces (under 4 KB)
# for more, so no frame ever came back.
# Two paths: /ws/ with the default ProxyWebsocketFallbackToProxyHttp On
# (mod_proxy_http's tunnel, ap_proxy_tunnel_run) and /wst/ with it Off
# (mod_proxy_wstunnel's own loop). Runs as root inside the SCTP VM; MPM
# from $SCTP_TEST_MPM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use Digest::SHA qw(sha1_base64);
use Time::HiRes qw(time);
use POSIX ();
use SCTPClient;
use SCTPTest qw(eventually start_own_httpd slurp stop_own_httpd);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $PORT = 8880;
my $BACKEND = 8881;
my $mods = '/usr/lib/apache2/modules';
for (qw(mod_proxy mod_proxy_http mod_proxy_wstunnel)) {
    plan skip_all => "$mods/$_.so missing (apache2)" unless -e "$mods/$_.so";
}
my $dir = tempdir('wstunnel.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";

# The websocket echo backend (RFC 6455, frames under 126 bytes), one
# process per connection.
my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $BACKEND, Listen => 16, ReuseAddr => 1)
    or die "backend listen: $!";
my $backend = fork // die "fork: $!";
if (!$backend) {
    $SIG{CHLD} = 'IGNORE';
    while (my $s = $listen->accept) {
        next if fork;
        echo_websocket($s);
        POSIX::_exit(0);
    }
    POSIX::_exit(0);
}
close $listen;

sub echo_websocket {
    my ($s) = @_;
    my $buf = '';
    my $need = sub {    # at least $n bytes in $buf, or exit at EOF
        my ($n) = @_;
        while (length $buf < $n) {
            sysread($s, $buf, 65536, length $buf) or POSIX::_exit(0);
        }
    };
    $need->(4) until $buf =~ /\r\n\r\n/;
    my ($key) = $buf =~ /^Sec-WebSocket-Key:\s*(\S+)/mi;
    $buf =~ s/\A.*?\r\n\r\n//s;
    my $accept = sha1_base64(($key // '') . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11') . '=';
    syswrite $s, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        . "Sec-WebSocket-Accept: $accept\r\n\r\n";
    while (1) {
        $need->(2);
        my ($b1, $b2) = unpack 'CC', $buf;
        my $len = $b2 & 0x7f;
        my $masked = $b2 & 0x80;
        my $hdr = 2 + ($masked ? 4 : 0);
        $need->($hdr + $len);
        my $mask = $masked ? substr($buf, 2, 4) : "\0\0\0\0";
        my $payload = substr($buf, $hdr, $len) ^ substr($mask x (1 + $len / 4), 0, $len);
        substr($buf, 0, $hdr + $len) = '';
        my $opcode = $b1 & 0x0f;
        syswrite $s, pack('CC', 0x80 | $opcode, $len) . $payload;
        POSIX::_exit(0) if $opcode == 8;
    }
}

ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) started") or BAIL_OUT('httpd did not start');
LoadModule proxy_module $mods/mod_proxy.so
LoadModule proxy_http_module $mods/mod_proxy_http.so
LoadModule proxy_wstunnel_module $mods/mod_proxy_wstunnel.so
Listen 127.0.0.1:$PORT sctp
ProxyPass /ws/ ws://127.0.0.1:$BACKEND/
<Location /wst/>
    ProxyWebsocketFallbackToProxyHttp Off
    ProxyPass ws://127.0.0.1:$BACKEND/
</Location>
EOX

# Reads from the SCTP socket into $$buf until $done->() or $secs pass.
sub read_until {
    my ($s, $buf, $secs, $done) = @_;
    my $until = time + $secs;
    my $sel = IO::Select->new($s);
    until ($done->()) {
        my $left = $until - time;
        return 0 if $left <= 0 || !$sel->can_read($left);
        sysread($s, $$buf, 65536, length $$buf) or return 0;
    }
    return 1;
}

for my $path ('/ws/echo', '/wst/echo') {
    my $c = SCTPClient->new(port => $PORT, timeout => 10);
    my $s = $c->socket_handle;
    $c->send_raw("GET $path HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        . "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    my $buf = '';
    read_until($s, \$buf, 10, sub { $buf =~ /\r\n\r\n/ });
    like($buf, qr{\AHTTP/1\.1 101 .*\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n}si, "$path: 101 from the backend through the proxy");
    $buf =~ s/\A.*?\r\n\r\n//s;
    my $stuck = 0;
    for my $n (1 .. 10) {
        my $payload = substr('abcdefghij', 0, $n);
        my $mask = pack 'N', 0x01020304 * $n;
        my $t0 = time;
        $c->send_raw(pack('CC', 0x81, 0x80 | $n) . $mask . ($payload ^ substr($mask x 3, 0, $n)));
        # Waits up to 2 s (0.2 s once one frame was stuck) to tell a late
        # frame from a lost one.
        read_until($s, \$buf, $stuck ? 0.2 : 2, sub { length $buf >= 2 + $n });
        my $dt = time - $t0;
        my $frame = substr($buf, 0, 2 + $n, '');
        $stuck = 1 if length $frame < 2 + $n;
        is($frame, pack('CC', 0x81, $n) . $payload, "$path: $n-byte frame echoed");
        cmp_ok($dt, '<', 0.1, sprintf("$path: $n-byte frame echoed within 100 ms (%.1f ms)", $dt * 1000));
    }
    # Close handshake.
    $c->send_raw(pack('CC', 0x88, 0x80) . "\0\0\0\0");
    read_until($s, \$buf, 5, sub { length $buf >= 2 });
    is(substr($buf, 0, 2), pack('CC', 0x88, 0), "$path: close frame echoed");
    close $s;
}

stop_own_httpd($dir);
kill 'TERM', $backend;
waitpid $backend, 0;
eventually(20, 0, sub { scalar(SCTPTest::sctp_listening($PORT)) ? 1 : 0 });
if (!Test::More->builder->is_passing) {
    diag(join '', grep { /sctp|proxy|error|emerg/i } split /^/, slurp("$dir/error_log") // '');
}
done_testing();
