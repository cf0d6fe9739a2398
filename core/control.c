#include "core/control.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct control {
	struct evhttp *http;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

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
	evhttp_send_reply(req, code, NULL, buf); /* libevent's standard reason phrase */
	evbuffer_free(buf);
}

static void not_found(struct evhttp_request *req, void *arg)
{
	(void)arg;
	static const char body[] = "not found\n";
	control_reply(req, HTTP_NOTFOUND, "text/plain", body, sizeof(body) - 1);
}

/* mkdir -p of the socket's directory; new directories are private. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
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

int control_alloc(struct control **cp, struct event_base *base, const char *socket_path, char *err,
                  size_t err_len)
{
	evutil_socket_t fd = -1;
	struct control *c = calloc(1, sizeof(*c));
	int rc = c ? 0 : ENOMEM;
	if (rc)
		goto out;
	snprintf(c->path, sizeof(c->path), "%s", socket_path);
	rc = listen_unix(socket_path, &fd);
	if (rc)
		goto out;
	struct evconnlistener *lev =
	    evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE, -1, fd);
	c->http = evhttp_new(base);
	if (!lev || !c->http || !evhttp_bind_listener(c->http, lev)) {
		if (lev)
			evconnlistener_free(lev);
		else
			close(fd);
		unlink(socket_path);
		rc = ENOMEM;
		goto out;
	}
	evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_max_body_size(c->http, (ev_ssize_t)64 * 1024);
	evhttp_set_timeout(c->http, 10);
	evhttp_set_gencb(c->http, not_found, NULL);
out:
	if (rc) {
		snprintf(err, err_len, "control socket %s: %s", socket_path, strerror(rc));
		control_free(c);
		return rc;
	}
	*cp = c;
	return 0;
}

int control_route(struct control *c, const char *path, control_handler_h *h, void *arg)
{
	return evhttp_set_cb(c->http, path, h, arg) ? EEXIST : 0;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	if (c->http) {
		evhttp_free(c->http);
		unlink(c->path);
	}
	free(c);
}
