#!/bin/sh
# ci/demo fastcgi: the CGI script fcgiwrap (on the patched libfcgi) runs for
# nginx -> fcgi-bridge frontend -> SCTP.
echo "Content-Type: text/plain"
echo "X-Served-By: fcgiwrap on libfcgi over SCTP"
echo
echo "Hello from a shell CGI script run by $(basename "$0") under fcgiwrap (pid $PPID)"
echo "request:   $REQUEST_METHOD $REQUEST_URI"
echo "gateway:   $GATEWAY_INTERFACE, server $SERVER_SOFTWARE"
echo "query:     $QUERY_STRING"
echo "libfcgi:   $(grep -m1 -o '/[^ ]*libfcgi.so[^ ]*' /proc/$PPID/maps 2>/dev/null || echo '?')"
echo "kernel:    $(uname -sr)"
