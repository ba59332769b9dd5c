#!/usr/bin/perl
# Input queue bounds (SCTPMaxStreamQueue, SCTPMaxAssociationQueue): while a
# request on stream 1 waits for the rest of its headers, stream 2 sends more
# than its bound. mod_sctp never queues past the bound, and the error log
# names the stream and the bound.
# * prefork (one request at a time per association): the request being read
#   is answered with an error on its own stream (1), the association closes.
# * event, worker (concurrent streams; SCTPMaxConcurrentStreams 1 makes
#   stream 2 wait for stream 1's slot): stream 2 alone is refused, 503 on
#   stream 2; stream 1 gets the rest of its headers and its 200.
# Then the server goes on serving. Runs as root inside the SCTP VM; MPM from
# $SCTP_TEST_MPM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use JSON::PP;
use SCTPClient;
use SCTPTest qw(eventually start_own_httpd slurp);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $client = $ENV{SCTP_HTTP} // dirname($so) . '/sctp-http';
-x $client or BAIL_OUT("$client not built (cargo build --release --workspace)");
my $PORT = 8850;
my $dir = tempdir('queue_bounds.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";
{ open my $f, '>', "$dir/htdocs/index.html" or die; print $f "bounded\n"; }

ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) started") or BAIL_OUT('httpd did not start');
Listen 127.0.0.1:$PORT sctp
SCTPMaxStreamQueue 16K
SCTPMaxAssociationQueue 64K
SCTPMaxConcurrentStreams 1
EOX

sub raw {
    my @cmd = ($client, 'raw', '--wait-ms', '5000', map({ /^--pause=(\d+)\z/ ? ('--pause', $1) : ('--send', $_) } @_), "127.0.0.1:$PORT");
    open my $p, '-|', @cmd or die "$client: $!";
    my @m = map { decode_json($_) } grep { /^\{/ } <$p>;
    close $p;
    return @m;
}

# Stream 1: half a request. Stream 2: 40 KB (ten 4 KB messages). Then the
# rest of stream 1's request.
my @m = raw('1:GET /index.html HTTP/1.1\r\nHost: localhost\r\n', map({ '2:' . ('x' x 4000) } 1 .. 10),
            '--pause=500', '1:\r\n');
my %s;
# Messages received (with data); a send the server refused after closing is
# reported as {"send_error", "stream"} and is not something it sent.
$s{$_->{stream}} .= $_->{data} for grep { defined $_->{data} } @m;
if ($mpm eq 'prefork') {
    like($s{1} // '', qr/\AHTTP\/1\.1 4\d\d /, 'prefork: the request being read (stream 1) is answered with an error on stream 1');
    ok(!exists $s{2}, 'prefork: nothing is sent on stream 2');
    ok((grep { $_->{eof} } @m) ? 1 : 0, 'prefork: the association is closed');
} else {
    like($s{2} // '', qr/\AHTTP\/1\.1 503 /, "$mpm: the stream that overflowed while it waited (2) is refused with 503 on stream 2");
    like($s{1} // '', qr/\AHTTP\/1\.1 200 .*\r\n\r\nbounded\n\z/s, "$mpm: stream 1 is not affected: its request is answered (200) on stream 1");
}
my $logged = eventually(10, 1, sub {
    (slurp("$dir/error_log") // '') =~ /stream 2 (?:failed: it )?sent more than SCTPMaxStreamQueue\b.*\(16384 bytes\)/ ? 1 : 0;
});
is($logged, 1, 'the error log names the stream and the bound');

# The server goes on serving.
is(SCTPClient->new(port => $PORT)->get('/index.html')->{body}, "bounded\n", 'next association served');

system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'stop');
eventually(20, 0, sub { scalar(SCTPTest::sctp_listening($PORT)) ? 1 : 0 });
if (!Test::More->builder->is_passing) {
    diag(join '', grep { /sctp|error|emerg/i } split /^/, slurp("$dir/error_log") // '');
}
done_testing();
