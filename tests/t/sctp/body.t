# Request bodies over SCTP: Content-Length and chunked, echoed by a CGI.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only);

plan tests => 7, need_cgi;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');

my $body = join '', map { chr(($_ * 7 + 3) % 256) } 1 .. 300_000;

my $c = SCTPClient->new(port => SCTP_PORT);
$c->send_raw("POST /cgi-bin/echo.pl HTTP/1.1\r\nHost: localhost\r\n"
           . "Content-Type: application/octet-stream\r\nContent-Length: "
           . length($body) . "\r\n\r\n$body");
my $r = $c->read_response;
ok t_cmp($r->{status}, 200, 'POST with Content-Length');
ok t_cmp($r->{headers}{'x-body-length'}, length $body, 'CGI saw the whole body');
ok $r->{body} eq $body;

# Chunked upload, in chunks of varied sizes, on the same association.
my $chunked = '';
my $pos = 0;
for my $n (1, 10, 1000, 4096, 65536, 100_000) {
    my $piece = substr($body, $pos, $n);
    $pos += $n;
    $chunked .= sprintf("%x\r\n%s\r\n", length $piece, $piece);
}
$chunked .= "0\r\n\r\n";
my $sent = substr($body, 0, $pos);
$c->send_raw("POST /cgi-bin/echo.pl HTTP/1.1\r\nHost: localhost\r\n"
           . "Transfer-Encoding: chunked\r\n\r\n$chunked");
$r = $c->read_response;
ok t_cmp($r->{status}, 200, 'chunked POST');
ok t_cmp($r->{headers}{'x-body-length'}, length $sent, 'CGI saw the dechunked body');
ok $r->{body} eq $sent;
