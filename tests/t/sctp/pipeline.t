# Requests and SCTP messages do not line up: the input side must find
# request boundaries in a byte stream made of messages. Pipelined requests
# with bodies in one message; requests cut into tiny messages; a request
# split across messages sent with pauses in between.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Apache::TestRequest qw(GET_BODY);
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only);

plan tests => 10, need_cgi;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');
my $index = GET_BODY '/index.html';

# POST (Content-Length), POST (chunked), GET: one message.
my $c = SCTPClient->new(port => SCTP_PORT);
my $b1 = "first body " x 100;
my $b2 = "second body" x 50;
$c->send_raw("POST /cgi-bin/echo.pl HTTP/1.1\r\nHost: localhost\r\nContent-Length: " . length($b1) . "\r\n\r\n$b1"
           . "POST /cgi-bin/echo.pl HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
           . sprintf("%x\r\n%s\r\n0\r\n\r\n", length $b2, $b2)
           . "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
my @r = map { $c->read_response } 1 .. 3;
ok t_cmp($r[0]{body}, $b1, 'pipelined POST with Content-Length');
ok t_cmp($r[1]{body}, $b2, 'pipelined chunked POST');
ok t_cmp($r[2]{body}, $index, 'pipelined GET after the bodies');

# Ten GETs written 7 bytes at a time: about 60 SCTP messages, none of which
# holds a whole request line.
my $t = SCTPClient->new(port => SCTP_PORT);
my $all = "GET /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n" x 10;
for (my $i = 0; $i < length $all; $i += 7) {
    my $piece = substr($all, $i, 7);
    defined syswrite($t->socket_handle, $piece) or die "send: $!";
}
my $same = grep { $t->read_response->{body} eq $index } 1 .. 10;
ok t_cmp($same, 10, 'ten requests cut into 7-byte messages');

# A request line and a body that arrive in pieces, with pauses.
my $p = SCTPClient->new(port => SCTP_PORT);
my $body = 'x' x 5000;
for my $piece ("POST /cgi-bin/ec", "ho.pl HTTP/1.1\r\nHo", "st: localhost\r\nContent-Length: 5000\r\n",
               "\r\n", substr($body, 0, 1234), substr($body, 1234)) {
    $p->send_raw($piece);
    select undef, undef, undef, 0.3;
}
my $r = $p->read_response;
ok t_cmp($r->{status}, 200, 'request in pieces with pauses');
ok t_cmp(length $r->{body}, 5000, 'body in pieces arrived whole');

# Many keep-alive requests on one association, each in its own message.
my $k = SCTPClient->new(port => SCTP_PORT);
my $ok = grep { $k->get('/index.html')->{body} eq $index } 1 .. 50;
ok t_cmp($ok, 50, '50 requests on one association');
my $z = $k->get('/no/such');
ok t_cmp($z->{status}, 404, 'and a 404 among them');
ok t_cmp($k->get('/index.html')->{body}, $index, 'and still serving');
