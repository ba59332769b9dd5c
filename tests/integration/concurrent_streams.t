#!/usr/bin/perl
# Concurrent streams: under the threaded MPMs (event, worker)
# each stream of an association is served on its own, so a slow or broken
# stream never holds up the others; under prefork an association is served
# one request at a time, in the order the streams' requests arrived
# (docs/architecture.md), and this file asserts that serial behaviour there.
# All over one association per case, with `sctp-http raw` (t_ms on every
# message received):
#
# a. a CGI that answers after 3 s on stream 1, 1 KB static files on streams
#    2..8 sent at once: threaded, every static complete and byte-exact before
#    the CGI's first byte and within 1.5 s; the CGI's response after >= 2.5 s
#    and byte-exact. Prefork: all byte-exact, the statics after the CGI.
# b. a malformed request on stream 3 beside valid ones on 1, 2 and 4 (sent
#    before it under threaded MPMs, after it under prefork): the 400 on
#    stream 3, 200s on 1, 2 and (threaded) 4, each on its stream.
# c. RequestReadTimeout header=2: stream 1 trickles its headers (one byte a
#    second, never done), streams 2..8 send whole requests: threaded, 2..8
#    answered within 1.5 s, stream 1's 408 on stream 1 after 2-6 s.
#    Prefork: stream 1's 408 on stream 1 (others not asserted: serial).
# d. an ABORT while a CGI streams (it prints its PID, then a line each
#    200 ms for 30 s): the CGI process is gone within 5 s; then 200 more
#    ABORTs (30 under prefork): no growth of httpd's descriptors or threads
#    between the 20th and the last, no CGI left.
# e. a graceful restart 0.5 s into 4 CGIs (2 s each, streams 1..4) and 4
#    statics (5..8): threaded, every response complete and byte-exact on its
#    stream; prefork, the one in progress (stream 1) is, the others get
#    theirs or nothing (httpd's request loop stops at a graceful restart);
#    then a new association is served by the new generation.
# h. a graceful stop 0.5 s into 2 CGIs (streams 1, 2) and a static (3):
#    threaded, every response complete and byte-exact; prefork, the one in
#    progress is, the others get theirs or nothing; then httpd exits.
# f. %{SCTP_STREAM}e in a CustomLog names each request's stream (case a).
# g. visibility: while a CGI runs on stream 3, /sctp-status?auto (fetched
#    on another association) lists "Stream: 3 state=running ... request=GET
#    /cgi-bin/slow.cgi?..." under its association (threaded; prefork lists
#    no streams: serial); LogLevel sctp:debug logs the stream's start and
#    end under the association's id.
# i. more streams than SCTPMaxConcurrentStreams (8, the default): twelve
#    1-second CGIs on streams 1..12 all get their own byte-exact response;
#    threaded, four of them waited for a slot (sctp:debug says so).
#
# Runs as root inside the SCTP VM; MPM from $SCTP_TEST_MPM (default event).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use JSON::PP;
use IO::Select;
use Time::HiRes qw(time sleep);
use SCTPTest qw(sctp_only eventually start_own_httpd slurp own_httpd_generations sctp_assocs
                httpd_fd_map httpd_thread_map fd_growth stop_own_httpd);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $threaded = $mpm ne 'prefork';
