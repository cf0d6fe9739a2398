/* The relay's transport interface: a client as the protocol code (Binding,
 * TURN, MS-TURN and their TCP relays) sees it. The transports (stun_udp.c,
 * stun_tcp.c) fill a turn_client for every message and give each TCP
 * connection a relay_conn with its operations; protocol code replies and
 * writes through these and never names a transport. */
#ifndef EDGELAB_RELAY_CLIENT_H
#define EDGELAB_RELAY_CLIENT_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

struct bufferevent;

/* An IPv4 or IPv6 address with its port, in the size it needs. */
union turn_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

enum turn_transport { TURN_TRANSPORT_UDP, TURN_TRANSPORT_TCP };

/* A client's stream connection, owned by its transport. */
struct relay_conn {
	const struct relay_conn_ops *ops;
};

struct relay_conn_ops {
	/* A whole STUN message (an MS-TURN control frame on an MS-TURN
	 * connection); EAGAIN when the client's buffer is full, so that the
	 * caller drops and counts: media never grows a buffer without bound. */
	int (*send)(struct relay_conn *conn, const void *buf, size_t len);
	/* End-to-end data: an MS-TURN data frame (0x03); as send otherwise. */
	int (*send_data)(struct relay_conn *conn, const void *buf, size_t len);
	/* Hands the connection's bufferevent to a pipe (RFC 6062 data
	 * connection): the transport stops framing it but still owns it. */
	struct bufferevent *(*take_over)(struct relay_conn *conn);
	/* Ends the connection (its transport frees it, and tells the relay
	 * through turn_conn_closed). */
	void (*close)(struct relay_conn *conn);
};

static inline int relay_conn_send(struct relay_conn *conn, const void *buf, size_t len)
{
	return conn->ops->send(conn, buf, len);
}

static inline int relay_conn_send_data(struct relay_conn *conn, const void *buf, size_t len)
{
	return conn->ops->send_data(conn, buf, len);
}

static inline struct bufferevent *relay_conn_take_over(struct relay_conn *conn)
{
	return conn->ops->take_over(conn);
}

static inline void relay_conn_close(struct relay_conn *conn)
{
	conn->ops->close(conn);
}

/* Where a message came from. */
struct turn_client {
	union turn_sa src;   /* the client's address (unmapped) */
	union turn_sa local; /* the server address it reached */
	enum turn_transport transport;
	struct relay_conn *conn; /* TCP: its connection; UDP: NULL (replies go back in the batch) */
};

#endif
