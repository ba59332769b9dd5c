# httpd-conf/sctp.load and sctp.conf, as 'a2enmod sctp' would enable them,
# pass 'apache2 -t' and make the SCTP listener they describe.
use strict;
use warnings FATAL => 'all';
use Apache::Test;
use Apache::TestUtil;
use File::Basename qw(dirname);

my $so = $ENV{MOD_SCTP_SO} or die 'MOD_SCTP_SO';
my $repo = dirname(dirname($so)) . '/..';    # target/release/.. -> repo
my $conf_dir = "$repo/httpd-conf";
plan tests => 3, need(-f "$conf_dir/sctp.load", -f "$conf_dir/sctp.conf");

my $tmp = Apache::Test::vars('t_dir') . '/debianconf';
mkdir $tmp;
for my $f ('sctp.load', 'sctp.conf') {
    open my $in, '<', "$conf_dir/$f" or die "$f: $!";
    open my $out, '>', "$tmp/$f" or die $!;
    while (<$in>) {
        s{/usr/lib/apache2/modules/mod_sctp\.so}{$so};   # the built module
        s{^(\s*)SCTPListen 80$}{$1SCTPListen 127.0.0.1:8790};
        print $out $_;
    }
}
open my $c, '>', "$tmp/httpd.conf" or die $!;
print $c <<"EOC";
ServerRoot $tmp
PidFile $tmp/pid
ErrorLog $tmp/error_log
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
Include $tmp/sctp.load
Include $tmp/sctp.conf
Listen 127.0.0.1:8790
EOC
close $c;
my $out = `/usr/sbin/apache2 -t -f $tmp/httpd.conf 2>&1`;
ok t_cmp($out, qr/Syntax OK/, 'sctp.load + sctp.conf pass apache2 -t');
ok t_cmp($? >> 8, 0, 'exit status 0');
# The shipped sctp.conf serves SCTP on the port TCP also uses.
open my $f, '<', "$conf_dir/sctp.conf" or die $!;
ok t_cmp(scalar(grep { /^\s*SCTPListen 80\s*$/ } <$f>), 1, 'sctp.conf adds SCTP on port 80');
