# The SCTP parameters of extra.conf.in take effect on real associations:
# SCTPInStreams 32 / SCTPOutStreams 32 bound the streams negotiated in
# INIT/INIT-ACK (each side gets the minimum of what both offer), and every
# message the server sends is at most SCTPMaxMessageSize (default 32768,
# docs/directives.md).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Apache::TestRequest qw(GET_BODY);
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only server_assocs);

plan tests => 13;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only (in /proc/net/sctp/eps, TCP refused)');
my $index = GET_BODY '/index.html';

# Returns the server's view of the client's association (by its port).
sub server_side {
    my ($c) = @_;
    my ($port) = Socket::unpack_sockaddr_in(getsockname($c->socket_handle));
    my ($a) = grep { $_->{rport} == $port } server_assocs(SCTP_PORT);
    return $a // { instreams => 'none', outstreams => 'none' };
}

# Client offers 100 out, accepts 100 in: the server's 32/32 bound both.
my $c = SCTPClient->new(port => SCTP_PORT, ostreams => 100, instreams => 100);
ok t_cmp($c->get('/index.html')->{body}, $index, 'served with 100/100 streams offered');
my $st = $c->status;
ok t_cmp($st->{outstreams}, 32, 'client may send on 32 streams (SCTPInStreams 32)');
ok t_cmp($st->{instreams}, 32, 'server sends on up to 32 streams (SCTPOutStreams 32)');
my $srv = server_side($c);
ok t_cmp("$srv->{instreams}/$srv->{outstreams}", '32/32', 'the server side agrees (/proc/net/sctp/assocs)');
$c->close;

# Client offers fewer than the server: the client's numbers win.
$c = SCTPClient->new(port => SCTP_PORT, ostreams => 5, instreams => 3);
ok t_cmp($c->get('/index.html')->{body}, $index, 'served with 5/3 streams offered');
$st = $c->status;
ok t_cmp("$st->{outstreams}/$st->{instreams}", '5/3', 'client: 5 out, 3 in');
$srv = server_side($c);
ok t_cmp("$srv->{instreams}/$srv->{outstreams}", '5/3', 'server: 5 in, 3 out');
$c->close;

# Messages are bounded: a 3 MB file arrives in messages of at most 32 KB,
# and the response uses them (it is not trickled in tiny pieces).
my $docroot = Apache::Test::vars('documentroot');
mkdir "$docroot/msg";
my $data = join '', map { pack 'N', $_ } 1 .. (3 << 18);
open my $f, '>', "$docroot/msg/three.bin" or die $!;
binmode $f;
print $f $data;
close $f;
$c = SCTPClient->new(port => SCTP_PORT, rcvbuf => 4 << 20);
my $r = $c->get('/msg/three.bin');
ok t_cmp($r->{status}, 200, '3 MB file');
ok $r->{body} eq $data;
ok t_cmp($c->max_read <= 32768 ? 1 : $c->max_read, 1, 'no message above the default SCTPMaxMessageSize (32768)');
ok t_cmp($c->max_read > 8192 ? 1 : $c->max_read, 1, 'messages are large ones, not tiny pieces');
ok t_cmp($c->get('/index.html')->{body}, $index, 'the association goes on after the big response');
