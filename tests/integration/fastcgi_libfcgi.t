#!/usr/bin/perl
# FastCGI over SCTP from httpd straight to a libfcgi program: Debian's
# unmodified fcgiwrap, run against our patched libfcgi (patches/libfcgi,
# built by ci/build-libfcgi) with FCGI_SCTP_LISTEN, serves shell CGI
# scripts to httpd's fcgi+sctp:// scheme. The same scripts through the same
# fcgiwrap binary with Debian's libfcgi over TCP (stock mod_proxy_fcgi) give
# the same bodies and statuses. libfcgi takes one request per connection
# (FCGI_MPXS_CONNS 0): httpd learns it from FCGI_GET_VALUES, runs one
# request per association and closes associations when idle, so more
# concurrent requests than fcgiwrap workers all complete.
# Runs its own httpd and fcgiwraps as root inside the SCTP VM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use POSIX ();
use File::Temp qw(tempdir);
use Digest::MD5 qw(md5_hex);
use SCTPTest qw(eventually own_httpd_conf own_httpd_generations stop_own_httpd);
use FastCGITest qw(ROOT spawn stop_all http_get wait_for_log fcgi_httpd_conf tcp_listening
                   sctp_port_listening);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $fso = $ENV{MOD_PROXY_FCGI_SCTP_SO} // ROOT . '/target/release/libmod_proxy_fcgi_sctp.so';
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $lib = ROOT . '/target/libfcgi/prefix/lib';
-e "$lib/libfcgi.so.0" or BAIL_OUT("$lib/libfcgi.so.0 missing: run ci/build-libfcgi");
-x '/usr/sbin/fcgiwrap' or BAIL_OUT('fcgiwrap missing (ci/setup installs it)');
my ($HTTP, $TCP, $SCTP) = (18081, 19010, 19011);

my $dir = tempdir('fastcgi_libfcgi.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
END {
    my $failed = $? || !Test::More->builder->is_passing;
    # The test's exit status stays what it was: stop_all's waitpid would
    # otherwise leave -1 in $?.
    local $?;
    stop_all();
    stop_own_httpd($dir) if $dir && -e "$dir/httpd.pid";
    if ($failed) {
        for my $l (qw(error_log fcgiwrap-sctp.log fcgiwrap-tcp.log)) {
            diag("--- $l\n" . join '', grep { !/resuming|AH00489|AH00094/ } (do { my @l; if (open my $f, '<', "$dir/$l") { @l = <$f> } @l }));
        }
    }
}

# fcgiwrap runs as nobody, who may not be able to read the checkout (a
# clone in /root, mode 0700): it loads a copy of the patched library.
mkdir "$dir/lib";
system('cp', '-a', glob("$lib/libfcgi.so*"), "$dir/lib") == 0 or BAIL_OUT("cannot copy $lib to $dir/lib");
mkdir "$dir/htdocs";
{
    open my $ix, '>', "$dir/htdocs/index.html" or die;
    print $ix "the page a local redirect leads to\n";
}
my $cgi = "$dir/cgi";
mkdir $cgi;
my %scripts = (
    'env.cgi' => <<'SH',
#!/bin/sh
printf 'Content-Type: text/plain\r\nX-Script: env\r\n\r\n'
echo "method=$REQUEST_METHOD query=$QUERY_STRING length=${CONTENT_LENGTH:-}"
if [ "$REQUEST_METHOD" = POST ]; then head -c "$CONTENT_LENGTH" | md5sum; fi
seq 1 20000
SH
    'teapot.cgi' => <<'SH',
#!/bin/sh
printf 'Status: 418 I am a teapot\r\nContent-Type: text/plain\r\n\r\nshort and stout\n'
SH
    'stderr.cgi' => <<'SH',
#!/bin/sh
echo "a line from the CGI script on stderr" >&2
printf 'Content-Type: text/plain\r\n\r\nok\n'
SH
    'redirect.cgi' => <<'SH',
#!/bin/sh
printf 'Location: /index.html\r\n\r\n'
SH
    'slow.cgi' => <<'SH',
#!/bin/sh
sleep 1
printf 'Content-Type: text/plain\r\n\r\nslow %s\n' "$QUERY_STRING"
SH
);
for my $f (keys %scripts) {
    open my $o, '>', "$cgi/$f" or die;
    print $o $scripts{$f};
    close $o;
    chmod 0755, "$cgi/$f";
}
system("chmod -R a+rX $dir");

my @nobody = ('setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups');
# Stock fcgiwrap, Debian's libfcgi, TCP: the reference.
spawn("$dir/fcgiwrap-tcp.log", @nobody, '/usr/sbin/fcgiwrap', '-f', '-c', '4', '-s', "tcp:127.0.0.1:$TCP");
ok(eventually(30, 1, sub { tcp_listening($TCP) }), "fcgiwrap (Debian's libfcgi) listens on TCP $TCP");
# The same binary on the patched libfcgi, SCTP.
spawn("$dir/fcgiwrap-sctp.log", 'env', "LD_LIBRARY_PATH=$dir/lib", "FCGI_SCTP_LISTEN=127.0.0.1:$SCTP",
      'FCGI_SCTP_REUSEPORT=1', @nobody, '/usr/sbin/fcgiwrap', '-f', '-c', '4');
ok(eventually(30, 1, sub { sctp_port_listening($SCTP) }), "fcgiwrap on the patched libfcgi listens on SCTP $SCTP");

open my $c, '>', "$dir/httpd.conf" or die;
print $c own_httpd_conf(dir => $dir, mpm => $mpm, so => $so, extra => fcgi_httpd_conf($fso) . <<"EOC");
LogLevel info proxy_fcgi_sctp:debug
Listen 127.0.0.1:$HTTP
Timeout 30
# fcgiwrap finds the script by SCRIPT_FILENAME: a plain path from
# mod_proxy_fcgi too (GENERIC), as fcgi+sctp:// always gives.
ProxyFCGIBackendType GENERIC
ProxyPass /sctp/ fcgi+sctp://127.0.0.1:$SCTP$cgi/
ProxyPass /tcp/ fcgi://127.0.0.1:$TCP$cgi/
EOC
close $c;
is(system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'start'), 0, "httpd ($mpm) starts");
is(eventually(60, 1, sub { own_httpd_generations($dir) ? 1 : 0 }), 1, 'httpd runs');
eventually(30, 1, sub { tcp_listening($HTTP) });
my $base = "http://127.0.0.1:$HTTP";

