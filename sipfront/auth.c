#include "sipfront/auth.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <re_httpauth.h>

int sip_auth_secret_init(uint8_t secret[SIP_AUTH_SECRET_LEN])
{
	return RAND_bytes(secret, SIP_AUTH_SECRET_LEN) == 1 ? 0 : EIO;
}

/* "<time hex>.<16 hex of HMAC-SHA256(secret, time hex)>" */
static void nonce_for(const uint8_t *secret, unsigned long t, char *out, size_t cap)
{
	char stamp[20];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	snprintf(stamp, sizeof(stamp), "%lx", t);
	HMAC(EVP_sha256(), secret, SIP_AUTH_SECRET_LEN, (const unsigned char *)stamp, strlen(stamp),
	     mac, &mac_len);
	int n = snprintf(out, cap, "%s.", stamp);
	for (unsigned i = 0; i < 8 && n > 0 && (size_t)n + 2 < cap; i++)
		n += snprintf(out + n, cap - (size_t)n, "%02x", mac[i]);
}

/* 0 fresh, ESTALE expired, EACCES forged. */
static int nonce_check(const uint8_t *secret, const struct pl *nonce, time_t now)
{
	char got[64], want[64];
	if (sipmsg_pl_copy(got, sizeof(got), nonce))
		return EACCES;
	unsigned long t = strtoul(got, NULL, 16);
	nonce_for(secret, t, want, sizeof(want));
	if (strcmp(got, want) != 0)
		return EACCES;
	return (time_t)t + SIP_AUTH_NONCE_TTL < now || (time_t)t > now + 5 ? ESTALE : 0;
}

static const struct conf_user *user_of(const struct conf *conf, const struct pl *name)
{
	for (size_t i = 0; i < conf->n_users; i++)
		if (name->l == strlen(conf->users[i].name) &&
		    memcmp(name->p, conf->users[i].name, name->l) == 0)
			return &conf->users[i];
	return NULL;
}

/* HA1 = MD5(user ":" realm ":" password) */
static void ha1_of(const struct conf_user *u, const char *realm, uint8_t ha1[16])
{
	char in[3 * CONF_SECRET_MAX + 300];
	unsigned int len = 16;
	int n = snprintf(in, sizeof(in), "%s:%s:%s", u->name, realm, u->password);
	EVP_Digest(in, (size_t)n, ha1, &len, EVP_md5(), NULL);
}

static int verify(const struct conf *conf, const uint8_t *secret, const struct sip_msg *req,
                  const struct pl *owner, time_t now)
{
	struct httpauth_digest_resp resp;
	uint8_t ha1[16];
	const struct sip_hdr *h = sip_msg_hdr(req, SIP_HDR_AUTHORIZATION);
	if (!h || httpauth_digest_response_decode(&resp, &h->val))
		return EACCES;
	const struct conf_user *u = user_of(conf, &resp.username);
	if (!u || resp.realm.l != strlen(conf->sip_domain) ||
	    memcmp(resp.realm.p, conf->sip_domain, resp.realm.l) != 0)
		return EACCES;
	/* Only the account's own address of record may be used with it. */
	if (owner->l != resp.username.l || memcmp(owner->p, resp.username.p, resp.username.l) != 0)
		return EACCES;
	ha1_of(u, conf->sip_domain, ha1);
	if (httpauth_digest_response_auth(&resp, &req->met, ha1))
		return EACCES;
	return nonce_check(secret, &resp.nonce, now);
}

int sip_auth_register(const struct conf *conf, const uint8_t secret[SIP_AUTH_SECRET_LEN],
                      const struct sip_msg *req, time_t now, char *challenge, size_t cap)
{
	return sip_auth_request(conf, secret, req, &req->to.uri.user, now, challenge, cap);
}

int sip_auth_request(const struct conf *conf, const uint8_t secret[SIP_AUTH_SECRET_LEN],
                     const struct sip_msg *req, const struct pl *owner, time_t now, char *challenge,
                     size_t cap)
{
	char nonce[64];
	if (conf->n_users == 0)
		return 0;
	int rc = verify(conf, secret, req, owner, now);
	if (rc == 0)
		return 0;
	nonce_for(secret, (unsigned long)now, nonce, sizeof(nonce));
	snprintf(challenge, cap,
	         "WWW-Authenticate: Digest realm=\"%s\", nonce=\"%s\", algorithm=MD5, "
	         "qop=\"auth\"%s\r\n",
	         conf->sip_domain, nonce, rc == ESTALE ? ", stale=true" : "");
	return EACCES;
}
