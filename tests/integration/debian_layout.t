#!/usr/bin/perl
# What a Debian user does: install mod_sctp as the README says (the Debian
# package ci/package builds, with dpkg -i), `a2enmod sctp`, `apache2ctl
# start`, on Debian's real /etc/apache2 with its stock ports.conf
# (`Listen 80`) beside the packaged `SCTPListen 80`; then remove and purge
# the package. TCP and SCTP
# must both serve port 80 on IPv4 and IPv6, across a graceful restart, and
# with `Listen 0.0.0.0:80` / `Listen [::]:80` instead. What cannot work (an
# SCTP wildcard beside an SCTP address on the same port) is refused by
# `apachectl -t`, naming the file and line.
#
# Nothing of the machine's is touched: the test re-runs itself in a private
# mount namespace (unshare) and bind-mounts copies over /etc/apache2,
# /usr/lib/apache2/modules, /var/log/apache2, /var/lib/apache2,
# /var/cache/apache2 and tmpfs over /run/apache2 and /run/lock; they vanish
# with it. dpkg installs into that copy of the layout (`dpkg --root`, with a
# copy of the machine's dpkg database, so the package's dependencies are
# the installed apache2's): the module and its files land in the copies
# httpd then reads, the client and the bridge under the copy's /usr. Runs
# as root (inside the SCTP VM under ci/test). The package: $SCTP_DEB, else
# the newest target/debian/libapache2-mod-sctp_*.deb.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Test::More;
use File::Temp qw(tempdir);
use File::Basename qw(dirname);
use Digest::MD5;
use IO::Socket::IP;
use SCTPTest qw(sctp_listening eventually slurp);

my $repo = dirname(dirname($FindBin::Bin));
my $mpm = $ENV{SCTP_TEST_MPM} // 'event';
my $deb = $ENV{SCTP_DEB} // (sort { -M $a <=> -M $b } glob("$repo/target/debian/libapache2-mod-sctp_*.deb"))[0];

if (!$ENV{SCTP_DEBIAN_LAYOUT_NS}) {
    plan skip_all => 'skipped: needs root to bind-mount over /etc/apache2 (in a private mount namespace)'
        if $> != 0;
    $ENV{SCTP_DEBIAN_LAYOUT_NS} = 1;
    exec('unshare', '--mount', '--propagation', 'private', $^X, $0, @ARGV);
    die "unshare: $!\n";
}

my $tmp = tempdir('debian_layout.XXXXXX', TMPDIR => 1, CLEANUP => 1);
sub run { my $out = `@_ 2>&1`; return ($? >> 8, $out) }

# Private copies of Debian's layout over the real paths.
for my $d (qw(/etc/apache2 /usr/lib/apache2/modules /var/log/apache2 /var/lib/apache2 /var/cache/apache2)) {
    my $copy = "$tmp/root$d";
    system('mkdir', '-p', $copy) == 0 or die;
    system('cp', '-a', "$d/.", "$copy/") == 0 or die "copy $d\n";
    system('mount', '--bind', $copy, $d) == 0 or die "mount $d\n";
}
for my $d (qw(/run/apache2 /run/lock)) {
    system('mkdir', '-p', $d) == 0 or die;
    system('mount', '-t', 'tmpfs', 'tmpfs', $d) == 0 or die "mount $d\n";
}
END { system('apache2ctl', 'stop') if $ENV{SCTP_DEBIAN_LAYOUT_NS} && -s '/run/apache2/apache2.pid' }

# Debian's ports.conf, unmodified: its MD5 is the one dpkg recorded.
my ($md5) = `dpkg-query -W -f='\${Conffiles}\\n' apache2` =~ m{^\s*/etc/apache2/ports\.conf\s+([0-9a-f]{32})}m;
open my $pc, '<', '/etc/apache2/ports.conf' or die;
is(Digest::MD5->new->addfile($pc)->hexdigest, $md5, "ports.conf is Debian's, unmodified");
like(slurp('/etc/apache2/ports.conf'), qr/^Listen 80$/m, 'ports.conf has Listen 80');

