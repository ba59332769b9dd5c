#!/usr/bin/perl
# Path failover of a multihomed association, with the Perl SCTP client
# (tests/t/lib/SCTPClient.pm, so it does not depend on sctp-http; see
# multihoming.t for the same failure seen through sctp-http).
#
# Topology, built inside the SCTP VM (its UML kernel has CONFIG_NET_NS=y,
# and ci/vm loads veth.ko and sch_netem.ko):
#
#     namespace S (httpd)                     namespace C (client)
#     fa0 10.82.1.1/24  <---- veth pair A ---->  fa1 10.82.1.2/24   primary
#     fb0 10.82.2.1/24  <---- veth pair B ---->  fb1 10.82.2.2/24
#
# httpd listens with 'SCTPListen 10.82.1.1:8870 10.82.2.1' (one socket bound
# to both addresses, announced in INIT-ACK). The client binds nothing and
# connects to 10.82.1.1 only: the kernel announces both client addresses in
# INIT, and learns the server's second address from INIT-ACK, so both ends
# are multihomed without any help from the client. netem limits the server's
# sending rate on both veths to 40 Mbit/s so that a 16 MB download lasts a
# few seconds. Once a quarter of it has arrived, the server's end of pair A
# is set down (the veth peer loses its carrier too).
#
# Asserted: the download completes with status 200, full length and the
# same sha256; before the failure pair A carried the bytes, after it the
# rest came over pair B (the client's veth rx counters); the kernels' own
# path states (/proc/net/sctp/remaddr in each namespace) show the failed
# address inactive and the other active while the association lives on;
# mod_sctp logs the failure at warn. Then pair A comes back: heartbeats make
# the address active again, and a second download on the same association
# is byte-identical and goes over pair A again (Linux SCTP returns to the
# primary path once it is active).
#
# Fast failover without sysctls: each end sets its own timers. httpd's
# through mod_sctp's directives (SCTPRTOInitial 300, SCTPRTOMin 100,
# SCTPRTOMax 500, SCTPHeartbeatInterval 400, SCTPPathMaxRetransmissions 1,
# SCTPMaxRetransmissions 8), the client through the same socket options
# (SCTP_RTOINFO 300/100/1000 ms, SCTP_PEER_ADDR_PARAMS heartbeat 500 ms,
# path_max_retrans 2); both namespaces keep the kernel's net.sctp.*
# defaults (rto_min 1 s, rto_max 60 s, path_max_retrans 5, hb_interval 30 s,
# association_max_retrans 10), and pf_retrans 0 (a path is "potentially
# failed", and avoided, after its first timeout). The server's association
# is checked to run with the directives' values (/proc/net/sctp/assocs and
# remaddr in namespace S), and the server must declare the failed path
# unreachable (ADDR_UNREACHABLE) within 2 s of its failure: two timeouts
# (SCTPPathMaxRetransmissions 1, plus one) of at most 500 ms and 1 s. With
# the kernel's defaults that takes 6 timeouts backing off from 1 s, about
# a minute (1+2+4+8+16+32 s), while data moves after the first timeout
# (1.4 s in one run).
#
# Nothing should make pair B carry data before the failure: retransmissions
# go to the alternate path (RFC 4960 6.4), so a loss or a spurious timeout
# would. The client's 1 MB receive buffer bounds what is in flight to about
# 1 MB, which fits netem's 1000-packet queue (no drops) and waits there at
# most 0.2 s at 40 Mbit/s, well under rto_max. The counters are read through
# /proc/PID/net of a process in each namespace: a version that polled by
# spawning 'ip netns exec' loaded the one-CPU VM and saw pair B carry data
# before the failure. The check allows pair B up to half of pair A's bytes
# before the failure: if B were the path in use, it would carry nearly all.
#
# Runs as root inside the SCTP VM (httpd drops to nobody); MPM from
# $SCTP_TEST_MPM (default event). Outside a VM, without root or without
# kernel SCTP it says "skipped: <why>"; inside the VM (hostname sctp-vm) a
# topology that cannot be built is a failure, not a skip.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";

