# What admins see of SCTP requests: the environment variables mod_sctp sets
# (CGI), the same values in a LogFormat (%{SCTP_STREAM}e ...), and the
# status handler (SetHandler sctp-status) listing live associations with
# their streams, paths (state, RTO, cwnd) and counters.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Apache::TestRequest qw(GET_BODY);
use SCTPClient;
use SCTPTest qw(SCTP_PORT sctp_only eventually);

plan tests => 20, need_cgi;

ok t_cmp(sctp_only(SCTP_PORT), 1, 'port ' . SCTP_PORT . ' is served by SCTP only');

# CGI environment over SCTP.
my $c = SCTPClient->new(port => SCTP_PORT);
my $r = $c->get('/cgi-bin/env.pl');
ok t_cmp($r->{status}, 200, 'env.pl over SCTP');
my %env = $r->{body} =~ /^(\w+)=(.*)$/mg;
ok t_cmp($env{SCTP}, 'on', 'SCTP=on');
ok t_cmp($env{TRANSPORT}, 'sctp', 'TRANSPORT=sctp');
ok t_cmp($env{SCTP_STREAM}, qr/^\d+$/, 'SCTP_STREAM is a stream number');
ok t_cmp($env{SCTP_ASSOC_ID}, qr/^[1-9]\d*$/, 'SCTP_ASSOC_ID is an association id');
ok t_cmp($env{SCTP_PEER_ADDRS}, '127.0.0.1', 'SCTP_PEER_ADDRS');
ok t_cmp("$env{SCTP_STREAMS_IN}/$env{SCTP_STREAMS_OUT}", qr{^\d+/\d+$}, 'streams in/out');

# Over TCP (Apache::Test's port) none of them is set.
my $tcp = GET_BODY('/cgi-bin/env.pl');
ok t_cmp($tcp, qr/^SCTP=\(unset\)$/m, 'no SCTP variables over TCP');

# A second request on the same association: the status page lists it.
$r = $c->get('/index.html');
ok t_cmp($r->{status}, 200, 'second request on the association');
# A response is counted when its end (EOR) passes mod_sctp's output filter,
# just after its bytes were sent: poll until the second one is.
my ($auto, $block);
eventually(10, 1, sub {
    $auto = SCTPClient->new(port => SCTP_PORT)->get('/sctp-status?auto', headers => "Connection: close\r\n");
    ($block) = grep { /^Association: $env{SCTP_ASSOC_ID}$/m } split /\n\n/, $auto->{body};
    (defined $block && $block =~ /^Responses: 2$/m) ? 1 : 0;
});
ok t_cmp($auto->{status}, 200, 'status page (?auto) over SCTP');
t_debug($auto->{body}) unless defined $block;
ok t_cmp(defined $block ? 1 : 0, 1, "association $env{SCTP_ASSOC_ID} is listed");
$block //= '';
ok t_cmp($block, qr/^Responses: 2$/m, 'two responses counted for it');
ok t_cmp($block, qr/^Streams: in=\d+ out=\d+$/m, 'streams in/out listed');
ok t_cmp($block, qr/^Path: 127\.0\.0\.1:\d+ state=active primary=1 rto=\d+ srtt=\d+ cwnd=[1-9]\d*$/m,
         'its path: active primary with RTO and cwnd');
# The header, as mod_status's: versions, uptime, listeners, totals.
ok t_cmp($auto->{body}, qr{^ServerVersion: Apache/2\.4\.\d+.* mod_sctp/\d+\.\d+\.\d+$}m, 'header: httpd and mod_sctp versions');
ok t_cmp($auto->{body}, qr{^Listeners: (?:\S+ )*\S*:@{[SCTP_PORT]}\b}m, 'header: the SCTP listener');
ok t_cmp($auto->{body}, qr{^ServerUptimeSeconds: \d+$}m, 'header: uptime');
my $html = GET_BODY('/sctp-status');
ok t_cmp($html, qr/<h1>SCTP associations<\/h1>.*<td>$env{SCTP_ASSOC_ID}<\/td>/s, 'HTML page lists it too');
$c->close;

# The log format: the same values in the access log.
my $log = Apache::Test::vars('t_logs') . '/sctp_log';
my $line = eventually(10, 1, sub {
    open my $f, '<', $log or return 0;
    (grep { m{"GET /cgi-bin/env\.pl HTTP/1\.1" 200 stream=$env{SCTP_STREAM} assoc=$env{SCTP_ASSOC_ID} transport=sctp peers="127\.0\.0\.1"} } <$f>) ? 1 : 0;
});
ok t_cmp($line, 1, 'LogFormat %{SCTP_STREAM}e etc. in the access log');
