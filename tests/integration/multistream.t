#!/usr/bin/perl
# The multistream proof: `sctp-http get` fetches 32
# different objects (1 KB .. 1 MB) over ONE association on 8 streams,
# pipelined, and every body is byte-identical to the file; a tshark capture
# of that run proves, from the wire, that every DATA chunk of every response
# went out on the stream its request came on, with PPID 63 (HTTP): the
# test rebuilds each stream's byte sequence from the captured DATA chunks
# (ordered by TSN), parses the requests the client sent on it and the
# responses the server sent on it, and matches them body by body. Then the
# same workload over TCP (`--tcp`) gives identical bodies.
#
# Runs as root inside the SCTP VM (tshark captures on lo); MPM from
# $SCTP_TEST_MPM (default event).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname basename);
use JSON::PP;
use SCTPTest qw(sctp_only eventually start_own_httpd slurp own_httpd_generations stop_own_httpd);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $client = $ENV{SCTP_HTTP} // dirname($so) . '/sctp-http';
-x $client or BAIL_OUT("$client not built (cargo build --release --workspace)");
my $tshark = '/usr/bin/tshark';
-x $tshark or BAIL_OUT('tshark missing (ci/setup installs it)');

my ($SPORT, $TPORT) = (8830, 8831);
my $dir = tempdir('multistream.XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;
mkdir "$dir/htdocs";
mkdir "$dir/htdocs/nosendfile";

# 32 objects from 1 KB to 1 MB (geometric), each with its own content;
# the odd ones are served with sendfile and mmap off.
my %content;
my @names;
for my $i (0 .. 31) {
    my $size = int(1024 * 2 ** ($i * 10 / 31));
    # Odd objects from a directory with EnableSendfile and EnableMMAP off.
    my $name = sprintf '%sobj%02d.bin', ($i % 2 ? 'nosendfile/' : ''), $i;
    my $seed = $i * 7919 + 1;
    my $data = join '', map { pack 'N', ($_ * 2654435761 + $seed) % 4294967296 } 1 .. ($size + 3) / 4;
    $data = substr $data, 0, $size;
    open my $f, '>', "$dir/htdocs/$name" or die;
    binmode $f;
    print $f $data;
    close $f;
    $content{"/$name"} = $data;
    push @names, $name;
}

ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "httpd ($mpm) started") or BAIL_OUT('httpd did not start');
Listen 127.0.0.1:$SPORT sctp
Listen 127.0.0.1:$TPORT
SCTPInStreams 16
SCTPOutStreams 16
MaxKeepAliveRequests 0
EnableSendfile On
EnableMMAP On
<Directory $dir/htdocs/nosendfile>
    EnableSendfile Off
    EnableMMAP Off
</Directory>
EOX
ok(sctp_only($SPORT), "$SPORT is SCTP only (eps, TCP refused)");

# Capture the association's packets on lo.
my $pcap = "$dir/capture.pcapng";
my $tlog = "$dir/tshark.log";
my $tpid = fork // die;
if (!$tpid) {
    open STDOUT, '>', $tlog;
    open STDERR, '>&', \*STDOUT;
    # A large capture buffer: the UML loopback moves 64 KB packets fast.
    exec $tshark, '-i', 'lo', '-B', '32', '-f', "sctp port $SPORT", '-w', $pcap;
    exit 127;
}
my $capturing = eventually(30, 1, sub {
    open my $l, '<', $tlog or return 0;
    (grep { /Capturing on/ } <$l>) ? 1 : 0;
});
is($capturing, 1, 'tshark is capturing on lo');
sleep 1;

