#!/usr/bin/perl
# FastCGI over SCTP from httpd to php-fpm: httpd (mod_proxy with
# mod_proxy_fcgi_sctp) -> SCTP -> fcgi-bridge (backend mode) -> php-fpm
# over TCP. The same PHP pages through stock mod_proxy_fcgi over TCP give
# the same bodies and statuses; ProxyPass, SetHandler and a balancer all
# reach the backend; a capture of the association shows stream 0 silent,
# FCGI_GET_VALUES first on stream 1 and every request's records on its own
# stream >= 2 (request id = stream). Failure cases: a PHP worker killed
# mid-response truncates only its response while requests on other streams
# of the same association complete; a slow page times out on its own
# stream only; more concurrent requests than streams all complete; the
# bridge killed and restarted: the next request reconnects. The front over
# SCTP too (concurrent streams): four requests on streams 1..4 of one association
# reach PHP through mod_proxy_fcgi_sctp, each sees its own SCTP_STREAM, and
# under a threaded MPM they run at once (stream connections).
# Runs its own httpd, php-fpm and bridge as root inside the SCTP VM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use POSIX ();
use File::Temp qw(tempdir);
use Digest::MD5 qw(md5_hex);
use File::Basename ();
use SCTPTest qw(eventually own_httpd_conf own_httpd_generations);
use FastCGITest qw(ROOT spawn stop_all start_php_fpm start_bridge http_get error_log_lines
                   wait_for_log fcgi_httpd_conf tcp_listening check_capture);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $fso = $ENV{MOD_PROXY_FCGI_SCTP_SO} // ROOT . '/target/release/libmod_proxy_fcgi_sctp.so';
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $tshark = '/usr/bin/tshark';
-x $tshark or BAIL_OUT('tshark missing (ci/setup installs it)');
my ($HTTP, $FPM, $BRIDGE, $SFRONT) = (18080, 19000, 19001, 18081);

my $dir = tempdir('fastcgi_php.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
END {
    stop_all();
    system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'stop') if $dir && -e "$dir/httpd.pid";
    if ($? || !Test::More->builder->is_passing) {
        for my $l (qw(error_log bridge.log php-fpm.log)) {
            diag("--- $l\n" . join '', grep { !/resuming|AH00489|AH00094/ } (do { my @l; if (open my $f, '<', "$dir/$l") { @l = <$f> } @l }));
        }
    }
}

# The PHP pages.
my $www = "$dir/htdocs";
mkdir $www;
mkdir "$www/sh";
my %php = (
    'index.php' => <<'PHP',
<?php
header('X-Page: index');
echo "method=", $_SERVER['REQUEST_METHOD'], " q=", $_GET['q'] ?? '', "\n";
echo "gateway=", $_SERVER['GATEWAY_INTERFACE'] ?? '', " proto=", $_SERVER['SERVER_PROTOCOL'], "\n";
echo str_repeat("0123456789abcdef", 8192);
PHP
    'post.php' => <<'PHP',
<?php
$in = file_get_contents('php://input');
echo strlen($in), " ", md5($in), "\n";
PHP
    'missing.php' => <<'PHP',
<?php
http_response_code(404);
header('Content-Type: text/plain');
echo "not here\n";
PHP
    'slow.php' => <<'PHP',
<?php
echo "slow start\n";
flush();
sleep((int)($_GET['s'] ?? 3));
echo "slow end\n";
PHP
    'sleepy.php' => <<'PHP',
<?php
sleep((int)($_GET['s'] ?? 3));
echo "awake\n";
PHP
    'die.php' => <<'PHP',
<?php
header('Content-Type: text/plain');
echo str_repeat("x", 100000);
flush();
usleep(200000);
posix_kill(getmypid(), 9);
echo "never\n";
PHP
    'stream.php' => <<'PHP',
<?php
sleep(1);
$out = "stream " . ($_SERVER['SCTP_STREAM'] ?? 'none') . " n=" . ($_GET['n'] ?? '') . "\n";
header('Content-Length: ' . strlen($out));
echo $out;
PHP
    'small.php' => <<'PHP',
<?php
echo "small ", $_GET['n'] ?? '', "\n";
PHP
);
for my $f (keys %php) {
    for my $d ($www, "$www/sh") {
        open my $o, '>', "$d/$f" or die;
        print $o $php{$f};
        close $o;
    }
}
system("chmod -R a+rX $dir");

