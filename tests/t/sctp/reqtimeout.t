# mod_reqtimeout keeps working on SCTP: a request line that never ends is
# answered with 408 (or the association closed) once header=3 s passes.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(time);
use SCTPClient;
use SCTPTest qw(SCTP_PORT);

plan tests => 3;

my $c = SCTPClient->new(port => SCTP_PORT);
my $t0 = time;
$c->send_raw("GET /index.html HTTP/1.1\r\nHost: loc");
my $res = $c->closed_within(20);
my $waited = time - $t0;
ok $res;
ok t_cmp($c->{buf}, qr/^(|HTTP\/1\.1 408 .*)$/s, '408 or nothing before the close');
ok $waited >= 2 && $waited < 15;
