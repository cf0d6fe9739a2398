/* edgelab serve: the edge. Loads the config (or the embedded defaults),
 * starts the workers with their listeners, the control API on the main
 * thread, and runs until SIGTERM/SIGINT; SIGHUP reloads the config. Under
 * systemd (Type=notify) it says when it is ready, reloading and stopping. */
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canary/canary.h"
#include "cli/cmd.h"
#include "cli/serve_conf.h"
#include "control/control.h"
#include "core/addr.h"
#include "core/conf.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/notify.h"
#include "core/worker.h"
#include "relay/server.h"
#include "control/metrics.h"
#include "sipfront/metrics.h"
#include "sipfront/server.h"

struct serve {
	struct serve_args args;
	struct conf *conf;
	struct event_base *base;
	struct metrics *metrics;
	struct relay_shared shared;
	bool shared_ready; /* relay_shared_init ran */
	struct workers *workers;
	struct canary *canary; /* NULL without canaries */
	struct control *control;
	struct sip_server *sip; /* NULL when there are no certificates */
	struct event *sig_term, *sig_int, *sig_hup;
	/* Main thread only: workers yet to take the last reload's conf, and
	 * the status READY=1 carries once they have. */
	atomic_uint reload_pending;
	struct event *reload_done; /* activated by the worker that takes it to 0 */
	char reload_status[CONF_ERR_MAX + 64];
	bool notify_failed; /* logged once */
};

/* A reload's conf on its way to one worker; the worker tells the main
 * thread when it has switched (reload_acked). */
struct reload_msg {
	struct serve *sv;
	struct conf *conf;
};

static int worker_setup(struct worker *w, void *arg)
{
	struct serve *sv = arg;
	struct relay_server *rs;
	char err[CONF_ERR_MAX];
	int rc =
	    relay_server_alloc(&rs, worker_base(w), sv->conf, &sv->shared,
	                       metrics_shard(sv->metrics, worker_index(w) + 1), err, sizeof(err));
	if (rc) {
		log_error("worker %u: %s", worker_index(w), err);
		return rc;
	}
	worker_set_data(w, rs);
	return 0;
}

static void worker_teardown(struct worker *w, void *arg)
{
	(void)arg;
	relay_server_free(worker_data(w));
}

/* systemd's view of serve. A notification that fails is logged once:
 * systemd times out a start or reload that never reports and says so. */
static void serve_notify(struct serve *sv, enum notify_state state, const char *status)
{
	int rc = notify_send(state, status);
	if (rc && !sv->notify_failed) {
		log_warn("systemd notification failed: %s", strerror(rc));
		sv->notify_failed = true;
	}
}

/* On the main thread: READY=1 once the last worker has the new conf, so
 * that a reload systemd sees done is done on every listener. */
static void reload_acked(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct serve *sv = arg;
	serve_notify(sv, NOTIFY_READY, sv->reload_status);
}

/* Whoever takes reload_pending to 0 (the last worker, or reload() itself)
 * says so, exactly once; nothing here can fail, so no READY=1 is lost. */
static bool reload_release(struct serve *sv)
{
	return atomic_fetch_sub(&sv->reload_pending, 1) == 1;
}

static void worker_set_conf(struct worker *w, void *arg)
{
	struct reload_msg *m = arg;
	struct serve *sv = m->sv;
	relay_server_set_conf(worker_data(w), m->conf);
	conf_unref(m->conf); /* the message's own reference */
	free(m);
	if (reload_release(sv))
		event_active(sv->reload_done, EV_TIMEOUT, 0);
}

/* Queues conf to every worker, each counted in reload_pending until it
 * has switched (a worker that cannot be posted to keeps its conf). */
