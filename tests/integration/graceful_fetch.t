#!/usr/bin/perl
# A graceful restart during a multistream fetch: `sctp-http get`
# pulls 24 objects of 512 KB over one association on 8 streams while
# `apache2 -k graceful` runs. Every response the client completed is
# byte-identical (none is cut or mixed), requests the old child did not
# answer are reported as such (never as success), the same fetch on the new
# generation completes, and afterwards no association is left and the
# parent's descriptors are what they were.
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
use Time::HiRes qw(sleep);
use SCTPTest qw(sctp_only eventually start_own_httpd slurp own_httpd_generations sctp_assocs);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $client = $ENV{SCTP_HTTP} // dirname($so) . '/sctp-http';
-x $client or BAIL_OUT("$client not built (cargo build --release --workspace)");
my $PORT = 8840;
my $dir = tempdir('graceful_fetch.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";

my (%content, @names);
for my $i (0 .. 23) {
    my $name = sprintf 'g%02d.bin', $i;
    my $data = join '', map { pack 'N', ($_ * 2654435761 + $i * 104729) % 4294967296 } 1 .. (1 << 17);
    open my $f, '>', "$dir/htdocs/$name" or die;
    binmode $f;
    print $f $data;
    $content{$name} = $data;
    push @names, $name;
}

sub parent_fds {
    open my $p, '<', "$dir/httpd.pid" or return -1;
    chomp(my $pid = <$p>);
    opendir my $d, "/proc/$pid/fd" or return -1;
    return scalar grep { /^\d+$/ } readdir $d;
}

ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) started") or BAIL_OUT('httpd did not start');
Listen 127.0.0.1:$PORT sctp
SCTPInStreams 16
SCTPOutStreams 16
MaxKeepAliveRequests 0
EOX
ok(sctp_only($PORT), "$PORT is SCTP only");
my $fds = parent_fds();

# Fetch, and restart gracefully once the first bodies are arriving.
my @urls = map { "http://127.0.0.1:$PORT/$_" } @names;
mkdir "$dir/out1";
my $pid = open my $cl, '-|', "cd $dir/out1 && exec $client get --streams 8 --depth 16 --json @urls 2>$dir/client1.err" or die;
eventually(20, 1, sub { (grep { -s } glob "$dir/out1/*.bin") ? 1 : 0 });
system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'graceful');
my @objs = grep { exists $_->{url} } map { eval { decode_json($_) } // () } <$cl>;
close $cl;
my $rc = $? >> 8;
is(eventually(60, 2, sub { own_httpd_generations($dir) }), 2, 'graceful restart done');
is(scalar @objs, 24, 'the client reported every object');
ok($rc == 0 || $rc == 56, "client exit status $rc (0, or 56 when some requests were not answered)");
my ($complete, $intact, $unanswered, $claimed_bad) = (0, 0, 0, 0);
for my $o (@objs) {
    my ($name) = $o->{url} =~ m{/([^/]+)$};
    if (!defined $o->{error} && ($o->{status} // 0) == 200) {
        $complete++;
        my $got = slurp("$dir/out1/$name");
        if (defined $got && $got eq $content{$name}) { $intact++ } else { $claimed_bad++ }
    } else {
        $unanswered++;
    }
}
cmp_ok($complete, '>', 0, "$complete response(s) completed across the restart, $unanswered not answered");
is($claimed_bad, 0, 'no completed response is cut or mixed');
is($intact, $complete, 'every completed response byte-identical');
is($rc == 0 ? 0 : 1, $unanswered ? 1 : 0, 'unanswered requests are reported by the exit status');

# The new generation serves the whole fetch.
mkdir "$dir/out2";
system("cd $dir/out2 && $client get --streams 8 --depth 16 -q @urls 2>$dir/client2.err");
is($? >> 8, 0, 'the same fetch after the restart: exit 0');
is(scalar(grep { (slurp("$dir/out2/$_") // '') eq $content{$_} } @names), 24, 'all 24 byte-identical');

is(eventually(30, 0, sub { sctp_assocs($PORT) }), 0, 'no association left');
is(eventually(30, $fds, sub { parent_fds() }), $fds, "parent descriptors back to $fds");

system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'stop');
eventually(20, 0, sub { scalar(SCTPTest::sctp_listening($PORT)) ? 1 : 0 });
if (!Test::More->builder->is_passing) {
    diag(`cat $dir/client1.err $dir/client2.err`);
    open my $e, '<', "$dir/error_log";
    diag(join '', grep { /sctp|error|emerg/i } <$e>);
}
done_testing();
