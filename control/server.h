/* The control API's HTTP server (libevent evhttp), inside the control
 * module: listeners, dispatch by path over tables of handlers, replies. It
 * knows no handler of its own; control/control.c gives it the tables.
 *
 * Dispatch: a request's path (percent-decoded, without its query) picks the
 * one route with that exact path, or whose path ends in '/' and is the
 * request path's beginning ("/flows/" takes "/flows/17", not "/flows/"); none is 404 "not found"; a
 * method the route does not allow is 405 with an Allow header listing the route's methods and the
 * route's usage line as the body (logged). Only then is the handler called, so a handler never
 * checks the method. A method no route may allow (anything but GET and POST) is evhttp's 501. Each
 * listener has its own evhttp and the same tables; a request passes its listener's admission check
 * before the lookup (the unix socket's is its file mode).
 *
 * Limits: request bodies 64 KiB, 10 s to read a request, at most
 * CONTROL_SERVER_MAX_TABLES tables and CONTROL_SERVER_MAX_LISTENERS
 * listeners. The server never logs except the 405s; errors are returned. */
#ifndef EDGELAB_CONTROL_SERVER_H
#define EDGELAB_CONTROL_SERVER_H

#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>

#define CONTROL_SERVER_MAX_TABLES    8
#define CONTROL_SERVER_MAX_LISTENERS 2 /* the unix socket; room for HTTPS */
#define CONTROL_SERVER_METHODS       (EVHTTP_REQ_GET | EVHTTP_REQ_POST)

struct control_server;

/* Replies to req (exactly once), with whatever status and body it likes. */
typedef void(control_handler_h)(struct evhttp_request *req, void *arg);

/* One entry of a table. A table is a const array ending with an entry whose
 * path is NULL; it is not copied, so it must outlive the server (a static
 * one does). */
struct control_route {
	const char *path;           /* exact, e.g. "/rows/2"; "/flows/": what is under it */
	int methods;                /* EVHTTP_REQ_GET and/or EVHTTP_REQ_POST */
	control_handler_h *handler; /* called only for an allowed method */
	const char *usage;          /* the 405 body: one line, ending in '\n' */
};

int control_server_alloc(struct control_server **sp, struct event_base *base);
/* Serves routes; their handlers get arg. 0, EINVAL (an entry without a
 * handler or usage, or with methods outside CONTROL_SERVER_METHODS), EEXIST
 * (a path another entry has) or ENOSPC (too many tables). */
int control_server_add(struct control_server *s, const struct control_route *routes, void *arg);
/* Listens on a unix socket at path (its directory is created, mode 0700
 * when new; the socket is 0660). A stale socket file is replaced; one that
 * another server still answers on is EADDRINUSE and is left alone. err gets
 * "control socket PATH: reason" on failure. */
int control_server_listen_unix(struct control_server *s, const char *path, char *err,
                               size_t err_len);
/* Closes the listeners (removing their socket files) and frees the server.
 * NULL is fine. */
void control_server_free(struct control_server *s);

/* Replies with a whole body of that content type. */
void control_reply(struct evhttp_request *req, int code, const char *content_type, const char *body,
                   size_t len);
/* The same, text/plain, body a C string. */
void control_reply_text(struct evhttp_request *req, int code, const char *text);

#endif
