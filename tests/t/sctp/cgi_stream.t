# A CGI that streams: its first part reaches the client before it ends.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Time::HiRes qw(time);
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only);

plan tests => 5, need_cgi;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');

my $c = SCTPClient->new(port => SCTP_PORT);
my $t0 = time;
my ($first_at, $body) = (undef, '');
my $r = $c->get('/cgi-bin/stream.pl', sink => sub {
    $body .= $_[0];
    $first_at //= time if $body =~ /first part/;
});
ok t_cmp($r->{status}, 200, 'status');
ok t_cmp($body, "first part\nsecond part\n", 'whole body');
# The CGI sleeps 3 s between its parts: the first must not wait for it.
ok defined $first_at && $first_at - $t0 < 2.5;
ok time - $t0 >= 2.9;
