# SCTPResponsePriority (extra.conf.in: /streams/a.txt high, b.txt low):
# with the directive in the configuration, an association uses the priority
# stream scheduler and each response's stream gets its location's value
# before the handler runs. The error log (LogLevel sctp:debug) shows the
# value set and the value the kernel reads back: under the round-robin
# scheduler the kernel would read back 0 for every stream.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use SCTPClient;
use SCTPTest qw(SCTP_PORT eventually error_log_count);

plan tests => 6;

my $line = sub {
    my ($prio, $value) = @_;
    qr/\[sctp:debug\].*association \d+ stream \d+: response priority $prio \(scheduler value $value, kernel has $value\)/;
};

my %before;
$before{ $_->[0] } = error_log_count($line->(@$_)) for ['high', 0], ['normal', 1], ['low', 2];
my $c = SCTPClient->new(port => SCTP_PORT);
for my $case (['/streams/a.txt', 'high', 0], ['/index.html', 'normal', 1], ['/streams/b.txt', 'low', 2]) {
    my ($path, $prio, $value) = @$case;
    my $r = $c->get($path);
    ok t_cmp($r->{status}, 200, "GET $path over SCTP");
    ok t_cmp(eventually(10, 1, sub { error_log_count($line->($prio, $value)) > $before{$prio} ? 1 : 0 }), 1,
             "$path: its stream got priority $prio (value $value), read back from the kernel");
}
$c->close;
