# Configuration mistakes are refused at startup ('apache2 -t') with a
# message naming the problem, and, for a mistake found only once the whole
# configuration is read (a misspelled protocol on a Listen line, directives
# that contradict each other), the file and line of the directive at fault
# (the third element of a case: its line within the case's text). Doubtful
# lines pass with a warning naming the line; 'apache2 -L' lists core's
# Listen directives as core's (the MPM's table), not as mod_sctp's.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;

my $so = $ENV{MOD_SCTP_SO} or die 'MOD_SCTP_SO';
my $tmp = Apache::Test::vars('t_dir') . '/conferr';
mkdir $tmp;

my @cases = (
    ['ListenCoresBucketsRatio 2' . "\nListen 127.0.0.1:8701 sctp", qr/ListenCoresBucketsRatio 2 \(line \d+ of [^)]+\) cannot be used with SCTP/, 1],
    ['SCTPInStreams 0', qr/SCTPInStreams: '0' is not a number of streams from 1 to 65535/],
    ['SCTPOutStreams many', qr/SCTPOutStreams: 'many' is not a number/],
    ['SCTPListen 127.0.0.1:99999', qr/SCTPListen: .*not a port/],
    ['SCTPListen 127.0.0.1:8702 not-an-ip', qr/SCTPListen: 'not-an-ip' is not an IP address/],
    ['SCTPListen ::1:8703', qr/brackets/],
    ["Listen 127.0.0.1:8704 sctp\nSCTPListen 127.0.0.1:8704", qr/already configured by Listen/],
    ['SCTPMaxMessageSize 10', qr/SCTPMaxMessageSize: 10 is outside 1024\.\.131072 bytes \(1K to 128K; a number of bytes with an optional K or M suffix\)/],
    ['SCTPMaxStreamQueue 1G', qr/SCTPMaxStreamQueue: '1G' is not a size: write a number of bytes from 16K to 256M, with an optional K or M suffix/],
    ['SCTPSendBuffer 2k', qr/SCTPSendBuffer: 2048 is outside .*16K to 64M; a number of bytes with an optional K or M suffix.*or 0/],
    # A misspelled protocol word would make core serve TCP.
    ["Listen 127.0.0.1:8706 sctpp", qr/Listen 127\.0\.0\.1:8706 sctpp \(line \d+ of [^)]+\): 'sctpp' is not a protocol; it looks like a misspelling of 'sctp'/, 1],
    ["SCTPInStreams 8\nListen 127.0.0.1:8706 stcp", qr/misspelling of 'sctp'/, 2],
    ["Listen 127.0.0.1:8706 SCTP6", qr/'SCTP6' is not a protocol/, 1],
    # Contradicting directives, with the line of each.
    ["SCTPInStreams 32\nSCTPOutStreams 8", qr/SCTPOutStreams 8 \(line \d+ of [^)]+\) is below SCTPInStreams 32 \(line \d+ of [^)]+\).*at least 32/, 2],
    ["SCTPInStreams 32", qr/SCTPOutStreams 16 \(the default\) is below SCTPInStreams 32/, 1],
    ["SCTPMaxStreamQueue 2M\nSCTPMaxAssociationQueue 1M", qr/SCTPMaxAssociationQueue 1048576 bytes \(line \d+ of [^)]+\) is smaller than SCTPMaxStreamQueue 2097152 bytes \(line/, 2],
    ["SCTPMaxMessageSize 64K\nSCTPSendBuffer 32K", qr/SCTPSendBuffer 32768 bytes \(line \d+ of [^)]+\) is smaller than SCTPMaxMessageSize 65536 bytes \(line/, 2],
    ["Listen 127.0.0.1:8707 sctp\nListenCoresBucketsRatio 2", qr/ListenCoresBucketsRatio 2 \(line \d+ of [^)]+\) cannot be used with SCTP listeners \(Listen 127\.0\.0\.1:8707 \(line/, 2],
    # Failover directives: ranges and order.
    ['SCTPRTOMin 0', qr/SCTPRTOMin: '0' is not a time from 1 ms to 86400 s/],
    ['SCTPHeartbeatInterval soon', qr/SCTPHeartbeatInterval: 'soon' is not a time/],
    ['SCTPPathMaxRetransmissions 70000', qr/SCTPPathMaxRetransmissions: '70000' is not a number of retransmissions from 1 to 65535/],
    ["<VirtualHost *:80>\nSCTPRTOMax 1s\n</VirtualHost>", qr/SCTPRTOMax cannot occur within <VirtualHost>/],
    ["SCTPRTOMin 500\nSCTPRTOMax 200", qr/SCTPRTOMin 500 ms \(line \d+ of [^)]+\) is above SCTPRTOMax 200 ms \(line \d+ of [^)]+\).*SCTPRTOMin <= SCTPRTOInitial <= SCTPRTOMax/, 1],
    ["SCTPRTOMin 100\nSCTPRTOMax 1s\nSCTPRTOInitial 2s", qr/SCTPRTOInitial 2000 ms \(line \d+ of [^)]+\) is above SCTPRTOMax 1000 ms/, 3],
    ["SCTPMaxRetransmissions 3\nSCTPPathMaxRetransmissions 4", qr/SCTPPathMaxRetransmissions 4 \(line \d+ of [^)]+\) is above SCTPMaxRetransmissions 3 \(line \d+ of [^)]+\).*never fail over/, 2],
    ['SCTPNoDelay maybe', qr/SCTPNoDelay must be On or Off/],
    ["<VirtualHost *:80>\nSCTPInStreams 4\n</VirtualHost>", qr/SCTPInStreams cannot occur within <VirtualHost>/],
    # Concurrent streams: per association and per child; httpd's
    # AH00526 names the line.
    ['SCTPMaxConcurrentStreams 0', qr/SCTPMaxConcurrentStreams: '0' is not a number of streams served at once from 1 to 1024/, 1],
    ['SCTPMaxConcurrentStreams 1025', qr/SCTPMaxConcurrentStreams: '1025' is not a number of streams served at once from 1 to 1024/, 1],
    ['SCTPMaxConcurrentStreams eight', qr/SCTPMaxConcurrentStreams: 'eight' is not a number/],
    ['SCTPMaxConcurrentStreams auto', qr/SCTPMaxConcurrentStreams: 'auto' is not a number/],
    ['SCTPStreamWorkers 0', qr/SCTPStreamWorkers: '0' is not a number of worker threads from 1 to 4096, or 'auto' \(ThreadsPerChild\)/, 1],
    ['SCTPStreamWorkers 4097', qr/SCTPStreamWorkers: '4097' is not a number of worker threads from 1 to 4096/],
    ['SCTPStreamWorkers automatic', qr/SCTPStreamWorkers: 'automatic' is not a number of worker threads/],
    ["<VirtualHost *:80>\nSCTPMaxConcurrentStreams 4\n</VirtualHost>", qr/SCTPMaxConcurrentStreams cannot occur within <VirtualHost>/],
    ["<VirtualHost *:80>\nSCTPStreamWorkers 4\n</VirtualHost>", qr/SCTPStreamWorkers cannot occur within <VirtualHost>/],
    # Response priority: per location.
    ['SCTPResponsePriority urgent', qr/SCTPResponsePriority: 'urgent' is not high, normal or low/, 1],
    ["<Location /x>\nSCTPResponsePriority 1\n</Location>", qr/SCTPResponsePriority: '1' is not high, normal or low/, 2],
);
plan tests => 2 * @cases + (grep { defined $_->[2] } @cases) + 15;

