#!/usr/bin/perl
# A peer that stops reading costs the server nothing past its Timeout:
# 200 peers each request a large file and never read. httpd gives up on
# each at Timeout; mod_sctp then aborts the association (SO_LINGER 0), so
# the kernel frees it and its send queue at once, and logs it. Before, the
# closed association stayed in SHUTDOWN_PENDING with its send queue for
# 15 s to over a minute. Runs as root inside the SCTP VM; MPM from
# $SCTP_TEST_MPM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use SCTPClient;
use SCTPTest qw(eventually start_own_httpd slurp sctp_assocs httpd_pids);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $PORT = 8886;
my $PEERS = 200;
my $TIMEOUT = 3;
my $dir = tempdir('stalled_peers.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";
{ open my $f, '>', "$dir/htdocs/large.bin" or die; print $f 'x' x (4 << 20); }
{ open my $f, '>', "$dir/htdocs/index.html" or die; print $f "still serving\n"; }
{ open my $f, '>', "$dir/htdocs/tail.bin" or die; print $f 'y' x (100 << 10); }

# Enough workers for every peer at once, so that each is served as soon
# as it asks; small send buffers keep the VM's memory bounded (the kernel
# doubles them: 256 KB per association).
my $workers = $mpm eq 'prefork'
    ? "StartServers 210\nMinSpareServers 210\nMaxSpareServers 250\nServerLimit 250\nMaxRequestWorkers 250\n"
    : "StartServers 10\nServerLimit 12\nThreadsPerChild 25\nMinSpareThreads 250\nMaxSpareThreads 300\nMaxRequestWorkers 300\n";
ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) started") or BAIL_OUT('httpd did not start');
Listen 127.0.0.1:$PORT sctp
Timeout $TIMEOUT
SCTPSendBuffer 128K
$workers
EOX
my $children = $mpm eq 'prefork' ? 200 : 10;
my $up = eventually(60, 1, sub { httpd_pids("$dir/httpd.pid") > $children ? 1 : 0 });
is($up, 1, "at least $children children running");
sleep 1;

# The peers: a small receive buffer, one request each, never a read.
my @peers;
for (1 .. $PEERS) {
    my $c = eval { SCTPClient->new(port => $PORT, rcvbuf => 16 << 10, timeout => 5) } or last;
    $c->send_raw("GET /large.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
    push @peers, $c;
}
my $asked = time;
is(scalar @peers, $PEERS, "$PEERS peers connected and asked for a 4 MB file");
cmp_ok(sctp_assocs($PORT), '>=', $PEERS * 0.9, 'the server holds their associations');

# Every association must be gone within Timeout + 2 s of the last request,
# while the peers still have their sockets open.
my $left;
my $deadline = $asked + $TIMEOUT + 2;
while (1) {
    $left = sctp_assocs($PORT);
    last if !$left || time > $deadline;
    sleep 0.1;
}
my $took = time - $asked;
is($left, 0, sprintf('no association of the stalled peers left %.1f s after the last request (Timeout %d + 2 s)', $took, $TIMEOUT));
if ($left) {
    # What the kernel kept, for the record.
    open my $f, '<', '/proc/net/sctp/assocs';
    my @kept = grep { ((split)[11] // '') eq $PORT } <$f>;
    diag("still there:\n" . join '', @kept[0 .. ($#kept < 4 ? $#kept : 4)]);
}
my $final = eventually(60, 0, sub { sctp_assocs($PORT) });
diag("all gone after " . sprintf('%.1f', time - $asked) . " s") if $left;
close $_->socket_handle for @peers;

# Peers whose whole (smaller) response is queued in the kernel when the
# connection ends (Connection: close) and who never read: the end of the
# connection waits while they take data, then aborts them too.
my $TAIL = 20;
my @tail;
for (1 .. $TAIL) {
    my $c = eval { SCTPClient->new(port => $PORT, rcvbuf => 16 << 10, timeout => 5) } or last;
    $c->send_raw("GET /tail.bin HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    push @tail, $c;
}
$asked = time;
is(scalar @tail, $TAIL, "$TAIL peers asked for a 100 KB file with Connection: close");
$deadline = $asked + $TIMEOUT + 2;
while (1) {
    $left = sctp_assocs($PORT);
    last if !$left || time > $deadline;
    sleep 0.1;
}
is($left, 0, sprintf('their associations are gone %.1f s after the last request (Timeout %d + 2 s)', time - $asked, $TIMEOUT));
eventually(60, 0, sub { sctp_assocs($PORT) });
close $_->socket_handle for @tail;
my $tail_aborts = eventually(10, $TAIL, sub {
    scalar(() = (slurp("$dir/error_log") // '') =~ /peer 127\.0\.0\.1 took none of the response's last data for \d+ s \(Timeout\) after the connection ended: aborting/g);
});
is($tail_aborts, $TAIL, 'each is logged at info with the peer');

# One info line per abort, naming the peer.
my $aborts = eventually(10, $PEERS, sub {
    scalar(() = (slurp("$dir/error_log") // '') =~ /peer 127\.0\.0\.1 took no data for \d+ s \(Timeout\): aborting the association/g);
});
is($aborts, $PEERS, 'each abort is logged at info with the peer');

my $get = eval { SCTPClient->new(port => $PORT, timeout => 10)->get('/index.html')->{body} } // "error: $@";
is($get, "still serving\n", 'the server goes on serving');

system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'stop');
eventually(30, 0, sub { scalar(SCTPTest::sctp_listening($PORT)) ? 1 : 0 });
if (!Test::More->builder->is_passing) {
    my @log = grep { /sctp|error|emerg/i } split /^/, slurp("$dir/error_log") // '';
    diag(join '', @log[0 .. ($#log < 40 ? $#log : 40)]);
}
done_testing();
