#!/usr/bin/perl
# Echoes the request body, with its length and the transfer framing seen.
binmode STDIN; binmode STDOUT;
my $body = '';
while (read(STDIN, my $buf, 65536)) { $body .= $buf }
print "Content-Type: application/octet-stream\r\n";
print "X-Body-Length: ", length($body), "\r\n\r\n";
print $body;