# The fetch: 32 URLs, one association, 8 streams, pipelined 16 deep.
my $out = "$dir/out";
mkdir $out;
my @urls = map { "http://127.0.0.1:$SPORT/$_" } @names;
my $json = `cd $out && $client get --streams 8 --depth 16 --json @urls 2>$dir/client.err`;
my $rc = $? >> 8;
is($rc, 0, 'sctp-http get exit status 0') or diag(`cat $dir/client.err`);
my @objs = grep { exists $_->{url} } map { eval { decode_json($_) } // () } split /\n/, $json;
is(scalar @objs, 32, '32 objects reported');
my %streams_used;
my $identical = 0;
for my $o (@objs) {
    my ($path) = $o->{url} =~ m{^http://[^/]+(/.*)$};
    $streams_used{$o->{stream}}++ if defined $o->{stream};
    my $got = slurp("$out/" . basename($path));
    $identical++ if ($o->{status} // 0) == 200 && defined $got && $got eq $content{$path};
}
is($identical, 32, 'every body byte-identical to its file');
cmp_ok(scalar keys %streams_used, '>=', 8, 'the client spread the requests over 8 streams');

sleep 1;
kill 'INT', $tpid;
waitpid $tpid, 0;
ok(-s $pcap, 'capture written');
my $dropped = do { open my $l, '<', $tlog; join '', grep { /dropped/i } <$l> };
is($dropped =~ /\b([1-9]\d*) packets? dropped/ ? $1 : 0, 0, 'tshark dropped no packet') or diag($dropped);

# Rebuild each stream of each direction from the DATA chunks, by TSN.
my @fields = qw(sctp.srcport sctp.data_tsn sctp.data_sid sctp.data_payload_proto_id data.data);
my $cmd = "$tshark -r $pcap --disable-protocol http -T fields -E separator=/t -E occurrence=a -E aggregator=, "
        . join(' ', map { "-e $_" } @fields) . ' 2>/dev/null';
my (%seen, %chunks, %ppid_bad, $nchunks);
for my $line (split /\n/, `$cmd`) {
    my ($sport, $tsns, $sids, $ppids, $datas) = split /\t/, $line;
    next unless defined $tsns && length $tsns;
    my @tsn = split /,/, $tsns;
    # tshark shows stream ids in hex (0x0005).
    my @sid = map { /^0x/i ? hex : $_ } split /,/, $sids;
    my @ppid = split /,/, $ppids // '';
    my @data = split /,/, $datas // '';
    my $dirn = $sport == $SPORT ? 'resp' : 'req';
    for my $k (0 .. $#tsn) {
        next if $seen{$dirn}{$tsn[$k]}++;    # retransmission
        $nchunks++;
        push @{ $chunks{$dirn}{$sid[$k]} }, [$tsn[$k], pack('H*', $data[$k] // '')];
        $ppid_bad{$dirn}++ if ($ppid[$k] // -1) != 63;
    }
}
my $stream_bytes = sub {
    my ($dirn, $sid) = @_;
    join '', map { $_->[1] } sort { $a->[0] <=> $b->[0] } @{ $chunks{$dirn}{$sid} // [] };
};
$nchunks //= 0;
cmp_ok($nchunks, '>', 32, "$nchunks DATA chunks captured")
    or diag(`$tshark -r $pcap 2>&1 | head -5; cat $tlog`);
is($ppid_bad{resp} // 0, 0, 'every response DATA chunk has PPID 63');
is($ppid_bad{req} // 0, 0, 'every request DATA chunk has PPID 63');

# On each stream: the requests in order, then the responses in order; the
# k-th response on a stream must be the k-th requested object's.
my ($matched, @problems) = (0);
my %req_sids = map { $_ => 1 } keys %{ $chunks{req} };
for my $sid (sort { $a <=> $b } keys %{ $chunks{resp} }) {
    push @problems, "responses on stream $sid, where no request was sent" unless $req_sids{$sid};
}
for my $sid (sort { $a <=> $b } keys %req_sids) {
    my @paths = $stream_bytes->('req', $sid) =~ m{^GET (\S+) HTTP/1\.1\r$}mg;
    my $resp = $stream_bytes->('resp', $sid);
    for my $path (@paths) {
        unless ($resp =~ s/\AHTTP\/1\.1 (\d{3}) [^\r\n]*\r\n((?:[^\r\n]+\r\n)*)\r\n//) {
            push @problems, "stream $sid: no response for $path";
            last;
        }
        my ($st, $hdrs) = ($1, $2);
        my ($len) = $hdrs =~ /^Content-Length: (\d+)\r$/mi;
        if ($st != 200 || !defined $len || length($resp) < $len) {
            push @problems, "stream $sid: bad response for $path (status $st)";
            last;
        }
        my $body = substr $resp, 0, $len, '';
        if ($body eq ($content{$path} // '')) {
            $matched++;
        } else {
            push @problems, "stream $sid: the body on this stream is not ${path}'s";
        }
    }
    push @problems, "stream $sid: " . length($resp) . ' stray byte(s) after the responses' if length $resp;
}
is($matched, 32, 'the wire: all 32 responses on the streams of their requests, bodies intact');
is(join("\n", @problems), '', 'the wire: no response byte on a stream other than its request\'s');

# The same workload over TCP: identical bodies.
my $tout = "$dir/tcp";
mkdir $tout;
my @turls = map { "http://127.0.0.1:$TPORT/$_" } @names;
system("cd $tout && $client get --tcp --depth 16 -q @turls 2>$dir/tcp.err");
is($? >> 8, 0, 'sctp-http get --tcp exit status 0') or diag(`cat $dir/tcp.err`);
my $same = grep {
    my ($x, $y) = (slurp("$out/" . basename($_)), slurp("$tout/" . basename($_)));
    defined $x && defined $y && $x eq $y;
} @names;
is($same, 32, '--tcp bodies identical to the SCTP ones');

# Exit codes as curl's.
my $code = sub { system("cd $dir && $client get -q @_ >/dev/null 2>&1"); $? >> 8 };
is($code->("-o - http://127.0.0.1:$SPORT/missing"), 0, '404 without --fail: exit 0');
is($code->("-f -o - http://127.0.0.1:$SPORT/missing"), 22, '404 with --fail: exit 22');
is($code->("http://127.0.0.1:1/x"), 7, 'nothing listening: exit 7');
is($code->("ftp://127.0.0.1/x"), 3, 'malformed URL: exit 3');
is($code->(), 2, 'no URL: exit 2 (usage)');

stop_own_httpd($dir);
eventually(20, 0, sub { scalar(SCTPTest::sctp_listening($SPORT)) ? 1 : 0 });
if (!Test::More->builder->is_passing) {
    open my $e, '<', "$dir/error_log";
    diag(join '', grep { /sctp|error|emerg/i } <$e>);
}
done_testing();
