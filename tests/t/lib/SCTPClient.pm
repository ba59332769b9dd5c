package SCTPClient;
# A small HTTP/1.1 client over a real SCTP one-to-one socket (Perl's
# socket() with IPPROTO_SCTP; withsctp would not convert Perl's sockets).
# One object is one association; requests may be pipelined. Everything is
# sent on stream 0 (Perl has no sendmsg for an SCTP_SNDINFO cmsg).
#
#   my $c = SCTPClient->new(port => 8601, host => '127.0.0.1',   # or '::1'
#       timeout => 60,          # seconds to wait for data
#       rcvbuf => 4 << 20,      # SO_RCVBUF before connect (default: kernel's)
#       ostreams => 100, instreams => 100,    # SCTP_INITMSG before connect
#       timers => { rto_initial => 300, rto_min => 100, rto_max => 1000,   # ms
#                   hb_interval => 500, path_max_retrans => 2 });   # before connect
use strict;
use warnings;
use Socket qw(AF_INET AF_INET6 SOCK_STREAM SOL_SOCKET SO_LINGER SO_RCVBUF inet_aton inet_pton
              pack_sockaddr_in pack_sockaddr_in6);
use IO::Select;

use constant IPPROTO_SCTP => 132;
use constant SCTP_INITMSG => 2;     # linux/sctp.h
use constant SCTP_STATUS  => 14;
use constant SCTP_RTOINFO => 0;
use constant SCTP_PEER_ADDR_PARAMS => 9;

