#!/usr/bin/perl
# Prints the request's SCTP variables (and whether HTTPS-like SCTP=on is set).
print "Content-Type: text/plain\r\n\r\n";
for my $k (qw(SCTP TRANSPORT SCTP_STREAM SCTP_ASSOC_ID SCTP_PEER_ADDRS SCTP_STREAMS_IN SCTP_STREAMS_OUT)) {
    print "$k=", (exists $ENV{$k} ? $ENV{$k} : '(unset)'), "\n";
}