# The README's install steps: the package, then a2enmod.
ok($deb && -f $deb, 'the Debian package exists (' . ($deb // 'none') . '; ci/package builds it)')
    or BAIL_OUT('no package: run ci/package');
my $root = "$tmp/root";
system('mkdir', '-p', "$root/var/lib") == 0 or die;
system('cp', '-a', '/var/lib/dpkg', "$root/var/lib/") == 0 or die "copy /var/lib/dpkg\n";
my $dpkg = "dpkg --root=$root --no-triggers";
my ($rc, $out) = run("$dpkg -i $deb");
is($rc, 0, 'dpkg -i libapache2-mod-sctp') or diag($out);
like((run("$dpkg -s libapache2-mod-sctp"))[1], qr/^Status: install ok installed$/m, 'dpkg: installed');
ok(-f '/usr/lib/apache2/modules/mod_sctp.so', 'mod_sctp.so installed where sctp.load says');
ok(-f '/usr/lib/apache2/modules/mod_proxy_fcgi_sctp.so', 'mod_proxy_fcgi_sctp.so beside it');
ok(-f "/etc/apache2/mods-available/$_", "mods-available/$_") for qw(sctp.load sctp.conf proxy_fcgi_sctp.load);
is((run("diff -u $repo/httpd-conf/sctp.conf /etc/apache2/mods-available/sctp.conf"))[0], 0, 'sctp.conf is the shipped one');
my $client = "$root/usr/bin/sctp-http";
like((run("$client --version"))[1], qr/^sctp-http \d+\.\d+\.\d+$/m, 'the packaged sctp-http runs (--version)');
like((run("$root/usr/sbin/fcgi-bridge --version"))[1], qr/^fcgi-bridge \d+\.\d+\.\d+$/m, 'the packaged fcgi-bridge runs (--version)');
like((run("man -l $root/usr/share/man/man1/sctp-http-get.1.gz"))[1], qr/--associations/, 'man sctp-http-get renders, with its options');
like((run("man -l $root/usr/share/man/man8/fcgi-bridge-backend.8.gz"))[1], qr/--registrar/, 'man fcgi-bridge-backend renders');
like(slurp("$root/usr/lib/systemd/system/fcgi-bridge.service") // '', qr{^ExecStart=/usr/sbin/fcgi-bridge \$FCGI_BRIDGE_ARGS$}m,
     "fcgi-bridge's systemd unit runs the packaged binary with /etc/default's arguments");
ok(-f "$root/etc/default/fcgi-bridge", '/etc/default/fcgi-bridge');
($rc, $out) = run('a2enmod sctp');
is($rc, 0, 'a2enmod sctp') or diag($out);
if ($mpm ne 'event') {
    ($rc, $out) = run("a2dismod -q mpm_event && a2enmod -q mpm_$mpm");
    is($rc, 0, "MPM $mpm enabled instead of event") or diag($out);
}
# Quieter startup in the VM (no resolvable host name); and the level whose
# lines this test reads.
open my $sn, '>', '/etc/apache2/conf-enabled/zz-test.conf' or die;
print $sn "ServerName localhost\nLogLevel info sctp:debug\n";
close $sn;

sub tcp_get {
    my ($host) = @_;
    my $s = IO::Socket::IP->new(PeerHost => $host, PeerPort => 80, Timeout => 10) or return "connect: $@";
    print $s "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    local $/;
    my $r = <$s> // '';
    return $r =~ m{^HTTP/1\.1 (\d+)} ? $1 : "no answer: " . substr($r, 0, 80);
}

sub sctp_get {
    my ($host) = @_;
    my $url = $host =~ /:/ ? "http://[$host]/" : "http://$host/";
    my $o = `$client get -q --fail --timeout 10 -o /dev/null $url 2>&1`;
    return $? == 0 ? 200 : "sctp-http exit " . ($? >> 8) . ": $o";
}

sub generations { scalar grep { /resuming normal operations/ } split /\n/, slurp('/var/log/apache2/error.log') // '' }

# Each address and transport answers 200.
sub serves_all {
    my ($what, @hosts) = @_;
    for my $h (@hosts) {
        is(tcp_get($h), 200, "$what: TCP $h:80 answers 200");
        is(sctp_get($h), 200, "$what: SCTP $h:80 answers 200");
    }
}

sub start_and_check {
    my ($what) = @_;
    truncate '/var/log/apache2/error.log', 0;
    ($rc, $out) = run('apache2ctl -t');
    is($rc, 0, "$what: apache2ctl -t exit status 0");
    like($out, qr/Syntax OK/, "$what: Syntax OK");
    ($rc, $out) = run('apache2ctl start');
    is($rc, 0, "$what: apache2ctl start exit status 0") or diag($out);
    is(eventually(60, 1, sub { generations() >= 1 ? 1 : 0 }), 1, "$what: httpd runs");
    ok(scalar(sctp_listening(80)), "$what: the kernel lists an SCTP endpoint on port 80");
    serves_all($what, '127.0.0.1', '::1');
    my @bad = grep { /AH00069|AH00542|AH00072|AH00015|:crit\]|:emerg\]|:alert\]/ } split /\n/, slurp('/var/log/apache2/error.log');
    is(scalar(@bad), 0, "$what: no listener errors in the error log") or diag(join "\n", @bad);
}

