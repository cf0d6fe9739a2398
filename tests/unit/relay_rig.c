#include "tests/unit/relay_rig.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/log.h"

struct relay_rig *relay_rig_up(const char *extra)
{
	char text[1024], err[CONF_ERR_MAX];
	struct relay_rig *r = calloc(1, sizeof(*r));
	struct conf *conf;
	assert_non_null(r);
	int n = snprintf(text, sizeof(text),
	                 "stun_udp_listen off\ncontrol_socket off\n"
	                 "turn_realm lab.example\nturn_user alice secret\n"
	                 "allow_loopback_peers yes\nrelay_address 127.0.0.1\n"
	                 "log_level error\n%s",
	                 extra);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	log_set_level(LOG_LVL_ERROR);
	if (conf_load_buf(text, (size_t)n, "t", &conf, err, sizeof(err)))
		fail_msg("conf: %s", err);
	r->base = event_base_new();
	assert_non_null(r->base);
	assert_int_equal(relay_shared_init(&r->shared, conf), 0);
	assert_int_equal(metrics_alloc(&r->metrics, 2), 0);
	if (relay_server_alloc(&r->server, r->base, conf, &r->shared, metrics_shard(r->metrics, 1),
	                       err, sizeof(err)))
		fail_msg("relay server: %s", err);
	conf_unref(conf);
	return r;
}

void relay_rig_down(struct relay_rig *r)
{
	if (!r)
		return;
	relay_server_free(r->server);
	relay_shared_fini(&r->shared);
	metrics_free(r->metrics);
	event_base_free(r->base);
	free(r);
}

void relay_rig_client(struct turn_client *c, uint16_t port, enum turn_transport tr)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};
	memset(c, 0, sizeof(*c));
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	turn_sa_set(&c->src, (struct sockaddr *)&in);
	in.sin_port = htons(3478);
	turn_sa_set(&c->local, (struct sockaddr *)&in);
	c->transport = tr;
}

size_t relay_rig_ask(struct relay_rig *r, const struct turn_client *c, const uint8_t *req,
                     size_t len, enum stun_dialect want, uint8_t *out, struct stun_msg *m)
{
	struct relay_msg msg = {
	    .client = c, .buf = req, .len = len, .out = out, .cap = RELAY_REPLY_MAX};
	assert_int_equal(relay_dispatch(r->server, &msg), 0);
	assert_int_equal(msg.stun.dialect, want);
	if (msg.out_len)
		assert_int_equal(stun_msg_decode(m, out, msg.out_len), 0);
	return msg.out_len;
}

int relay_rig_error(const struct stun_msg *m)
{
	int code = 0;
	const char *reason;
	size_t rlen;
	const struct stun_attr *e = stun_msg_attr(m, STUN_ATTR_ERROR_CODE);
	if (e && stun_attr_error(e, &code, &reason, &rlen))
		return -1;
	return code;
}

uint64_t relay_rig_metric(const struct relay_rig *r, const struct metric_family *f, size_t label)
{
	return metrics_get(r->metrics, f, label);
}
