/* GET /healthz (the process serves) and GET /metrics (Prometheus text). */
#include <errno.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>

#include "control/api.h"

static void healthz_handler(struct evhttp_request *req, void *arg)
{
	(void)arg;
	control_reply_text(req, HTTP_OK, "ok\n");
}

static void metrics_handler(struct evhttp_request *req, void *arg)
{
	const struct control_ctx *ctx = arg;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rc = f ? metrics_render(ctx->metrics, f) : ENOMEM;
	if (f)
		fclose(f);
	if (rc || !text)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		control_reply(req, HTTP_OK, "text/plain; version=0.0.4", text, len);
	free(text);
}

/* POST too: the server has always answered it on these paths. */
static const struct control_route routes[] = {
    {"/healthz", EVHTTP_REQ_GET | EVHTTP_REQ_POST, healthz_handler, "GET /healthz\n"},
    {"/metrics", EVHTTP_REQ_GET | EVHTTP_REQ_POST, metrics_handler, "GET /metrics\n"},
    {NULL, 0, NULL, NULL},
};

const struct control_api control_api_status = {.name = "status", .routes = routes};
