#!/usr/bin/perl
# A panic in mod_sctp fails one request, never the child: every entry point
# from httpd runs inside httpd_module's panic boundary. A debug build of the
# module panics on purpose in its sctp-status handler for `?panic`; the
# request gets 500, the same association's next request is answered, the
# child that panicked is the one that answers (no child died or was
# replaced), and the error log says what panicked (SCTP10001). The release
# module ignores `?panic`. Runs as root inside the SCTP VM; MPM from
# $SCTP_TEST_MPM; the debug module from $MOD_SCTP_DEBUG_SO (ci/test builds
# it), the release module from $MOD_SCTP_SO.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use SCTPClient;
use SCTPTest qw(eventually start_own_httpd slurp);

my $debug_so = $ENV{MOD_SCTP_DEBUG_SO} // '';
my $release_so = $ENV{MOD_SCTP_SO} // '';
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
# A missing debug module is a failure, not a skip: the boundary would go
# untested without anyone noticing.
ok(-f $debug_so, "the debug module exists ($debug_so; ci/test builds it with cargo build -p mod_sctp)")
    or BAIL_OUT('no debug build of mod_sctp: set MOD_SCTP_DEBUG_SO');

my $PORT = 8887;
my $one_child = $mpm eq 'prefork'
    ? "StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\nServerLimit 1\nMaxRequestWorkers 1\n"
    : "StartServers 1\nServerLimit 1\nThreadsPerChild 4\nMaxRequestWorkers 4\nMinSpareThreads 1\nMaxSpareThreads 4\n";

sub children {
    my ($dir) = @_;
    my $pid = slurp("$dir/httpd.pid") // '';
    chomp $pid;
    return '' unless $pid;
    return join ' ', sort split ' ', `pgrep -P $pid`;
}

sub serve {
    my ($so, $label) = @_;
    my $dir = tempdir("panic.$label.XXXXXX", TMPDIR => 1, CLEANUP => 1);
    chmod 0755, $dir;
    mkdir "$dir/htdocs";
    open my $f, '>', "$dir/htdocs/index.html" or die;
    print $f "hello\n";
    close $f;
    ok(start_own_httpd(dir => $dir, mpm => $mpm, so => $so, extra => <<"EOX"), "$label: httpd ($mpm) started")
Listen 127.0.0.1:$PORT sctp
$one_child
<Location /sctp-status>
    SetHandler sctp-status
</Location>
EOX
        or BAIL_OUT("$label: httpd did not start");
    return $dir;
}

sub stop {
    my ($dir) = @_;
    system('/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'stop');
    eventually(20, 0, sub { scalar(SCTPTest::sctp_listening($PORT)) ? 1 : 0 });
}

# --- the debug module: a deliberate panic ----------------------------------
{
    my $dir = serve($debug_so, 'debug');
    my $c = SCTPClient->new(port => $PORT, timeout => 20);
    is($c->get('/index.html')->{status}, 200, 'debug: a first request is answered');
    my $before = children($dir);
    ok($before ne '', "debug: the child serving it: $before");
    my $r = $c->get('/sctp-status?panic');
    is($r->{status}, 500, 'debug: the request whose handler panics gets 500');
    my $next = $c->get('/index.html');
    is($next->{status}, 200, 'debug: the same association\'s next request is answered');
    is($next->{body}, "hello\n", 'debug: ... with its body');
    is(SCTPClient->new(port => $PORT, timeout => 20)->get('/index.html')->{status}, 200,
       'debug: a new association is answered');
    is(children($dir), $before, 'debug: the same child serves on (none died or was replaced)');
    my $log = slurp("$dir/error_log") // '';
    like($log, qr/SCTP10001: panic in mod_sctp: the sctp-status handler: sctp-status\?panic: a deliberate panic \(debug build\); this request fails with 500/,
         'debug: the error log says what panicked and what it cost');
    unlike($log, qr/AH00052|exit signal|Aborted/, 'debug: no child exited on a signal');
    stop($dir);
    diag(join '', grep { /panic|sctp:error|AH00052|signal/i } split /^/, $log) unless Test::More->builder->is_passing;
}

# --- the release module: no trigger -----------------------------------------
SKIP: {
    skip 'MOD_SCTP_SO not set', 3 unless -f $release_so;
    my $dir = serve($release_so, 'release');
    my $r = SCTPClient->new(port => $PORT, timeout => 20)->get('/sctp-status?panic');
    is($r->{status}, 200, 'release: ?panic is an ordinary status request (the trigger is debug-only)');
    # The version a sysadmin sees: httpd's banner in its startup line.
    like(slurp("$dir/error_log") // '', qr{ mod_sctp/\d+\.\d+\.\d+ configured -- resuming normal operations},
         'release: the startup line names mod_sctp and its version');
    stop($dir);
}

done_testing();
