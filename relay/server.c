#include "relay/server.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "relay/server_priv.h"
#include "relay/transport.h"
#include "relay/turn_int.h"

void relay_server_set_conf(struct relay_server *s, struct conf *conf)
{
	struct conf *old = s->conf;
	s->conf = conf_ref(conf);
	s->binding.software = s->conf->software;
	if (old)
		turn_server_set_conf(s);
	conf_unref(old);
}

int relay_server_alloc(struct relay_server **sp, struct event_base *base, struct conf *conf,
                       struct relay_shared *shared, struct metrics_shard *metrics, char *err,
                       size_t err_len)
{
	struct relay_server *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->base = base;
	s->shared = shared;
	s->metrics = metrics;
	s->udp_fd = -1;
	LIST_INIT(&s->tcp_conns);
	relay_server_set_conf(s, conf);

	int rc = turn_server_open(s);
	if (!rc && conf->stun_udp_enabled)
		rc = stun_udp_open(s, err, err_len);
	/* One worker takes STUN/TURN over TCP: RFC 6062's ConnectionBind comes
	 * on a connection of its own, which must reach the worker holding the
	 * allocation, and SO_REUSEPORT would spread it over any of them. TCP is
	 * the fallback transport; UDP, the fast path, stays on every worker.
	 * MS-TURN's pseudo-TLS listener goes with it: its TCP relays connect to
	 * one another through the kernel, but one worker keeps them simple. */
	if (!rc && (conf->stun_tcp_enabled || conf->msturn_tls_enabled) &&
	    !atomic_exchange(&shared->tcp_listener_open, true))
		rc = stun_tcp_open(s, err, err_len);
	if (rc) {
		relay_server_free(s);
		return rc;
	}
	*sp = s;
	return 0;
}

void relay_server_free(struct relay_server *s)
{
	if (!s)
		return;
	stun_tcp_close(s);
	turn_server_close(s);
	stun_udp_close(s);
	conf_unref(s->conf);
	free(s);
}
