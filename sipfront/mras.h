/* MRAS over SIP: Lync's Media Relay Authentication Service. A signed-in
 * client sends SERVICE with an application/msrtc-media-relay-auth+xml body
 * holding a credentialsRequest; the edge answers 200 with a
 * credentialsResponse: a username and password for the A/V edge's relay
 * (base64) and where the relay is. Pure functions on the body, so that the
 * parser is unit-tested and fuzzed on its own; the credentials themselves
 * are core/mras.h's. */
#ifndef EDGELAB_SIPFRONT_MRAS_H
#define EDGELAB_SIPFRONT_MRAS_H

#include <stddef.h>
#include <stdint.h>

#define SIP_MRAS_CTYPE    "application/msrtc-media-relay-auth+xml"
#define SIP_MRAS_BODY_MAX 4096 /* a request is a few hundred bytes */
#define SIP_MRAS_ID_MAX   32

struct sip_mras_request {
	char request_id[SIP_MRAS_ID_MAX + 1];             /* <request requestID=...> */
	char credentials_request_id[SIP_MRAS_ID_MAX + 1]; /* <credentialsRequest ...> */
	char location[9];                                 /* "internet" or "intranet" */
	unsigned duration;                                /* minutes asked for; 0: none */
};

/* Reads a credentialsRequest: 0, or EBADMSG (no credentialsRequest, an id
 * that is not 1..32 letters, digits or '-', an unknown location) or
 * EMSGSIZE (over SIP_MRAS_BODY_MAX). */
int sip_mras_parse(const char *body, size_t len, struct sip_mras_request *r);

/* Where the credentials are good: the relay's host name and ports. */
struct sip_mras_relay {
	const char *host;
	uint16_t udp_port, tcp_port; /* 0: none */
};

/* The credentialsResponse for r, in a malloc'd string. 0 or ENOMEM. */
int sip_mras_response(const struct sip_mras_request *r, const char *user64, const char *pass64,
                      unsigned duration, const struct sip_mras_relay *relay, char **out,
                      size_t *out_len);

#endif
