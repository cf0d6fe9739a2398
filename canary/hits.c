/* The hits kept, and what recording one does (canary/canary_int.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "canary/canary_int.h"
#include "canary/marker.h"
#include "core/addr.h"
#include "core/log.h"

static const char *const proto_names[] = {"tcp", "udp"};

void canary_hits_init(struct canary_hits *h, struct metrics_shard *shard)
{
	memset(h, 0, sizeof(*h));
	h->shard = shard;
}

uint64_t canary_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const struct canary_hit *canary_hits_record(struct canary_hits *h, enum canary_proto proto,
                                            uint16_t port, const struct sockaddr *src, uint64_t ms,
                                            const uint8_t *bytes, size_t len, bool at_end)
{
	uint64_t id = ++h->last_id;
	struct canary_hit *hit = &h->ring[(id - 1) % CANARY_HITS_MAX];
	char from[ADDR_STR_MAX];
	memset(hit, 0, sizeof(*hit));
	hit->id = id;
	hit->proto = proto;
	hit->port = port;
	hit->ms = ms;
	addr_unmap(src, &hit->src);
	if (canary_marker_find(bytes, len < CANARY_READ_MAX ? len : CANARY_READ_MAX, at_end,
	                       hit->marker) != CANARY_MARKER_FOUND)
		hit->marker[0] = '\0';
	if (h->count < CANARY_HITS_MAX)
		h->count++;
	log_info("canary: %s %u hit from %s marker=%s", proto_names[proto], port,
	         addr_str((struct sockaddr *)&hit->src, from, sizeof(from)),
	         hit->marker[0] ? hit->marker : "-");
	if (h->shard)
		metrics_inc(h->shard, &metric_canary_hits_total, proto);
	if (h->observer)
		h->observer(hit, h->observer_arg);
	return hit;
}

size_t canary_hits_each(const struct canary_hits *h, const char *marker, canary_hit_h *fn,
                        void *arg)
{
	size_t n = 0;
	for (uint64_t id = h->last_id - h->count + 1; id <= h->last_id; id++) {
		const struct canary_hit *hit = &h->ring[(id - 1) % CANARY_HITS_MAX];
		if (marker && strcmp(hit->marker, marker) != 0)
			continue;
		fn(hit, arg);
		n++;
	}
	return n;
}
