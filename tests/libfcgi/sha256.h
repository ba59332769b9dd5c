/* A small SHA-256 (FIPS 180-4) for the libfcgi tests: digests of request
 * and response bodies, compared with sha256sum's. */
#ifndef TESTS_LIBFCGI_SHA256_H
#define TESTS_LIBFCGI_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total;           /* bytes hashed so far */
    unsigned char block[64];
    size_t fill;              /* bytes waiting in block */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
/* writes 64 lowercase hex digits and a NUL into hex */
void sha256_hex(sha256_ctx *c, char hex[65]);

#endif