my $client = $ENV{SCTP_HTTP} // dirname($so) . '/sctp-http';
-x $client or BAIL_OUT("$client not built (cargo build --release --workspace)");
my $PORT = 8895;
my $dir = tempdir('concurrent_streams.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/$_" for qw(htdocs cgi-bin);
my $t_start = time;

# 1 KB text files with distinct contents (text: raw prints data as JSON).
my %file;
sub static_file {
    my ($path) = @_;
    (my $tag = $path) =~ s{\W}{_}g;
    my $data = join '', map { sprintf "%-20s line %03d of a static file\n", $tag, $_ } 0 .. 200;
    $data = substr($data, 0, 1023) . "\n";
    my ($sub) = $path =~ m{^(.*)/};
    mkdir "$dir/htdocs$sub";
    open my $f, '>', "$dir/htdocs$path" or die "$path: $!";
    print $f $data;
    $file{$path} = $data;
}
static_file("/a/s$_.txt") for 2 .. 8;
static_file("/b/s$_.txt") for 1 .. 4;
static_file("/c/s$_.txt") for 2 .. 8;
static_file("/e/s$_.txt") for 5 .. 8;
static_file("/after.txt");

sub script {
    my ($name, $text) = @_;
    open my $f, '>', "$dir/cgi-bin/$name" or die;
    print $f $text;
    close $f;
    chmod 0755, "$dir/cgi-bin/$name";
}
# ?SECS-ID: answers after SECS seconds with slow_body(ID).
script('slow.cgi', <<'EOS');
#!/bin/sh
secs=${QUERY_STRING%%-*}
id=${QUERY_STRING#*-}
sleep "$secs"
printf 'Content-Type: text/plain\r\n\r\n'
i=0
while [ $i -lt 40 ]; do echo "slow $id line $i"; i=$((i + 1)); done
EOS
sub slow_body { my ($id) = @_; join '', map { "slow $id line $_\n" } 0 .. 39 }
# Its PID first, then a line every 200 ms for 30 s.
script('ticker.cgi', <<'EOS');
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "pid $$"
i=0
while [ $i -lt 150 ]; do sleep 0.2; echo "tick $i"; i=$((i + 1)); done
EOS

my $mods = '/usr/lib/apache2/modules';
my $cgi = $threaded ? "LoadModule cgid_module $mods/mod_cgid.so" : "LoadModule cgi_module $mods/mod_cgi.so";
ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) started") or BAIL_OUT('httpd did not start');
LoadModule alias_module $mods/mod_alias.so
LoadModule reqtimeout_module $mods/mod_reqtimeout.so
$cgi
Listen 127.0.0.1:$PORT sctp
SCTPInStreams 16
SCTPOutStreams 16
ScriptAlias /cgi-bin/ $dir/cgi-bin/
RequestReadTimeout header=2 body=10
LogFormat "%{SCTP_STREAM}e \\"%r\\" %>s" streams
CustomLog $dir/access_log streams
<Location /sctp-status>
    SetHandler sctp-status
</Location>
EOX
ok(sctp_only($PORT), "$PORT is SCTP only (in /proc/net/sctp/eps, TCP refused)");

# The first HTTP/1.1 response in $bytes (one stream's bytes): status, headers,
# body and what follows it once complete (Content-Length or chunked).
sub parse_response {
    my ($bytes) = @_;
    my $i = index($bytes, "\r\n\r\n");
    return undef if $i < 0;
    my $head = substr($bytes, 0, $i);
    my $rest = substr($bytes, $i + 4);
    my ($status) = $head =~ m{\AHTTP/1\.1 (\d{3}) } or return { status => 'bad', head => $head, complete => 0 };
    my %h;
    for (split /\r\n/, $head) { $h{lc $1} = $2 if /^([^:]+):\s*(.*)$/ }
    my $r = { status => $status, h => \%h, complete => 0 };
    if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my ($body, $pos) = ('', 0);
        while (1) {
            my $nl = index($rest, "\r\n", $pos);
            return $r if $nl < 0;
            my $size = hex((split /;/, substr($rest, $pos, $nl - $pos))[0]);
            my $start = $nl + 2;
            if ($size == 0) {
                return $r if length($rest) < $start + 2;
                @$r{qw(body extra complete)} = ($body, substr($rest, $start + 2), 1);
                return $r;
            }
            return $r if length($rest) < $start + $size + 2;
            $body .= substr($rest, $start, $size);
            $pos = $start + $size + 2;
        }
    }
    my $len = $h{'content-length'} // return $r;
    return $r if length($rest) < $len;
    @$r{qw(body extra complete)} = (substr($rest, 0, $len), substr($rest, $len), 1);
    return $r;
}

