# Bad input loses nothing: garbage gets 400 and the server keeps serving;
# ABORTs in the middle of large responses leave it healthy without fd leaks.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Apache::TestRequest qw(GET_BODY);
use SCTPClient;
use SCTPTest qw(SCTP_PORT httpd_fd_map fd_growth sctp_assocs eventually sctp_only);

plan tests => 11;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');

my $index = GET_BODY '/index.html';
my $pidfile = Apache::Test::vars('t_pid_file');

my $c = SCTPClient->new(port => SCTP_PORT);
$c->send_raw("\x01\x02garbage \xff\xfe not http\r\n\r\n");
my $r = $c->read_response;
ok t_cmp($r->{status}, 400, 'garbage request line gets 400');
ok t_cmp(SCTPClient->new(port => SCTP_PORT)->get('/index.html')->{body}, $index, 'serving after garbage');

# A big file to abort in the middle of.
my $docroot = Apache::Test::vars('documentroot');
mkdir "$docroot/abort";
open my $f, '>', "$docroot/abort/big.bin" or die $!;
print $f 'x' x (1 << 20) for 1 .. 16;
close $f;

sub settle { select undef, undef, undef, 1.5 }
SCTPClient->new(port => SCTP_PORT)->get('/index.html');   # warm every path
settle();
my $before = httpd_fd_map($pidfile);
for my $i (1 .. 5) {
    my $a = SCTPClient->new(port => SCTP_PORT);
    $a->send_raw("GET /abort/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n");
    $a->_fill(10) for 1 .. 3;     # some of the response arrived
    $a->abort;                    # SCTP ABORT mid-response
}
settle();
# Closed associations may sit in the MPM's lingering-close queue for a
# few seconds: a leak is what is still open after that.
my $after;
eventually(20, 0, sub { $after = httpd_fd_map($pidfile); fd_growth($before, $after) });
ok t_cmp(eventually(15, 0, sub { sctp_assocs(SCTP_PORT) }), 0, 'aborted associations are gone on the server');
ok t_cmp(fd_growth($before, $after), 0, 'no descriptors leaked by aborted associations');
ok t_cmp(SCTPClient->new(port => SCTP_PORT)->get('/index.html')->{body}, $index, 'serving after ABORTs');

# Many garbage requests in a row do not wear the server down.
my $bad = 0;
for (1 .. 20) {
    my $g = SCTPClient->new(port => SCTP_PORT);
    $g->send_raw("NOT A REQUEST\r\n\r\n");
    $bad++ if $g->read_response->{status} == 400;
}
ok t_cmp($bad, 20, 'every garbage request got 400');
settle();
ok t_cmp(eventually(15, 0, sub { sctp_assocs(SCTP_PORT) }), 0, 'no association left open')
    or print STDERR map { "# $_" } `cat /proc/net/sctp/assocs`;
my $after_bad;
eventually(20, 0, sub { $after_bad = httpd_fd_map($pidfile); fd_growth($before, $after_bad) });
ok t_cmp(fd_growth($before, $after_bad), 0, 'no descriptors leaked by bad requests')
    or print STDERR "# before: @{[%$before]} after: @{[%$after_bad]}\n",
       map { my $p = $_; "# $p: " . join(' ', map { readlink($_) // '?' } glob("/proc/$p/fd/*")) . "\n" } keys %$after_bad;

# A request line longer than LimitRequestLine: 414, association still sane.
my $l = SCTPClient->new(port => SCTP_PORT);
$l->send_raw("GET /" . ('a' x 20000) . " HTTP/1.1\r\nHost: localhost\r\n\r\n");
ok t_cmp($l->read_response->{status}, 414, 'overlong request line gets 414');
ok t_cmp(SCTPClient->new(port => SCTP_PORT)->get('/index.html')->{body}, $index, 'serving after 414');
