/* FNV-1a, the one hash the relay's tables use (allocations, permissions,
 * channels, quotas, the 401 limiter): short keys, no secret needed because
 * every table is bounded and collisions only cost a longer chain. */
#ifndef EDGELAB_RELAY_HASH_H
#define EDGELAB_RELAY_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A_INIT 2166136261u

static inline uint32_t fnv1a(uint32_t h, const void *data, size_t len)
{
	const uint8_t *p = data;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

#endif