# Runs sctp-http raw with @$a{steps} (--send/--pause arguments) and reads
# its JSON lines as they come, for at most $a{limit} s, until $a{until}
# (given the result so far) is true; $a{at} = [secs, code] runs code once
# that long after the start. Returns { msgs, s => { stream => { data,
# first_t, last_t, res, done_t } }, eof_t, abort_t }.
my $runs = 0;
sub run_raw {
    my (%a) = @_;
    my $err = "$dir/raw." . ++$runs . '.err';
    my @cmd = ($client, 'raw', '--wait-ms', $a{wait_ms} // 30000,
               ($a{abort_ms} ? ('--abort-after-ms', $a{abort_ms}) : ()), @{ $a{steps} }, "127.0.0.1:$PORT");
    my $pid = open(my $p, '-|') // die "fork: $!";
    if (!$pid) {
        open STDERR, '>', $err;
        exec @cmd or exit 127;
    }
    my $r = { msgs => [], s => {}, err => $err };
    my $sel = IO::Select->new($p);
    my $t0 = time;
    my $deadline = $t0 + ($a{limit} // 30);
    my ($buf, $open) = ('', 1);
    while ($open) {
        if ($a{at} && time >= $t0 + $a{at}[0]) {
            $a{at}[1]->();
            delete $a{at};
        }
        my $wait = $deadline - time;
        $wait = $t0 + $a{at}[0] - time if $a{at} && $t0 + $a{at}[0] - time < $wait;
        last if time >= $deadline;
        next unless $sel->can_read($wait > 0 ? $wait : 0);
        my $n = sysread($p, $buf, 65536, length $buf);
        $open = 0 unless $n;
        while ($buf =~ s/\A([^\n]*)\n//) {
            my $m = eval { decode_json($1) } or next;
            push @{ $r->{msgs} }, $m;
            $r->{eof_t} //= $m->{t_ms} if $m->{eof};
            $r->{abort_t} = $m->{t_ms} if $m->{abort};
            next unless defined $m->{data};
            my $s = $r->{s}{ $m->{stream} } //= { data => '' };
            $s->{data} .= $m->{data};
            $s->{first_t} //= $m->{t_ms};
            $s->{last_t} = $m->{t_ms};
            $s->{res} = parse_response($s->{data});
            $s->{done_t} //= $m->{t_ms} if $s->{res} && $s->{res}{complete};
        }
        last if $a{until} && $a{until}->($r);
    }
    kill 'TERM', $pid if $open;
    close $p;
    return $r;
}

sub req { my ($sid, $path) = @_; ('--send', "$sid:GET $path HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n") }
sub complete { my ($r, @sids) = @_; !grep { !($r->{s}{$_} && $r->{s}{$_}{done_t}) } @sids }
sub ms { defined $_[0] ? sprintf('%.0f ms', $_[0]) : 'never' }
# Stream $sid holds exactly one response: $status, body $body.
sub exact {
    my ($r, $sid, $status, $body) = @_;
    my $res = $r->{s}{$sid} && $r->{s}{$sid}{res};
    return "nothing on stream $sid" unless $res;
    return "stream $sid: incomplete $res->{status} response" unless $res->{complete};
    return "stream $sid: status $res->{status}" unless $res->{status} eq $status;
    return "stream $sid: wrong body" if defined $body && $res->{body} ne $body;
    return "stream $sid: more after the response" if $res->{extra} ne '';
    return 'ok';
}
sub streams_seen { join ',', sort { $a <=> $b } keys %{ $_[0]{s} } }
sub ppid_63 { (grep { defined $_->{data} && $_->{ppid} != 63 } @{ $_[0]{msgs} }) ? 0 : 1 }

# --- the client itself: --pause holds the next send back, t_ms counts ------
my $rp = run_raw(steps => ['--send', '5:GET /after.txt HTTP/1.1\r\nHo', '--pause', 1000, '--send', '5:st: localhost\r\n\r\n'],
                 limit => 10, until => sub { complete($_[0], 5) });
is(exact($rp, 5, 200, $file{'/after.txt'}), 'ok', 'client: a request sent in two pieces 1 s apart is answered');
my $tp = $rp->{s}{5} && $rp->{s}{5}{done_t};
ok(defined $tp && $tp >= 1000 && $tp < 3000, 'client: its response comes after the pause (at ' . ms($tp) . ')');

# --- a. a slow CGI on stream 1 beside statics on streams 2..8 ------------
my $ra = run_raw(steps => [req(1, '/cgi-bin/slow.cgi?3-a'), map { req($_, "/a/s$_.txt") } 2 .. 8],
                limit => 20, until => sub { complete($_[0], 1 .. 8) });
is(streams_seen($ra), '1,2,3,4,5,6,7,8', 'a: responses on streams 1..8 only');
is(ppid_63($ra), 1, 'a: every message has PPID 63');
is(exact($ra, $_, 200, $file{"/a/s$_.txt"}), 'ok', "a: stream $_: its static file, byte-exact") for 2 .. 8;
is(exact($ra, 1, 200, slow_body('a')), 'ok', 'a: stream 1: the CGI response, byte-exact');
my $cgi_first = $ra->{s}{1} && $ra->{s}{1}{first_t};
my $cgi_done = $ra->{s}{1} && $ra->{s}{1}{done_t};
cmp_ok($cgi_first // 0, '>=', 2500, 'a: the CGI answers after its 3 s sleep (first byte at ' . ms($cgi_first) . ')');
my @static_done = map { $ra->{s}{$_} && $ra->{s}{$_}{done_t} } 2 .. 8;
my @static_first = map { $ra->{s}{$_} && $ra->{s}{$_}{first_t} } 2 .. 8;
my $last_static = (sort { $b <=> $a } map { $_ // 1e9 } @static_done)[0];
my $first_static = (sort { $a <=> $b } map { $_ // 1e9 } @static_first)[0];
if ($threaded) {
    cmp_ok($last_static, '<', 1500, 'a: every static complete within 1.5 s (last at ' . ms($last_static) . ')');
    cmp_ok($last_static, '<', $cgi_first // 0, 'a: every static complete before the CGI\'s first byte (' . ms($cgi_first) . ')');
} else {
    cmp_ok($first_static, '>=', $cgi_done // 1e9,
           'a (prefork, serial): the statics start after the CGI\'s response ends (' . ms($first_static) . ' vs ' . ms($cgi_done) . ')');
}

# --- f. %{SCTP_STREAM}e names each request's stream ------------------------
my %want = ('GET /cgi-bin/slow.cgi?3-a HTTP/1.1' => 1, map { ("GET /a/s$_.txt HTTP/1.1" => $_) } 2 .. 8);
my $logged = sub {
    my %got;
    for (split /\n/, slurp("$dir/access_log") // '') {
        $got{$2} = $1 if /^(\S+) "([^"]*)" \d+$/ && exists $want{$2};
    }
    return \%got;
};
eventually(10, 8, sub { scalar keys %{ $logged->() } });
my $got = $logged->();
is(join(' ', map { "$_=" . ($got->{$_} // 'none') } sort keys %want),
   join(' ', map { "$_=$want{$_}" } sort keys %want), 'f: the access log names each request\'s stream');

# --- b. a malformed request on stream 3 --------------------------------------
# Threaded: stream 4's request is sent before the malformed one, so that it
# is received before the 400 closes stream 3 (the association closes once
# nothing else is in progress; a request that arrives after that is not
# "already received", as a pipelined request after a close on TCP).
my @b_bad = ('--send', '3:GARBAGE\r\n\r\n');
my $rb = run_raw(steps => [req(1, '/b/s1.txt'), req(2, '/b/s2.txt'),
                           $threaded ? (req(4, '/b/s4.txt'), @b_bad) : (@b_bad, req(4, '/b/s4.txt'))],
                limit => 10, until => sub { complete($_[0], 1 .. 4) || $_[0]{eof_t} });
is(exact($rb, 3, 400), 'ok', 'b: stream 3 (malformed): its 400 on stream 3');
is(exact($rb, $_, 200, $file{"/b/s$_.txt"}), 'ok', "b: stream $_: 200, byte-exact") for 1, 2;
if ($threaded) {
    is(exact($rb, 4, 200, $file{"/b/s4.txt"}), 'ok', 'b: stream 4 (received before the malformed one): 200, byte-exact');
} else {
    # Serial: the association ends with the 400 and the request queued on
    # stream 4 gets no response (docs/architecture.md); what it does get,
    # if anything, is its own.
    my $s4 = exact($rb, 4, 200, $file{"/b/s4.txt"});
    ok($s4 eq 'ok' || $s4 eq 'nothing on stream 4', "b (prefork): stream 4: its 200 or nothing ($s4)");
}
like(streams_seen($rb), qr/\A1,2,3(,4)?\z/, 'b: responses only on the requests\' streams');

# --- c. one stream trickles its headers: per-stream header timeout ----------
my @trickle = map { ('--pause', 1000, '--send', "1:$_") } split //, 'st: localhost';
my $rc = run_raw(steps => ['--send', '1:GET /index.html HTTP/1.1\r\nHo', (map { req($_, "/c/s$_.txt") } 2 .. 8), @trickle],
                limit => 20, until => sub { ($_[0]{s}{1} && $_[0]{s}{1}{done_t} && complete($_[0], 2 .. 8)) || $_[0]{eof_t} });
is(exact($rc, 1, 408), 'ok', 'c: stream 1 (trickling): its 408 on stream 1');
my $t408 = $rc->{s}{1} && $rc->{s}{1}{first_t};
ok(defined $t408 && $t408 >= 1800 && $t408 <= 6000, 'c: the 408 after about 2 s (header=2), at ' . ms($t408));
if ($threaded) {
    is(exact($rc, $_, 200, $file{"/c/s$_.txt"}), 'ok', "c: stream $_: 200, byte-exact") for 2 .. 8;
    my $last = (sort { $b <=> $a } map { ($rc->{s}{$_} && $rc->{s}{$_}{done_t}) // 1e9 } 2 .. 8)[0];
    cmp_ok($last, '<', 1500, 'c: streams 2..8 answered within 1.5 s (last at ' . ms($last) . ')');
} else {
    # Serial: streams 2..8 wait behind stream 1 (not asserted); whatever
    # they get is their own.
    my @bad = grep { my $x = exact($rc, $_, 200, $file{"/c/s$_.txt"}); $x ne 'ok' && $x ne "nothing on stream $_" } 2 .. 8;
    is("@bad", '', 'c (prefork): streams 2..8 got their own 200 or nothing');
}

# --- d. ABORT while a CGI streams ---------------------------------------------
sub cgi_alive {
    my ($pid) = @_;
    open my $f, '<', "/proc/$pid/stat" or return 0;
    my @st = split ' ', scalar <$f>;
    return $st[2] eq 'Z' ? 0 : 1;
}
sub tickers {
    scalar grep {
        my $cmd = slurp("$_/cmdline") // '';
        $cmd =~ /ticker\.cgi/;
    } glob '/proc/[0-9]*';
}
sub ticker_pid {
    my ($r) = @_;
    my $s = $r->{s}{1} or return undef;
    return $s->{data} =~ /\r\n\r\n(?:[0-9a-f]+\r\n)?pid (\d+)\n/ ? $1 : undef;
}
my $rd = run_raw(steps => [req(1, '/cgi-bin/ticker.cgi')], abort_ms => 1500, limit => 10);
my $pid = ticker_pid($rd);
ok(defined $pid, 'd: the CGI\'s PID arrived before the ABORT (at ' . ms($rd->{s}{1} && $rd->{s}{1}{first_t}) . ')');
like($rd->{s}{1} ? $rd->{s}{1}{data} : '', qr/tick 1\n/, 'd: the CGI was still streaming when the ABORT went');
ok(defined $rd->{abort_t}, 'd: the client aborted the association');
is(eventually(5, 0, sub { defined $pid ? cgi_alive($pid) : 1 }), 0, 'd: the CGI process is gone within 5 s of the ABORT');
# The PID line's arrival, plus a margin: the repetitions abort a CGI that
# runs, without waiting longer than needed.
my $abort_ms = int(($rd->{s}{1} && $rd->{s}{1}{first_t} // 300) * 2 + 100);
$abort_ms = 300 if $abort_ms < 300;
$abort_ms = 1000 if $abort_ms > 1000;
my $reps = $threaded ? 200 : 30;
my ($fd0, $th0, @pids);
my $seen = 0;
my $settle = sub {
    eventually(10, 0, sub { tickers() });
    eventually(10, 0, sub { sctp_assocs($PORT) });
};
my $t_loop = time;
for (my $i = 0; $i < $reps;) {
    # Four associations at a time, each with its CGI on its own stream.
    my @p;
    for my $k (1 .. 4) {
        last if $i >= $reps;
        my $sid = 1 + $i++ % 8;
        my $pid = open(my $h, '-|') // die "fork: $!";
        if (!$pid) {
            open STDERR, '>', '/dev/null';
            exec $client, 'raw', '--abort-after-ms', $abort_ms, req($sid, '/cgi-bin/ticker.cgi'), "127.0.0.1:$PORT" or exit 127;
        }
        push @p, [$h, $sid];
    }
    for (@p) {
        my ($h, $sid) = @$_;
        my $out = join '', map { my $m = eval { decode_json($_) }; $m && defined $m->{data} ? $m->{data} : '' } <$h>;
        close $h;
        if ($out =~ /\r\n\r\n(?:[0-9a-f]+\r\n)?pid (\d+)\n/) { push @pids, $1; $seen++ }
    }
    if ($i == 20) {
        $settle->();
        ($fd0, $th0) = (httpd_fd_map("$dir/httpd.pid"), httpd_thread_map("$dir/httpd.pid"));
    }
}
$settle->();
my ($fd1, $th1) = (httpd_fd_map("$dir/httpd.pid"), httpd_thread_map("$dir/httpd.pid"));
note(sprintf "d: %d ABORTs (%d after the CGI's PID arrived) with --abort-after-ms %d in %.1f s",
             $reps, $seen, $abort_ms, time - $t_loop);
cmp_ok($seen, '>=', $reps / 2, "d: most ABORTs hit a running CGI ($seen of $reps saw its PID)");
is(scalar(grep { cgi_alive($_) } @pids), 0, 'd: none of those CGI processes is left');
is(tickers(), 0, 'd: no CGI process left at all');
is(sctp_assocs($PORT), 0, 'd: no association left');
# Slack of 4: a threaded MPM may start or end a worker, or a child may
# open its log or cgid socket lazily; a leak per ABORT would be >= 180.
# Threads also have each child's stream-worker pool, which starts threads
# on demand and ends them after 10 s idle: with 4 ABORTs at a time and the
# previous batch's stream connections still ending, up to 8 per child.
my $fg = fd_growth($fd0, $fd1);
my $tg = fd_growth($th0, $th1);
my $pool_slack = 8 * scalar(keys %$th1);
cmp_ok($fg, '<=', 4, "d: httpd's descriptors grew by $fg from the 20th to the ${reps}th ABORT");
cmp_ok($tg, '<=', 4 + ($threaded ? $pool_slack : 0),
       "d: httpd's threads grew by $tg from the 20th to the ${reps}th ABORT (slack " . (4 + ($threaded ? $pool_slack : 0)) . ')');

# --- g. the status page and the debug log name the stream in progress -------
{
    my $status = '';
    my $rg = run_raw(steps => [req(3, '/cgi-bin/slow.cgi?2-g')], limit => 15,
                     at => [1, sub { $status = `$client get -q -o - http://127.0.0.1:$PORT/sctp-status?auto 2>&1` }],
                     until => sub { complete($_[0], 3) });
    is(exact($rg, 3, 200, slow_body('g')), 'ok', 'g: the CGI on stream 3: 200, byte-exact');
    my @streams = $status =~ /^(Stream: .*)$/mg;
    if ($threaded) {
        my ($line) = grep { m{^Stream: 3 state=running seconds=\d+ request=GET /cgi-bin/slow\.cgi\?2-g HTTP/1\.1$} } @streams;
        ok($line, 'g: ?auto lists stream 3 running with its request line') or diag($status);
        my ($id) = $status =~ /^Association: (\d+)\n(?:(?!Association: ).*\n)*?Stream: 3 state=running/m;
        ok($id, 'g: under its association') or diag($status);
        $id //= 'none';
        # The client shuts the association down as soon as it has the
        # response, which may be before the stream's connection has logged
        # its request: then the stream ends as cancelled by the peer.
        my $log = eventually(10, 1, sub {
            my $l = slurp("$dir/error_log") // '';
            ($l =~ /\[sctp:debug\].*association $id: stream 3: request started/
             && $l =~ /\[sctp:debug\].*association $id: stream 3: connection ended \((?:Idle|Closed|Failed: the peer shut the association down)\)/) ? 1 : 0;
        });
        is($log, 1, "g: LogLevel sctp:debug logs stream 3's start and end under association $id");
    } else {
        is(scalar(@streams), 0, 'g (prefork): no streams listed (served serially)') or diag($status);
    }
}

# --- i. more streams than SCTPMaxConcurrentStreams ------------------------------
{
    my $before = () = (slurp("$dir/error_log") // '') =~ /waits for a slot/g;
    my $ri = run_raw(steps => [map { req($_, "/cgi-bin/slow.cgi?1-i$_") } 1 .. 12], limit => 30,
                     until => sub { complete($_[0], 1 .. 12) || $_[0]{eof_t} });
    my @bad = grep { exact($ri, $_, 200, slow_body("i$_")) ne 'ok' } 1 .. 12;
    is("@bad", '', 'i: twelve CGIs on streams 1..12: each its own 200, byte-exact') or diag(map { exact($ri, $_, 200, slow_body("i$_")) . "\n" } @bad);
    if ($threaded) {
        my $waited = eventually(5, 4, sub { my $n = () = (slurp("$dir/error_log") // '') =~ /waits for a slot/g; $n - $before });
        is($waited, 4, 'i: four of them waited for a slot (SCTPMaxConcurrentStreams 8), none was lost');
    }
}

# --- e. graceful restart with streams in progress ------------------------------
my $gen = own_httpd_generations($dir);
my $re = run_raw(steps => [(map { req($_, "/cgi-bin/slow.cgi?2-e$_") } 1 .. 4), map { req($_, "/e/s$_.txt") } 5 .. 8],
                limit => 30, until => sub { complete($_[0], 1 .. 8) || $_[0]{eof_t} },
                at => [0.5, sub { system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'graceful') }]);
my %e_body = ((map { ($_ => slow_body("e$_")) } 1 .. 4), map { ($_ => $file{"/e/s$_.txt"}) } 5 .. 8);
is(exact($re, 1, 200, $e_body{1}), 'ok', 'e: stream 1: its CGI response across the restart, byte-exact');
if ($threaded) {
    is(exact($re, $_, 200, $e_body{$_}), 'ok', "e: stream $_: its CGI response across the restart, byte-exact") for 2 .. 4;
    is(exact($re, $_, 200, $e_body{$_}), 'ok', "e: stream $_: its static file, byte-exact") for 5 .. 8;
} else {
    # Serial: the request in progress (stream 1) finishes; httpd's own
    # request loop ends the connection at a graceful restart before the
    # next request (pipelined requests on TCP are dropped so too), so the
    # streams queued behind it get nothing; never a cut or mixed response.
    my @bad = grep { my $x = exact($re, $_, 200, $e_body{$_}); $x ne 'ok' && $x ne "nothing on stream $_" } 2 .. 8;
    is("@bad", '', 'e (prefork): streams 2..8 got their own complete response or nothing');
    note('e (prefork): answered on streams ' . streams_seen($re));
}
is(eventually(30, $gen + 1, sub { own_httpd_generations($dir) }), $gen + 1, 'e: the graceful restart completed');
my $after = run_raw(steps => [req(3, '/after.txt')], limit => 10, until => sub { complete($_[0], 3) });
is(exact($after, 3, 200, $file{'/after.txt'}), 'ok', 'e: a new association after the restart gets its 200');

# --- h. graceful stop with streams in progress --------------------------------
my $pid = slurp("$dir/httpd.pid") // '';
chomp $pid;
my $rh = run_raw(steps => [(map { req($_, "/cgi-bin/slow.cgi?2-h$_") } 1 .. 2), req(3, '/e/s5.txt')],
                 limit => 30, until => sub { complete($_[0], 1 .. 3) || $_[0]{eof_t} },
                 at => [0.5, sub { system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'graceful-stop') }]);
is(exact($rh, 1, 200, slow_body('h1')), 'ok', 'h: stream 1: its CGI response across a graceful stop, byte-exact');
if ($threaded) {
    is(exact($rh, 2, 200, slow_body('h2')), 'ok', 'h: stream 2: its CGI response across a graceful stop, byte-exact');
    is(exact($rh, 3, 200, $file{'/e/s5.txt'}), 'ok', 'h: stream 3: its static file, byte-exact');
} else {
    my @bad = grep { my $x = exact($rh, $_, 200, $_ == 3 ? $file{'/e/s5.txt'} : slow_body("h$_")); $x ne 'ok' && $x ne "nothing on stream $_" } 2, 3;
    is("@bad", '', 'h (prefork): streams 2 and 3 got their own complete response or nothing');
}
is(eventually(30, 0, sub { ($pid && kill(0, $pid)) ? 1 : 0 }), 0, 'h: httpd then exits');

stop_own_httpd($dir) if $pid && kill(0, $pid);
eventually(20, 0, sub { scalar(SCTPTest::sctp_listening($PORT)) ? 1 : 0 });
note(sprintf 'concurrent_streams.t under %s: %.0f s', $mpm, time - $t_start);
if (!Test::More->builder->is_passing) {
    for my $r (['a', $ra], ['b', $rb], ['c', $rc], ['d', $rd], ['e', $re], ['h', $rh]) {
        my ($n, $x) = @$r;
        diag("$n: " . join(' ', map { "s$_: first " . ms($x->{s}{$_}{first_t}) . ' done ' . ms($x->{s}{$_}{done_t})
                                          . ' status ' . (($x->{s}{$_}{res} // {})->{status} // '-') } sort { $a <=> $b } keys %{ $x->{s} })
             . ' eof ' . ms($x->{eof_t}) . ' stderr: ' . (slurp($x->{err}) // ''));
    }
    diag(join '', grep { /\[(?:\w+:)?(?:warn|error|crit|alert|emerg)\]/ } split /^/, slurp("$dir/error_log") // '');
    # The whole log (LogLevel sctp:debug) beside ci/test's others.
    my $keep = "$FindBin::Bin/../../target/ci";
    if (-d $keep && open my $f, '>', "$keep/concurrent_streams-$mpm.error_log") {
        print $f slurp("$dir/error_log") // '';
        close $f;
        diag("error log kept in $keep/concurrent_streams-$mpm.error_log");
    }
}
done_testing();
