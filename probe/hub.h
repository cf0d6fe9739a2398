/* The listeners flows share, routed by marker. Several of a run's flows
 * arrive at one port (UDP 3478: row 5 in each dialect; TCP 443: row 4 and a
 * strict flow), and they run at once, so what arrives is given to the flow
 * whose marker text ("edgelab marker=TEXT") it carries: anywhere in a
 * datagram, or in the first bytes of a TCP connection. Never by timing.
 * What carries no awaited marker is stray, counted per listener. One thread
 * polls every listener and the connections not yet routed. Private to
 * probe/. */
#ifndef EDGELAB_PROBE_HUB_H
#define EDGELAB_PROBE_HUB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HUB_DATA_MAX 2048 /* what of an arrival a flow gets (a datagram is cut) */

struct probe_hub;
struct hub_slot;

/* What arrived for a flow. */
struct hub_item {
	int fd; /* TCP: the connection, now the flow's to close; UDP: the shared
	         * socket (to answer from; not the flow's) */
	struct sockaddr_storage from;
	uint8_t data[HUB_DATA_MAX]; /* the datagram, or the connection's first bytes */
	size_t len;
};

/* 0 or an errno; the thread starts with the first listener. */
int hub_new(struct probe_hub **out);
/* Stops the thread, closes every socket, frees every slot. */
void hub_free(struct probe_hub *h);

/* Awaits what arrives at type (SOCK_STREAM, SOCK_DGRAM) on at's port with
 * expect in it; the listener is opened on first use (on at: address and
 * port). 0 and the slot, or the errno of opening the listener. */
int hub_expect(struct probe_hub *h, int type, const struct sockaddr *at, const char *expect,
               struct hub_slot **out);
/* The next arrival for s, waiting until deadline (flow_now() seconds): 0,
 * or ETIMEDOUT. */
int hub_wait(struct hub_slot *s, double deadline, struct hub_item *it);
/* s awaits nothing more: later arrivals with its marker are dropped. */
void hub_done(struct hub_slot *s);
/* How many arrivals at s's listener carried no awaited marker so far. */
unsigned hub_stray(const struct hub_slot *s);

#endif
