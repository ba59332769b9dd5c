/* The APR (and apr-util bucket) API that apr-sctp binds to. */
#include <apr.h>
#include <apr_errno.h>
#include <apr_pools.h>
#include <apr_network_io.h>
#include <apr_portable.h>
#include <apr_poll.h>
#include <apr_buckets.h>
#include <apr_strings.h>