my $fpm_pid = start_php_fpm(dir => $dir, port => $FPM, children => 12);
ok($fpm_pid, "php-fpm listens on TCP $FPM");

# Capture the SCTP association from its first packet.
my $pcap = "$dir/capture.pcapng";
my $tlog = "$dir/tshark.log";
my $tshark_pid = spawn($tlog, $tshark, '-i', 'lo', '-B', '32', '-f', "sctp port $BRIDGE", '-w', $pcap);
is(eventually(30, 1, sub { open my $l, '<', $tlog or return 0; (grep { /Capturing on/ } <$l>) ? 1 : 0 }),
   1, 'tshark is capturing on lo');

my $bridge_args = ['backend', '--listen', "sctp:127.0.0.1:$BRIDGE", '--app', "tcp:127.0.0.1:$FPM",
                   '--streams', '10', '--log-level', 'debug'];
my $bridge_pid = start_bridge(log => "$dir/bridge.log", args => $bridge_args, sctp => $BRIDGE);
ok($bridge_pid, "fcgi-bridge listens on SCTP $BRIDGE");

open my $c, '>', "$dir/httpd.conf" or die;
print $c own_httpd_conf(dir => $dir, mpm => $mpm, so => $so, extra => fcgi_httpd_conf($fso) . <<"EOC");
LogLevel info proxy_fcgi_sctp:debug
Listen 127.0.0.1:$HTTP
Listen 127.0.0.1:$SFRONT sctp
Timeout 30
# A worker of its own, defined first: mod_proxy would share the worker of
# a URL defined earlier that is a prefix of this one (and drop timeout=).
ProxyPass /short/ fcgi+sctp://127.0.0.1:$BRIDGE$www/sh/ timeout=2
ProxyPass /sctp/ fcgi+sctp://127.0.0.1:$BRIDGE$www/
ProxyPass /tcp/ fcgi://127.0.0.1:$FPM$www/
<Proxy balancer://php>
    BalancerMember fcgi+sctp://127.0.0.1:$BRIDGE
</Proxy>
ProxyPass /bal/ balancer://php$www/
<Directory $www/sh>
    <FilesMatch "\\.php\$">
        SetHandler "proxy:fcgi+sctp://127.0.0.1:$BRIDGE"
    </FilesMatch>
