# Per-stream parsing and answering, with a raw client that controls message
# boundaries and streams (sctp-http raw):
# * request A split into two messages on stream 1 with a whole request B on
#   stream 2 in between: both parsed intact, each answered on its stream;
# * a malformed request on one stream gets its 400 on that stream; the
#   association then closes and a request queued on another stream gets no
#   response (docs/architecture.md);
# * 100-continue: the interim and the final response on the request's stream;
# * a small response is one message (headers and body together).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Basename qw(dirname);
use JSON::PP;
use SCTPTest qw(SCTP_PORT sctp_only);

my $client = dirname($ENV{MOD_SCTP_SO} // '') . '/sctp-http';
plan tests => 15, need need_cgi, need { "sctp-http built ($client)" => -x $client };

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only');

# Runs sctp-http raw; returns the messages received (hashes) and whether
# the server closed.
sub raw {
    my (@sends) = @_;
    my @cmd = ('sh', '-c', 'exec "$0" "$@" 2>&1', $client, 'raw', '--wait-ms', '4000', map({ ('--send', $_) } @sends), '127.0.0.1:' . SCTP_PORT);
    open my $p, '-|', @cmd or die "$client: $!";
    my @lines = <$p>;
    close $p;
    t_debug("sctp-http raw exit " . ($? >> 8) . ":\n" . join('', @lines));
    my @m = map { decode_json($_) } grep { /^\{/ } @lines;
    my $eof = grep { $_->{eof} } @m;
    return ([grep { defined $_->{data} } @m], $eof);
}

# Concatenates each stream's bytes.
sub per_stream {
    my %s;
    $s{$_->{stream}} .= $_->{data} for @{ $_[0] };
    return \%s;
}

my $A = "object A on its own stream\n";
my $B = "object B, a different one\n";

my ($m) = raw('1:GET /streams/a.txt HTTP/1.1\r\nHo',
              '2:GET /streams/b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n',
              '1:st: localhost\r\n\r\n');
my $s = per_stream($m);
ok t_cmp(join(',', sort keys %$s), '1,2', 'responses came on streams 1 and 2 only');
ok t_cmp($s->{1} // '', qr/\AHTTP\/1\.1 200 OK\r\n.*\r\n\r\n\Q$A\E\z/s, 'stream 1: request A (split in two messages) answered with A');
ok t_cmp($s->{2} // '', qr/\AHTTP\/1\.1 200 OK\r\n.*\r\n\r\n\Q$B\E\z/s, 'stream 2: request B answered with B');
ok t_cmp((grep { $_->{ppid} != 63 } @$m) ? 0 : 1, 1, 'every message has PPID 63');
# httpd passes a response's headers and body in separate calls; SCTP_OUT
# holds the headers back until the body comes (as CORE does on TCP).
ok t_cmp(scalar(grep { $_->{stream} == 2 } @$m), 1, 'the small response on stream 2 is one SCTP message: headers and body together');

my $eof;
my $prefork = ($ENV{SCTP_TEST_MPM} // 'event') eq 'prefork';
# Under prefork stream 4's request comes after the malformed one, under the
# threaded MPMs before it: a request that arrives after the server decided
# to close is not "already received", whatever the MPM.
my @good = ('1:GET /streams/a.txt HTTP/1.1\r\nHost: localhost\r\n\r\n');
my $bad = '2:GET /streams/b.txt HTTP/1.1\r\nHost: localhost\r\nthis is not a header\r\n\r\n';
my $four = '4:GET /streams/b.txt HTTP/1.1\r\nHost: localhost\r\n\r\n';
($m, $eof) = raw(@good, $prefork ? ($bad, $four) : ($four, $bad));
$s = per_stream($m);
ok t_cmp($s->{1} // '', qr/\AHTTP\/1\.1 200 OK\r\n.*\Q$A\E\z/s, 'good request on stream 1: 200 on stream 1');
ok t_cmp($s->{2} // '', qr/\AHTTP\/1\.1 400 Bad Request\r\n/, 'malformed request on stream 2: 400 on stream 2');
if ($prefork) {
    # One request at a time (docs/architecture.md): the 400 ends the
    # association's only HTTP/1.1 connection, stream 4's request with it.
    ok t_cmp(exists $s->{4} ? 'answered' : 'no response', 'no response', 'prefork: request queued on stream 4: no response (association closes)');
} else {
    # Each stream its own connection: the 400 closes stream 2 alone, and
    # the association once nothing else is in progress.
    ok t_cmp($s->{4} // '', qr/\AHTTP\/1\.1 200 OK\r\n.*\r\n\r\n\Q$B\E\z/s, 'request on stream 4 (beside the malformed one) answered with B on stream 4');
}
ok t_cmp($eof ? 1 : 0, 1, 'the server closed the association');

($m) = raw('5:POST /cgi-bin/echo.pl HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
           '5:hello');
$s = per_stream($m);
ok t_cmp(join(',', sort keys %$s), '5', '100-continue: everything on stream 5');
ok t_cmp($s->{5} // '', qr/\AHTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/, 'interim 100 then 200');
ok t_cmp($s->{5} // '', qr/X-Body-Length: 5\r\n.*hello/s, 'body read from stream 5 and echoed');

# Pipelined on several streams at once: each on its own stream.
($m) = raw(map { "$_:GET /streams/" . ($_ % 2 ? 'a' : 'b') . '.txt HTTP/1.1\r\nHost: localhost\r\n\r\n' } 0 .. 7);
$s = per_stream($m);
ok t_cmp(join(',', sort { $a <=> $b } keys %$s), '0,1,2,3,4,5,6,7', '8 requests on streams 0-7: answers on 0-7');
my $right = grep { ($s->{$_} // '') =~ /\Q${\ ($_ % 2 ? $A : $B)}\E\z/ } 0 .. 7;
ok t_cmp($right, 8, 'each stream got its own object');
