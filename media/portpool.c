#include "media/portpool.h"

#include <errno.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct port_pool {
	pthread_mutex_t lock;
	uint16_t min;
	size_t size; /* ports in the range */
	size_t in_use;
	uint64_t bits[]; /* bit i set: port min + i is taken */
};

static bool taken(const struct port_pool *p, size_t i)
{
	return p->bits[i / 64] >> (i % 64) & 1u;
}

static void mark(struct port_pool *p, size_t i, bool on)
{
	if (on)
		p->bits[i / 64] |= (uint64_t)1 << (i % 64);
	else
		p->bits[i / 64] &= ~((uint64_t)1 << (i % 64));
	p->in_use += on ? 1 : (size_t)-1;
}

int port_pool_alloc(struct port_pool **pp, uint16_t min, uint16_t max)
{
	if (!pp || min == 0 || min > max)
		return EINVAL;
	size_t size = (size_t)max - min + 1;
	struct port_pool *p = calloc(1, sizeof(*p) + (size + 63) / 64 * sizeof(uint64_t));
	if (!p)
		return ENOMEM;
	if (pthread_mutex_init(&p->lock, NULL)) {
		free(p);
		return ENOMEM;
	}
	p->min = min;
	p->size = size;
	*pp = p;
	return 0;
}

void port_pool_free(struct port_pool *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Whether index i can start an allocation of that shape. */
static bool fits(const struct port_pool *p, size_t i, bool even, bool pair)
{
	uint32_t port = p->min + (uint32_t)i;
	if (taken(p, i) || (even && port % 2))
		return false;
	return !pair || (i + 1 < p->size && !taken(p, i + 1));
}

int port_pool_take(struct port_pool *p, bool even, bool pair, uint16_t *port)
{
	uint32_t r = 0;
	RAND_bytes((unsigned char *)&r, sizeof(r)); /* on failure, start at 0 */
	pthread_mutex_lock(&p->lock);
	int rc = ENOSPC;
	for (size_t n = 0, i = r % p->size; n < p->size; n++, i = (i + 1) % p->size) {
		if (!fits(p, i, even || pair, pair))
			continue;
		mark(p, i, true);
		if (pair)
			mark(p, i + 1, true);
		*port = (uint16_t)(p->min + i);
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int port_pool_take_exact(struct port_pool *p, uint16_t port)
{
	if (port < p->min || (size_t)(port - p->min) >= p->size)
		return EINVAL;
	pthread_mutex_lock(&p->lock);
	size_t i = port - p->min;
	int rc = taken(p, i) ? EADDRINUSE : 0;
	if (!rc)
		mark(p, i, true);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void port_pool_release(struct port_pool *p, uint16_t port)
{
	if (port < p->min || (size_t)(port - p->min) >= p->size)
		return;
	pthread_mutex_lock(&p->lock);
	if (taken(p, port - p->min))
		mark(p, port - p->min, false);
	pthread_mutex_unlock(&p->lock);
}

size_t port_pool_in_use(struct port_pool *p)
{
	pthread_mutex_lock(&p->lock);
	size_t n = p->in_use;
	pthread_mutex_unlock(&p->lock);
	return n;
}

size_t port_pool_size(const struct port_pool *p)
{
	return p->size;
}

bool port_pool_contains(const struct port_pool *p, uint16_t port)
{
	/* min and size never change: no lock. */
	return port >= p->min && (size_t)(port - p->min) < p->size;
}