for my $case (['env.cgi?a=1&b=2', 200], ['teapot.cgi', 418]) {
    my ($page, $want) = @$case;
    my ($s1, $b1, $h1) = http_get("$base/sctp/$page");
    my ($s2, $b2, $h2) = http_get("$base/tcp/$page");
    is($s1, $want, "GET /sctp/$page: $want over SCTP (fcgiwrap on the patched libfcgi)");
    is($s2, $want, "GET /tcp/$page: $want over TCP (fcgiwrap on Debian's libfcgi)");
    ok($s1 == $want && $s2 == $want && length $b1 > 0 && $b1 eq $b2,
       "$page: the same body over SCTP and TCP (" . length($b1) . " bytes)")
        or diag("SCTP: " . substr($b1, 0, 300) . "\nTCP: " . substr($b2, 0, 300));
}
my (undef, undef, $h) = http_get("$base/sctp/env.cgi");
is($h->{'x-script'}, 'env', 'a header the script printed arrives');

my $blob = join '', map { chr(($_ * 13) % 256) } 1 .. 200_000;
my ($ps, $pb) = http_get("$base/sctp/env.cgi", content => $blob);
is($ps, 200, 'POST of 200000 bytes over SCTP: 200');
like($pb, qr/^method=POST query= length=200000\n\Q@{[md5_hex($blob)]}\E  -\n/, 'the script read the whole body (MD5)');

my ($rs, $rb) = http_get("$base/sctp/redirect.cgi");
is("$rs $rb", "200 the page a local redirect leads to\n",
   'a CGI local redirect (Location: /index.html, no status) serves that page');
my ($es) = http_get("$base/sctp/stderr.cgi");
is($es, 200, 'a script that writes to stderr: 200');
ok(wait_for_log("$dir/error_log", qr/FastCGI backend 127\.0\.0\.1:$SCTP \(stream \d+\): a line from the CGI script on stderr/),
   "the script's stderr line is in httpd's error log, tagged with the backend and stream");
ok(wait_for_log("$dir/error_log", qr/FCGI_MPXS_CONNS Some\(false\): 1 requests at once/),
   'httpd learnt from FCGI_GET_VALUES that libfcgi takes one request per association');

# 12 concurrent requests, 4 fcgiwrap workers: associations are opened per
# request and closed when idle, so every request gets a worker.
my @kids;
for my $i (1 .. 12) {
    my $pid = fork // die;
    if (!$pid) {
        my ($s, $b) = http_get("$base/sctp/slow.cgi?$i");
        POSIX::_exit(($s == 200 && $b eq "slow $i\n") ? 0 : 1);
    }
    push @kids, $pid;
}
my $okc = 0;
for (@kids) { waitpid $_, 0; $okc++ if $? == 0 }
is($okc, 12, '12 concurrent requests over SCTP to 4 libfcgi workers: all complete');
my ($s2, $b2) = http_get("$base/sctp/slow.cgi?after");
is("$s2 $b2", "200 slow after\n", 'afterwards a request still finds a worker');

done_testing();
