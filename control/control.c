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
#include "core/addr.h"

/* Every route the API has comes from one of these. */
static const struct control_api *const apis[] = {
    &control_api_status, &control_api_rows_sip, &control_api_rows_media,
    &control_api_canary, &control_api_flows,
};
#define N_APIS (sizeof(apis) / sizeof(apis[0]))

struct control {
	struct control_ctx ctx; /* the handlers' view; ctx.conf is our reference */
	struct control_server *srv;
	struct flows *flows; /* the triggers' records, GET /flows/ID */
	bool https_open;     /* the HTTPS listener runs (until control_close) */
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

/* What the listeners take from conf: who may ask over HTTPS and the limits,
 * and (when control_listen is on) the HTTPS listener's TLS context. */
static int access_from(const struct conf *conf, struct control_access *a, SSL_CTX **tlsp, char *err,
                       size_t err_len)
{
	char why[CONF_ERR_MAX];
	memset(a, 0, sizeof(*a));
	*tlsp = NULL;
	a->trigger_rate = conf->control_trigger_rate;
	a->max_connections = conf->control_max_connections;
	a->n_clients = conf->n_control_clients;
	for (size_t i = 0; i < a->n_clients; i++)
		memcpy(a->clients[i], conf->control_clients[i], sizeof(a->clients[i]));
	if (!conf->control_listen_enabled)
		return 0;
	int rc = conf->control_token_file[0]
	             ? control_token_read(conf->control_token_file, &a->token, err, err_len)
	             : 0;
	if (rc)
		return rc;
	rc =
	    control_server_tls_ctx(tlsp, conf->tls_certificate, conf->tls_key,
	                           conf->n_control_clients ? conf->tls_ca : NULL, why, sizeof(why));
	if (rc)
		snprintf(err, err_len, "control_listen: %s", why);
	return rc;
}

int control_conf_check(const struct conf *conf, char *err, size_t err_len)
{
	struct control_access a;
	SSL_CTX *tls;
	int rc = access_from(conf, &a, &tls, err, err_len);
	SSL_CTX_free(tls);
	explicit_bzero(&a, sizeof(a));
	return rc;
}

/* The listeners, last: no request can find a route not yet there. */
static int open_listeners(struct control *c, const char *socket_path, char *err, size_t err_len)
{
	struct control_access a;
	SSL_CTX *tls = NULL;
	int rc = access_from(c->ctx.conf, &a, &tls, err, err_len);
	if (!rc)
		control_server_set_access(c->srv, &a);
	explicit_bzero(&a, sizeof(a));
	if (!rc && socket_path && socket_path[0])
		rc = control_server_listen_unix(c->srv, socket_path, 0, err, err_len);
	if (!rc && tls)
		rc = control_server_listen_https(
		    c->srv, (const struct sockaddr *)&c->ctx.conf->control_listen, tls, err,
		    err_len);
	c->https_open = !rc && tls;
	SSL_CTX_free(tls); /* the server holds its own */
	return rc;
}

int control_open(struct control **cp, const struct control_ctx *ctx, const char *socket_path,
                 char *err, size_t err_len)
{
	if (!cp || !ctx || !ctx->base || !ctx->conf) {
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
	int rc = control_server_alloc(&c->srv, c->ctx.base,
	                              c->ctx.metrics ? metrics_shard(c->ctx.metrics, 0) : NULL);
	if (!rc)
		rc = flows_alloc(&c->flows, c->ctx.base);
	if (rc)
		snprintf(err, err_len, "control API: %s", strerror(rc));
	if (!rc)
		rc = open_apis(c, err, err_len);
	if (!rc)
		rc = open_listeners(c, socket_path, err, err_len);
	if (rc) {
		control_close(c);
		return rc;
	}
	*cp = c;
	return 0;
}

int control_set_conf(struct control *c, struct conf *conf, char *err, size_t err_len)
{
	struct control_access a;
	SSL_CTX *tls = NULL;
	if (!c || !conf)
		return 0;
	/* control_listen changes only on restart: while the HTTPS listener
	 * runs, a conf without it keeps the running credentials and limits,
	 * rather than a token of none (every bearer client refused). */
	if (c->https_open && !conf->control_listen_enabled) {
		conf_ref(conf);
		conf_unref(c->ctx.conf);
		c->ctx.conf = conf;
		return 0;
	}
	int rc = access_from(conf, &a, &tls, err, err_len);
	if (!rc) {
		control_server_set_access(c->srv, &a);
		if (tls)
			control_server_set_tls(c->srv, tls);
		conf_ref(conf);
		conf_unref(c->ctx.conf);
		c->ctx.conf = conf;
	}
	SSL_CTX_free(tls);
	explicit_bzero(&a, sizeof(a));
	return rc;
}

/* Held requests are let go first, while their connections live (a held
 * GET /flows/ID is dropped with its connection); then the listeners go,
 * so that no request reaches a closed API; then the APIs in reverse order
 * (their flows in flight end cancelled); the registry last. */
void control_close(struct control *c)
{
	if (!c)
		return;
	for (size_t i = N_APIS; i-- > 0;)
		if (c->opened[i] && apis[i]->stop)
			apis[i]->stop(c->state[i]);
	control_server_free(c->srv);
	for (size_t i = N_APIS; i-- > 0;)
		if (c->opened[i] && apis[i]->close)
			apis[i]->close(c->state[i]);
	flows_free(c->flows);
	conf_unref(c->ctx.conf);
	free(c);
}