my $base = <<"EOC";
ServerRoot $tmp
PidFile $tmp/pid
ErrorLog $tmp/error_log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule sctp_module $so
Listen 127.0.0.1:8700
EOC
my $base_lines = () = $base =~ /\n/g;

my $i = 0;
for my $c (@cases) {
    my ($conf, $want, $line) = @$c;
    my $file = "$tmp/case" . $i++ . '.conf';
    open my $f, '>', $file or die $!;
    print $f $base, $conf, "\n";
    close $f;
    my $out = `/usr/sbin/apache2 -t -f $file 2>&1`;
    ok t_cmp($? >> 8, 1, "refused: $conf");
    ok t_cmp($out, $want, 'with a clear message');
    next unless defined $line;
    my $at = 'line ' . ($base_lines + $line) . " of $file";
    ok t_cmp($out, qr/\Q$at\E/, "naming the directive at fault: $at");
}
open my $f, '>', "$tmp/good.conf" or die $!;
print $f $base, "Listen 127.0.0.1:8705 sctp\nSCTPListen 127.0.0.1:8700 127.0.0.2\nSCTPInStreams 100\nSCTPOutStreams 100\nSCTPMaxMessageSize 16k\n",
    "SCTPRTOInitial 300ms\nSCTPRTOMin 100\nSCTPRTOMax 1s\nSCTPHeartbeatInterval 500\nSCTPPathMaxRetransmissions 1\nSCTPMaxRetransmissions 10\n",
    "SCTPMaxConcurrentStreams 1024\nSCTPStreamWorkers Auto\n",
    "SCTPResponsePriority low\n<Location /critical>\nSCTPResponsePriority HIGH\n</Location>\n";