sub stop {
    my ($what) = @_;
    ($rc, $out) = run('apache2ctl stop');
    is($rc, 0, "$what: apache2ctl stop") or diag($out);
    eventually(30, 0, sub { -e '/run/apache2/apache2.pid' ? 1 : 0 });
}

# 1. The stock layout: ports.conf's Listen 80 beside sctp.conf's SCTPListen 80.
start_and_check('Listen 80 + SCTPListen 80');
($rc, $out) = run('apache2ctl graceful');
is($rc, 0, 'apache2ctl graceful') or diag($out);
is(eventually(60, 2, sub { generations() }), 2, 'a second generation runs');
serves_all('after a graceful restart', '127.0.0.1', '::1');
stop('stock layout');

# 2. Other spellings of TCP's wildcard in ports.conf.
for my $listen ('0.0.0.0:80', '[::]:80') {
    my $pc = slurp('/etc/apache2/ports.conf');
    $pc =~ s/^Listen 80$/Listen $listen/m or die;
    open my $f, '>', '/etc/apache2/ports.conf' or die;
    print $f $pc;
    close $f;
    my $what = "Listen $listen + SCTPListen 80";
    truncate '/var/log/apache2/error.log', 0;
    ($rc, $out) = run('apache2ctl start');
    is($rc, 0, "$what: apache2ctl start") or diag($out);
    is(eventually(60, 1, sub { generations() >= 1 ? 1 : 0 }), 1, "$what: httpd runs");
    # 0.0.0.0 is IPv4 only; [::] takes both (Debian's httpd maps IPv4).
    is(tcp_get('127.0.0.1'), 200, "$what: TCP 127.0.0.1:80 answers 200");
    is(sctp_get('127.0.0.1'), 200, "$what: SCTP 127.0.0.1:80 answers 200");
    is(sctp_get('::1'), 200, "$what: SCTP [::1]:80 answers 200");
    stop($what);
    $pc =~ s/^Listen \Q$listen\E$/Listen 80/m;
    open $f, '>', '/etc/apache2/ports.conf' or die;
    print $f $pc;
    close $f;
}

# 3. What cannot work is refused by -t, naming the file and line.
open my $bad, '>', '/etc/apache2/conf-enabled/zz-clash.conf' or die;
print $bad "# an SCTP address beside sctp.conf's wildcard\nSCTPListen 127.0.0.1:80\n";
close $bad;
($rc, $out) = run('apache2ctl -t');
isnt($rc, 0, 'apache2ctl -t refuses SCTPListen 127.0.0.1:80 beside SCTPListen 80');
like($out, qr{line 2 of /etc/apache2/conf-enabled/zz-clash\.conf}, 'the error names the file and line');
like($out, qr/takes every address of its port/, 'and says why');
unlink '/etc/apache2/conf-enabled/zz-clash.conf';

# 4. Removal keeps the administrator's configuration; purge removes it.
($rc, $out) = run('a2dismod -q sctp');
is($rc, 0, 'a2dismod sctp') or diag($out);
($rc, $out) = run("$dpkg -r libapache2-mod-sctp");
is($rc, 0, 'dpkg -r libapache2-mod-sctp') or diag($out);
ok(!-e '/usr/lib/apache2/modules/mod_sctp.so', 'removed: mod_sctp.so is gone');
ok(!-e "$root/usr/bin/sctp-http", 'removed: sctp-http is gone');
ok(-f '/etc/apache2/mods-available/sctp.conf', 'removed: the conffile sctp.conf stays');
($rc, $out) = run("$dpkg -P libapache2-mod-sctp");
is($rc, 0, 'dpkg -P libapache2-mod-sctp') or diag($out);
ok(!-e '/etc/apache2/mods-available/sctp.conf', 'purged: sctp.conf is gone');

done_testing();
