/* Internals of assess/: one step's event loop (run.c), a call's client
 * (call.c) and the reflector (reflector.c). Private to assess/. */
#ifndef EDGELAB_ASSESS_ASSESS_INT_H
#define EDGELAB_ASSESS_ASSESS_INT_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>

#include "assess/assess.h"
#include "assess/stats.h"
#include "stun/client.h"

/* One step's loop: its calls, and how many are still under way. */
struct step_loop {
	struct event_base *base;
	const struct assess_opts *o;
	const struct timeval *tick; /* 1 / rate, a common timeout */
	uint32_t running;           /* calls not done yet: the loop breaks at 0 */
};

enum call_state {
	CALL_ALLOCATE, /* Allocate sent, waiting for its 401 or success */
	CALL_POINT,    /* Set Active Destination or ChannelBind sent */
	CALL_MEDIA,    /* streaming */
	CALL_DRAIN,    /* all sent; waiting grace_ms for the last back */
	CALL_DONE,
};

struct call {
	struct step_loop *loop;
	struct assess_call *out; /* where its figures go */
	enum call_state state;
	int fd;                    /* UDP */
	struct bufferevent *bev;   /* TCP */
	struct evbuffer *media_in; /* MS-TURN over TCP: data not cut into packets yet */
	const struct call_stream_hooks *hooks;
	struct event *rd;   /* the UDP socket */
	struct event *retx; /* retransmission; then the grace after the last packet */
	struct event *tick; /* 1 / rate while streaming */
	struct stun_cred cred;
	uint8_t tid[STUN_TID_LEN];
	uint8_t req[512];
	size_t req_len;
	unsigned tries;
	bool authed;         /* the last Allocate carried credentials */
	bool allocated;      /* the Allocate succeeded: the allocation is to be deleted */
	bool deleted;        /* its delete is sent */
	bool ending;         /* call_end under way: nothing may end it again */
	bool connected;      /* TCP: connected (and the pseudo-TLS hello answered) */
	bool hello_sent;     /* pseudo-TLS: the hello is written */
	bool hello_answered; /* and the A/V edge's answer read */
	bool heard;          /* TCP: a whole message read from the server */
	char reason[64];     /* the last error answer's reason phrase */
	char rejected[80];   /* the last answer refused (integrity, unreadable), for the timeout */
	int64_t begun_us;    /* the first Allocate */
	int64_t first_us;    /* the first packet */
	uint32_t planned;    /* packets to send */
	struct assess_rec rec;
	uint64_t strays; /* datagrams that were not this call's */
};

/* Starts call c (out->id set) on loop, which counts it among its running
 * calls already: a socket to the server, the first Allocate. 0, or an errno
 * code with out->error written (the call is then done: call_finish frees
 * it as any other). */
int call_start(struct call *c, struct step_loop *loop, struct assess_call *out);
/* Ends a call still under way (cut by its step's bound): its allocation's
 * delete sent or queued, its events stopped. */
void call_stop(struct call *c);
/* Its figures into c->out, then everything freed (what a TCP call still
 * had queued with it: flush the loop first). */
void call_finish(struct call *c);
/* What a stream tells its call (call.c gives these to call_stream_open):
 * connected; a whole message read, a TURN message (control) or data; the
 * stream lost, and why. */
struct call_stream_hooks {
	void (*connected)(struct call *c);
	void (*input)(struct call *c, bool control, const uint8_t *buf, size_t len, int64_t now);
	void (*lost)(struct call *c, const char *why);
};

/* call_stream.c: a call over TCP, RFC 5766's stream or MS-TURN's framing
 * (the dialect's), after the pseudo-TLS hello with that transport. open:
 * connect (hooks' connected follows, once the hello is answered); send:
 * one message, or one packet of data (MS-TURN: an RFC 4571 frame), onto
 * the stream; quiet: nothing more is read; close: all freed. */
int call_stream_open(struct call *c, const struct call_stream_hooks *hooks);
void call_stream_send(struct call *c, bool control, const uint8_t *buf, size_t len);
void call_stream_quiet(struct call *c);
void call_stream_close(struct call *c);

/* clock.c: monotonic microseconds. */
int64_t assess_now_us(void);

/* The reflector: a UDP socket on addr sending every call's packet
 * (assess/packet.h) back to where it came from, and nothing else; with
 * reflector_add_tcp, a TCP listener on addr too (reflector_tcp.c), for
 * MS-TURN's TCP relays. count: packets sent back, both ways together. */
struct reflector;
int reflector_open(struct event_base *base, const struct sockaddr_storage *addr,
                   struct reflector **out, char *err, size_t err_len);
int reflector_add_tcp(struct reflector *r, struct event_base *base,
                      const struct sockaddr_storage *addr, char *err, size_t err_len);
uint64_t reflector_count(const struct reflector *r);
void reflector_close(struct reflector *r);

/* reflector_tcp.c: the TCP side alone (0 or an errno with err written). */
struct reflector_tcp;
int reflector_tcp_open(struct event_base *base, const struct sockaddr_storage *addr,
                       struct reflector_tcp **out, char *err, size_t err_len);
uint64_t reflector_tcp_count(const struct reflector_tcp *t);
void reflector_tcp_close(struct reflector_tcp *t);

#endif
