/* The chain a STUN message goes along. A transport decodes a client's
 * message once (relay_dispatch) and hands it to each handler in turn:
 * MS-TURN (msturn.c), TURN (turn.c), then the Binding service, which takes
 * whatever is left. A handler returns true when it consumed the message; it
 * writes its answer, if any, into the message's reply buffer, which the
 * transport sends back the way the message came. ChannelData and MS-TURN's
 * raw data are not STUN: the transports give them to the data path
 * (turn_int.h) before the chain. */
#ifndef EDGELAB_RELAY_CHAIN_H
#define EDGELAB_RELAY_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/client.h"
#include "stun/stun.h"

#define RELAY_REPLY_MAX 512 /* no answer of the chain needs more (BINDING_REPLY_MAX fits) */

struct relay_server;

struct relay_msg {
	const struct turn_client *client;
	const uint8_t *buf; /* the message as received: len bytes */
	size_t len;
	struct stun_msg stun; /* decoded by relay_dispatch */
	uint8_t *out;         /* the reply: out_len bytes (0: none) of cap */
	size_t cap, out_len;
};

typedef bool(relay_handler_h)(struct relay_server *s, struct relay_msg *m);

/* Decodes m->buf and passes it along the chain; m->out_len is the reply's
 * length. 0 when a handler took it (answered, dropped and counted, or
 * taken as an indication); ENOMSG when it is not STUN at all (on a stream
 * the framing is lost: the caller closes); EBADMSG when it is malformed
 * (counted). */
int relay_dispatch(struct relay_server *s, struct relay_msg *m);

/* The handlers, in chain order. */
bool msturn_handler(struct relay_server *s, struct relay_msg *m);
bool turn_handler(struct relay_server *s, struct relay_msg *m);
bool binding_handler(struct relay_server *s, struct relay_msg *m);

#endif
