#!/usr/bin/perl
# FastCGI over SCTP from nginx, which speaks only TCP FastCGI: nginx
# (fastcgi_pass) -> fcgi-bridge frontend (TCP in, SCTP out, request ids
# rewritten to stream numbers) -> SCTP -> programs on the patched libfcgi
# (patches/libfcgi): Debian's unmodified fcgiwrap running shell CGI scripts,
# and tests/libfcgi/fcgi_echo (FCGX_Accept_r). The same scripts through the
# same fcgiwrap binary on Debian's libfcgi over plain TCP, through the same
# nginx, give the same bodies, statuses and headers. A POST body arrives
# whole; 16 concurrent requests to each program complete; fcgiwrap killed
# mid-response: nginx does not pass the response off as complete (the
# frontend closes without FCGI_END_REQUEST) and the next request works once
# fcgiwrap is back; a capture of the SCTP ports shows stream 0 silent,
# FCGI_GET_VALUES first on stream 1, every record on its request id's
# stream. The MPM does not matter here (no httpd). Runs as root inside the
# SCTP VM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use POSIX ();
use Socket qw(AF_INET SOCK_STREAM SOL_SOCKET SO_REUSEADDR pack_sockaddr_in inet_aton);
use File::Temp qw(tempdir);
use Digest::MD5 qw(md5_hex);
use Digest::SHA qw(sha256_hex);
use SCTPTest qw(eventually);
use FastCGITest qw(ROOT spawn stop_all start_bridge http_get tcp_listening sctp_port_listening
                   error_log_lines wait_for_log check_capture);

my $lib = ROOT . '/target/libfcgi/prefix/lib';
my $echo = ROOT . '/target/libfcgi/tests/fcgi_echo';
my $tshark = '/usr/bin/tshark';
-e "$lib/libfcgi.so.0" or BAIL_OUT("$lib/libfcgi.so.0 missing: run ci/build-libfcgi");
-x $echo or BAIL_OUT("$echo missing: build it with tests/libfcgi/run.sh (outside the VM)");
-x '/usr/sbin/fcgiwrap' or BAIL_OUT('fcgiwrap missing (ci/setup installs it)');
-x '/usr/sbin/nginx' or BAIL_OUT('nginx missing (ci/setup installs nginx-light)');
-x $tshark or BAIL_OUT('tshark missing (ci/setup installs it)');
my ($NGINX, $FE_WRAP, $FE_ECHO, $WRAP_SCTP, $ECHO_SCTP, $WRAP_TCP) = (18082, 19020, 19021, 19022, 19023, 19024);
my $t_start = time;