# Client mode: this same file, run in namespace C by 'ip netns exec'. One
# association; commands on stdin ("get PATH FILE"), one answer line each on
# stdout ("done STATUS BYTES" or "error WHY"); exits at end of input.
BEGIN {
    if (@ARGV && $ARGV[0] eq '--client') {
        require SCTPClient;
        my (undef, $host, $port) = @ARGV;
        $| = 1;
        my $c = eval { SCTPClient->new(host => $host, port => $port, timeout => 60, rcvbuf => 1 << 20,
                                       timers => { rto_initial => 300, rto_min => 100, rto_max => 1000,
                                                   hb_interval => 500, path_max_retrans => 2 }) };
        if (!$c) { print "error connect: $@"; exit 1 }
        print "connected\n";
        while (my $cmd = <STDIN>) {
            my ($verb, $path, $file) = split ' ', $cmd;
            next unless ($verb // '') eq 'get';
            my $n = 0;
            my $r = eval {
                open my $out, '>', $file or die "$file: $!\n";
                binmode $out;
                my $r = $c->get($path, sink => sub {
                    defined syswrite($out, $_[0]) or die "write $file: $!\n";
                    $n += length $_[0];
                });
                close $out;
                $r;
            };
            if ($r) { print "done $r->{status} $n\n" }
            else { (my $why = $@) =~ s/\s+/ /g; print "error $why\n" }
        }
        exit 0;
    }
}

use Test::More;
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);
use IO::Select;
use IPC::Open2;
use Time::HiRes qw(sleep time);
use SCTPTest qw(eventually own_httpd_conf own_httpd_generations slurp);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
chomp(my $host = `uname -n`);
my $in_vm = $host eq 'sctp-vm';
if (!$in_vm) {
    $> == 0 or plan skip_all => 'skipped: needs root for network namespaces (run it inside the SCTP VM: ci/vm)';
    -d '/proc/net/sctp' or plan skip_all => 'skipped: this kernel has no SCTP (run it inside the SCTP VM: ci/vm)';
}

