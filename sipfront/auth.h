/* Digest authentication of REGISTER and SERVICE (RFC 3261 section 22, RFC 2617 MD5),
 * optional: it applies when the conf has sip_user accounts. Nonces are
 * stateless: a time stamp and its HMAC under a per-process secret, valid
 * SIP_AUTH_NONCE_TTL seconds (a stale one is challenged with stale=true). */
#ifndef EDGELAB_SIPFRONT_AUTH_H
#define EDGELAB_SIPFRONT_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/conf.h"
#include "sipfront/sipmsg.h"

#define SIP_AUTH_SECRET_LEN 32
#define SIP_AUTH_NONCE_TTL  300

int sip_auth_secret_init(uint8_t secret[SIP_AUTH_SECRET_LEN]);
/* 0 when the request may go on (authenticated, or no accounts configured);
 * EACCES with a WWW-Authenticate header line in challenge otherwise. */
int sip_auth_register(const struct conf *conf, const uint8_t secret[SIP_AUTH_SECRET_LEN],
                      const struct sip_msg *req, time_t now, char *challenge, size_t cap);
/* The same for any request made on behalf of owner (the URI user the
 * account must be: To's for REGISTER, From's for SERVICE). */
int sip_auth_request(const struct conf *conf, const uint8_t secret[SIP_AUTH_SECRET_LEN],
                     const struct sip_msg *req, const struct pl *owner, time_t now, char *challenge,
                     size_t cap);

#endif
