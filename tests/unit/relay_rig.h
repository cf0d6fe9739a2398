/* An in-process relay server for the unit tests of relay/: a request goes
 * straight to relay_dispatch from a made-up client on loopback and its
 * answer comes back decoded; or, with a TCP listener, the test's own
 * sockets talk to it while the test runs its loop. */
#ifndef EDGELAB_TESTS_RELAY_RIG_H
#define EDGELAB_TESTS_RELAY_RIG_H

#include <stddef.h>
#include <stdint.h>

#include "relay/chain.h"
#include "relay/server_priv.h"

struct relay_rig {
	struct event_base *base;
	struct relay_shared shared;
	struct metrics *metrics;
	struct relay_server *server;
};

/* A server on the rig's conf (no UDP listener, no control socket, realm
 * lab.example, user alice with password secret, loopback peers, relay
 * address 127.0.0.1), then extra's key value lines, which set
 * stun_tcp_listen: off, or an address for a rig with a TCP listener. */
struct relay_rig *relay_rig_up(const char *extra);
void relay_rig_down(struct relay_rig *r);
/* A client 127.0.0.1:port over tr that reached 127.0.0.1:3478. */
void relay_rig_client(struct turn_client *c, uint16_t port, enum turn_transport tr);
/* Dispatches req (in dialect want) from c; the answer's length, decoded
 * into m when there is one (its bytes in out, RELAY_REPLY_MAX). */
size_t relay_rig_ask(struct relay_rig *r, const struct turn_client *c, const uint8_t *req,
                     size_t len, enum stun_dialect want, uint8_t *out, struct stun_msg *m);
/* The answer's ERROR-CODE: 0 without one, -1 when malformed. */
int relay_rig_error(const struct stun_msg *m);
uint64_t relay_rig_metric(const struct relay_rig *r, const struct metric_family *f, size_t label);

#endif