my ($S, $C) = ("fos$$", "foc$$");
my ($SA, $SB, $CA, $CB) = ('10.82.1.1', '10.82.2.1', '10.82.1.2', '10.82.2.2');
my $PORT = 8870;
my $SIZE = 16 << 20;
my $SIZE2 = 4 << 20;
my $dir = tempdir('failover.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";
mkdir "$dir/out";

# Runs a shell command; on failure says what it printed.
sub sh {
    my ($cmd) = @_;
    my $out = `$cmd 2>&1`;
    return 1 if $? == 0;
    diag("$cmd: exit " . ($? >> 8) . ": $out");
    return 0;
}

my ($made_ns, $client_pid, $to_client, $from_client, %pid_in);
END {
    my $rc = $?;
    if ($client_pid) {
        close $to_client if $to_client;
        kill 'KILL', $client_pid;
        waitpid $client_pid, 0;
    }
    if ($made_ns) {
        if (my $pid = slurp("$dir/httpd.pid")) {
            chomp $pid;
            system("ip netns exec $S /usr/sbin/apache2 -f $dir/httpd.conf -k stop >/dev/null 2>&1");
            for (1 .. 100) { last unless kill 0, $pid; sleep 0.1 }
            kill 'KILL', $pid if kill 0, $pid;
        }
        system("ip netns del $_ >/dev/null 2>&1") for $S, $C;
    }
    $? = $rc;
}

# --- the two namespaces and two veth pairs --------------------------------
$made_ns = 1;
my $topo = sh("ip netns add $S") && sh("ip netns add $C")
    && sh("ip link add fa0 netns $S type veth peer name fa1 netns $C")
    && sh("ip link add fb0 netns $S type veth peer name fb1 netns $C")
    && sh("ip -n $S addr add $SA/24 dev fa0 && ip -n $S addr add $SB/24 dev fb0")
    && sh("ip -n $C addr add $CA/24 dev fa1 && ip -n $C addr add $CB/24 dev fb1")
    && sh("for n in $S $C; do for d in lo fa0 fb0 fa1 fb1; do "
          . "ip -n \$n link show \$d >/dev/null 2>&1 && ip -n \$n link set \$d up || true; done; done");
if (!$topo && !$in_vm) {
    plan skip_all => 'skipped: cannot build two network namespaces joined by two veth pairs here (see diagnostics)';
}
ok($topo, "namespaces $S and $C joined by two veth pairs (A: $SA-$CA, B: $SB-$CB)")
    or BAIL_OUT('no topology: does the kernel have CONFIG_NET_NS and veth?');

# No sysctl is set: both namespaces run with the kernel's defaults.
for my $ns ($S, $C) {
    my $v = `ip netns exec $ns sysctl -n net.sctp.pf_retrans net.sctp.path_max_retrans net.sctp.rto_min net.sctp.hb_interval 2>&1`;
    is(join(' ', split ' ', $v), '0 5 1000 30000', "$ns has the kernel's SCTP defaults (pf_retrans, path_max_retrans, rto_min, hb_interval)");
}
ok(sh("tc -n $S qdisc add dev fa0 root netem rate 40mbit && tc -n $S qdisc add dev fb0 root netem rate 40mbit"),
   'netem: the server sends at most 40 Mbit/s on each path');

# --- httpd in namespace S --------------------------------------------------
# Content no two 64 KB blocks of which are alike (each starts with its
# number), cheap to make in the VM.
my $block = join '', map { pack 'N', $_ * 2654435761 % 4294967296 } 1 .. 16384;
sub data { my ($n, $seed) = @_; join '', map { pack('NN', $seed, $_) . substr($block, 8) } 1 .. $n / length $block }
my %file = ('big.bin' => data($SIZE, 1), 'again.bin' => data($SIZE2, 7));
for my $name (keys %file) {
    open my $f, '>', "$dir/htdocs/$name" or die;
    binmode $f;
    print $f $file{$name};
}
open my $conf, '>', "$dir/httpd.conf" or die;
print $conf own_httpd_conf(dir => $dir, mpm => $mpm, so => $so,
                           extra => "SCTPListen $SA:$PORT $SB\nTimeout 60\nKeepAliveTimeout 60\n"
                                    . "SCTPRTOInitial 300ms\nSCTPRTOMin 100\nSCTPRTOMax 500\n"
                                    . "SCTPHeartbeatInterval 400\nSCTPPathMaxRetransmissions 1\nSCTPMaxRetransmissions 8\n");
close $conf;
ok(sh("ip netns exec $S /usr/sbin/apache2 -f $dir/httpd.conf -k start"), "httpd started in namespace $S");
is(eventually(60, 1, sub { own_httpd_generations($dir) ? 1 : 0 }), 1, "httpd ($mpm) running");
chomp($pid_in{$S} = slurp("$dir/httpd.pid") // '');

# The listening endpoint, as namespace S's kernel lists it.
my @eps = grep { ((split)[5] // '') eq $PORT } split /\n/, `ip netns exec $S cat /proc/net/sctp/eps`;
like("@eps", qr/\Q$SA\E.*\Q$SB\E|\Q$SB\E.*\Q$SA\E/, "one SCTP endpoint on port $PORT bound to $SA and $SB");
my $tcp = `ip netns exec $C $^X -MIO::Socket::INET -e 'print IO::Socket::INET->new(PeerAddr => "$SA:$PORT", Timeout => 5) ? "connected" : "refused: \$!"' 2>&1`;
like($tcp, qr/^refused: Connection refused/, "TCP to $SA:$PORT refused: only SCTP serves it");

# Path states of namespace NS's associations: { address => state }, with
# /proc/net/sctp/remaddr's STATE: 0 inactive, 1 potentially failed,
# 2 active, 3 unconfirmed.
# A namespace's /proc/net, read through a process that lives in it (httpd's
# parent in S, the client in C): no 'ip netns exec' (slow in UML) while the
# download runs.
sub net_file {
    my ($ns, $name) = @_;
    my $pid = $pid_in{$ns} or die "no process known in $ns\n";
    return slurp("/proc/$pid/net/$name") // die "/proc/$pid/net/$name: $!\n";
}
sub paths {
    my ($ns) = @_;
    my %st;
    for (split /\n/, net_file($ns, 'sctp/remaddr')) {
        my @c = split;
        next unless @c >= 8 && $c[0] =~ /^\d+\.\d+\.\d+\.\d+$/;
        $st{$c[0]} = $c[-1];
    }
    return \%st;
}
sub show { my ($p) = @_; join ', ', map { "$_=$p->{$_}" } sort keys %$p }
sub remaddr_diag { diag("remaddr in $_:\n" . net_file($_, 'sctp/remaddr')) for $S, $C }
# Bytes received on one of the client's veths.
sub rx {
    my ($dev) = @_;
    net_file($C, 'dev') =~ /^\s*\Q$dev\E:\s*(\d+)/m or die "no $dev in namespace $C\n";
    return $1;
}
# Waits (up to $secs) for both kernels' path states to be as wanted.
sub states_become {
    my ($secs, %want) = @_;   # ns => { addr => state }
    return eventually($secs, 1, sub {
        for my $ns (keys %want) {
            my $p = paths($ns);
            for my $a (keys %{ $want{$ns} }) {
                return 0 unless ($p->{$a} // -1) == $want{$ns}{$a};
            }
        }
        return 1;
    });
}

# --- the client in namespace C ---------------------------------------------
$client_pid = open2($from_client, $to_client, 'ip', 'netns', 'exec', $C, $^X, $0, '--client', $SA, $PORT);
$to_client->autoflush(1);
$pid_in{$C} = $client_pid;   # 'ip netns exec' execs the client, no fork
my $sel = IO::Select->new($from_client);
sub answer {
    my ($secs) = @_;
    return 'timeout' unless $sel->can_read($secs);
    my $l = <$from_client>;
    return 'client exited' unless defined $l;
    chomp $l;
    return $l;
}
is(answer(30), 'connected', "client in $C associated with $SA:$PORT");
my $multihomed = states_become(10, $S => { $CA => 2, $CB => 2 }, $C => { $SA => 2, $SB => 2 });
is($multihomed, 1, 'both ends see two active paths (server: client A and B addresses; client: server A and B)')
    or remaddr_diag();

# The server's association runs with the directives' values. In
# /proc/net/sctp/assocs, HBINT (in jiffies) and MAXRT are the 11th and 8th
# fields from the end; the client's association (heartbeat 500 ms) gives the
# scale, so HZ does not matter. In remaddr, PATH_MAX_RTX is the 5th field.
sub assoc_tail {
    my ($ns, $col, $port) = @_;   # the association whose LPORT ($col 11) or RPORT (12) is $port
    my ($l) = grep { my @c = split; @c > 13 && $c[$col] eq $port } split /\n/, net_file($ns, 'sctp/assocs');
    my @c = split ' ', $l // '';
    return { hbint => $c[-11], maxrt => $c[-8] };
}
my ($srv, $cli) = (assoc_tail($S, 11, $PORT), assoc_tail($C, 12, $PORT));
note("server association: HBINT $srv->{hbint} MAXRT $srv->{maxrt}; client's: HBINT $cli->{hbint} MAXRT $cli->{maxrt}");
ok(($cli->{hbint} // 0) > 0 && ($srv->{hbint} // 0) * 5 == $cli->{hbint} * 4,
   "SCTPHeartbeatInterval 400: the server's association heartbeats every 4/5 of the client's 500 ms (HBINT $srv->{hbint} vs $cli->{hbint}; the kernel's default would be 60 times the client's)");
is($srv->{maxrt}, 8, 'SCTPMaxRetransmissions 8: the server association\'s MAXRT (the kernel\'s default is 10)');
is($cli->{maxrt}, 10, 'the client kept the kernel\'s association_max_retrans 10');
my %pmr = map { my @c = split; ($c[0] => $c[4]) } grep { /^\d+\.\d+\.\d+\.\d+\s/ } split /\n/, net_file($S, 'sctp/remaddr');
is(join(' ', map { "$_=$pmr{$_}" } sort keys %pmr), "$CA=1 $CB=1",
   'SCTPPathMaxRetransmissions 1: PATH_MAX_RTX of both of the server\'s paths (the kernel\'s default is 5)');

# --- the download, and the failure of path A in the middle of it ------------
my ($a0, $b0) = (rx('fa1'), rx('fb1'));
my $t0 = time;
print $to_client "get /big.bin $dir/out/big.bin\n";
my $quarter = eventually(30, 1, sub { rx('fa1') - $a0 + rx('fb1') - $b0 >= $SIZE / 4 ? 1 : 0 });
is($quarter, 1, 'a quarter of the file arrived');
my ($a1, $b1) = (rx('fa1'), rx('fb1'));
# Retransmissions go to the alternate path (RFC 4960 6.4; Linux sends them
# over its retran_path), so pair B is not idle when a packet was lost; but
# the primary path carries the bulk.
cmp_ok($a1 - $a0, '>=', 2 * ($b1 - $b0),
       'so far pair A, the primary path, carried the data (' . ($a1 - $a0) . ' bytes on fa1, ' . ($b1 - $b0) . ' on fb1)');
note("before the failure, SCTP counters in $S: " . join ' ', map { s/\s+/=/r } grep { /Retransmits|TimerT3/ } split /\n/, net_file($S, 'sctp/snmp'));
my $t_down = time;
ok(sh("ip -n $S link set fa0 down"), sprintf('path A set down on the server side %.1f s into the download (took %.2f s)',
                                             $t_down - $t0, time - $t_down));
# Whatever arrives from now on cannot come over pair A. The counters
# include headers, so what was still to come is at least this:
my ($a_down, $b_down) = (rx('fa1'), rx('fb1'));
my $rest = $SIZE - ($a_down - $a0) - ($b_down - $b0);
cmp_ok($rest, '>=', $SIZE / 4, "at least a quarter of the file was still to come ($rest bytes)");
# How long the server took to declare path A unreachable, and how long the
# transfer stalled (until the first 256 KB came over pair B); polled every
# 50 ms, reading /proc through a process in each namespace.
my ($t_unreachable, $t_moved);
while (time - $t_down < 30 && !($t_unreachable && $t_moved)) {
    $t_unreachable //= time if (paths($S)->{$CA} // -1) == 0;
    $t_moved //= time if rx('fb1') - $b_down >= 256 << 10;
    sleep 0.05;
}
note(sprintf 'failover: 256 KB over pair B %.2f s after path A went down', ($t_moved // time) - $t_down);
ok(defined $t_unreachable && $t_unreachable - $t_down < 2,
   sprintf('the server declared path A (%s) unreachable %s after it went down: under 2 s with SCTPRTOMax 500 and SCTPPathMaxRetransmissions 1',
           $CA, defined $t_unreachable ? sprintf('%.2f s', $t_unreachable - $t_down) : 'not within 30 s'))
    or remaddr_diag();

my $ans = answer(90);
my $t_end = time;
is($ans, "done 200 $SIZE", sprintf('the download completed: status 200, %d bytes (%.1f s, %.1f s after the failure)',
                                    $SIZE, $t_end - $t0, $t_end - $t_down));
my $got = slurp("$dir/out/big.bin") // '';
is(length $got, $SIZE, 'the file has every byte');
ok(sha256_hex($got) eq sha256_hex($file{'big.bin'}), 'byte-identical (sha256)');
my ($a_end, $b_end) = (rx('fa1'), rx('fb1'));
is($a_end - $a_down, 0, 'nothing more came over pair A');
cmp_ok($b_end - $b_down, '>=', $rest, 'the rest came over pair B (' . ($b_end - $b_down) . ' bytes on fb1)');
note("after the failure, SCTP counters in $S: " . join ' ', map { s/\s+/=/r } grep { /Retransmits|TimerT3/ } split /\n/, net_file($S, 'sctp/snmp'));

# The kernels' view: the association is alive, and only path B is usable.
my $failed = states_become(15, $S => { $CA => 0, $CB => 2 }, $C => { $SA => 0, $SB => 2 });
is($failed, 1, 'path states after the failure: A inactive, B active, on both ends') or remaddr_diag();
note('server paths: ' . show(paths($S)) . '; client paths: ' . show(paths($C)));
my $warned = eventually(10, 1, sub {
    (slurp("$dir/error_log") // '') =~ /\[sctp:warn\].*peer address \Q$CA\E:\d+ ADDR_(UNREACHABLE|POTENTIALLY_FAILED)/ ? 1 : 0;
});
is($warned, 1, "mod_sctp logged the failure of $CA at warn");

# --- path A comes back --------------------------------------------------------
ok(sh("ip -n $S link set fa0 up"), 'path A set up again');
my $back = states_become(15, $S => { $CA => 2, $CB => 2 }, $C => { $SA => 2, $SB => 2 });
is($back, 1, 'heartbeats made path A active again on both ends') or remaddr_diag();
my ($a2, $b2) = (rx('fa1'), rx('fb1'));
print $to_client "get /again.bin $dir/out/again.bin\n";
is(answer(60), "done 200 $SIZE2", 'a second download on the same association: status 200, every byte');
ok((slurp("$dir/out/again.bin") // '') eq $file{'again.bin'}, 'byte-identical');
my ($da, $db) = (rx('fa1') - $a2, rx('fb1') - $b2);
cmp_ok($da, '>=', $SIZE2 * 0.9, "it came over pair A, the primary path, again ($da bytes on fa1, $db on fb1)");

if (!Test::More->builder->is_passing) {
    diag(join '', grep { /sctp|error|emerg/i } split /^/, slurp("$dir/error_log") // '');
}
done_testing();
