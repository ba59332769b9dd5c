#!/usr/bin/perl
# %O (mod_logio's bytes sent, which Debian's `combined` LogFormat logs)
# equals the bytes the client received, headers and body, for a small and
# a large response over SCTP; %I and %b are right too. mod_sctp writes
# every byte of SCTP connections itself, so it must count them for
# mod_logio as core's output filter does (ap_logio_add_bytes_out); before,
# %O was 0 for every SCTP response. Runs as root inside the SCTP VM; MPM
# from $SCTP_TEST_MPM.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use IO::Select;
use SCTPClient;
use SCTPTest qw(eventually start_own_httpd slurp stop_own_httpd);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $PORT = 8885;
my $dir = tempdir('logio.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";
my %size = (small => 100, large => 3 << 20);
for my $name (keys %size) {
    open my $f, '>', "$dir/htdocs/$name.bin" or die;
    print $f substr('0123456789' x ($size{$name} / 10 + 1), 0, $size{$name});
}

# mod_log_config and mod_logio are compiled into Debian's apache2.
ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) started") or BAIL_OUT('httpd did not start');
Listen 127.0.0.1:$PORT sctp
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined
CustomLog $dir/access_log combined
CustomLog $dir/io_log "%U %I %O %b"
EOX

# One request on its own association; returns the bytes sent and received.
sub fetch {
    my ($path) = @_;
    my $c = SCTPClient->new(port => $PORT, timeout => 30);
    my $req = "GET $path HTTP/1.1\r\nHost: localhost\r\nUser-Agent: logio-test\r\nConnection: close\r\n\r\n";
    $c->send_raw($req);
    my $s = $c->socket_handle;
    my $sel = IO::Select->new($s);
    my $got = '';
    while ($sel->can_read(30)) {
        my $n = sysread($s, $got, 1 << 20, length $got);
        last unless $n;
    }
    close $s;
    return (length $req, $got);
}

for my $name (qw(small large)) {
    my ($sent, $got) = fetch("/$name.bin");
    my $hdr = index($got, "\r\n\r\n") + 4;
    is(length($got) - $hdr, $size{$name}, "$name: whole body received ($size{$name} bytes)");
    my $line = eventually(10, 1, sub { ((slurp("$dir/io_log") // '') =~ m{^/\Q$name\E\.bin }m) ? 1 : 0 });
    my ($io) = (slurp("$dir/io_log") // '') =~ m{^/\Q$name\E\.bin (\d+ \d+ \S+)$}m;
    my ($i, $o, $b) = split ' ', $io // '';
    is($o, length $got, "$name: %O is the bytes the client received (" . length($got) . ')');
    is($i, $sent, "$name: %I is the bytes the client sent ($sent)");
    is($b, $size{$name}, "$name: %b is the body's size");
    my ($combined) = (slurp("$dir/access_log") // '') =~ m{"GET /\Q$name\E\.bin HTTP/1\.1" 200 (\d+) "-" "logio-test"$}m;
    is($combined, length $got, "$name: the combined format's %O is the bytes received");
}

stop_own_httpd($dir);
eventually(20, 0, sub { scalar(SCTPTest::sctp_listening($PORT)) ? 1 : 0 });
if (!Test::More->builder->is_passing) {
    diag("io_log:\n" . (slurp("$dir/io_log") // '') . "access_log:\n" . (slurp("$dir/access_log") // ''));
    diag(join '', grep { /sctp|error|emerg/i } split /^/, slurp("$dir/error_log") // '');
}
done_testing();
