/* A refusal's one log line and count (control/server_priv.h), for the
 * files that refuse: admission (admit.c) and the HTTPS connections
 * (https.c). */
#include "control/server_priv.h"
#include "core/log.h"

void control_refused(struct control_server *s, const char *peer, enum control_refusal why,
                     const char *detail)
{
	if (s->shard)
		metrics_inc(s->shard, &metric_control_refused_total, why);
	log_warn("control: refused %s: %s%s%s%s", peer, control_refusal_name(why),
	         detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
}
