package SCTPTest;
# Shared facts and helpers of the suite: the ports of extra.conf.in and
# checks that SCTP (not TCP) is really what served a port.
use strict;
use warnings;
use Exporter 'import';
use IO::Socket::INET;
our @EXPORT_OK = qw(SCTP_PORT SHARED_PORT MULTIHOMED_PORT sctp_listening tcp_refused sctp_only
                    httpd_fd_count httpd_fd_map httpd_thread_map fd_growth httpd_pids sctp_assocs server_assocs
                    eventually own_httpd_conf own_httpd_generations start_own_httpd stop_own_httpd slurp
                    error_log_count);

use constant SCTP_PORT       => 8601;   # Listen 127.0.0.1:8601 sctp
use constant SHARED_PORT     => 8602;   # TCP Listen and SCTPListen on one port
use constant MULTIHOMED_PORT => 8603;   # SCTPListen 127.0.0.1:8603 127.0.0.2

# How many lines of the suite's error log match $re.
sub error_log_count {
    my ($re) = @_;
    local $_;    # Apache::Test::vars may read files with while (<...>)
    require Apache::Test;
    open my $f, '<', Apache::Test::vars('t_logs') . '/error_log' or return 0;
    return scalar grep { /$re/ } <$f>;
}

# Local addresses the kernel lists for an SCTP endpoint on $port.
sub sctp_listening {
    my ($port) = @_;
    open my $f, '<', '/proc/net/sctp/eps' or return ();
    my @addrs;
    while (<$f>) {
        my @c = split;
        next unless @c > 8 && $c[5] eq $port;
        push @addrs, @c[8 .. $#c];
    }
    return @addrs;
}

sub tcp_refused {
    my ($port) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 3);
    return !$s && ($!{ECONNREFUSED} ? 1 : 0);
}

# The proof a test needs that SCTP, not TCP, served $port: the kernel lists
# an SCTP endpoint on it and a TCP connect to it is refused. Says why on
# STDERR when it does not hold.
sub sctp_only {
    my ($port) = @_;
    my @eps = sctp_listening($port);
    my $refused = tcp_refused($port);
    print STDERR "# port $port: SCTP endpoint addresses: (@eps); TCP connect refused: ",
        ($refused ? 'yes' : 'no'), "\n" unless @eps && $refused;
    return @eps && $refused ? 1 : 0;
}

