# Keep-alive and pipelining on one stream of one association.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Apache::TestRequest qw(GET_BODY);
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only);

plan tests => 9;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');

my $index = GET_BODY '/index.html';
my $c = SCTPClient->new(port => SCTP_PORT);

# Three requests one after the other on the same association.
for my $i (1 .. 3) {
    my $r = $c->get('/index.html');
    ok t_cmp($r->{body}, $index, "keep-alive request $i");
}

# Five requests in one write (pipelined); answers in order.
my @paths = ('/index.html', '/no/such', '/index.html', '/errors/notfound.html', '/index.html');
$c->send_raw(join '', map { "GET $_ HTTP/1.1\r\nHost: localhost\r\n\r\n" } @paths);
my @st = map { $c->read_response->{status} } @paths;
ok t_cmp("@st", "200 404 200 200 200", 'pipelined responses in order');

# HEAD: headers only, and the association stays usable.
$c->send_raw("HEAD /index.html HTTP/1.1\r\nHost: localhost\r\n\r\n");
my $h = $c->read_response(head => 1);
ok t_cmp($h->{headers}{'content-length'}, length $index, 'HEAD has the length');
ok t_cmp($c->get('/index.html')->{body}, $index, 'GET after HEAD');

# Connection: close ends the association after the response.
my $r = $c->get('/index.html', headers => "Connection: close\r\n");
ok t_cmp($r->{body}, $index, 'last request');
ok t_cmp($c->closed_within(10), 1, 'server closed after Connection: close');
