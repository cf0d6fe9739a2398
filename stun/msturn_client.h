/* An MS-TURN client's side (docs/msturn.md): its requests with long-term
 * credentials, and its reading of answers and Data indications. Pure
 * functions over buffers, as the codec (stun/stun.h); used by the
 * federation A/V test (probe/fed_av.h), assess and the test tools. */
#ifndef EDGELAB_STUN_MSTURN_CLIENT_H
#define EDGELAB_STUN_MSTURN_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun/client.h"
#include "stun/stun.h"

#define MSTURN_CLIENT_VERSION 2 /* MS-ICE2, as Lync 2013; SHA-1 integrity */

struct msturn_req {
	uint16_t method; /* STUN_METHOD_ALLOCATE, STUN_MSTURN_METHOD_SEND or _SET_ACTIVE_DEST */
	bool delete;     /* Allocate: LIFETIME 0 */
	const struct sockaddr *dest; /* Send, Set Active Destination: DESTINATION-ADDRESS */
	const uint8_t *data;         /* Send: DATA */
	size_t data_len;
};

/* The request in buf. An Allocate carries MS-VERSION and, once c has a
 * nonce, USERNAME, REALM, NONCE and MESSAGE-INTEGRITY (before: none, to be
 * answered 401); Send and Set Active Destination carry USERNAME and
 * MESSAGE-INTEGRITY only, as Microsoft's clients send them. 0, EINVAL (a
 * Send or SAD without its destination, a Send or SAD before the nonce), or
 * ENOSPC. */
int msturn_req_encode(const struct stun_cred *c, const struct msturn_req *q,
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
int msturn_answer_read(const struct stun_msg *m, uint16_t method, struct stun_cred *c,
                       struct msturn_answer *a);

/* MS-TURN's Data indication (0x0115): REMOTE-ADDRESS and DATA. 0, or
 * ENOENT (not a Data indication), EBADMSG (one without either). */
int msturn_data_indication(const struct stun_msg *m, struct sockaddr_storage *remote,
                           const uint8_t **data, size_t *len);

#endif
