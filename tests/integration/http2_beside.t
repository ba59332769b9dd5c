#!/usr/bin/perl
# mod_http2 loaded in the same httpd (Debian's `a2enmod http2`, `Protocols
# h2c http/1.1`): SCTP associations are still served as multistreamed
# HTTP/1.1, and HTTP/2 over TCP still works.
#
# mod_http2 takes every connection with a master for one of its HTTP/2
# streams (its process_connection hook dereferences its own conn_config
# slot without a check); mod_sctp's stream connections have a master and
# skip that hook (stream_connection.rs). Before that, the first request on
# an SCTP stream crashed the child under event and worker.
#
# * eight requests (four statics, four CGIs) spread over the streams of one
#   association: each 200 and byte-exact, each CGI sees its own SCTP_STREAM;
# * a request on stream 5 asking for an h2c upgrade is answered in HTTP/1.1
#   on stream 5 (an SCTP stream is no place for HTTP/2 framing);
# * no child crashed (no "exit signal" in the error log);
# * threaded MPMs: HTTP/2 (prior knowledge, curl) over TCP on the same
#   httpd gets its 200; prefork: mod_http2 does not run under prefork, so
#   only the SCTP part is asserted (said as a note).
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
use SCTPTest qw(eventually start_own_httpd slurp sctp_listening);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $threaded = $mpm ne 'prefork';
my $client = $ENV{SCTP_HTTP} // dirname($so) . '/sctp-http';
-x $client or BAIL_OUT("$client not built (cargo build --release --workspace)");
my $mods = '/usr/lib/apache2/modules';
-e "$mods/mod_http2.so" or BAIL_OUT("$mods/mod_http2.so missing (Debian's apache2 ships it)");
my ($PORT, $TCP) = (8901, 8902);
my $dir = tempdir('http2_beside.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/$_" for qw(htdocs cgi-bin);

my %body;
for my $i (1 .. 4) {
    my $data = join '', map { sprintf "static %d line %04d\n", $i, $_ } 0 .. 499;
    open my $f, '>', "$dir/htdocs/s$i.txt" or die;
    print $f $data;
    $body{"/s$i.txt"} = $data;
}
open my $cg, '>', "$dir/cgi-bin/stream.cgi" or die;
print $cg <<'EOS';
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "query=$QUERY_STRING stream=$SCTP_STREAM"
EOS
close $cg;
chmod 0755, "$dir/cgi-bin/stream.cgi";

my $cgi = $threaded ? "LoadModule cgid_module $mods/mod_cgid.so" : "LoadModule cgi_module $mods/mod_cgi.so";
ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) with mod_http2 started") or BAIL_OUT('httpd did not start');
LoadModule alias_module $mods/mod_alias.so
LoadModule http2_module $mods/mod_http2.so
$cgi
Protocols h2c http/1.1
Listen 127.0.0.1:$PORT sctp
Listen 127.0.0.1:$TCP
ScriptAlias /cgi-bin/ $dir/cgi-bin/
EOX

# Eight requests over one association, round robin over eight streams.
my @urls = ((map { "/s$_.txt" } 1 .. 4), (map { "/cgi-bin/stream.cgi?q$_" } 1 .. 4));
my @out = `$client get --json --streams 8 -o /dev/null @{[ map { "http://127.0.0.1:$PORT$_" } @urls ]} 2>&1`;
my %got = map { my $j = eval { decode_json($_) }; $j && $j->{url} ? ($j->{url} =~ s{^http://[^/]+}{}r => $j) : () } @out;
for my $u (@urls) {
    my $j = $got{$u};
    my $want = $body{$u};
    if (defined $want) {
        ok($j && ($j->{status} // 0) == 200 && $j->{bytes} == length $want,
           "$u over SCTP: 200, " . length($want) . ' bytes') or diag(@out);
    } else {
        ok($j && ($j->{status} // 0) == 200, "$u over SCTP: 200") or diag(@out);
    }
}

# Contents, with the stream each request went on: sctp-http raw.
sub raw {
    my @cmd = ($client, 'raw', '--streams', '8', '--wait-ms', '3000', map({ ('--send', $_) } @_), "127.0.0.1:$PORT");
    open my $p, '-|', @cmd or die "$client: $!";
    my %s;
    for (<$p>) {
        my $m = eval { decode_json($_) } or next;
        $s{$m->{stream}} .= $m->{data} if defined $m->{data};
    }
    close $p;
    return %s;
}
my $req = sub { my ($sid, $path, @h) = @_; "$sid:GET $path HTTP/1.1\\r\\nHost: localhost\\r\\n" . join('', map { "$_\\r\\n" } @h) . "\\r\\n" };
my %s = raw($req->(2, '/cgi-bin/stream.cgi?a'), $req->(3, '/s3.txt'), $req->(4, '/cgi-bin/stream.cgi?b'),
            $req->(5, '/s1.txt', 'Connection: Upgrade, HTTP2-Settings', 'Upgrade: h2c', 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA'));
like($s{2} // '', qr{\AHTTP/1\.1 200 .*\r\n\r\n(?:[0-9a-f]+\r\n)?query=a stream=2\n}s, 'stream 2: its CGI, which sees SCTP_STREAM=2');
like($s{4} // '', qr{\AHTTP/1\.1 200 .*\r\n\r\n(?:[0-9a-f]+\r\n)?query=b stream=4\n}s, 'stream 4: its CGI, which sees SCTP_STREAM=4');
ok(($s{3} // '') =~ /\AHTTP\/1\.1 200 .*?\r\n\r\n(.*)\z/s && $1 eq $body{'/s3.txt'}, 'stream 3: its static file, byte-exact');
ok(($s{5} // '') =~ /\AHTTP\/1\.1 200 .*?\r\n\r\n(.*)\z/s && $1 eq $body{'/s1.txt'},
   'stream 5: asked for an h2c upgrade, answered in HTTP/1.1 (200, byte-exact)') or diag(substr($s{5} // '', 0, 300));

# HTTP/2 over TCP on the same httpd.
if ($threaded) {
    my $r = `curl -s --max-time 10 --http2-prior-knowledge -o $dir/h2.out -w '%{http_version} %{http_code}' http://127.0.0.1:$TCP/s2.txt`;
    is($r, '2 200', 'HTTP/2 over TCP on the same httpd: 200');
    is(slurp("$dir/h2.out"), $body{'/s2.txt'}, 'HTTP/2 over TCP: byte-exact');
} else {
    note('prefork: mod_http2 does not serve HTTP/2 under prefork (it says so in the error log); only SCTP is asserted');
}

# After the stop, when httpd has reaped (and logged) every child.
system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'stop');
eventually(20, 0, sub { scalar(sctp_listening($PORT)) ? 1 : 0 });
eventually(20, 1, sub { (slurp("$dir/error_log") // '') =~ /caught SIGTERM, shutting down/ ? 1 : 0 });
my $log = slurp("$dir/error_log") // '';
my @crash = grep { /exit signal|Segmentation fault|AH00052/ } split /^/, $log;
is(scalar(@crash), 0, 'no child crashed') or diag(@crash);
if (!Test::More->builder->is_passing) {
    diag(join '', grep { /sctp|error|emerg|http2/i } split /^/, $log);
}
done_testing();