# Server-side associations on local port $port, from /proc/net/sctp/assocs:
# a list of { rport, instreams, outstreams, laddrs => [...], raddrs => [...] }.
sub server_assocs {
    my ($port) = @_;
    open my $f, '<', '/proc/net/sctp/assocs' or return ();
    my @a;
    while (<$f>) {
        my @c = split;
        next unless @c > 13 && $c[11] eq $port;
        my ($i) = grep { $c[$_] eq '<->' } 0 .. $#c;
        next unless defined $i;
        # HBINT INS OUTS MAXRT T1X T2X RTXC wmema wmemq sndbuf rcvbuf end the line.
        my @tail = @c[-11 .. -1];
        push @a, { rport => $c[12], laddrs => [@c[13 .. $i - 1]], raddrs => [@c[$i + 1 .. $#c - 11]],
                   instreams => $tail[1], outstreams => $tail[2] };
    }
    return @a;
}

sub httpd_pids {
    my ($pidfile) = @_;
    open my $f, '<', $pidfile or return ();
    chomp(my $parent = <$f>);
    my @pids = ($parent);
    for my $d (glob '/proc/[0-9]*') {
        open my $s, '<', "$d/stat" or next;
        my @st = split ' ', scalar <$s>;
        push @pids, $st[0] if $st[3] == $parent;
    }
    return @pids;
}

# Open descriptors per httpd process: { pid => count }.
sub httpd_fd_map {
    my ($pidfile) = @_;
    my %m;
    for my $p (httpd_pids($pidfile)) {
        opendir my $d, "/proc/$p/fd" or next;
        $m{$p} = grep { /^\d+$/ } readdir $d;
    }
    return \%m;
}

# Threads per httpd process: { pid => Threads of /proc/PID/status }.
sub httpd_thread_map {
    my ($pidfile) = @_;
    my %m;
    for my $p (httpd_pids($pidfile)) {
        open my $f, '<', "/proc/$p/status" or next;
        while (<$f>) {
            if (/^Threads:\s+(\d+)/) { $m{$p} = $1; last }
        }
    }
    return \%m;
}

# Descriptor (or thread) growth between two snapshots, over the processes in both
# (the MPM may start or stop children in between).
sub fd_growth {
    my ($a, $b) = @_;
    my $g = 0;
    $g += $b->{$_} - $a->{$_} for grep { exists $b->{$_} } keys %$a;
    return $g;
}

# SCTP associations whose local port is $port.
sub sctp_assocs {
    my ($port) = @_;
    open my $f, '<', '/proc/net/sctp/assocs' or return 0;
    my $n = 0;
    while (<$f>) {
        my @c = split;
        $n++ if @c > 12 && $c[11] eq $port;
    }
    return $n;
}

# Polls $cond until it returns the wanted value or $secs pass; returns
# the last value seen.
sub eventually {
    my ($secs, $want, $cond) = @_;
    my $v;
    for (1 .. $secs * 5) {
        $v = $cond->();
        return $v if $v eq $want;
        select undef, undef, undef, 0.2;
    }
    return $v;
}

# Open descriptors of the parent and its children.
sub httpd_fd_count {
    my ($pidfile, $parent_only) = @_;
    my @pids = httpd_pids($pidfile);
    @pids = ($pids[0]) if $parent_only;
    my $n = 0;
    for my $p (@pids) {
        opendir my $d, "/proc/$p/fd" or next;
        $n += grep { /^\d+$/ } readdir $d;
    }
    return $n;
}

# The configuration of an httpd that a test runs itself (tests/integration):
# ServerRoot $a{dir} (with htdocs/ in it), MPM $a{mpm}, mod_sctp from
# $a{so}, httpd dropping to nobody; $a{extra} (listeners, directives) last.
sub own_httpd_conf {
    my (%a) = @_;
    my ($dir, $mpm, $so) = @a{qw(dir mpm so)};
    # In the SCTP VM on hosts with AMX (ci/vm) GLIBC_TUNABLES keeps programs
    # off AVX; pass it on to CGI scripts and FastCGI backends.
    my $tunables = $ENV{GLIBC_TUNABLES}
        ? "LoadModule env_module /usr/lib/apache2/modules/mod_env.so\nPassEnv GLIBC_TUNABLES\n" : '';
    return <<"EOC" . $tunables . ($a{extra} // '') . "\n";
ServerRoot $dir
ServerName localhost
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
LogLevel info sctp:debug
DefaultRuntimeDir $dir
Mutex file:$dir default
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule sctp_module $so
User nobody
Group nogroup
DocumentRoot $dir/htdocs
<Directory $dir/htdocs>
    Require all granted
</Directory>
EOC
}

# Writes $a{dir}/httpd.conf (own_httpd_conf) and starts that httpd; true
# once its first generation runs (within 60 s).
sub start_own_httpd {
    my (%a) = @_;
    open my $c, '>', "$a{dir}/httpd.conf" or die "$a{dir}/httpd.conf: $!";
    print $c own_httpd_conf(%a);
    close $c;
    system('/usr/sbin/apache2', '-f', "$a{dir}/httpd.conf", '-k', 'start') == 0 or return 0;
    return eventually(60, 1, sub { own_httpd_generations($a{dir}) ? 1 : 0 }) eq '1';
}

# Stops the httpd of start_own_httpd (SIGTERM to the parent in
# $dir/httpd.pid); true once the parent has exited (within 30 s), so the
# next httpd can bind its ports, or when it never wrote a pid file.
sub stop_own_httpd {
    my ($dir) = @_;
    my $pid = slurp("$dir/httpd.pid") // return 1;
    chomp $pid;
    kill 'TERM', $pid;
    return eventually(30, 0, sub { kill(0, $pid) ? 1 : 0 }) eq '0';
}

# A whole file, binary, or undef.
sub slurp {
    my ($file) = @_;
    open my $f, '<', $file or return undef;
    binmode $f;
    local $/;
    return scalar <$f>;
}

# How many generations that httpd has started (error_log lines).
sub own_httpd_generations {
    my ($dir) = @_;
    open my $f, '<', "$dir/error_log" or return 0;
    return scalar grep { /resuming normal operations/ } <$f>;
}

1;
