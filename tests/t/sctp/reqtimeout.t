# mod_reqtimeout keeps working on SCTP (RequestReadTimeout header=3 body=10
# in extra.conf.in): a request line that never ends, and a body that stops
# half way, end in 408 (or the association closed) once the time is up.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(time);
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only);

plan tests => 7, need_cgi;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');

# Half a request: the header timeout (3 s) ends it.
my $c = SCTPClient->new(port => SCTP_PORT);
my $t0 = time;
$c->send_raw("GET /index.html HTTP/1.1\r\nHost: loc");
my $res = $c->closed_within(20);
my $waited = time - $t0;
ok $res;
ok t_cmp($c->{buf}, qr/^(|HTTP\/1\.1 408 .*)$/s, '408 or nothing before the close');
ok t_cmp($waited >= 2 && $waited < 15 ? 1 : sprintf('%.1f s', $waited), 1, 'header timeout after about 3 s');

# A body that stops after 10 of 1000 bytes: the body timeout (10 s) ends it.
my $b = SCTPClient->new(port => SCTP_PORT);
$t0 = time;
$b->send_raw("POST /cgi-bin/echo.pl HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n0123456789");
$res = $b->closed_within(40);
$waited = time - $t0;
ok $res;
ok t_cmp($b->{buf}, qr/^(|HTTP\/1\.1 (408|500) .*)$/s, 'an error status or nothing before the close');
ok t_cmp($waited >= 8 && $waited < 30 ? 1 : sprintf('%.1f s', $waited), 1, 'body timeout after about 10 s');
