# The same site over SCTP and TCP; SCTP really used; error documents.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestRequest qw(GET_BODY GET);
use Apache::TestUtil;
use SCTPClient;
use SCTPTest qw(SCTP_PORT SHARED_PORT MULTIHOMED_PORT sctp_listening tcp_refused);

plan tests => 16;

# The kernel lists our SCTP endpoints; TCP gets nothing on an SCTP-only port.
my @eps = sctp_listening(SCTP_PORT);
ok t_cmp("@eps", qr/127\.0\.0\.1/, "/proc/net/sctp/eps lists 127.0.0.1:" . SCTP_PORT);
ok tcp_refused(SCTP_PORT);

my $tcp = GET_BODY '/index.html';
my $c = SCTPClient->new(port => SCTP_PORT);
my $r = $c->get('/index.html');
ok t_cmp($r->{status}, 200, 'GET over SCTP');
ok t_cmp($r->{body}, $tcp, 'same body over SCTP and TCP');
ok length($r->{body}) > 10;

# 404 with the custom ErrorDocument, on the same association.
$r = $c->get('/no/such/thing');
ok t_cmp($r->{status}, 404, '404 over SCTP');
ok t_cmp($r->{body}, qr/custom not found page/, 'ErrorDocument served over SCTP');
my $tcp404 = GET '/no/such/thing';
ok t_cmp($r->{body}, $tcp404->content, 'same error page over TCP');

# One port, both transports: TCP Listen 8602 and SCTPListen 8602.
ok t_cmp(scalar(sctp_listening(SHARED_PORT)) > 0, 1, 'SCTP endpoint on the shared port');
my $shared = SCTPClient->new(port => SHARED_PORT)->get('/index.html');
ok t_cmp($shared->{body}, $tcp, 'SCTP on the port TCP also uses');
my $tcp_shared = Apache::TestRequest::user_agent()->get('http://127.0.0.1:' . SHARED_PORT . '/index.html');
ok t_cmp($tcp_shared->content, $tcp, 'TCP on the port SCTP also uses');

# The multihomed listener is bound to both addresses and serves on each.
my @mh = sctp_listening(MULTIHOMED_PORT);
ok t_cmp("@mh", qr/127\.0\.0\.1.*127\.0\.0\.2|127\.0\.0\.2.*127\.0\.0\.1/, 'multihomed listener has both addresses');
ok t_cmp(SCTPClient->new(port => MULTIHOMED_PORT, host => '127.0.0.2')->get('/index.html')->{body},
         $tcp, 'served on the extra address');
ok t_cmp(SCTPClient->new(port => MULTIHOMED_PORT, host => '127.0.0.1')->get('/index.html')->{body},
         $tcp, 'served on the primary address');

# LogLevel sctp:debug: the module reports what it does in the error log.
my $errlog = Apache::Test::vars('t_logs') . '/error_log';
open my $log, '<', $errlog or die "$errlog: $!";
my @sctp_lines = grep { /\[sctp:/ } <$log>;
ok t_cmp(scalar(@sctp_lines) > 0, 1, 'mod_sctp logs under LogLevel sctp:debug');
ok t_cmp("@sctp_lines", qr/sctp/i, 'its lines name SCTP');
