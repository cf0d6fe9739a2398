/* The relay's listeners, opened and closed by relay/server.c: STUN/TURN on
 * UDP (stun_udp.c: batches, pktinfo) and on TCP (stun_tcp.c: RFC 5389 and
 * MS-TURN framing, pseudo-TLS). They decode what clients send once and pass
 * it along the chain (chain.h), or to the data path (turn_int.h). */
#ifndef EDGELAB_RELAY_TRANSPORT_H
#define EDGELAB_RELAY_TRANSPORT_H

#include <stddef.h>

struct relay_server;

/* 0, or an errno with a sentence in err ("STUN/UDP 0.0.0.0:3478: ..."). */
int stun_udp_open(struct relay_server *s, char *err, size_t err_len);
void stun_udp_close(struct relay_server *s);
int stun_tcp_open(struct relay_server *s, char *err, size_t err_len);
void stun_tcp_close(struct relay_server *s);

#endif
