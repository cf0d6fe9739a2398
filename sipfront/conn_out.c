/* The edge's outbound connections (row 2, the next hop; server_priv.h):
 * made with or without an address, then dialled: TCP on a plain socket
 * first, from the 5061 listener's address, so that an RST, an ICMP error
 * or a timeout is told apart from TLS's failure; the bufferevent and its
 * handshake (conn.c) come once TCP is up. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "core/log.h"
#include "core/sockerr.h"
#include "sipfront/server_priv.h"
#include "sipfront/tls.h"

/* The source address of the edge's outbound connections: the 5061
 * listener's address when it is a specific one (the access interface). */
static int bind_source(const struct sip_server *s, int fd, int family)
{
	struct sockaddr_storage src = s->conf->sip_mtls_listen;
	if (!s->conf->sip_mtls_enabled || src.ss_family != family)
		return 0;
	addr_set_port((struct sockaddr *)&src, 0);
	static const uint8_t any6[16];
	bool wildcard = family == AF_INET
	                    ? ((struct sockaddr_in *)&src)->sin_addr.s_addr == 0
	                    : !memcmp(&((struct sockaddr_in6 *)&src)->sin6_addr, any6, 16);
	if (wildcard)
		return 0;
	return bind(fd, (struct sockaddr *)&src, addr_len((struct sockaddr *)&src)) ? errno : 0;
}

/* The outbound TCP connect ended (or timed out): TLS on it, or the end. */
static void connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sip_conn *c = arg;
	int err = 0;
	socklen_t len = sizeof(err);
	if (what & EV_TIMEOUT) {
		sip_conn_end(c, SIP_PING_TIMEOUT, "no TCP connection to %s in %u s", c->peer_str,
		             c->server->conf->sip_handshake_timeout);
		return sip_conn_free(c, "no TCP connection in time");
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		/* An RST leaves nothing in the error queue; an ICMP error does. */
		if (sockerr_icmp(fd, &c->end.icmp))
			sip_conn_end(c, SIP_PING_ICMP, "%s", c->peer_str);
		else if (err == ECONNREFUSED)
			sip_conn_end(c, SIP_PING_RESET,
			             "the edge's SYN to %s was answered with RST", c->peer_str);
		else
			sip_conn_end(c, SIP_PING_ERROR, "connecting to %s: %s", c->peer_str,
			             strerror(err));
		return sip_conn_free(c, strerror(err));
	}
	if (c->closing)
		return sip_conn_free(c, "closed by the edge");
	c->tcp_up = true;
	c->bev = bufferevent_openssl_socket_new(c->server->base, fd, c->ssl,
	                                        BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	/* With BEV_OPT_CLOSE_ON_FREE libevent frees the SSL also when it fails
	 * (bufferevent_openssl.c's error paths); the fd stays ours then. */
	c->ssl = NULL;
	if (!c->bev) {
		sip_conn_end(c, SIP_PING_ERROR, "%s: %s", c->peer_str, strerror(ENOMEM));
		return sip_conn_free(c, strerror(ENOMEM));
	}
	/* The bev owns them now. */
	event_free(c->connect_ev);
	c->connect_ev = NULL;
	c->fd = -1;
	bufferevent_write_buffer(c->bev, c->early);
	sip_conn_start(c->server, c);
}

/* The socket of an outbound connection, connecting; 0 or an errno. */
static int connect_socket(const struct sip_server *s, const struct sockaddr *dst, int *fdp)
{
	int fd = socket(dst->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = fd < 0 ? errno : bind_source(s, fd, dst->sa_family);
	if (!rc)
		rc = sockerr_enable(fd, dst->sa_family);
	if (!rc)
		sip_conn_no_delay(fd);
	if (!rc && connect(fd, dst, addr_len(dst)) && errno != EINPROGRESS)
		rc = errno;
	if (rc && fd >= 0)
		close(fd);
	if (!rc)
		*fdp = fd;
	return rc;
}

struct sip_conn *sip_conn_outbound(struct sip_server *s, const char *label)
{
	struct sip_conn *c = calloc(1, sizeof(*c));
	if (c)
		c->early = evbuffer_new();
	if (!c || !c->early) {
		free(c);
		return NULL;
	}
	c->fd = -1;
	c->outbound = true;
	sip_conn_link(s, c, METRIC_SIP_MTLS, NULL, label);
	return c;
}

/* TCP first, on a plain socket, so that its failure (RST, ICMP, timeout)
 * is told apart from TLS's; the bev comes once TCP is up (connect_cb). */
int sip_conn_dial(struct sip_conn *c, const struct sockaddr *dst, const char *expect_host,
                  const char *why, char *err, size_t err_len)
{
	struct sip_server *s = c->server;
	struct timeval hs = {.tv_sec = s->conf->sip_handshake_timeout};
	char where[ADDR_STR_MAX];
	int rc = (c->ssl = SSL_new(s->client_ctx)) ? 0 : ENOMEM;
	if (!rc)
		rc = sip_tls_client_expect(c->ssl, expect_host) ? EINVAL : 0;
	if (!rc)
		rc = connect_socket(s, dst, &c->fd);
	if (!rc) {
		/* The source is chosen at connect(): known even if TCP never comes up. */
		socklen_t len = sizeof(c->local);
		if (getsockname(c->fd, (struct sockaddr *)&c->local, &len))
			c->local.ss_family = AF_UNSPEC;
		c->connect_ev = event_new(s->base, c->fd, EV_WRITE, connect_cb, c);
		if (!c->connect_ev || event_add(c->connect_ev, &hs))
			rc = ENOMEM;
	}
	if (rc) {
		snprintf(err, err_len, "outbound connection to %s: %s",
		         addr_str(dst, where, sizeof(where)), strerror(rc));
		return rc;
	}
	memcpy(&c->peer, dst, addr_len(dst));
	addr_str(dst, c->peer_str, sizeof(c->peer_str));
	snprintf(c->expect, sizeof(c->expect), "%s", expect_host);
	c->expect_why = why;
	log_info("sip mtls #%lu %s: connecting out, expecting %s (%s)", c->id, c->peer_str,
	         expect_host, why);
	return 0;
}

struct sip_conn *sip_conn_connect(struct sip_server *s, const struct sockaddr *dst,
                                  const char *expect_host, const char *why, char *err,
                                  size_t err_len)
{
	char where[ADDR_STR_MAX];
	struct sip_conn *c = sip_conn_outbound(s, addr_str(dst, where, sizeof(where)));
	if (!c) {
		snprintf(err, err_len, "outbound connection to %s: %s", where, strerror(ENOMEM));
		return NULL;
	}
	if (sip_conn_dial(c, dst, expect_host, why, err, err_len)) {
		sip_conn_free(c, NULL);
		return NULL;
	}
	return c;
}