</Directory>
EOC
close $c;
is(system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-t') >> 8, 0, 'apachectl -t accepts the fcgi+sctp:// configuration');
{
    # A worker without a port is refused at startup, by name.
    open my $in, '<', "$dir/httpd.conf" or die;
    open my $out, '>', "$dir/bad.conf" or die;
    print $out (<$in>), "ProxyPass /noport/ fcgi+sctp://127.0.0.1$www/\n";
    close $out;
    my $msg = `/usr/sbin/apache2 -f $dir/bad.conf -t 2>&1`;
    isnt($? >> 8, 0, 'apachectl -t refuses an fcgi+sctp:// worker without a port');
    like($msg, qr{fcgi\+sctp://127\.0\.0\.1/\S*: no port}, '... and names it') or diag($msg);
}
is(system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'start'), 0, "httpd ($mpm) starts");
is(eventually(60, 1, sub { own_httpd_generations($dir) ? 1 : 0 }), 1, 'httpd runs');
eventually(30, 1, sub { tcp_listening($HTTP) });
my $base = "http://127.0.0.1:$HTTP";

# 1. The same pages over SCTP and over TCP.
for my $case (['index.php?q=42', 200], ['missing.php', 404]) {
    my ($page, $want) = @$case;
    my ($s1, $b1, $h1) = http_get("$base/sctp/$page");
    my ($s2, $b2, $h2) = http_get("$base/tcp/$page");
    is($s1, $want, "GET /sctp/$page: $want over SCTP");
    is($s2, $want, "GET /tcp/$page: $want over TCP (stock mod_proxy_fcgi)");
    ok($s1 == $want && $s2 == $want && length $b1 > 0 && $b1 eq $b2,
       "$page: the body over SCTP is byte-identical to the body over TCP (" . length($b1) . " bytes)")
        or diag("SCTP: " . substr($b1, 0, 200) . "\nTCP: " . substr($b2, 0, 200));
    is($h1->{'content-type'}, $h2->{'content-type'}, "$page: same Content-Type");
}
# 1b. The front over SCTP: four requests at once on streams 1..4 of one
# association, each through mod_proxy_fcgi_sctp to a page that sleeps 1 s
# and prints the SCTP_STREAM it got.
{
    require JSON::PP;
    my $client = File::Basename::dirname($so) . '/sctp-http';
    my @cmd = ($client, 'raw', '--wait-ms', '8000',
               (map { ('--send', "$_:GET /sctp/stream.php?n=$_ HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n") } 1 .. 4),
               "127.0.0.1:$SFRONT");
    my (%body, %done);
    my $pid = open(my $p, '-|', @cmd) or die "$client: $!";
    while (my $l = <$p>) {
        my $m = eval { JSON::PP::decode_json($l) } or next;
        next unless defined $m->{data};
        $body{$m->{stream}} .= $m->{data};
        $done{$m->{stream}} = $m->{t_ms} if $body{$m->{stream}} =~ /\r\n\r\nstream \S+ n=\d+\n\z/;
        last if keys(%done) == 4;
    }
    kill 'TERM', $pid;
    close $p;
    for my $sid (1 .. 4) {
        like($body{$sid} // '', qr{\AHTTP/1\.1 200 .*\r\n\r\nstream $sid n=$sid\n\z}s,
             "SCTP front, stream $sid: 200 from PHP, which saw SCTP_STREAM=$sid");
    }
    if ($mpm ne 'prefork') {
        # One at a time they would take 4 s at least.
        my ($last) = sort { $b <=> $a } values %done;
        cmp_ok($last // 1e9, '<', 3500, "$mpm: the four 1-second pages ran at once (all done after " . ($last // 'never') . ' ms)');
    }
}

my (undef, undef, $h) = http_get("$base/sctp/index.php");
is($h->{'x-page'}, 'index', 'a header the script set arrives');
my $blob = join '', map { chr(($_ * 7) % 256) } 1 .. 300_000;
my ($ps, $pb) = http_get("$base/sctp/post.php", content => $blob);
is($ps, 200, 'POST of 300000 bytes over SCTP: 200');
is($pb, length($blob) . ' ' . md5_hex($blob) . "\n", 'the script read the whole body (length and MD5)');
my (undef, $tb) = http_get("$base/tcp/post.php", content => $blob);
is($pb, $tb, 'the same answer as over TCP');

# 2. SetHandler and a balancer reach the same backend.
my ($ss, $sb) = http_get("$base/sh/index.php?q=sh");
is($ss, 200, 'SetHandler "proxy:fcgi+sctp://...": 200');
like($sb, qr/^method=GET q=sh\n/, 'SetHandler: the page ran');
my ($bs, $bb) = http_get("$base/bal/index.php?q=bal");
is($bs, 200, 'balancer://php with an fcgi+sctp:// member: 200');
like($bb, qr/^method=GET q=bal\n/, 'balancer: the page ran');

# 3. More concurrent requests than request streams (10 streams: 8 for
# requests) all complete.
my @kids;
for my $i (1 .. 24) {
    my $pid = fork // die;
    if (!$pid) {
        my ($s, $b) = http_get("$base/sctp/slow.php?s=1&n=$i");
        POSIX::_exit(($s == 200 && $b eq "slow start\nslow end\n") ? 0 : 1);
    }
    push @kids, $pid;
}
my $okc = 0;
for (@kids) { waitpid $_, 0; $okc++ if $? == 0 }
is($okc, 24, '24 concurrent slow requests over 8 request streams per association: all 200 with the whole body');

# 4. A PHP worker killed mid-response: its response is cut short (not
# passed off as complete), a slow request on another stream of the same
# association completes, and the next request works.
my $slow = fork // die;
if (!$slow) {
    my ($s, $b) = http_get("$base/sctp/slow.php?s=2");
    POSIX::_exit(($s == 200 && $b eq "slow start\nslow end\n") ? 0 : 1);
}
select undef, undef, undef, 0.3;
my $cut = `curl -s -o $dir/die.out -w '%{http_code} %{size_download}' $base/sctp/die.php 2>&1; echo " rc=\$?"`;
chomp $cut;
my ($code, $size, $crc) = $cut =~ /^(\d+) (\d+) rc=(\d+)/;
ok(defined $code && ($code eq '502' || ($code eq '200' && $crc != 0)),
   "worker killed mid-response: 502, or a 200 the client sees cut short (curl: $cut)");
waitpid $slow, 0;
is($?, 0, 'the slow request on another stream of the same association completed');
ok(wait_for_log("$dir/error_log", qr/proxy_fcgi_sctp.*(truncated|vanished|without response headers|app status)/i),
   'the error log says the response was cut short');
ok(wait_for_log("$dir/error_log", qr/\[proxy_fcgi_sctp:error\].*FastCGI backend 127\.0\.0\.1:$BRIDGE: \S/),
   "the bridge's own log line (FCGI_STDERR on stream 1) is in httpd's error log, tagged with the backend");
my ($as, $ab) = http_get("$base/sctp/small.php?n=after");
is("$as $ab", "200 small after\n", 'the next request is served');

# 5. A slow page on a route with timeout=2: 504 on its own stream, while
# other requests keep being served.
my $t0 = time;
my $to = fork // die;
if (!$to) {
    my ($s) = http_get("$base/short/sleepy.php?s=6");
    POSIX::_exit($s == 504 ? 0 : 1);
}
select undef, undef, undef, 0.5;
my $fast_ok = 0;
for my $i (1 .. 5) {
    my ($s, $b) = http_get("$base/short/small.php?n=$i");
    $fast_ok++ if $s == 200 && $b eq "small $i\n";
}
is($fast_ok, 5, 'while a request waits for its timeout, others on the same route complete');
waitpid $to, 0;
is($?, 0, 'the slow request got 504 Gateway Timeout after timeout=2');
ok(wait_for_log("$dir/error_log", qr/no answer on stream \d+ within/), 'the error log names the stream that timed out');

# 6. The bridge killed: 503 at once (no hang), then it comes back and the
# next request reconnects.
kill 'KILL', $bridge_pid;
waitpid $bridge_pid, 0;
my ($ds) = http_get("$base/sctp/small.php?n=down");
ok($ds == 503 || $ds == 502, "bridge down: $ds, not a hang");
start_bridge(log => "$dir/bridge.log", args => $bridge_args, sctp => $BRIDGE);
# mod_proxy keeps a worker in error for its retry time (60 s by default);
# the direct ProxyPass worker is retried, the connection is ours.
my $back = eventually(80, 1, sub {
    my ($s, $b) = http_get("$base/short/small.php?n=back");
    ($s == 200 && $b eq "small back\n") ? 1 : 0;
});
is($back, 1, 'after the bridge restarts, the next request reconnects');

# 7. A graceful restart: the new children open associations of their own.
system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'graceful');
is(eventually(60, 1, sub { own_httpd_generations($dir) >= 2 ? 1 : 0 }), 1, 'graceful restart done');
my ($gs, $gb) = http_get("$base/short/small.php?n=graceful");
is("$gs $gb", "200 small graceful\n", 'after a graceful restart the next request is served');

# 8. The capture.
sleep 1;
kill 'INT', $tshark_pid;
waitpid $tshark_pid, 0;
ok(-s $pcap, 'capture written');
my %cap = check_capture($tshark, $pcap, [$BRIDGE]);
cmp_ok($cap{chunks}, '>', 50, "$cap{chunks} DATA chunks captured");
is_deeply($cap{bad}, [], 'stream 0 silent; stream 1 only management and log records; every other record on the stream of its request id');
cmp_ok($cap{assocs}, '>=', 1, "$cap{assocs} association(s) captured");
is($cap{first_ok}, $cap{assocs}, 'each association starts with FCGI_GET_VALUES on stream 1');
cmp_ok($cap{requests}, '>=', 30, "$cap{requests} BEGIN_REQUESTs, each on a stream >= 2");

done_testing();