static void post_conf(struct serve *sv, struct conf *conf)
{
	for (unsigned i = 0; i < workers_count(sv->workers); i++) {
		struct reload_msg *m = malloc(sizeof(*m));
		if (m)
			*m = (struct reload_msg){sv, conf_ref(conf)};
		atomic_fetch_add(&sv->reload_pending, 1); /* before the worker can take it */
		if (m && !worker_post(workers_at(sv->workers, i), worker_set_conf, m)) {
			continue;
		}
		atomic_fetch_sub(&sv->reload_pending, 1); /* reload() holds one: not 0 */
		if (m)
			conf_unref(m->conf);
		free(m);
		log_error("reload: worker %u keeps its configuration (out of memory)", i);
	}
}

/* A listener turned on or off, or moved. */
static bool listener_changed(bool old_on, const struct sockaddr_storage *old_at, bool new_on,
                             const struct sockaddr_storage *new_at)
{
	return old_on != new_on || memcmp(old_at, new_at, sizeof(*old_at)) != 0;
}
#define LISTENER_CHANGED(o, n, key)                                                                \
	listener_changed((o)->key##_enabled, &(o)->key##_listen, (n)->key##_enabled,               \
	                 &(n)->key##_listen)

/* Listeners, the worker count and the relay pool are made at start-up. */
static void warn_restart_keys(const struct conf *old, const struct conf *new)
{
	if (old->workers != new->workers || LISTENER_CHANGED(old, new, stun_udp) ||
	    LISTENER_CHANGED(old, new, stun_tcp) || LISTENER_CHANGED(old, new, msturn_tls) ||
	    LISTENER_CHANGED(old, new, sip_tls) || LISTENER_CHANGED(old, new, sip_mtls) ||
	    listener_changed(old->control_listen_enabled, &old->control_listen,
	                     new->control_listen_enabled, &new->control_listen) ||
	    strcmp(old->control_socket, new->control_socket) != 0 ||
	    old->relay_port_min != new->relay_port_min ||
	    old->relay_port_max != new->relay_port_max ||
	    old->relay_udp_offload != new->relay_udp_offload)
		log_warn(
		    "reload: listener addresses, workers, relay_ports, relay_udp_offload, "
		    "control_socket and control_listen change only on restart; the running ones "
		    "stay");
	if (memcmp(&old->canary_tcp, &new->canary_tcp, sizeof(old->canary_tcp)) != 0 ||
	    memcmp(&old->canary_udp, &new->canary_udp, sizeof(old->canary_udp)) != 0 ||
	    old->canary_address_set != new->canary_address_set ||
	    (new->canary_address_set && !addr_equal((struct sockaddr *)&old->canary_address,
	                                            (struct sockaddr *)&new->canary_address)))
		log_warn("reload: canary_tcp, canary_udp and canary_address change only on "
		         "restart; the running canaries stay");
}

static const char *const reload_results[] = {"ok", "failed"};
static struct metric_family metric_config_reloads_total = {
    "edgelab_config_reloads_total",
    METRIC_COUNTER,
    "configuration reloads (SIGHUP), by result",
    {METRIC_LABEL("result", reload_results), {NULL, NULL, 0}},
    0};

/* Applies the file again; the status line says how it went. The workers
 * switch later, each counted in reload_pending. */
static void apply_reload(struct serve *sv, char *status, size_t status_len)
{
	char err[CONF_ERR_MAX];
	struct conf *conf;
	struct metrics_shard *main_shard = metrics_shard(sv->metrics, 0);
	int rc = serve_conf_load(&sv->args, SERVE_LOAD_RELOAD, &conf, err, sizeof(err));
	/* The control API first: it is the one part that refuses a reload
	 * whole (a token file gone bad), before anything else has switched. */
	if (!rc && (rc = control_set_conf(sv->control, conf, err, sizeof(err))))
		conf_unref(conf);
	if (rc) {
		snprintf(status, status_len, "reload failed, the running configuration stays: %s",
		         err);
		log_error("%s", status);
		metrics_inc(main_shard, &metric_config_reloads_total, 1);
		return;
	}
	warn_restart_keys(sv->conf, conf);
	if (sv->sip && sip_server_set_conf(sv->sip, conf, err, sizeof(err)))
		log_error("reload: SIP keeps its running certificates and partners: %s", err);
	log_set_level(conf->log_level);
	log_set_json(conf->log_json);
	post_conf(sv, conf);
	conf_unref(sv->conf);
	sv->conf = conf;
	metrics_inc(main_shard, &metric_config_reloads_total, 0);
	snprintf(status, status_len, "reloaded configuration from %s", conf->source);
	log_info("%s", status);
}

/* RELOADING=1 now, READY=1 when every worker runs the new conf (or at once
 * when the reload failed and the running one stays). */
static void reload(struct serve *sv)
{
	serve_notify(sv, NOTIFY_RELOADING, NULL);
	/* One count of our own while the workers are posted to, so that none of
	 * them takes it to 0 before they all have it. */
	atomic_fetch_add(&sv->reload_pending, 1);
	apply_reload(sv, sv->reload_status, sizeof(sv->reload_status));
	if (reload_release(sv))
		serve_notify(sv, NOTIFY_READY, sv->reload_status);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	struct serve *sv = arg;
	if (sig == SIGHUP) {
		reload(sv);
		return;
	}
	log_info("signal %d: stopping", (int)sig);
	serve_notify(sv, NOTIFY_STOPPING, "stopping");
	event_base_loopexit(sv->base, NULL);
}

static unsigned worker_count(const struct conf *conf)
{
	if (conf->workers)
		return conf->workers;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

/* Rows 4 and 5 leave from the relay's address: relay_address, else the
 * STUN listener's (its port aside), else a wildcard. */
static void rows_media_bind_addr(const struct conf *conf, struct sockaddr_storage *ss)
{
	if (conf->relay_address_set)
		*ss = conf->relay_address;
	else if (conf->stun_udp_enabled)
		*ss = conf->stun_udp_listen;
	else
		addr_parse("0.0.0.0", 0, ss);
}

/* The control API on the main loop, with what its handlers need. */
static int open_control(struct serve *sv, char *err, size_t err_len)
{
	struct control_ctx ctx = {
	    .base = sv->base,
	    .conf = sv->conf,
	    .metrics = sv->metrics,
	    .sip = sv->sip,
	    .pool = sv->shared.pool,
	    .canary = sv->canary,
	};
	rows_media_bind_addr(sv->conf, &ctx.bind_addr);
	return control_open(&sv->control, &ctx, sv->conf->control_socket, err, err_len);
}

static int start(struct serve *sv)
{
	char err[CONF_ERR_MAX];
	unsigned n = worker_count(sv->conf);
	/* Every module's families, whatever the conf turns on, so that
	 * /metrics always has the same series (at 0 for what is off). */
	struct metric_family *const own[] = {&metric_config_reloads_total, NULL};
	int rc = metrics_register(own);
	if (!rc)
		rc = relay_metrics_register();
	if (!rc)
		rc = sip_metrics_register();
	if (!rc)
		rc = canary_metrics_register();
	if (!rc)
		rc = control_metrics_register();
	if (!rc)
		rc = metrics_alloc(&sv->metrics, n + 1);
	if (!rc)
		rc = relay_shared_init(&sv->shared, sv->conf);
	if (rc)
		return rc;
	sv->shared_ready = true;
	/* Before the workers: a canary's port leaves the pool before any
	 * allocation could take it. */
	rc = canary_open(&sv->canary, sv->base, sv->conf, sv->shared.pool,
	                 metrics_shard(sv->metrics, 0), err, sizeof(err));
	if (rc) {
		log_error("%s", err);
		return rc;
	}
	rc = workers_start(&sv->workers, n, worker_setup, worker_teardown, sv);
	if (rc)
		return rc; /* the failing worker logged why */
	rc = sip_server_alloc(&sv->sip, sv->base, sv->conf, metrics_shard(sv->metrics, 0), err,
	                      sizeof(err));
	if (rc == ENOENT) {
		log_warn("SIP on 443/5061 is off: %s", err);
	} else if (rc) {
		log_error("%s", err);
		return rc;
	}
	if (sv->conf->control_socket[0] || sv->conf->control_listen_enabled) {
		rc = open_control(sv, err, sizeof(err));
		if (rc) {
			log_error("%s", err);
			return rc;
		}
	}
	sv->sig_term = evsignal_new(sv->base, SIGTERM, signal_cb, sv);
	sv->sig_int = evsignal_new(sv->base, SIGINT, signal_cb, sv);
	sv->sig_hup = evsignal_new(sv->base, SIGHUP, signal_cb, sv);
	sv->reload_done = event_new(sv->base, -1, 0, reload_acked, sv);
	if (!sv->sig_term || !sv->sig_int || !sv->sig_hup || !sv->reload_done ||
	    evsignal_add(sv->sig_term, NULL) || evsignal_add(sv->sig_int, NULL) ||
	    evsignal_add(sv->sig_hup, NULL))
		return ENOMEM;
	char https[ADDR_STR_MAX] = "off";
	if (sv->conf->control_listen_enabled)
		addr_str((const struct sockaddr *)&sv->conf->control_listen, https, sizeof(https));
	char status[64 + sizeof(sv->conf->control_socket) + sizeof(https) +
	            sizeof(sv->conf->source)];
	snprintf(status, sizeof(status),
	         "serving with %u worker%s; control %s, https %s; config %s", n, n == 1 ? "" : "s",
	         sv->conf->control_socket[0] ? sv->conf->control_socket : "off", https,
	         sv->conf->source);
	log_info("%s", status);
	/* Every listener (STUN, SIP, canaries, control) is bound by now, and the
	 * kernel queues what reaches a worker's socket before its loop runs. */
	serve_notify(sv, NOTIFY_READY, status);
	return 0;
}

/* Mirrors start(), in reverse order; copes with a half-started serve. */
static void stop(struct serve *sv)
{
	if (sv->reload_done)
		event_free(sv->reload_done);
	if (sv->sig_hup)
		event_free(sv->sig_hup);
	if (sv->sig_int)
		event_free(sv->sig_int);
	if (sv->sig_term)
		event_free(sv->sig_term);
	control_close(sv->control);
	sip_server_free(sv->sip);
	workers_stop(sv->workers);
	canary_close(sv->canary);
	if (sv->shared_ready)
		relay_shared_fini(&sv->shared);
	metrics_free(sv->metrics);
	if (sv->base)
		event_base_free(sv->base);
	conf_unref(sv->conf);
}

int cmd_serve(int argc, char **argv)
{
	struct serve sv = {0};
	bool check_only = false;
	char err[CONF_ERR_MAX];
	if (serve_args_parse(&sv.args, argc, argv, &check_only))
		return EXIT_USAGE;
	int loaded = serve_conf_load(&sv.args, check_only ? SERVE_LOAD_CHECK : SERVE_LOAD_START,
	                             &sv.conf, err, sizeof(err));
	if (loaded) {
		fprintf(stderr, "edgelab serve: %s\n", err);
		return loaded == SERVE_ERR_PKI ? EXIT_FAIL : EXIT_USAGE;
	}
	if (check_only) {
		conf_dump(sv.conf, stdout);
		if (serve_pki_pending(sv.conf))
			printf("# tls_generate: %s and the rest are written at the first start\n",
			       sv.conf->tls_certificate);
		printf("# configuration OK\n");
		conf_unref(sv.conf);
		return EXIT_OK;
	}
	log_set_level(sv.conf->log_level);
	log_set_json(sv.conf->log_json);
	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	sv.base = event_base_new();
	int rc = sv.base ? start(&sv) : ENOMEM;
	if (!rc)
		event_base_dispatch(sv.base);
	else
		log_error("serve: start-up failed: %s", strerror(rc));
	stop(&sv);
	if (!rc)
		log_info("stopped");
	return rc ? EXIT_FAIL : EXIT_OK;
}
