/* The control API's HTTP server (control/server.h): listeners and the
 * dispatch over the tables. */
#include "control/server.h"

#include <errno.h>
#include <stdbool.h>
#include <event2/buffer.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "control/server_priv.h"
#include "core/addr.h"
#include "core/log.h"

#define MAX_BODY       (64 * 1024)
#define MAX_BODY_HTTPS (4 * 1024)
#define MAX_HEADERS    (8 * 1024)

#define SUN_PATH_MAX CONTROL_SUN_PATH_MAX

#define DEFAULT_TRIGGER_RATE    20
#define DEFAULT_MAX_CONNECTIONS 32

static const struct {
	int method;
	const char *name;
} method_names[] = {{EVHTTP_REQ_GET, "GET"}, {EVHTTP_REQ_POST, "POST"}};

void control_reply(struct evhttp_request *req, int code, const char *content_type, const char *body,
                   size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	if (!buf) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evbuffer_add(buf, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", content_type);
	control_send(req, code, buf);
	evbuffer_free(buf);
}

void control_send(struct evhttp_request *req, int code, struct evbuffer *body)
{
	char n[24];
	/* evhttp sends no Content-Length to an HTTP/1.0 request that does not
	 * keep the connection: without it, a reply cut short by a dropped
	 * connection would read as a whole one. */
	snprintf(n, sizeof(n), "%zu", evbuffer_get_length(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", n);
	evhttp_send_reply(req, code, NULL, body); /* libevent's standard reason phrase */
}

void control_reply_text(struct evhttp_request *req, int code, const char *text)
{
	control_reply(req, code, "text/plain", text, strlen(text));
}

static const char *method_name(int method)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if (method_names[i].method == method)
			return method_names[i].name;
	return "?";
}

/* "GET, POST": the Allow header of a 405 (RFC 9110 section 10.2.1). */
static void allow_header(int methods, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]); i++)
		if ((methods & method_names[i].method) && n < cap)
			n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "",
			                      method_names[i].name);
}

/* Exact, or under a route path ending in '/' ("/flows/" takes "/flows/17"). */
static bool path_matches(const char *route, const char *path)
{
	size_t n = strlen(route);
	if (n > 1 && route[n - 1] == '/')
		return strncmp(route, path, n) == 0 && path[n] != '\0';
	return strcmp(route, path) == 0;
}

static const struct control_route *find_route(const struct control_server *s, const char *path,
                                              void **argp)
{
	for (size_t t = 0; t < s->n_tables; t++)
		for (const struct control_route *r = s->tables[t].routes; r->path; r++)
			if (path_matches(r->path, path)) {
				*argp = s->tables[t].arg;
				return r;
			}
	return NULL;
}

/* The one place a listener decides whether a request may be served at all,
 * before anything else looks at it: 0 (client named), or it has been
 * answered. The unix socket authenticates by its file mode (0660 in a 0700
 * directory), so whoever connected may ask; a listener with credentials
 * checks the client certificate or token (admit.c). */
static int listener_admit(const struct control_listener *l, struct evhttp_request *req,
                          const char *path, char *client, size_t cap)
{
	if (l->credentials)
		return control_admit(l, req, path, client, cap);
	snprintf(client, cap, "unix");
	return 0;
}

/* A trigger sends packets: only its method, POST, is allowed. */
static bool is_trigger(const struct control_route *r)
{
	return r->methods == EVHTTP_REQ_POST;
}

static void method_not_allowed(struct evhttp_request *req, const struct control_route *r)
{
	char allow[32];
	allow_header(r->methods, allow, sizeof(allow));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
	log_info("control: %s %s: 405 %.*s", method_name(evhttp_request_get_command(req)), r->path,
	         (int)strcspn(r->usage, "\n"), r->usage);
	control_reply_text(req, 405, r->usage);
}

/* Every request comes here (evhttp's generic callback). The path is
 * percent-decoded (not '+') before the lookup, as evhttp_set_cb matches. */
static void dispatch(struct evhttp_request *req, void *arg)
{
	static const char not_found[] = "not found\n";
	const struct control_listener *l = arg;
	const char *raw = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	const struct control_route *r = NULL;
	void *harg = NULL;
	char client[CONTROL_RATE_CLIENT_MAX];
	char *path = evhttp_uridecode(raw ? raw : "", 0, NULL);
	control_https_request(req);
	if (!path) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (listener_admit(l, req, path, client, sizeof(client))) {
		free(path);
		return;
	}
	r = find_route(l->srv, path, &harg);
	free(path);
	if (!r)
		control_reply_text(req, HTTP_NOTFOUND, not_found);
	else if (!(r->methods & (int)evhttp_request_get_command(req)))
		method_not_allowed(req, r);
	else if (!is_trigger(r) || control_admit_trigger(l->srv, req, client))
		r->handler(req, harg);
}

int control_server_alloc(struct control_server **sp, struct event_base *base,
                         struct metrics_shard *shard)
{
	if (!sp || !base)
		return EINVAL;
	int rc = control_metrics_register();
	if (rc)
		return rc;
	struct control_server *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->base = base;
	s->shard = shard;
	s->access.trigger_rate = DEFAULT_TRIGGER_RATE;
	s->access.max_connections = DEFAULT_MAX_CONNECTIONS;
	*sp = s;
	return 0;
}

void control_server_set_access(struct control_server *s, const struct control_access *a)
{
	if (s && a)
		s->access = *a;
}

static int check_route(const struct control_server *s, const struct control_route *r)
{
	void *unused;
	if (!r->handler || !r->usage || !r->methods || (r->methods & ~CONTROL_SERVER_METHODS))
		return EINVAL;
	return find_route(s, r->path, &unused) ? EEXIST : 0;
}

