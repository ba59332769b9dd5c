# The same site over SCTP and TCP: for a set of requests (files, directory
# redirect, index, errors, CGI, HEAD, conditional GET, ranges), status, the
# headers that do not depend on time, and body are the same on both.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use IO::Socket::INET;
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only);

my @requests = (
    ['GET',  '/index.html'],
    ['GET',  '/'],
    ['GET',  '/errors'],                      # 301 to /errors/
    ['GET',  '/errors/notfound.html'],
    ['GET',  '/no/such/file'],                # 404 with the ErrorDocument
    ['HEAD', '/index.html'],
    ['GET',  '/index.html', "Range: bytes=5-20\r\n"],
    ['GET',  '/index.html', "If-None-Match: \"*\"\r\n"],
    ['GET',  '/cgi-bin/echo.pl'],
    ['OPTIONS', '/index.html'],
    ['TRACE', '/'],                           # 405 (TraceEnable off) or 200
);
plan tests => 1 + 3 * @requests, need_cgi;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');

my $tcp_port = Apache::Test::vars('port');

# One request on a fresh TCP connection, read with the same parser as SCTP
# (SCTPClient's reader works on any socket).
sub over_tcp {
    my ($method, $path, $extra) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $tcp_port, Timeout => 10)
        or die "TCP connect: $!";
    my $c = bless { s => $s, buf => '', timeout => 30, max_read => 0, reads => 0 }, 'SCTPClient';
    $c->send_raw("$method $path HTTP/1.1\r\nHost: localhost\r\n" . ($extra // '') . "\r\n");
    return $c->read_response(head => $method eq 'HEAD');
}

my $sctp = SCTPClient->new(port => SCTP_PORT);
for my $req (@requests) {
    my ($method, $path, $extra) = @$req;
    my $t = over_tcp($method, $path, $extra);
    $sctp->send_raw("$method $path HTTP/1.1\r\nHost: localhost\r\n" . ($extra // '') . "\r\n");
    my $s = $sctp->read_response(head => $method eq 'HEAD');
    my $what = "$method $path" . ($extra ? " ($extra)" =~ s/\r\n//r : '');
    ok t_cmp($s->{status}, $t->{status}, "$what: status $t->{status} on both");
    # The body's length, as Content-Length or by chunks: httpd sets
    # Content-Length only when a response's whole body is in its first
    # brigade, which for a CGI depends on how fast the script ran, not on
    # the transport (a loaded machine once chunked the TCP one only).
    my $h = sub {
        my ($r) = @_;
        my %v = %{ $r->{headers} };
        $v{'content-length'} //= length($r->{body} // '')
            if ($v{'transfer-encoding'} // '') =~ /chunked/i;
        join '|', map { "$_=" . ($v{$_} // '') }
            qw(content-type content-length content-range location allow etag last-modified);
    };
    ok t_cmp($h->($s), $h->($t), "$what: same headers");
    ok t_cmp($s->{body}, $t->{body}, "$what: same body");
}
