#!/usr/bin/perl
# Graceful restarts that change the configuration between generations:
# SCTP->TCP, TCP->SCTP, a multihoming address added and removed. Each
# generation serves what it says, and the parent's descriptors return to
# their count when the configuration does. Runs its own httpd (as root,
# inside the SCTP VM).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use SCTPClient;
use SCTPTest qw(sctp_listening tcp_refused eventually own_httpd_conf own_httpd_generations stop_own_httpd);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $dir = tempdir('restart.XXXXXX', TMPDIR => 1, CLEANUP => 1);
END { if ($? || !Test::More->builder->is_passing) { if (open my $e, '<', "$dir/error_log") { diag(join '', grep { /sctp|error|emerg|notice/i } <$e>) } } }
mkdir "$dir/htdocs";
open my $ix, '>', "$dir/htdocs/index.html" or die;
print $ix "generation test page\n";
close $ix;
chmod 0755, $dir;

sub write_conf {
    my ($listen) = @_;
    open my $f, '>', "$dir/httpd.conf" or die;
    print $f own_httpd_conf(dir => $dir, mpm => $mpm, so => $so, extra => $listen);
    close $f;
}

sub generations { own_httpd_generations($dir) }

sub parent_pid {
    open my $f, '<', "$dir/httpd.pid" or return;
    chomp(my $p = <$f>);
    return $p;
}

sub parent_fds {
    my $p = parent_pid() or return -1;
    opendir my $d, "/proc/$p/fd" or return -1;
    return scalar grep { /^\d+$/ } readdir $d;
}

sub sctp_get {
    my ($port, $host) = @_;
    my $r = eval { SCTPClient->new(port => $port, host => $host, timeout => 20)->get('/index.html') };
    return $r ? $r->{body} : "error: $@";
}

sub tcp_get {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 5)
        or return "error: $!";
    print $s "GET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    local $/;
    my $resp = <$s>;
    return $resp =~ /\r\n\r\n(.*)\z/s ? $1 : "error: $resp";
}

my $page = "generation test page\n";
my $gen = 0;
sub restart {
    my ($listen, $what) = @_;
    write_conf($listen);
    my $before = generations();
    if (!$gen++) {
        system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'start') == 0 or die "start failed";
    } else {
        kill 'USR1', parent_pid() or die "USR1: $!";
    }
    my $now = eventually(30, $before + 1, \&generations);
    is($now, $before + 1, "generation $gen started: $what");
    select undef, undef, undef, 1;
}

# 1. SCTP on 8801, TCP on 8802.
restart("Listen 127.0.0.1:8801 sctp\nListen 127.0.0.1:8802", 'SCTP 8801, TCP 8802');
is(sctp_get(8801), $page, 'gen 1: SCTP serves 8801');
ok(tcp_refused(8801), 'gen 1: no TCP on 8801');
is(tcp_get(8802), $page, 'gen 1: TCP serves 8802');
is(scalar(sctp_listening(8802)), 0, 'gen 1: no SCTP on 8802');
my $fds1 = parent_fds();

# 2. Swapped: SCTP->TCP on 8801, TCP->SCTP on 8802.
restart("Listen 127.0.0.1:8801\nListen 127.0.0.1:8802 sctp", 'TCP 8801, SCTP 8802');
is(tcp_get(8801), $page, 'gen 2: TCP serves 8801 (was SCTP)');
is(scalar(sctp_listening(8801)), 0, 'gen 2: the SCTP socket on 8801 is closed');
is(sctp_get(8802), $page, 'gen 2: SCTP serves 8802 (was TCP)');
ok(tcp_refused(8802), 'gen 2: the TCP socket on 8802 is closed');
is(parent_fds(), $fds1, 'gen 2: same listener count, same descriptors');

# 3. A multihomed listener added.
restart("Listen 127.0.0.1:8801\nListen 127.0.0.1:8802 sctp\nSCTPListen 127.0.0.1:8803 127.0.0.2",
        'multihomed SCTP 8803 added');
like(join(' ', sctp_listening(8803)), qr/127\.0\.0\.2/, 'gen 3: 8803 bound to 127.0.0.2 too');
is(sctp_get(8803, '127.0.0.2'), $page, 'gen 3: served on the extra address');
is(sctp_get(8802), $page, 'gen 3: 8802 still served');
is(parent_fds(), $fds1 + 1, 'gen 3: one more listener, one more descriptor');

# 4. The extra address removed.
restart("Listen 127.0.0.1:8801\nListen 127.0.0.1:8802 sctp\nSCTPListen 127.0.0.1:8803",
        'extra address removed');
unlike(join(' ', sctp_listening(8803)), qr/127\.0\.0\.2/, 'gen 4: 127.0.0.2 no longer bound');
is(sctp_get(8803, '127.0.0.1'), $page, 'gen 4: primary address served');
like(sctp_get(8803, '127.0.0.2'), qr/^error/, 'gen 4: extra address refused');
is(parent_fds(), $fds1 + 1, 'gen 4: the replaced socket was closed');

# 5. Back to the first configuration: nothing leaked on the way.
restart("Listen 127.0.0.1:8801 sctp\nListen 127.0.0.1:8802", 'back to generation 1');
is(sctp_get(8801), $page, 'gen 5: SCTP serves 8801 again');
is(tcp_get(8802), $page, 'gen 5: TCP serves 8802 again');
is(scalar(sctp_listening(8803)), 0, 'gen 5: 8803 closed');
is(parent_fds(), $fds1, 'gen 5: parent descriptors back to generation 1');

stop_own_httpd($dir);
eventually(20, 0, sub { kill(0, parent_pid() // 0) ? 1 : 0 });
is(scalar(sctp_listening(8801)), 0, 'stopped: SCTP listener closed');
done_testing();
