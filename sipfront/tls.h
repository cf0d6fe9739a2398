/* TLS for SIP (OpenSSL 3): server contexts for 443 (server certificate only)
 * and 5061 (mutual: client certificate required and verified against the
 * configured CA), a client context for outbound MTLS, and the peer-name
 * check that decides whether a verified certificate belongs to a partner.
 * No logging: errors come back as codes and a sentence (the OpenSSL error
 * queue drained into it). Minimum TLS 1.2; SSL_OP_IGNORE_UNEXPECTED_EOF so
 * that libevent sees an abrupt close as EOF, not as an error. */
#ifndef EDGELAB_SIPFRONT_TLS_H
#define EDGELAB_SIPFRONT_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

#define SIP_TLS_ERR_MAX  256
#define SIP_TLS_NAME_MAX 253 /* a DNS name (RFC 1035 2.3.4); longer names never match */

/* Server context. ca_file NULL: no client certificate is asked for (443).
 * Otherwise one is required and verified (5061); the handshake fails
 * without one or with one from another CA. Returns 0 or, with err filled by
 * a sentence naming the file: the errno of opening a file ("edge.pem: No
 * such file or directory": ENOENT, EACCES), EINVAL (not PEM, an encrypted
 * key, "edge.key does not match edge.pem"), ENOMEM. */
int sip_tls_server_ctx(SSL_CTX **ctxp, const char *cert_file, const char *key_file,
                       const char *ca_file, char *err, size_t err_len);
/* Client context: presents cert/key (both or neither), verifies the server's
 * chain against ca_file (required: EINVAL without). Errors as above. */
int sip_tls_client_ctx(SSL_CTX **ctxp, const char *cert_file, const char *key_file,
                       const char *ca_file, char *err, size_t err_len);
/* For an outbound connection, before the handshake: SNI (not for an address
 * literal) and the expected host name or address (SSL_set1_host), so that
 * the handshake fails on a certificate for another name. 0, or EINVAL (no
 * host, longer than SIP_TLS_NAME_MAX, refused by OpenSSL). */
int sip_tls_client_expect(SSL *ssl, const char *host);

/* Whether the verified peer certificate names one of names[]: its DNS SANs,
 * or, only when it has no DNS SAN, its subject CN (RFC 6125 6.4.4). Names
 * longer than SIP_TLS_NAME_MAX or with an embedded NUL are ignored; NULL
 * entries of names[] too. Case-insensitive exact match; no wildcards.
 * Returns 0 (names[i] as configured copied into matched, which may be NULL;
 * SIP_TLS_NAME_MAX + 1 bytes hold any), ENOENT (no certificate, or not
 * verified), EACCES (no name matches), EINVAL (no ssl, or no names[] with
 * n > 0). */
int sip_tls_peer_match(SSL *ssl, const char *const *names, size_t n, char *matched,
                       size_t matched_len);
/* The peer certificate's names (DNS SANs, else CN) as "a, b", for logs only:
 * verified or not (a client's, also after the server's certificate failed
 * verification), bytes outside printable ASCII as '?', cut at a whole name
 * when cap is short; "" without a certificate. */
void sip_tls_peer_names(SSL *ssl, char *out, size_t cap);
/* Blocking use of a non-blocking socket, for clients: after an SSL call on
 * ssl returned r, waits up to timeout_ms (0: only looks) until ssl's socket
 * can do what OpenSSL asked for. 0: call again (also after a signal);
 * ETIMEDOUT; EPROTO when r was no "want" (the call failed: SSL_get_error
 * says how); poll's errno. Call it before any other OpenSSL call. */
int sip_tls_wait(SSL *ssl, int r, int timeout_ms);
/* After a handshake failed: why the peer's certificate was refused, in
 * words for a person: "certificate names a, b; expected c" when a server's
 * names another host than sip_tls_client_expect's (then true), else the
 * verify error ("unable to get local issuer certificate"); "" when the
 * certificate was not the reason. */
bool sip_tls_verify_why(SSL *ssl, char *out, size_t cap);
/* Drains the whole OpenSSL error queue of this thread into out as
 * "reason (detail); reason" ("" when empty), cut to cap; returns out. */
const char *sip_tls_errors(char *out, size_t cap);

#endif
