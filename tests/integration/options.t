#!/usr/bin/perl
# Directive values other than the suite's, on an httpd of its own:
# SCTPMaxMessageSize 4096 bounds every message the server sends,
# SCTPInStreams 5 / SCTPOutStreams 7 bound the negotiated streams,
# SCTPHeartbeatInterval 2s / SCTPPathMaxRetransmissions 3 /
# SCTPMaxRetransmissions 7 are what the server's association runs with, and
# after a graceful restart without them a new association has the kernel's
# defaults again (the listener is retained across the restart),
# SCTPMaxConcurrentStreams 4 / SCTPStreamWorkers 16 reach the
# configuration (the sctp:debug summary at startup names them; they are
# accepted under every MPM, prefork serving associations serially), and
# their defaults (8, auto) after the restart without them,
# SCTPNoDelay Off still serves, and IPv6 listeners ('Listen [::1]:P sctp',
# 'SCTPListen [::1]:P') serve over SCTP. Runs as root inside the SCTP VM
# (httpd drops to nobody); MPM from $SCTP_TEST_MPM (default event).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use SCTPClient;
use SCTPTest qw(sctp_listening sctp_only eventually own_httpd_conf own_httpd_generations stop_own_httpd);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $dir = tempdir('options.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";
my $page = "options test page\n";
my $big = join '', map { pack 'N', $_ * 2654435761 % 4294967296 } 1 .. (1 << 18);   # 1 MB
{
    open my $f, '>', "$dir/htdocs/index.html" or die;
    print $f $page;
    open my $b, '>', "$dir/htdocs/big.bin" or die;
    binmode $b;
    print $b $big;
}

my $have_v6 = -e '/proc/net/if_inet6' && `cat /proc/net/if_inet6` =~ /^0{31}1 /m;
my $v6conf = $have_v6 ? "Listen [::1]:8811 sctp\nSCTPListen [::1]:8812\n" : '';
open my $c, '>', "$dir/httpd.conf" or die;
print $c own_httpd_conf(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX");
Listen 127.0.0.1:8810 sctp
$v6conf
SCTPMaxMessageSize 4096
SCTPInStreams 5
SCTPOutStreams 7
SCTPNoDelay Off
SCTPSendBuffer 3M
SCTPReceiveBuffer 512K
SCTPMaxConcurrentStreams 4
SCTPStreamWorkers 16
EOX
print $c "SCTPHeartbeatInterval 2s\nSCTPPathMaxRetransmissions 3\nSCTPMaxRetransmissions 7\n";
close $c;

my $t = `/usr/sbin/apache2 -t -f $dir/httpd.conf 2>&1`;
like($t, qr/Syntax OK/, 'configuration accepted by apache2 -t') or diag($t);
system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'start') == 0 or BAIL_OUT('httpd did not start');
my $started = eventually(60, 1, sub { own_httpd_generations($dir) ? 1 : 0 });
is($started, 1, "httpd ($mpm) started");

# The sctp:debug summary of the configuration, last line of its kind.
sub summary {
    open my $e, '<', "$dir/error_log" or return '';
    my @l = grep { /SCTP listener\(s\); streams in\/out/ } <$e>;
    return $l[-1] // '';
}
like(summary(), qr/streams served at once per association 4, stream workers per child 16$/,
     'SCTPMaxConcurrentStreams 4, SCTPStreamWorkers 16 in the configuration (sctp:debug summary)');

ok(sctp_only(8810), '8810 is SCTP only (eps, TCP refused)');

# SCTPMaxMessageSize 4096: no read returns more than one message, so no read
# may exceed 4096 bytes, even with room for 1 MB.
my $cl = SCTPClient->new(port => 8810, rcvbuf => 4 << 20, ostreams => 100, instreams => 100);
my $r = $cl->get('/big.bin');
is($r->{status}, 200, '1 MB file: 200');
ok($r->{body} eq $big, '1 MB file: byte-identical');
cmp_ok($cl->max_read, '<=', 4096, 'no message above SCTPMaxMessageSize 4096');
cmp_ok($cl->max_read, '>', 1024, 'messages are of about that size');

# SCTPInStreams 5 / SCTPOutStreams 7 against a client offering 100/100.
my $st = $cl->status;
is($st->{outstreams}, 5, 'client may send on 5 streams (SCTPInStreams 5)');
is($st->{instreams}, 7, 'server sends on up to 7 streams (SCTPOutStreams 7)');
is($cl->get('/index.html')->{body}, $page, 'keep-alive request after the big one (SCTPNoDelay Off)');
# /proc/net/sctp/assocs ends with sndbuf and rcvbuf; Linux shows twice the
# value set. The server's end of this association has local port 8810.
my ($srv) = grep { (split ' ')[11] eq '8810' } `cat /proc/net/sctp/assocs`;
my @f = split ' ', $srv // '';
is($f[-2], 2 * 3 * 1024 * 1024, 'SCTPSendBuffer 3M: the association\'s SO_SNDBUF (above net.core.wmem_max: set as root)');
is($f[-1], 2 * 512 * 1024, 'SCTPReceiveBuffer 512K: its SO_RCVBUF');

# Failover settings of the server's association: /proc/net/sctp/assocs
# has HBINT (jiffies) 11th and MAXRT 8th from the end, remaddr has
# PATH_MAX_RTX 5th. The client's association (same kernel, its defaults:
# hb_interval 30000 ms) gives the jiffy scale.
sub failover_of {
    my ($lport) = @_;
    my %a = (server => undef, client => undef);
    for (`cat /proc/net/sctp/assocs`) {
        my @c = split;
        next unless @c > 13;
        $a{server} = { hbint => $c[-11], maxrt => $c[-8], id => $c[6] } if $c[11] eq $lport;
        $a{client} = { hbint => $c[-11], maxrt => $c[-8], id => $c[6] } if $c[12] eq $lport;
    }
    my ($rtx) = map { (split)[4] } grep { my @c = split; @c >= 8 && $c[1] eq ($a{server}{id} // '') } `cat /proc/net/sctp/remaddr`;
    $a{server}{pmr} = $rtx;
    return \%a;
}
my $sysctl = sub { my $v = `cat /proc/sys/net/sctp/$_[0]`; chomp $v; $v };
my $fo = failover_of(8810);
is($fo->{server}{maxrt}, 7, 'SCTPMaxRetransmissions 7: the server association\'s MAXRT');
is($fo->{server}{pmr}, 3, 'SCTPPathMaxRetransmissions 3: its path\'s PATH_MAX_RTX');
is($fo->{server}{hbint} * $sysctl->('hb_interval'), $fo->{client}{hbint} * 2000,
   "SCTPHeartbeatInterval 2s: its HBINT ($fo->{server}{hbint} jiffies; the client's, at the kernel's default, $fo->{client}{hbint})");
$cl->close;

# A graceful restart without them: the retained listener gets the kernel's
# defaults back.
{
    open my $c2, '>', "$dir/httpd.conf" or die;
    print $c2 own_httpd_conf(dir => $dir, mpm => $mpm, so => $so, extra => "Listen 127.0.0.1:8810 sctp\n$v6conf");
    close $c2;
    my $before = own_httpd_generations($dir);
    chomp(my $ppid = `cat $dir/httpd.pid`);
    kill 'USR1', $ppid or die "USR1: $!";
    is(eventually(60, $before + 1, sub { own_httpd_generations($dir) }), $before + 1, 'graceful restart without the failover directives');
    my $c3 = SCTPClient->new(port => 8810);
    is($c3->get('/index.html')->{body}, $page, 'served after the restart');
    like(summary(), qr/streams served at once per association 8, stream workers per child auto \(ThreadsPerChild\)$/,
         'without them: the defaults, 8 streams at once and auto workers');
    my $fo2 = failover_of(8810);
    is($fo2->{server}{maxrt}, $sysctl->('association_max_retrans'), 'a new association has the kernel\'s association_max_retrans again');
    is($fo2->{server}{pmr}, $sysctl->('path_max_retrans'), 'and its path_max_retrans');
    is($fo2->{server}{hbint}, $fo2->{client}{hbint}, 'and its hb_interval');
    $c3->close;
}

SKIP: {
    skip 'no ::1 in this kernel', 4 unless $have_v6;
    like(join(' ', sctp_listening(8811)), qr/(^|\s)(::1|0000:0000:0000:0000:0000:0000:0000:0001)\b/, 'Listen [::1]:8811 sctp: endpoint on ::1');
    is(eval { SCTPClient->new(port => 8811, host => '::1')->get('/index.html')->{body} } // "error: $@",
       $page, 'served over SCTP on ::1');
    like(join(' ', sctp_listening(8812)), qr/(^|\s)(::1|0000:0000:0000:0000:0000:0000:0000:0001)\b/, 'SCTPListen [::1]:8812: endpoint on ::1');
    is(eval { SCTPClient->new(port => 8812, host => '::1')->get('/index.html')->{body} } // "error: $@",
       $page, 'served over SCTP on ::1 (SCTPListen)');
}

stop_own_httpd($dir);

# A send buffer too small for one message is a configuration error.
{
    open my $b, '>', "$dir/bad.conf" or die;
    print $b own_httpd_conf(dir => $dir, mpm => $mpm, so => $so,
                            extra => "Listen 127.0.0.1:8813 sctp\nSCTPSendBuffer 16K\n");
    close $b;
    my $bad = `/usr/sbin/apache2 -t -f $dir/bad.conf 2>&1`;
    like($bad, qr/SCTPSendBuffer 16384 bytes \(line \d+ of \Q$dir\E\/bad.conf\) is smaller than SCTPMaxMessageSize 32768 bytes \(the default\)/, 'apache2 -t: SCTPSendBuffer below the message size is refused');
    like(`/usr/sbin/apache2 -t -f $dir/bad.conf -c 'SCTPSendBuffer 1K' 2>&1`, qr/SCTPSendBuffer: 1024 is outside/, 'apache2 -t: SCTPSendBuffer 1K is out of range');
}
eventually(20, 0, sub { scalar(sctp_listening(8810)) ? 1 : 0 });
is(scalar(sctp_listening(8810)), 0, 'stopped: SCTP endpoint gone');
if (!Test::More->builder->is_passing) {
    open my $e, '<', "$dir/error_log";
    diag(join '', grep { /sctp|error|emerg/i } <$e>);
}
done_testing();