int control_server_add(struct control_server *s, const struct control_route *routes, void *arg)
{
	if (!s || !routes)
		return EINVAL;
	if (s->n_tables == CONTROL_SERVER_MAX_TABLES)
		return ENOSPC;
	for (const struct control_route *r = routes; r->path; r++) {
		/* Also against the table's own earlier entries. */
		for (const struct control_route *e = routes; e != r; e++)
			if (strcmp(e->path, r->path) == 0)
				return EEXIST;
		int rc = check_route(s, r);
		if (rc)
			return rc;
	}
	s->tables[s->n_tables++] = (struct control_table){.routes = routes, .arg = arg};
	return 0;
}

/* mkdir -p of the socket's directory; new directories are private. */
static int make_parent(const char *path)
{
	char dir[SUN_PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			return errno;
		*p = '/';
	}
	return 0;
}

/* A socket file nobody answers on is left over from a crash: remove it. */
static int clear_stale(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	int in_use = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
	int err = errno;
	close(fd);
	if (in_use)
		return EADDRINUSE;
	if (err == ECONNREFUSED)
		unlink(sun->sun_path);
	return 0;
}

static int listen_unix(const char *path, evutil_socket_t *fdp)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path))
		return ENAMETOOLONG;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int err = make_parent(path);
	if (err || (err = clear_stale(&sun)))
		return err;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) || chmod(path, 0660) || listen(fd, 64)) {
		err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* An evhttp on fd for l, set up the same for every listener; fd is the
 * evhttp's on success, closed on failure. */
static int http_open(struct control_server *s, struct control_listener *l, evutil_socket_t fd)
{
	struct evconnlistener *lev =
	    evconnlistener_new(s->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	l->srv = s;
	l->http = evhttp_new(s->base);
	if (!lev || !l->http || !evhttp_bind_listener(l->http, lev)) {
		if (lev)
			evconnlistener_free(lev);
		else
			close(fd);
		if (l->http)
			evhttp_free(l->http);
		l->http = NULL;
		return ENOMEM;
	}
	evhttp_set_allowed_methods(l->http, CONTROL_SERVER_METHODS);
	evhttp_set_max_headers_size(l->http, (ev_ssize_t)MAX_HEADERS);
	evhttp_set_max_body_size(l->http, (ev_ssize_t)MAX_BODY);
	evhttp_set_timeout(l->http, CONTROL_TIMEOUT_S);
	evhttp_set_gencb(l->http, dispatch, l);
	return 0;
}

int control_server_listen_unix(struct control_server *s, const char *path, int flags, char *err,
                               size_t err_len)
{
	evutil_socket_t fd = -1;
	struct control_listener *l;
	int rc = !s || !path ? EINVAL : s->n_listeners == CONTROL_SERVER_MAX_LISTENERS ? ENOSPC : 0;
	if (rc)
		goto out;
	l = &s->listeners[s->n_listeners];
	rc = listen_unix(path, &fd);
	if (rc)
		goto out;
	rc = http_open(s, l, fd);
	if (rc) {
		unlink(path);
		goto out;
	}
	snprintf(l->path, sizeof(l->path), "%s", path);
	l->credentials = flags & CONTROL_LISTEN_CREDENTIALS;
	s->n_listeners++;
out:
	if (rc)
		snprintf(err, err_len, "control socket %s: %s", path ? path : "(none)",
		         strerror(rc));
	return rc;
}

static int listen_tcp(const struct sockaddr *addr, evutil_socket_t *fdp)
{
	int one = 1, err;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, addr, addr_len(addr)) || listen(fd, 64)) {
		err = errno;
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

int control_server_listen_https(struct control_server *s, const struct sockaddr *addr, SSL_CTX *ctx,
                                char *err, size_t err_len)
{
	char where[ADDR_STR_MAX] = "(none)";
	evutil_socket_t fd = -1;
	struct control_listener *l;
	int rc = !s || !addr || !ctx                              ? EINVAL
	         : s->n_listeners == CONTROL_SERVER_MAX_LISTENERS ? ENOSPC
	                                                          : 0;
	if (addr)
		addr_str(addr, where, sizeof(where));
	if (rc)
		goto out;
	l = &s->listeners[s->n_listeners];
	rc = listen_tcp(addr, &fd);
	if (!rc)
		rc = http_open(s, l, fd);
	if (rc)
		goto out;
	evhttp_set_max_body_size(l->http, (ev_ssize_t)MAX_BODY_HTTPS);
	rc = control_https_attach(l, ctx);
	if (rc) {
		evhttp_free(l->http);
		l->http = NULL;
		goto out;
	}
	l->credentials = true;
	s->n_listeners++;
out:
	if (rc)
		snprintf(err, err_len, "control_listen %s: %s", where, strerror(rc));
	return rc;
}

void control_server_set_tls(struct control_server *s, SSL_CTX *ctx)
{
	if (!s || !ctx)
		return;
	for (size_t i = 0; i < s->n_listeners; i++) {
		struct control_listener *l = &s->listeners[i];
		if (l->tls && SSL_CTX_up_ref(ctx)) {
			SSL_CTX_free(l->tls);
			l->tls = ctx;
		}
	}
}

void control_server_free(struct control_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_listeners; i++) {
		evhttp_free(s->listeners[i].http);
		if (s->listeners[i].tls)
			control_https_detach(&s->listeners[i]);
		if (s->listeners[i].path[0])
			unlink(s->listeners[i].path);
	}
	free(s);
}
