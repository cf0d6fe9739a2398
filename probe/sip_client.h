/* A SIP client over TLS, the probe's side of the edge's 443 and 5061 (rows
 * 1 and 3, fed_im): a TCP connect bounded by a deadline, a TLS handshake
 * verifying the edge's certificate against a CA and its name, requests
 * written whole, and messages read back framed (sipfront/frame.h) and
 * decoded by libre (sipfront/sipmsg.h), every wait bounded: non-blocking
 * sockets, each call waiting (poll) until its deadline at most. One
 * connection is one thread's.
 * Private to probe/. No logging: a status and a sentence. */
#ifndef EDGELAB_PROBE_SIP_CLIENT_H
#define EDGELAB_PROBE_SIP_CLIENT_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sipfront/sipmsg.h"

#define SIPC_WHY_MAX 256

enum sipc_status {
	SIPC_OK,
	SIPC_LOCAL,       /* our own set-up: a socket, the CA or key files, memory */
	SIPC_REFUSED,     /* TCP: a RST answered the SYN (sys_err ECONNREFUSED) */
	SIPC_UNREACHABLE, /* TCP: ICMP host or network unreachable (sys_err) */
	SIPC_TIMEOUT,     /* nothing in time: the SYN's answer, the handshake, a message */
	SIPC_TLS,         /* the handshake failed: certificate, name, protocol, or a close */
	SIPC_CLOSED,      /* the peer closed, or a read or write failed */
	SIPC_PROTOCOL,    /* what came cannot be framed or decoded */
};

struct sipc {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	struct sockaddr_storage local; /* our end, once connected */
	int sys_err;                   /* the errno behind REFUSED, UNREACHABLE and socket errors */
	uint8_t *buf;                  /* read, not yet a whole message (SIP_FRAME_MAX) */
	size_t len;
};

/* What the handshake presents and expects. */
struct sipc_tls {
	const char *ca_file;   /* the CA the edge's certificate must chain to */
	const char *expect;    /* the name it must carry (SNI and SSL_set1_host) */
	const char *cert_file; /* ours and its key (5061), or both NULL (443) */
	const char *key_file;
};

/* An unconnected client (fd -1); sipc_close is safe on it. */
void sipc_init(struct sipc *c);
/* TCP to dst, from bind when not NULL, by deadline (flow_now() seconds). */
enum sipc_status sipc_connect(struct sipc *c, const struct sockaddr *dst,
                              const struct sockaddr *bind, double deadline, char *why, size_t cap);
/* The handshake on a connected client. why: OpenSSL's reason in a few
 * words ("edge certificate: unable to get local issuer certificate",
 * "no answer in time", "connection closed by the edge"). */
enum sipc_status sipc_handshake(struct sipc *c, const struct sipc_tls *t, double deadline,
                                char *why, size_t cap);
/* Writes text whole. CLOSED with OpenSSL's reason, or TIMEOUT. */
enum sipc_status sipc_send(struct sipc *c, const char *text, size_t len, double deadline, char *why,
                           size_t cap);
/* The next whole message, decoded into *msgp (the caller mem_deref()s it);
 * CRLF keep-alive pings on the way are answered (RFC 5626 3.5.1). TIMEOUT
 * when none is whole by deadline (a deadline passed: only what has come is
 * read, without waiting), CLOSED, PROTOCOL with why. */
enum sipc_status sipc_recv(struct sipc *c, double deadline, struct sip_msg **msgp, char *why,
                           size_t cap);
/* Waits until one of cs[0..n) (NULL entries skipped) has bytes to read,
 * decrypted or on the wire, or deadline. Its index, or -1 at the deadline.
 * Bytes are not a message: read with a deadline passed, then wait again. */
int sipc_wait(struct sipc *const *cs, size_t n, double deadline);
/* Shuts TLS down, closes and frees; the client is unconnected again. */
void sipc_close(struct sipc *c);

/* What the client's status means in a sentence's words: "connection
 * refused", "no answer", ... */
const char *sipc_status_str(enum sipc_status st);

/* The Authorization header line ("Authorization: Digest ...\r\n") that
 * answers the first Digest WWW-Authenticate of a 401 (RFC 2617 with MD5,
 * qop auth or none; RFC 3261 section 22.4), for method and uri. 0; ENOENT
 * (no Digest challenge), ENOTSUP (an algorithm other than MD5, or a qop
 * without auth), ENOSPC (out too small), EINVAL. */
int sipc_digest(const struct sip_msg *resp, const char *user, const char *password,
                const char *method, const char *uri, char *out, size_t cap);

#endif
