/* Inside the control module: a file of handlers offers one control_api, a
 * const table of routes (control/server.h) and, when its handlers keep
 * state, how that state is made from the context and ended. control.c lists
 * them; nothing else registers routes. The flow registry (control/flows.h)
 * is the module's, made by control.c before any API opens and freed after
 * they are all closed: every API's open gets it. */
#ifndef EDGELAB_CONTROL_API_H
#define EDGELAB_CONTROL_API_H

#include "control/control.h"
#include "control/flows.h"
#include "control/server.h"

struct control_api {
	const char *name;                   /* for start-up errors */
	const struct control_route *routes; /* ends with a NULL path */
	/* NULL: the handlers' arg is the context itself. Else the handlers'
	 * arg is *statep; ctx and flows outlive the state. 0 or an errno. */
	int (*open)(void **statep, const struct control_ctx *ctx, struct flows *flows);
	/* NULL, or lets go of requests the handlers hold (a long poll) before
	 * the listeners, and every request on them, are freed. */
	void (*stop)(void *state);
	void (*close)(void *state); /* after the listeners are gone */
};

extern const struct control_api control_api_status;     /* control/status.c */
extern const struct control_api control_api_rows_sip;   /* control/rows_sip.c */
extern const struct control_api control_api_rows_media; /* control/rows_media.c */
extern const struct control_api control_api_canary;     /* control/canary.c */
extern const struct control_api control_api_flows;      /* control/flows_get.c */

#endif
