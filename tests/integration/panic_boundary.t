#!/usr/bin/perl
# A panic in mod_sctp fails one request, never the child: every entry point
# from httpd runs inside httpd_module's panic boundary. A debug build of the
# module panics on purpose in its sctp-status handler for `?panic`; the
# request gets 500 and its association is closed as httpd closes any
# connection after a 500, another association open across the panic is
# served on (threaded MPMs), a new association is answered by the child that
# panicked (no child died or was replaced), and the error log says what
# panicked (SCTP10001). The release
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
use SCTPTest qw(start_own_httpd stop_own_httpd slurp);

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
        or do { diag(slurp("$dir/error_log") // 'no error_log'); BAIL_OUT("$label: httpd did not start") };
    return $dir;
}

# Stopped when the parent has exited (so the next httpd, or the next MPM's
# run of this file, can bind the port).
sub stop {
    my ($dir) = @_;
    ok(stop_own_httpd($dir), 'httpd stopped');
}

# --- the debug module: a deliberate panic ----------------------------------
{
    my $dir = serve($debug_so, 'debug');
    # Threaded MPMs: another client's association, open before the panic,
    # is served on after it (under prefork the one child serves one
    # association at a time: a second one would wait in the listen queue).
    my $other = $mpm eq 'prefork' ? undef : SCTPClient->new(port => $PORT, timeout => 20);
    is($other->get('/index.html')->{status}, 200, 'debug: another association is answered') if $other;
    my $c = SCTPClient->new(port => $PORT, timeout => 20);
    is($c->get('/index.html')->{status}, 200, 'debug: a first request is answered');
    my $before = children($dir);
    ok($before ne '', "debug: the child serving it: $before");
    my $r = $c->get('/sctp-status?panic');
    is($r->{status}, 500, 'debug: the request whose handler panics gets 500');
    # httpd closes a connection after a 500 (ap_status_drops_connection), as
    # it would a TCP connection; here that is the request's stream, and with
    # nothing else in progress on it the association closes gracefully.
    ok($c->closed_within(10), 'debug: its association is closed after the 500, as a TCP connection would be');
    if ($other) {
        my $next = $other->get('/index.html');
        is($next->{status}, 200, 'debug: the other association, open across the panic, is answered');
        is($next->{body}, "hello\n", 'debug: ... with its body');
    }
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
    skip 'MOD_SCTP_SO not set', 4 unless -f $release_so;
    my $dir = serve($release_so, 'release');
    my $r = SCTPClient->new(port => $PORT, timeout => 20)->get('/sctp-status?panic');
    is($r->{status}, 200, 'release: ?panic is an ordinary status request (the trigger is debug-only)');
    # The version a sysadmin sees: httpd's banner in its startup line.
    like(slurp("$dir/error_log") // '', qr{ mod_sctp/\d+\.\d+\.\d+ configured -- resuming normal operations},
         'release: the startup line names mod_sctp and its version');
    stop($dir);
}

done_testing();
