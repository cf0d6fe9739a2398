/* The control API (control/control.h): the one place its tables of handlers
 * are listed, opened on a server and closed. */
#include "control/control.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/api.h"
#include "control/server.h"

/* Every route the API has comes from one of these. */
static const struct control_api *const apis[] = {
    &control_api_status,
    &control_api_rows_sip,
    &control_api_rows_media,
    &control_api_flows,
};
#define N_APIS (sizeof(apis) / sizeof(apis[0]))

struct control {
	struct control_ctx ctx; /* the handlers' view; ctx.conf is our reference */
	struct control_server *srv;
	struct flows *flows; /* the triggers' records, GET /flows/ID */
	void *state[N_APIS];
	bool opened[N_APIS]; /* its open ran and succeeded: close it */
};

/* Makes each API's state and hands its table to the server. */
static int open_apis(struct control *c, char *err, size_t err_len)
{
	for (size_t i = 0; i < N_APIS; i++) {
		const struct control_api *a = apis[i];
		int rc = a->open ? a->open(&c->state[i], &c->ctx, c->flows) : 0;
		if (rc) {
			snprintf(err, err_len, "control API %s: %s", a->name, strerror(rc));
			return rc;
		}
		c->opened[i] = a->open != NULL;
		rc = control_server_add(c->srv, a->routes, a->open ? c->state[i] : &c->ctx);
		if (rc) {
			snprintf(err, err_len, "control API %s routes: %s", a->name, strerror(rc));
			return rc;
		}
	}
	return 0;
}

int control_open(struct control **cp, const struct control_ctx *ctx, const char *socket_path,
                 char *err, size_t err_len)
{
	if (!cp || !ctx || !ctx->base || !ctx->conf || !socket_path) {
		snprintf(err, err_len, "control API: %s", strerror(EINVAL));
		return EINVAL;
	}
	struct control *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, err_len, "control API: %s", strerror(ENOMEM));
		return ENOMEM;
	}
	c->ctx = *ctx;
	conf_ref(c->ctx.conf);
	int rc = control_server_alloc(&c->srv, c->ctx.base);
	if (!rc)
		rc = flows_alloc(&c->flows, c->ctx.base);
	if (rc)
		snprintf(err, err_len, "control API: %s", strerror(rc));
	if (!rc)
		rc = open_apis(c, err, err_len);
	/* The socket last: no request can find a route not yet there. */
	if (!rc)
		rc = control_server_listen_unix(c->srv, socket_path, err, err_len);
	if (rc) {
		control_close(c);
		return rc;
	}
	*cp = c;
	return 0;
}

void control_set_conf(struct control *c, struct conf *conf)
{
	if (!c || !conf)
		return;
	conf_ref(conf);
	conf_unref(c->ctx.conf);
	c->ctx.conf = conf;
}

/* The listeners go first, so that no request reaches a closed API (a held
 * GET /flows/ID is dropped with its connection); then the APIs in reverse
 * order (their flows in flight end cancelled); the registry last. */
void control_close(struct control *c)
{
	if (!c)
		return;
	control_server_free(c->srv);
	for (size_t i = N_APIS; i-- > 0;)
		if (c->opened[i] && apis[i]->close)
			apis[i]->close(c->state[i]);
	flows_free(c->flows);
	conf_unref(c->ctx.conf);
	free(c);
}
