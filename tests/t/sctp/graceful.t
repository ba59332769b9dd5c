# Graceful restarts keep the SCTP listeners: each generation serves, and
# the parent's descriptors do not grow from one generation to the next.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Apache::TestRequest qw(GET_BODY);
use SCTPClient;
use SCTPTest qw(SCTP_PORT SHARED_PORT MULTIHOMED_PORT httpd_fd_count sctp_listening sctp_only);

plan tests => 5 * 3 + 1;

my $index = GET_BODY '/index.html';
my $pidfile = Apache::Test::vars('t_pid_file');
open my $pf, '<', $pidfile or die $!;
chomp(my $parent = <$pf>);
my $errlog = Apache::Test::vars('t_logs') . '/error_log';

sub generations {
    open my $f, '<', $errlog or return 0;
    return scalar grep { /resuming normal operations/ } <$f>;
}

my @fds;
for my $round (1 .. 3) {
    my $gen = generations();
    kill 'USR1', $parent or die "USR1: $!";
    my $waited = 0;
    while (generations() <= $gen && $waited++ < 100) { select undef, undef, undef, 0.2 }
    ok t_cmp(generations(), $gen + 1, "graceful restart $round done");
    select undef, undef, undef, 1;
    ok t_cmp(sctp_only(SCTP_PORT), 1, "still SCTP only on " . SCTP_PORT . " after restart $round");
    ok t_cmp(SCTPClient->new(port => SCTP_PORT)->get('/index.html')->{body}, $index, "SCTP serves after restart $round");
    ok t_cmp(SCTPClient->new(port => MULTIHOMED_PORT, host => '127.0.0.2')->get('/index.html')->{body}, $index,
             "multihomed listener serves after restart $round");
    ok t_cmp(scalar(() = sctp_listening(SHARED_PORT)) > 0, 1, "shared-port listener still there after $round");
    push @fds, httpd_fd_count($pidfile, 1);
}
ok t_cmp("@fds", join(' ', ($fds[0]) x 3), 'parent descriptors stable across generations');
