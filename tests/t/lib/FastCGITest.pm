package FastCGITest;
# Helpers for the FastCGI-over-SCTP tests (tests/integration/fastcgi_*.t):
# start php-fpm, fcgi-bridge, fcgiwrap and nginx with configurations of
# their own in a test directory, wait until they listen, stop them.
use strict;
use warnings;
use Exporter 'import';
use FindBin;
use POSIX ':sys_wait_h';
use HTTP::Tiny;
use SCTPTest qw(eventually);

our @EXPORT_OK = qw(ROOT spawn stop_all tcp_listening sctp_port_listening start_php_fpm
                    start_bridge http_get error_log_lines wait_for_log fcgi_httpd_conf
                    check_capture);

use Cwd ();

# The repository: the tests live in tests/integration/.
use constant ROOT => Cwd::abs_path("$FindBin::Bin/../..");

my @children;

# Starts a program with output to $log; returns its pid.
sub spawn {
    my ($log, @cmd) = @_;
    my $pid = fork // die "fork: $!";
    if (!$pid) {
        open STDOUT, '>>', $log or die;
        open STDERR, '>&', \*STDOUT or die;
        exec(@cmd) or do { print STDERR "exec @cmd: $!\n"; POSIX::_exit(127) };
    }
    push @children, $pid;
    return $pid;
}