close $f;
my $out = `/usr/sbin/apache2 -t -f $tmp/good.conf 2>&1`;
ok t_cmp($out, qr/Syntax OK/, 'a good SCTP configuration passes -t');

# The bounds of the concurrency directives, under a threaded MPM and under
# prefork, where they are accepted and have no effect (serial associations).
for my $mpm (qw(event prefork)) {
    (my $conf = $base) =~ s/mpm_event_module (\S+)mod_mpm_event\.so/mpm_${mpm}_module $1mod_mpm_$mpm.so/ or die;
    open $f, '>', "$tmp/concurrency_$mpm.conf" or die $!;
    print $f $conf, "Listen 127.0.0.1:8709 sctp\nSCTPMaxConcurrentStreams 1\nSCTPStreamWorkers 4096\n";
    close $f;
    $out = `/usr/sbin/apache2 -t -f $tmp/concurrency_$mpm.conf 2>&1`;
    ok t_cmp($out, qr/Syntax OK/, "SCTPMaxConcurrentStreams 1, SCTPStreamWorkers 4096 pass -t under $mpm");
}

# ListenCoresBucketsRatio itself is fine while no SCTP listener exists.
open $f, '>', "$tmp/buckets.conf" or die $!;
print $f $base, "ListenCoresBucketsRatio 2\n";
close $f;
$out = `/usr/sbin/apache2 -t -f $tmp/buckets.conf 2>&1`;
ok t_cmp($out, qr/Syntax OK/, 'ListenCoresBucketsRatio 2 without SCTP listeners passes -t');

# A doubtful protocol word passes, with a warning naming its line.
open $f, '>', "$tmp/doubtful.conf" or die $!;
print $f $base, "Listen 127.0.0.1:8708 tcp\n";
close $f;
$out = `/usr/sbin/apache2 -t -f $tmp/doubtful.conf 2>&1`;
ok t_cmp($out, qr/Syntax OK/, "'Listen ... tcp' passes -t");
my $at = 'line ' . ($base_lines + 1) . " of $tmp/doubtful.conf";
ok t_cmp($out, qr/warn.*Listen 127\.0\.0\.1:8708 tcp \(\Q$at\E\): httpd serves 127\.0\.0\.1:8708 over TCP.*If you meant SCTP, write 'sctp'/,
         'with a warning naming its line');

# 'apache2 -L' lists each directive with the module that declares it:
# mod_sctp declares its own, and none of core's.
$out = `/usr/sbin/apache2 -L -f $tmp/good.conf 2>&1`;
ok t_cmp($?, 0, 'apache2 -L runs');
ok t_cmp($out, qr/^SCTPListen \(mod_sctp\.c\)$/m, 'apache2 -L lists SCTPListen as mod_sctp\'s');
ok t_cmp($out, qr/^SCTPRTOMin \(mod_sctp\.c\)$/m, 'apache2 -L lists SCTPRTOMin as mod_sctp\'s');
ok t_cmp($out, qr/^SCTPMaxConcurrentStreams \(mod_sctp\.c\)$/m, 'apache2 -L lists SCTPMaxConcurrentStreams as mod_sctp\'s');
ok t_cmp($out, qr/^SCTPStreamWorkers \(mod_sctp\.c\)$/m, 'apache2 -L lists SCTPStreamWorkers as mod_sctp\'s');
for my $core (qw(Listen ListenBacklog ListenCoresBucketsRatio)) {
    ok t_cmp(($out =~ /^\Q$core\E \(mod_sctp\.c\)$/m) ? 1 : 0, 0, "apache2 -L does not list $core as mod_sctp's");
}
# Core's listener directives are declared in the MPM's table (event.c).
ok t_cmp($out, qr/^Listen \((?!mod_sctp\.c)[^)]+\)$/m, 'apache2 -L lists Listen as the MPM\'s');
