/* An RFC 5766 TURN client's side over UDP: Allocate (a UDP relay),
 * CreatePermission, ChannelBind and Refresh with long-term credentials
 * (stun/client.h), the reading of their answers, and ChannelData (RFC 5766
 * section 11.4). Pure functions over buffers, as the codec. */
#ifndef EDGELAB_STUN_TURN_CLIENT_H
#define EDGELAB_STUN_TURN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun/client.h"
#include "stun/stun.h"

#define TURN_CHANNEL_MIN     0x4000 /* RFC 5766 section 11 */
#define TURN_CHANNEL_MAX     0x7FFF
#define TURN_CHANNEL_HDR_LEN 4

struct turn_req {
	uint16_t method;             /* ALLOCATE, CREATE_PERMISSION, CHANNEL_BIND, REFRESH */
	uint32_t lifetime;           /* Refresh: LIFETIME (0 deletes); Allocate: when not 0 */
	const struct sockaddr *peer; /* CreatePermission, ChannelBind: XOR-PEER-ADDRESS */
	uint16_t channel;            /* ChannelBind */
};

/* The request in buf, with USERNAME, REALM, NONCE and MESSAGE-INTEGRITY
 * once c has a nonce (an Allocate before: none, to be answered 401). 0,
 * EINVAL (a request other than Allocate before the nonce, a permission or
 * channel without its peer, a channel out of range), or ENOSPC. */
int turn_req_encode(const struct stun_cred *c, const struct turn_req *q,
                    const uint8_t tid[STUN_TID_LEN], uint8_t *buf, size_t cap, size_t *len);

struct turn_answer {
	int code;         /* 0 for a success, else the ERROR-CODE */
	char reason[64];  /* its reason phrase, printable */
	bool has_relayed; /* Allocate: XOR-RELAYED-ADDRESS */
	bool has_mapped;  /* Allocate: XOR-MAPPED-ADDRESS */
	struct sockaddr_storage relayed, mapped;
	uint32_t lifetime; /* Allocate, Refresh: LIFETIME, 0 when absent */
};

/* Reads m, the answer to a request of method: a success (its integrity
 * checked with c's key) or an error (code and reason); a 401 or 438 with
 * REALM and NONCE updates c's nonce and key. 0, or EBADMSG (not an answer
 * to that method, no ERROR-CODE in an error, a success without
 * MESSAGE-INTEGRITY, an address that does not parse), EACCES (the
 * integrity check failed). */
int turn_answer_read(const struct stun_msg *m, uint16_t method, struct stun_cred *c,
                     struct turn_answer *a);

/* ChannelData: the channel's header and the data, padded to 4 bytes as a
 * stream needs (the padding is not in the length; a datagram may carry
 * it). 0 and *len, EINVAL (a channel out of range, data over 65535
 * bytes), ENOSPC. */
int turn_channel_encode(uint16_t channel, const uint8_t *data, size_t data_len, uint8_t *buf,
                        size_t cap, size_t *len);
/* ChannelData in the datagram buf: 0 with its channel and data; ENOENT
 * (not ChannelData: a STUN message, or a channel number out of range),
 * EBADMSG (its length beyond the datagram). */
int turn_channel_decode(const uint8_t *buf, size_t len, uint16_t *channel, const uint8_t **data,
                        size_t *data_len);

#endif