my $dir = tempdir('fastcgi_nginx.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
my %groups;    # name -> process group leader (programs on an SCTP fd 0)
END {
    my $rc = $?;
    local $?;    # the waitpids below must not become the exit status
    stop_group($_) for keys %groups;
    stop_all();
    if ($dir && -e "$dir/nginx.pid") {
        chomp(my $p = do { open my $f, '<', "$dir/nginx.pid"; $f ? <$f> : '' } // '');
        kill 'QUIT', $p if $p;
    }
    if ($rc || !Test::More->builder->is_passing) {
        for my $l (qw(nginx-error.log fe-wrap.log fe-echo.log wrap-sctp.log echo-sctp.log wrap-tcp.log)) {
            diag("--- $l\n" . join '', (do { open my $f, '<', "$dir/$l"; $f ? <$f> : () }));
        }
    }
}

# A program in a process group of its own (so that it and whatever it
# forks can be killed together), with fd 0 an SCTP listening socket on
# $port when $port is given (libfcgi's "inherited fd 0": several processes
# take turns in accept, as with a TCP socket). $copies processes of @cmd.
sub start_group {
    my ($name, $port, $copies, @cmd) = @_;
    my $sock;
    if ($port) {
        socket($sock, AF_INET, SOCK_STREAM, 132) or die "SCTP socket: $!\n";
        setsockopt($sock, SOL_SOCKET, SO_REUSEADDR, 1);
        bind($sock, pack_sockaddr_in($port, inet_aton('127.0.0.1'))) or die "bind SCTP $port: $!\n";
        listen($sock, 64) or die "listen: $!\n";
    }
    my $leader = fork // die "fork: $!";
    if (!$leader) {
        POSIX::setsid();
        open STDOUT, '>>', "$dir/$name.log" or die;
        open STDERR, '>&', \*STDOUT or die;
        POSIX::dup2(fileno($sock), 0) if $sock;
        my @kids;
        for (1 .. $copies) {
            my $k = fork // die;
            if (!$k) { exec(@cmd) or POSIX::_exit(127) }
            push @kids, $k;
        }
        waitpid($_, 0) for @kids;
        POSIX::_exit(0);
    }
    close $sock if $sock;
    $groups{$name} = $leader;
    return $leader;
}

sub stop_group {
    my ($name) = @_;
    my $leader = delete $groups{$name} or return;
    kill 'KILL', -$leader;
    waitpid $leader, 0;
}

# The CGI scripts.
my $cgi = "$dir/cgi";
mkdir $cgi;
my %scripts = (
    'env.sh' => <<'SH',
#!/bin/sh
echo "Content-Type: text/plain; charset=us-ascii"
echo "X-Script: env"
echo
echo "method=$REQUEST_METHOD query=$QUERY_STRING gateway=$GATEWAY_INTERFACE proto=$SERVER_PROTOCOL script=$SCRIPT_NAME"
seq 1 30000
SH
    'missing.sh' => <<'SH',
#!/bin/sh
echo "Status: 404 Not Found"
echo "Content-Type: text/plain"
echo
echo "not here"
SH
    'post.sh' => <<'SH',
#!/bin/sh
echo "Content-Type: text/plain"
echo
f=$(mktemp)
cat > "$f"
echo "$(wc -c < "$f") $(md5sum < "$f" | cut -d' ' -f1) cl=$CONTENT_LENGTH"
rm -f "$f"
SH
    'nap.sh' => <<'SH',
#!/bin/sh
sleep 0.3
echo "Content-Type: text/plain"
echo
echo "nap $QUERY_STRING"
SH
    'slow.sh' => <<'SH',
#!/bin/sh
echo "Content-Type: text/plain"
echo
seq 1 20000
sleep 4
echo END
SH
);
for my $f (keys %scripts) {
    open my $o, '>', "$cgi/$f" or die;
    print $o $scripts{$f};
    close $o;
    chmod 0755, "$cgi/$f";
}

# Capture both SCTP ports from the first packet.
my $pcap = "$dir/capture.pcapng";
my $tlog = "$dir/tshark.log";
my $tshark_pid = spawn($tlog, $tshark, '-i', 'lo', '-B', '32', '-f', "sctp port $WRAP_SCTP or sctp port $ECHO_SCTP", '-w', $pcap);
is(eventually(30, 1, sub { open my $l, '<', $tlog or return 0; (grep { /Capturing on/ } <$l>) ? 1 : 0 }),
   1, 'tshark is capturing on lo');

# The programs: fcgiwrap (4 preforked processes) and fcgi_echo (2
# processes) on the patched libfcgi over SCTP; fcgiwrap on Debian's libfcgi
# over TCP for comparison.
my @wrap_sctp = ('/usr/bin/env', "LD_LIBRARY_PATH=$lib", '/usr/sbin/fcgiwrap', '-c', '4', '-f');
start_group('wrap-sctp', $WRAP_SCTP, 1, @wrap_sctp);
start_group('echo-sctp', $ECHO_SCTP, 2, '/usr/bin/env', "LD_LIBRARY_PATH=$lib", $echo);
start_group('wrap-tcp', undef, 1, '/usr/sbin/fcgiwrap', '-c', '4', '-f', '-s', "tcp:127.0.0.1:$WRAP_TCP");
is(eventually(20, 1, sub { tcp_listening($WRAP_TCP) }), 1, "fcgiwrap on Debian's libfcgi listens on TCP $WRAP_TCP");

# One frontend per SCTP backend; as many associations as the backend has
# processes (libfcgi serves one association per process, one request at a
# time on it: FCGI_MAX_REQS 1).
my $fe = ROOT . '/target/release/fcgi-bridge';
ok(start_bridge(log => "$dir/fe-wrap.log", tcp => $FE_WRAP,
                args => ['frontend', '--listen', "tcp:127.0.0.1:$FE_WRAP", '--backend', "sctp:127.0.0.1:$WRAP_SCTP",
                         '--max-assocs', '4']),
   "fcgi-bridge frontend: TCP $FE_WRAP -> SCTP $WRAP_SCTP (fcgiwrap)");
ok(start_bridge(log => "$dir/fe-echo.log", tcp => $FE_ECHO,
                args => ['frontend', '--listen', "tcp:127.0.0.1:$FE_ECHO", '--backend', "sctp:127.0.0.1:$ECHO_SCTP",
                         '--max-assocs', '2']),
   "fcgi-bridge frontend: TCP $FE_ECHO -> SCTP $ECHO_SCTP (fcgi_echo)");

# nginx. fastcgi_keep_conn on: only then does nginx tell a connection
# closed before FCGI_END_REQUEST from the end of the response.
mkdir "$dir/nginx-tmp";
my $fcgi_common = <<"EOC";
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $cgi/\$1;
            fastcgi_param SCRIPT_NAME /\$1;
            fastcgi_keep_conn on;
            fastcgi_read_timeout 20s;
EOC
open my $nc, '>', "$dir/nginx.conf" or die;
print $nc <<"EOC";
daemon off;
master_process on;
worker_processes 1;
user nobody nogroup;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log info;
events { worker_connections 512; }
http {
    access_log $dir/nginx-access.log;
    client_body_temp_path $dir/nginx-tmp/body;
    fastcgi_temp_path $dir/nginx-tmp/fastcgi;
    proxy_temp_path $dir/nginx-tmp/proxy;
    uwsgi_temp_path $dir/nginx-tmp/uwsgi;
    scgi_temp_path $dir/nginx-tmp/scgi;
    client_max_body_size 4m;
    server {
        listen 127.0.0.1:$NGINX;
        location ~ ^/sctp/([a-z]+\\.sh)\$ {
$fcgi_common            fastcgi_pass 127.0.0.1:$FE_WRAP;
        }
        location ~ ^/tcp/([a-z]+\\.sh)\$ {
$fcgi_common            fastcgi_pass 127.0.0.1:$WRAP_TCP;
        }
        location /echo/ {
            include /etc/nginx/fastcgi_params;
            fastcgi_keep_conn on;
            fastcgi_pass 127.0.0.1:$FE_ECHO;
        }
    }
}
EOC
close $nc;
my @nginx = ('/usr/sbin/nginx', '-p', $dir, '-e', "$dir/nginx-error.log", '-c', "$dir/nginx.conf");
is(system(@nginx, '-t', '-q') >> 8, 0, 'nginx -t accepts the configuration');
spawn("$dir/nginx.out", @nginx);
is(eventually(20, 1, sub { tcp_listening($NGINX) }), 1, "nginx listens on $NGINX");
my $base = "http://127.0.0.1:$NGINX";

# 1. fcgiwrap: the same scripts over SCTP and over TCP.
for my $case (['env.sh?q=42', 200], ['missing.sh', 404]) {
    my ($page, $want) = @$case;
    my ($s1, $b1, $h1) = http_get("$base/sctp/$page");
    my ($s2, $b2, $h2) = http_get("$base/tcp/$page");
    is($s1, $want, "GET /sctp/$page (nginx -> frontend -> SCTP -> fcgiwrap on the patched libfcgi): $want");
    is($s2, $want, "GET /tcp/$page (nginx -> fcgiwrap on Debian's libfcgi over TCP): $want");
    ok(length $b1 > 0 && $b1 eq $b2, "$page: the body over SCTP is byte-identical to the body over TCP (" . length($b1) . " bytes)")
        or diag("SCTP: " . substr($b1, 0, 300) . "\nTCP: " . substr($b2, 0, 300));
    is(join(' ', map { $_ // '-' } @{$h1}{qw(content-type x-script)}),
       join(' ', map { $_ // '-' } @{$h2}{qw(content-type x-script)}), "$page: same Content-Type and X-Script");
}
my (undef, $eb) = http_get("$base/sctp/env.sh?q=42");
like($eb, qr/^method=GET query=q=42 gateway=CGI\/1\.1 proto=HTTP\/1\.1 script=\/env\.sh\n1\n2\n/, 'env.sh: the script saw the request');
like($eb, qr/\n30000\n\z/, 'env.sh: the whole body (to 30000)');

# 2. POST bodies arrive whole.
my $blob = join '', map { chr(($_ * 7) % 256) } 1 .. 300_000;
my ($ps, $pb) = http_get("$base/sctp/post.sh", content => $blob);
is("$ps $pb", "200 300000 " . md5_hex($blob) . " cl=300000\n", 'POST of 300000 bytes to fcgiwrap over SCTP: the script read all of it (length, MD5)');
my (undef, $tb) = http_get("$base/tcp/post.sh", content => $blob);
is($pb, $tb, 'the same answer as over TCP');
my ($es, $ebody) = http_get("$base/echo/post?x=1", content => $blob);
is($es, 200, 'POST to fcgi_echo over SCTP: 200');
like($ebody, qr/^request_id=(\d+)\nuri=\/echo\/post\?x=1\nquery=x=1\nstdin_len=300000\nstdin_sha256=${\ sha256_hex($blob)}\n\z/,
     'fcgi_echo read the whole body (length, SHA-256)');
my ($rid) = $ebody =~ /^request_id=(\d+)/;
cmp_ok($rid // 0, '>=', 2, "fcgi_echo saw request id $rid: nginx's id 1 was rewritten to its SCTP stream (>= 2)");
my ($bs, $bb) = http_get("$base/echo/big?big=100000");
my $filler = join '', map { chr(ord('a') + $_ % 26) } 0 .. 99_999;
ok($bs == 200 && $bb =~ /\nstdin_len=0\nstdin_sha256=[0-9a-f]{64}\n(.*)\z/s && $1 eq $filler,
   'GET with big=100000: 100000 bytes of filler arrive intact');

# 3. 16 concurrent requests to each program all complete.
sub burst {
    my ($n, $url, $want) = @_;
    my @kids;
    for my $i (1 .. $n) {
        my $pid = fork // die;
        if (!$pid) {
            my ($s, $b) = http_get(sprintf($url, $i));
            POSIX::_exit(($s == 200 && $b =~ $want->($i)) ? 0 : 1);
        }
        push @kids, $pid;
    }
    my $ok = 0;
    for (@kids) { waitpid $_, 0; $ok++ if $? == 0 }
    return $ok;
}
my $t0 = time;
is(burst(16, "$base/sctp/nap.sh?n=%d", sub { qr/^nap n=$_[0]\n\z/ }), 16,
   '16 concurrent requests to fcgiwrap (4 processes, 4 associations) over SCTP: all 200 with their own body');
is(burst(16, "$base/echo/c?n=%d", sub { qr/\nquery=n=$_[0]\n/ }), 16,
   '16 concurrent requests to fcgi_echo (2 processes) over SCTP: all 200 with their own body');
note('bursts took ' . (time - $t0) . ' s');

# 4. fcgiwrap killed mid-response: the client must not get a
# complete-looking response; the next request works once it is back.
my $out = "$dir/slow.out";
my $curl = fork // die;
if (!$curl) {
    open STDOUT, '>', "$dir/slow.meta" or die;
    exec('curl', '-s', '-o', $out, '-w', '%{http_code} %{size_download}', "$base/sctp/slow.sh") or POSIX::_exit(127);
}
is(eventually(10, 1, sub { (-s $out // 0) > 1000 ? 1 : 0 }), 1, 'slow.sh: the client is receiving the body');
stop_group('wrap-sctp');
waitpid $curl, 0;
my $crc = $? >> 8;
my $meta = do { open my $m, '<', "$dir/slow.meta"; $m ? <$m> : '' } // '';
my ($code) = $meta =~ /^(\d+)/;
my $body = do { local $/; open my $b, '<', $out; $b ? <$b> : '' } // '';
ok(defined $code && ($code eq '502' || ($code eq '200' && $crc != 0 && $body !~ /END\n\z/)),
   "fcgiwrap killed mid-response: 502, or a 200 the client sees cut short (curl: $meta, exit $crc, "
   . length($body) . ' bytes)');
ok(wait_for_log("$dir/nginx-error.log", qr/upstream prematurely closed/), 'nginx logged "upstream prematurely closed"');
ok(wait_for_log("$dir/fe-wrap.log", qr/association lost/), 'the frontend logged the lost association');
my ($ds) = http_get("$base/sctp/missing.sh");
is($ds, 502, 'fcgiwrap down: 502');
eventually(10, 0, sub { sctp_port_listening($WRAP_SCTP) });
start_group('wrap-sctp', $WRAP_SCTP, 1, @wrap_sctp);
my $back = eventually(20, 1, sub {
    my ($s, $b) = http_get("$base/sctp/env.sh?q=42");
    ($s == 200 && $b eq $eb) ? 1 : 0;
});
is($back, 1, 'fcgiwrap restarted: the next request gets the whole page again');

# 5. The capture.
sleep 1;
kill 'INT', $tshark_pid;
waitpid $tshark_pid, 0;
ok(-s $pcap, 'capture written');
my %cap = check_capture($tshark, $pcap, [$WRAP_SCTP, $ECHO_SCTP]);
cmp_ok($cap{chunks}, '>', 50, "$cap{chunks} DATA chunks captured");
is_deeply($cap{bad}, [], 'stream 0 silent; stream 1 only management and log records; every other record on the stream of its request id');
my %assocs = %{ $cap{per_port} };
ok(($assocs{$WRAP_SCTP} // 0) >= 2 && ($assocs{$ECHO_SCTP} // 0) >= 1,
   "$cap{assocs} associations captured (fcgiwrap " . ($assocs{$WRAP_SCTP} // 0) . ', fcgi_echo ' . ($assocs{$ECHO_SCTP} // 0) . ')');
is($cap{first_ok}, $cap{assocs}, 'each association starts with FCGI_GET_VALUES on stream 1');
cmp_ok($cap{requests}, '>=', 40, "$cap{requests} BEGIN_REQUESTs, each on a stream >= 2");
note('took ' . (time - $t_start) . ' s');

done_testing();