sub new {
    my ($class, %a) = @_;
    my $port = $a{port} or die "port";
    my $host = $a{host} // '127.0.0.1';
    my $v6 = $host =~ /:/;
    socket(my $s, $v6 ? AF_INET6 : AF_INET, SOCK_STREAM, IPPROTO_SCTP) or die "SCTP socket: $!";
    if ($a{rcvbuf}) {
        setsockopt($s, SOL_SOCKET, SO_RCVBUF, $a{rcvbuf}) or die "SO_RCVBUF: $!";
    }
    if ($a{ostreams} || $a{instreams}) {
        # struct sctp_initmsg { u16 num_ostreams, max_instreams, max_attempts, max_init_timeo }
        setsockopt($s, IPPROTO_SCTP, SCTP_INITMSG, pack('S4', $a{ostreams} // 10, $a{instreams} // 10, 0, 0))
            or die "SCTP_INITMSG: $!";
    }
    if (my $t = $a{timers}) {
        # The client's own failover timers (its kernel's defaults otherwise),
        # in ms; 0 keeps a value. struct sctp_rtoinfo { s32 assoc_id; u32
        # initial, max, min }.
        setsockopt($s, IPPROTO_SCTP, SCTP_RTOINFO, pack('l L3', 0, $t->{rto_initial} // 0, $t->{rto_max} // 0, $t->{rto_min} // 0))
            or die "SCTP_RTOINFO: $!";
        # struct sctp_paddrparams (packed, 156 bytes): s32 assoc_id; a
        # 128-byte sockaddr_storage (zero: every address); u32 hbinterval;
        # u16 pathmaxrxt; u32 pathmtu, sackdelay, flags, ipv6_flowlabel;
        # u8 dscp; padding. The kernel reads hbinterval only with
        # SPP_HB_ENABLE (1) in flags.
        my $pp = pack('l', 0) . ("\0" x 128)
            . pack('L S L4 C x', $t->{hb_interval} // 0, $t->{path_max_retrans} // 0, 0, 0,
                   $t->{hb_interval} ? 1 : 0, 0, 0);
        length($pp) == 156 or die 'sctp_paddrparams: ' . length($pp) . " bytes\n";
        setsockopt($s, IPPROTO_SCTP, SCTP_PEER_ADDR_PARAMS, $pp) or die "SCTP_PEER_ADDR_PARAMS: $!";
    }
    my $to = $v6 ? pack_sockaddr_in6($port, inet_pton(AF_INET6, $host)) : pack_sockaddr_in($port, inet_aton($host));
    connect($s, $to)
        or die "SCTP connect to $host:$port: $!";
    binmode $s;
    return bless { s => $s, buf => '', timeout => $a{timeout} // 60, max_read => 0, reads => 0 }, $class;
}

# The association as the client's kernel sees it (SCTP_STATUS): a hash with
# state, rwnd, instreams, outstreams, fragmentation_point.
sub status {
    my ($self) = @_;
    my $raw = getsockopt($self->{s}, IPPROTO_SCTP, SCTP_STATUS) or die "SCTP_STATUS: $!";
    # struct sctp_status { s32 assoc_id; s32 state; u32 rwnd; u16 unackdata,
    #   penddata, instrms, outstrms; u32 fragmentation_point; ... }
    my ($id, $state, $rwnd, $unack, $pend, $in, $out, $frag) = unpack 'l l L S S S S L', $raw;
    return { state => $state, rwnd => $rwnd, instreams => $in, outstreams => $out,
             fragmentation_point => $frag };
}

# The largest single read so far: a recv on an SCTP socket never returns
# bytes of two messages, so this bounds the largest message the server sent.
sub max_read { $_[0]{max_read} }

sub socket_handle { $_[0]{s} }

# Every write to an SCTP socket is one message, and one larger than the
# send buffer fails (EMSGSIZE): write in bounded pieces.
# A server may answer and shut the association down before the rest is
# sent (414 on the first 16 KB of an overlong request line): like curl, the
# client then stops sending (EPIPE, no SIGPIPE) and reads what came.
sub send_raw {
    my ($self, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    while (length $data) {
        my $n = syswrite($self->{s}, $data, 16384);
        return if !defined $n && $!{EPIPE};
        die "send: $!" unless defined $n;
        substr($data, 0, $n) = '';
    }
}

# Reads more bytes into the buffer; returns 0 at EOF.
sub _fill {
    my ($self, $timeout) = @_;
    my $sel = IO::Select->new($self->{s});
    die "timeout waiting for data\n" unless $sel->can_read($timeout // $self->{timeout});
    my $n = sysread($self->{s}, my $chunk, 1 << 20);
    die "recv: $!" unless defined $n;
    $self->{max_read} = $n if $n > $self->{max_read};
    $self->{reads}++ if $n;
    $self->{buf} .= $chunk;
    return $n;
}

sub _line {
    my ($self) = @_;
    while ((my $i = index($self->{buf}, "\r\n")) < 0) {
        $self->_fill or return undef;
    }
    my $i = index($self->{buf}, "\r\n");
    my $line = substr($self->{buf}, 0, $i);
    substr($self->{buf}, 0, $i + 2) = '';
    return $line;
}

sub _bytes {
    my ($self, $n, $sink) = @_;
    while ($n > 0) {
        if (!length $self->{buf}) {
            $self->_fill or die "EOF with $n body bytes missing\n";
        }
        my $take = $n < length $self->{buf} ? $n : length $self->{buf};
        $sink->(substr($self->{buf}, 0, $take));
        substr($self->{buf}, 0, $take) = '';
        $n -= $take;
    }
}

# Reads one response. Returns a hash: status, headers (lower-cased names),
# body (unless a sink sub is given, which gets the body in pieces).
sub read_response {
    my ($self, %o) = @_;
    my $line = $self->_line;
    die "EOF before a response\n" unless defined $line;
    my ($status) = $line =~ m{^HTTP/1\.\d (\d{3})} or die "bad status line: $line\n";
    my %h;
    while (defined(my $l = $self->_line)) {
        last if $l eq '';
        my ($k, $v) = $l =~ /^([^:]+):\s*(.*)$/ or die "bad header: $l\n";
        $h{lc $k} = $v;
    }
    my $body = '';
    my $sink = $o{sink} // sub { $body .= $_[0] };
    if ($o{head} || $status == 204 || $status == 304 || $status < 200) {
        # no body
    } elsif (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        while (1) {
            my $size = $self->_line // die "EOF in chunked body\n";
            $size =~ s/;.*//;
            my $n = hex $size;
            last if $n == 0;
            $self->_bytes($n, $sink);
            $self->_line;
        }
        while (defined(my $t = $self->_line)) { last if $t eq '' }
    } elsif (defined $h{'content-length'}) {
        $self->_bytes($h{'content-length'}, $sink);
    } else {
        while ($self->_fill) { }
        $sink->($self->{buf});
        $self->{buf} = '';
    }
    return { status => $status, headers => \%h, body => $body, status_line => $line };
}

sub get {
    my ($self, $path, %o) = @_;
    my $extra = $o{headers} // '';
    $self->send_raw("GET $path HTTP/1.1\r\nHost: localhost\r\n$extra\r\n");
    return $self->read_response(%o);
}

# True when the server closed the association (EOF) within $timeout s;
# whatever arrived before the close is left in $self->{buf}.
sub closed_within {
    my ($self, $timeout) = @_;
    require Time::HiRes;
    my $end = Time::HiRes::time() + $timeout;
    my $sel = IO::Select->new($self->{s});
    while ((my $left = $end - Time::HiRes::time()) > 0) {
        return 0 unless $sel->can_read($left);
        my $n = sysread($self->{s}, my $chunk, 1 << 16);
        return 1 if !defined $n || $n == 0;
        $self->{buf} .= $chunk;
    }
    return 0;
}

# Closes with SO_LINGER {1, 0}: the kernel sends an SCTP ABORT.
sub abort {
    my ($self) = @_;
    setsockopt($self->{s}, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0)) or die "SO_LINGER: $!";
    close $self->{s};
}

sub close { close $_[0]{s} }

1;
