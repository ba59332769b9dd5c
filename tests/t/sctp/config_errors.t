# Configuration mistakes are refused at startup ('apache2 -t') with a
# message naming the problem.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;

my $so = $ENV{MOD_SCTP_SO} or die 'MOD_SCTP_SO';
my $tmp = Apache::Test::vars('t_dir') . '/conferr';
mkdir $tmp;

my @cases = (
    ['ListenCoresBucketsRatio 2' . "\nListen 127.0.0.1:8701 sctp", qr/ListenCoresBucketsRatio 2 cannot be used with SCTP/],
    ['SCTPInStreams 0', qr/SCTPInStreams: '0' is not a number of streams from 1 to 65535/],
    ['SCTPOutStreams many', qr/SCTPOutStreams: 'many' is not a number/],
    ['SCTPListen 127.0.0.1:99999', qr/SCTPListen: .*not a port/],
    ['SCTPListen 127.0.0.1:8702 not-an-ip', qr/SCTPListen: 'not-an-ip' is not an IP address/],
    ['SCTPListen ::1:8703', qr/brackets/],
    ["Listen 127.0.0.1:8704 sctp\nSCTPListen 127.0.0.1:8704", qr/already configured by Listen/],
    ['SCTPMaxMessageSize 10', qr/SCTPMaxMessageSize: 10 is outside/],
    ['SCTPNoDelay maybe', qr/SCTPNoDelay must be On or Off/],
    ["<VirtualHost *:80>\nSCTPInStreams 4\n</VirtualHost>", qr/SCTPInStreams cannot occur within <VirtualHost>/],
);
plan tests => 2 * @cases + 2;

my $base = <<"EOC";
ServerRoot $tmp
PidFile $tmp/pid
ErrorLog $tmp/error_log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule sctp_module $so
Listen 127.0.0.1:8700
EOC

my $i = 0;
for my $c (@cases) {
    my ($conf, $want) = @$c;
    my $file = "$tmp/case" . $i++ . '.conf';
    open my $f, '>', $file or die $!;
    print $f $base, $conf, "\n";
    close $f;
    my $out = `/usr/sbin/apache2 -t -f $file 2>&1`;
    ok t_cmp($? >> 8, 1, "refused: $conf");
    ok t_cmp($out, $want, 'with a clear message');
}
open my $f, '>', "$tmp/good.conf" or die $!;
print $f $base, "Listen 127.0.0.1:8705 sctp\nSCTPListen 127.0.0.1:8700 127.0.0.2\nSCTPInStreams 100\nSCTPMaxMessageSize 16k\n";
close $f;
my $out = `/usr/sbin/apache2 -t -f $tmp/good.conf 2>&1`;
ok t_cmp($out, qr/Syntax OK/, 'a good SCTP configuration passes -t');

# ListenCoresBucketsRatio itself is fine while no SCTP listener exists.
open $f, '>', "$tmp/buckets.conf" or die $!;
print $f $base, "ListenCoresBucketsRatio 2\n";
close $f;
$out = `/usr/sbin/apache2 -t -f $tmp/buckets.conf 2>&1`;
ok t_cmp($out, qr/Syntax OK/, 'ListenCoresBucketsRatio 2 without SCTP listeners passes -t');
