#!/usr/bin/perl
# Streams output: a first part, a pause, then the rest (non-parsed-headers
# style flushing through mod_cgid).
$| = 1;
print "Content-Type: text/plain\r\n\r\n";
print "first part\n";
sleep 3;
print "second part\n";
