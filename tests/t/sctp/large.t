# Large responses: a 50 MB file, with EnableSendfile/EnableMMAP on and off,
# byte-identical over SCTP (each write must be a bounded SCTP message).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use Digest::SHA;
use SCTPClient;
use SCTPTest qw(SCTP_PORT);

plan tests => 6;

my $docroot = Apache::Test::vars('documentroot');
my $size = 50 * 1024 * 1024;
my $want = Digest::SHA->new(256);
for my $dir ('sendfile', 'nosendfile') {
    mkdir "$docroot/$dir";
    open my $f, '>', "$docroot/$dir/big.bin" or die $!;
    binmode $f;
    my $block = join '', map { pack 'N', $_ * 2654435761 % 4294967296 } 1 .. 16384;   # 64 KB
    for my $i (0 .. $size / length($block) - 1) {
        my $b = pack('N', $i) . substr($block, 4);
        print $f $b;
        $want->add($b) if $dir eq 'sendfile';
    }
    close $f;
}
my $digest = $want->hexdigest;

for my $dir ('sendfile', 'nosendfile') {
    my $c = SCTPClient->new(port => SCTP_PORT, timeout => 120);
    my $got = Digest::SHA->new(256);
    my $n = 0;
    my $r = $c->get("/$dir/big.bin", sink => sub { $got->add($_[0]); $n += length $_[0] });
    ok t_cmp($r->{status}, 200, "$dir: status");
    ok t_cmp($n, $size, "$dir: length");
    ok t_cmp($got->hexdigest, $digest, "$dir: sha256");
}
