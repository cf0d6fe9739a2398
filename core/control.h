/* The control API: HTTP (libevent evhttp) on a unix socket, served by the
 * main thread's event loop. Handlers register per path; an unknown path gets
 * 404. /healthz and /metrics are registered by the serve verb; later issues
 * add the outbound-row triggers here. */
#ifndef EDGELAB_CORE_CONTROL_H
#define EDGELAB_CORE_CONTROL_H

#include <event2/event.h>
#include <event2/http.h>
#include <stddef.h>

struct control;

typedef void(control_handler_h)(struct evhttp_request *req, void *arg);

/* Listens on socket_path (its directory is created, mode 0700 when new). A
 * stale socket is replaced; one that another process still answers on is an
 * error (EADDRINUSE). err gets a sentence on failure. */
int control_alloc(struct control **cp, struct event_base *base, const char *socket_path, char *err,
                  size_t err_len);
int control_route(struct control *c, const char *path, control_handler_h *h, void *arg);
/* Closes the listener and removes the socket file. NULL is fine. */
void control_free(struct control *c);

/* Replies with a whole body of that content type. */
void control_reply(struct evhttp_request *req, int code, const char *content_type, const char *body,
                   size_t len);

#endif
