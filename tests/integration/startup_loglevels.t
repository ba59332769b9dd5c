#!/usr/bin/perl
# `apache2 -k start` (daemonizing, with a configuration of its own, as
# Debian's apache2ctl runs it) returns within a bound and the server serves
# over SCTP at every LogLevel from emerg to trace8, alone and with
# sctp:debug and sctp:trace8 (a start with
# `LogLevel info sctp:debug` did not return). mod_sctp's log bridge runs in
# every configuration pass of that start. $SCTP_STARTUP_ROUNDS (default 2)
# repeats the whole set, to look for an intermittent hang.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(WNOHANG);
use Time::HiRes qw(time sleep);
use SCTPClient;
use SCTPTest qw(eventually own_httpd_conf own_httpd_generations slurp);

my $so = $ENV{MOD_SCTP_SO} or die "MOD_SCTP_SO not set\n";
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
plan skip_all => 'needs root (runs its own httpd)' if $>;
my $rounds = $ENV{SCTP_STARTUP_ROUNDS} // 2;
use constant PORT  => 8821;
use constant BOUND => 20;    # seconds for `apache2 -k start` to return

my $dir = tempdir('startup.XXXXXX', TMPDIR => 1, CLEANUP => 1);
mkdir "$dir/htdocs";
open my $ix, '>', "$dir/htdocs/index.html" or die;
print $ix "startup test page\n";
close $ix;
chmod 0755, $dir;

my @levels = (qw(emerg alert crit error warn notice info debug), map { "trace$_" } 1 .. 8);
my @specs = map { ($_, "$_ sctp:debug", "$_ sctp:trace8") } @levels;

# Runs `apache2 -k start`; its exit status, or undef when it did not return
# within BOUND seconds (then it is killed).
sub start {
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        exec '/usr/sbin/apache2', '-f', "$dir/httpd.conf", '-k', 'start';
        exit 127;
    }
    my $until = time + BOUND;
    while (time < $until) {
        return $? >> 8 if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid $pid, 0;
    return undef;
}

sub stop {
    my $p = slurp("$dir/httpd.pid");
    if ($p) {
        chomp $p;
        kill 'TERM', $p;
        eventually(20, 0, sub { kill(0, $p) ? 1 : 0 });
    }
    unlink "$dir/httpd.pid";
}

for my $round (1 .. $rounds) {
    for my $spec (@specs) {
        unlink "$dir/error_log";
        open my $f, '>', "$dir/httpd.conf" or die;
        print $f own_httpd_conf(dir => $dir, mpm => $mpm, so => $so,
                                extra => "Listen 127.0.0.1:@{[PORT]} sctp\nLogLevel $spec\n");
        close $f;
        my $t0 = time;
        my $rc = start();
        my $took = time - $t0;
        my $ok = ok(defined $rc && $rc == 0, sprintf("round %d, LogLevel %s: apache2 -k start returned (%s) in %.1f s",
                                                    $round, $spec, $rc // 'killed', $took));
        my $r = $ok && eval {
            eventually(30, 1, sub { -s "$dir/httpd.pid" ? 1 : 0 });
            SCTPClient->new(port => PORT, timeout => 20)->get('/index.html', headers => "Connection: close\r\n");
        };
        is($r && $r->{body}, "startup test page\n", "round $round, LogLevel $spec: served over SCTP")
            or diag($@, slurp("$dir/error_log") // 'no error_log');
        stop();
    }
}
done_testing();
