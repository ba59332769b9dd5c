# mod_sctp's tracing events reach httpd's error log under the module name
# 'sctp', at the levels LogLevel selects (extra.conf.in: info sctp:debug).
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use SCTPClient;
use SCTPTest qw(SCTP_PORT eventually error_log_count);

plan tests => 3;

ok t_cmp(error_log_count(qr/\[sctp:info\].*listening for SCTP on 127\.0\.0\.1:8601/) > 0, 1,
         'listener setup logged at info');
SCTPClient->new(port => SCTP_PORT)->get('/index.html', headers => "Connection: close\r\n");
ok t_cmp(eventually(10, 1, sub { error_log_count(qr/\[sctp:debug\].*association [1-9]\d*: accepted from \S+, streams in\/out \d+\/\d+/) > 0 ? 1 : 0 }), 1,
         'association logged at debug');
ok t_cmp(eventually(10, 1, sub { error_log_count(qr/\[sctp:debug\].*association [1-9]\d*: closing the association after/) > 0 ? 1 : 0 }), 1,
         'association end logged at debug');