sub stop_all {
    for my $pid (reverse @children) {
        kill 'TERM', $pid;
    }
    for my $pid (reverse @children) {
        for (1 .. 50) {
            last if waitpid($pid, WNOHANG) != 0;
            select undef, undef, undef, 0.1;
        }
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    @children = ();
}

sub tcp_listening {
    my ($port) = @_;
    my $hex = sprintf '%04X', $port;
    for my $f ('/proc/net/tcp', '/proc/net/tcp6') {
        open my $t, '<', $f or next;
        while (<$t>) {
            my @c = split;
            return 1 if ($c[1] // '') =~ /:$hex$/ && ($c[3] // '') eq '0A';
        }
    }
    return 0;
}

sub sctp_port_listening {
    my ($port) = @_;
    open my $e, '<', '/proc/net/sctp/eps' or return 0;
    while (<$e>) {
        my @c = split;
        return 1 if ($c[5] // '') eq $port;
    }
    return 0;
}

# php-fpm with a pool of its own on 127.0.0.1:$port, running as nobody.
sub start_php_fpm {
    my (%a) = @_;
    my ($dir, $port) = @a{qw(dir port)};
    my $children = $a{children} // 8;
    open my $c, '>', "$dir/php-fpm.conf" or die;
    print $c <<"EOC";
[global]
pid = $dir/php-fpm.pid
error_log = $dir/php-fpm.log
daemonize = no
[test]
user = nobody
group = nogroup
listen = 127.0.0.1:$port
pm = static
pm.max_children = $children
catch_workers_output = yes
php_admin_value[error_log] = $dir/php-errors.log
EOC
    close $c;
    my $fpm = (glob '/usr/sbin/php-fpm*')[0] or die "php-fpm missing (ci/setup installs it)\n";
    my $pid = spawn("$dir/php-fpm.out", $fpm, '--nodaemonize', '--fpm-config', "$dir/php-fpm.conf");
    eventually(30, 1, sub { tcp_listening($port) }) or die "php-fpm did not listen on $port\n";
    return $pid;
}

# fcgi-bridge with the given arguments; waits until $a{sctp} (SCTP) or
# $a{tcp} (TCP) listens.
sub start_bridge {
    my (%a) = @_;
    my $bin = ROOT . '/target/release/fcgi-bridge';
    -x $bin or die "$bin missing (cargo build --release)\n";
    my $pid = spawn($a{log}, $bin, @{ $a{args} });
    if ($a{sctp}) {
        eventually(30, 1, sub { sctp_port_listening($a{sctp}) }) or die "fcgi-bridge did not listen on SCTP $a{sctp}\n";
    }
    if ($a{tcp}) {
        eventually(30, 1, sub { tcp_listening($a{tcp}) }) or die "fcgi-bridge did not listen on TCP $a{tcp}\n";
    }
    return $pid;
}

# (status, body, headers) of a GET or POST over TCP.
sub http_get {
    my ($url, %o) = @_;
    my $h = HTTP::Tiny->new(timeout => $o{timeout} // 30, keep_alive => 0);
    my $r = $o{content}
        ? $h->request('POST', $url, { content => $o{content}, headers => { 'Content-Type' => 'application/octet-stream' } })
        : $h->get($url);
    return ($r->{status}, $r->{content} // '', $r->{headers} // {});
}

sub error_log_lines {
    my ($file, $re) = @_;
    open my $f, '<', $file or return ();
    return grep { /$re/ } <$f>;
}

sub wait_for_log {
    my ($file, $re, $secs) = @_;
    return eventually($secs // 10, 1, sub { scalar(error_log_lines($file, $re)) ? 1 : 0 });
}

# Reads a capture of FastCGI-over-SCTP associations to the server ports
# @$ports and checks the stream plan. Returns a hash: chunks (DATA chunks
# seen, retransmissions once), assocs (their count), per_port (associations
# per server port), bad (every breach: data on stream 0, on stream 1 other
# than management records (id 0) and log lines (FCGI_STDERR id 1), a record
# whose request id is not its stream's, bytes left over), first_ok
# (associations whose first record from the web server is FCGI_GET_VALUES
# on stream 1), requests (BEGIN_REQUESTs, all on streams >= 2).
sub check_capture {
    my ($tshark, $pcap, $ports) = @_;
    my %server = map { $_ => 1 } @$ports;
    my @fields = qw(sctp.srcport sctp.dstport sctp.data_tsn sctp.data_sid data.data);
    my $cmd = "$tshark -r $pcap -T fields -E separator=/t -E occurrence=a -E aggregator=, "
            . join(' ', map { "-e $_" } @fields) . ' 2>/dev/null';
    my (%chunks, %seen);
    my %r = (chunks => 0, assocs => 0, per_port => {}, bad => [], first_ok => 0, requests => 0);
    for my $line (split /\n/, `$cmd`) {
        my ($sp, $dp, $tsns, $sids, $datas) = split /\t/, $line;
        next unless defined $tsns && length $tsns;
        my @tsn = split /,/, $tsns;
        # tshark shows stream ids in hex (0x0005).
        my @sid = map { /^0x/i ? hex : $_ } split /,/, $sids;
        my @data = split /,/, $datas // '';
        my $up = $server{$dp};
        my $dirn = $up ? 'up' : 'down';
        my $assoc = $up ? "$sp>$dp" : "$dp>$sp";
        for my $k (0 .. $#tsn) {
            next if $seen{"$assoc $dirn"}{$tsn[$k]}++;
            $r{chunks}++;
            push @{ $chunks{$assoc}{$dirn}{$sid[$k]} }, [$tsn[$k], pack('H*', $data[$k] // '')];
        }
    }
    for my $assoc (sort keys %chunks) {
        my ($port) = $assoc =~ />(\d+)$/;
        $r{assocs}++;
        $r{per_port}{$port}++;
        for my $dirn ('up', 'down') {
            my $streams = $chunks{$assoc}{$dirn} // {};
            push @{ $r{bad} }, "$assoc: data on stream 0 ($dirn)" if $streams->{0};
            for my $sid (sort { $a <=> $b } keys %$streams) {
                my $bytes = join '', map { $_->[1] } sort { $a->[0] <=> $b->[0] } @{ $streams->{$sid} };
                my ($at, @types) = (0);
                while ($at + 8 <= length $bytes) {
                    my ($ver, $type, $id, $clen, $plen) = unpack 'C C n n C', substr($bytes, $at, 8);
                    push @types, $type;
                    if ($sid == 1) {
                        push @{ $r{bad} }, "$assoc stream 1 ($dirn): record type $type with id $id"
                            unless ($id == 0 && $type >= 9) || ($id == 1 && $type == 7);
                    } elsif ($id != $sid) {
                        push @{ $r{bad} }, "$assoc stream $sid ($dirn): record type $type with request id $id";
                    }
                    $at += 8 + $clen + $plen;
                }
                push @{ $r{bad} }, "$assoc stream $sid ($dirn): " . (length($bytes) - $at) . ' bytes left over'
                    if $at != length $bytes;
                $r{first_ok}++ if $sid == 1 && $dirn eq 'up' && @types && $types[0] == 9;
                $r{requests} += grep { $_ == 1 } @types if $sid >= 2 && $dirn eq 'up';
            }
        }
    }
    return %r;
}

# The part of an httpd configuration that loads mod_proxy and ours.
sub fcgi_httpd_conf {
    my ($so) = @_;
    return <<"EOC";
LoadModule proxy_module /usr/lib/apache2/modules/mod_proxy.so
LoadModule proxy_fcgi_module /usr/lib/apache2/modules/mod_proxy_fcgi.so
LoadModule proxy_balancer_module /usr/lib/apache2/modules/mod_proxy_balancer.so
LoadModule slotmem_shm_module /usr/lib/apache2/modules/mod_slotmem_shm.so
LoadModule lbmethod_byrequests_module /usr/lib/apache2/modules/mod_lbmethod_byrequests.so
LoadModule proxy_fcgi_sctp_module $so
EOC
}

1;
