/* Internals of probe/fed_av.c, pure functions over buffers that the unit
 * test and the fuzz target reach too: an MS-TURN client's requests and its
 * reading of answers (msturn_client.c), and the RTP streams with the
 * classification of whatever reaches a client's socket (fed_av_media.c);
 * the TCP variant's streams: probe/fed_av_tcp_int.h. No I/O, no logging,
 * no allocation. Private to probe/. */
#ifndef EDGELAB_PROBE_FED_AV_INT_H
#define EDGELAB_PROBE_FED_AV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "media/rtp.h"
#include "probe/fed_av.h"
#include "stun/stun.h"

/* --- an MS-TURN client (docs/msturn.md) ---------------------------------- */

#define MSTURN_CLIENT_VERSION 2 /* MS-ICE2, as Lync 2013; SHA-1 integrity */
#define MSTURN_REALM_MAX      128
#define MSTURN_NONCE_MAX      128

/* One account on one edge, and what its 401 taught. */
struct msturn_cred {
	const char *user, *pass;
	char realm[MSTURN_REALM_MAX + 1];
	uint8_t nonce[MSTURN_NONCE_MAX];
	size_t nonce_len;
	uint8_t key[16]; /* MD5(user ":" realm ":" pass), once have_nonce */
	bool have_nonce;
};

struct msturn_req {
	uint16_t method; /* STUN_METHOD_ALLOCATE, STUN_MSTURN_METHOD_SEND or _SET_ACTIVE_DEST */
	bool delete;     /* Allocate: LIFETIME 0 */
	const struct sockaddr *dest; /* Send, Set Active Destination: DESTINATION-ADDRESS */
	const uint8_t *data;         /* Send: DATA */
	size_t data_len;
};

/* A fresh transaction id as Teams makes them: 0x2112A442, 12 random bytes.
 * 0 or EIO. */
int msturn_tid_new(uint8_t tid[STUN_TID_LEN]);

/* The request in buf. An Allocate carries MS-VERSION and, once c has a
 * nonce, USERNAME, REALM, NONCE and MESSAGE-INTEGRITY (before: none, to be
 * answered 401); Send and Set Active Destination carry USERNAME and
 * MESSAGE-INTEGRITY only, as Microsoft's clients send them. 0, EINVAL (a
 * Send or SAD without its destination, a Send or SAD before the nonce), or
 * ENOSPC. */
int msturn_req_encode(const struct msturn_cred *c, const struct msturn_req *q,
                      const uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t cap, size_t *len);

struct msturn_answer {
	int code;         /* 0 for a success, else the ERROR-CODE */
	char reason[64];  /* its reason phrase, printable */
	bool has_relayed; /* Allocate success: MAPPED-ADDRESS */
	bool has_mapped;  /* XOR-MAPPED-ADDRESS (0x8020) */
	struct sockaddr_storage relayed, mapped;
};

/* Reads m, the answer to a request of method: a success (its integrity
 * checked with c's key) or an error (code and reason); a 401 or 438 with
 * REALM and NONCE updates c's nonce and key. 0, or EBADMSG (not an answer
 * to that method, no ERROR-CODE in an error, a success without
 * MESSAGE-INTEGRITY, an address that does not parse), EACCES (the
 * integrity check failed). */
int msturn_answer_read(const struct stun_msg *m, uint16_t method, struct msturn_cred *c,
                       struct msturn_answer *a);

/* MS-TURN's Data indication (0x0115): REMOTE-ADDRESS and DATA. 0, or
 * ENOENT (not a Data indication), EBADMSG (one without either). */
int msturn_data_indication(const struct stun_msg *m, struct sockaddr_storage *remote,
                           const uint8_t **data, size_t *len);

/* --- RTP streams and what reaches a client ------------------------------- */

#define FED_AV_PT_MEDIA  0   /* PCMU: the packets counted */
#define FED_AV_PT_PERMIT 127 /* the one packet that opens a permission */
#define FED_AV_PKT_MAX   (RTP_HDR_LEN + FED_AV_MAX_PAYLOAD)

/* One direction's stream: what the sender sends and the receiver expects.
 * Packet i has sequence seq0 + i, timestamp ts0 + i * payload (8 kHz, one
 * byte a sample) and a payload of bytes drawn from (ssrc, i), so that any
 * change to any byte shows. */
struct fed_av_stream {
	uint32_t ssrc;
	uint16_t seq0;
	uint32_t ts0;
	size_t payload;
	unsigned packets;
};

#define FED_AV_PERMIT_INDEX UINT32_MAX

/* Packet i of s (i < s->packets), or with FED_AV_PERMIT_INDEX the permit
 * packet (its own payload type, the stream's SSRC). 0 and *len, or
 * media/rtp.h's errors. */
int fed_av_packet(const struct fed_av_stream *s, uint32_t i, uint8_t *buf, size_t cap, size_t *len);
/* The same packet framed for a stream by RFC 4571 (its length first). */
int fed_av_packet_framed(const struct fed_av_stream *s, uint32_t i, uint8_t *buf, size_t cap,
                         size_t *len);

/* What a client expects on its socket, all of it from its own edge. */
struct fed_av_expect {
	const struct fed_av_stream *in; /* the stream it receives */
	/* The far client's inner allocation on our edge: media comes from it,
	 * in Data indications (our allocation's active destination is the far
	 * edge). */
	struct sockaddr_storage media_from;
	/* The far edge's 3478 as our edge's relay reaches it: what it sends
	 * comes raw (our active destination), or before that in Data
	 * indications from it. */
	struct sockaddr_storage far_edge;
};

enum fed_av_kind {
	FED_AV_KIND_OTHER,   /* none of ours: a stray */
	FED_AV_KIND_STUN,    /* a STUN message to match by transaction id (msg) */
	FED_AV_KIND_PERMIT,  /* the far client's permit packet, by the far edge */
	FED_AV_KIND_MEDIA,   /* packet index of the stream, intact */
	FED_AV_KIND_CORRUPT, /* by the media's way, but no packet of the stream */
};

struct fed_av_datagram {
	enum fed_av_kind kind;
	uint32_t index;      /* MEDIA */
	struct stun_msg msg; /* STUN: points into the datagram (or the DATA in it) */
};

/* Classifies one datagram of len bytes from our edge:
 *   - a Data indication from media_from: MEDIA (the exact bytes of one
 *     packet of e->in), PERMIT, or else CORRUPT;
 *   - a Data indication from far_edge is read as its DATA would be raw;
 *   - another Data indication: OTHER;
 *   - any other STUN message: STUN (an answer from our edge, or one from the
 *     far edge relayed raw: the transaction id tells);
 *   - not STUN: PERMIT when it is e->in's permit packet, else OTHER. */
void fed_av_classify(const struct fed_av_expect *e, const uint8_t *buf, size_t len,
                     struct fed_av_datagram *d);
/* One RTP packet of len bytes by the media's way (from the far client's
 * inner allocation): MEDIA (index set), PERMIT, or CORRUPT. */
void fed_av_classify_rtp(const struct fed_av_stream *s, const uint8_t *buf, size_t len,
                         struct fed_av_datagram *d);

#endif
