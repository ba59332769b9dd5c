/* The httpd 2.4 API the workspace's modules bind to (headers from apache2-dev). */
#include <httpd.h>
#include <http_config.h>
#include <http_connection.h>
#include <http_core.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>
#include <http_main.h>
#include <ap_listen.h>
#include <ap_mpm.h>
#include <ap_mmn.h>
#include <util_filter.h>
#include <mpm_common.h>
#include <apr_portable.h>
#include <apr_strings.h>
#include <apr_shm.h>
/* mod_proxy's hooks and types, for mod_proxy_fcgi_sctp (mod_sctp itself
 * never calls them) */
#include <mod_proxy.h>
#include <util_script.h>
