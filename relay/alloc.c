#include "relay/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "relay/hash.h"

bool turn_sa_set(union turn_sa *out, const struct sockaddr *sa)
{
	struct sockaddr_storage u;
	memset(out, 0, sizeof(*out));
	addr_unmap(sa, &u);
	if (u.ss_family == AF_INET)
		memcpy(&out->in, &u, sizeof(out->in));
	else if (u.ss_family == AF_INET6)
		memcpy(&out->in6, &u, sizeof(out->in6));
	else
		return false;
	return true;
}

bool turn_sa_same_ip(const union turn_sa *a, const union turn_sa *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	if (a->sa.sa_family == AF_INET)
		return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
	return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

bool turn_sa_equal(const union turn_sa *a, const union turn_sa *b)
{
	return turn_sa_same_ip(a, b) && addr_port(&a->sa) == addr_port(&b->sa);
}

/* FNV-1a over the IP bytes, and the port when with_port. */
static uint32_t sa_hash(const union turn_sa *sa, bool with_port)
{
	uint32_t h = sa->sa.sa_family == AF_INET ? fnv1a(FNV1A_INIT, &sa->in.sin_addr, 4)
	                                         : fnv1a(FNV1A_INIT, &sa->in6.sin6_addr, 16);
	if (with_port) {
		uint8_t port[2] = {(uint8_t)(addr_port(&sa->sa) >> 8), (uint8_t)addr_port(&sa->sa)};
		h = fnv1a(h, port, sizeof(port));
	}
	return h;
}

/* --- the table ------------------------------------------------------- */

static uint32_t tuple_hash(const union turn_sa *client, enum turn_transport tr,
                           const struct relay_conn *conn)
{
	uint32_t h = sa_hash(client, true) ^ (uint32_t)tr;
	h ^= (uint32_t)((uintptr_t)conn >> 4);
	return h % TURN_TABLE_BUCKETS;
}

struct turn_alloc *turn_table_find(struct turn_table *t, const union turn_sa *client,
                                   enum turn_transport tr, const struct relay_conn *conn)
{
	for (struct turn_alloc *a = t->bucket[tuple_hash(client, tr, conn)]; a; a = a->next)
		if (a->client_transport == tr && a->client_conn == conn &&
		    turn_sa_equal(&a->client, client))
			return a;
	return NULL;
}

void turn_table_insert(struct turn_table *t, struct turn_alloc *a)
{
	uint32_t b = tuple_hash(&a->client, a->client_transport, a->client_conn);
	a->next = t->bucket[b];
	t->bucket[b] = a;
	a->table = t;
	t->count++;
}

void turn_table_remove(struct turn_table *t, struct turn_alloc *a)
{
	uint32_t b = tuple_hash(&a->client, a->client_transport, a->client_conn);
	for (struct turn_alloc **pp = &t->bucket[b]; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			t->count--;
			a->table = NULL;
			return;
		}
	}
}

/* --- permissions and channels ------------------------------------------ */

/* Grows an array of elem-sized entries to hold one more, up to max. */
static int grow(void **arr, uint8_t *cap, uint8_t n, size_t elem, uint8_t max)
{
	if (n < *cap)
		return 0;
	if (n >= max)
		return ENOSPC;
	uint8_t new_cap = *cap ? (uint8_t)(*cap * 2 > max ? max : *cap * 2) : 4;
	void *p = realloc(*arr, new_cap * elem);
	if (!p)
		return ENOMEM;
	*arr = p;
	*cap = new_cap;
	return 0;
}

const struct turn_perm *turn_perm_find(const struct turn_alloc *a, const union turn_sa *peer,
                                       time_t now)
{
	uint8_t i = a->perm_head[sa_hash(peer, false) % TURN_INDEX_BUCKETS];
	for (; i; i = a->perms[i - 1].next) {
		const struct turn_perm *p = &a->perms[i - 1];
		if (turn_sa_same_ip(&p->peer, peer))
			return p->expires >= now ? p : NULL;
	}
	return NULL;
}

int turn_perm_add(struct turn_alloc *a, const union turn_sa *peer, time_t now)
{
	uint8_t *head = &a->perm_head[sa_hash(peer, false) % TURN_INDEX_BUCKETS];
	for (uint8_t i = *head; i; i = a->perms[i - 1].next) {
		if (turn_sa_same_ip(&a->perms[i - 1].peer, peer)) {
			a->perms[i - 1].expires = now + TURN_PERM_LIFETIME;
			return 0;
		}
	}
	int rc =
	    grow((void **)&a->perms, &a->perms_cap, a->n_perms, sizeof(*a->perms), TURN_PERMS_MAX);
	if (rc)
		return rc;
	struct turn_perm *p = &a->perms[a->n_perms++];
	p->peer = *peer;
	p->expires = now + TURN_PERM_LIFETIME;
	p->next = *head;
	*head = a->n_perms;
	return 0;
}

static struct turn_chan *chan_by_number(const struct turn_alloc *a, uint16_t number)
{
	uint8_t i = a->chan_num_head[number % TURN_INDEX_BUCKETS];
	for (; i; i = a->chans[i - 1].next_by_number)
		if (a->chans[i - 1].number == number)
			return &a->chans[i - 1];
	return NULL;
}

static struct turn_chan *chan_by_peer(const struct turn_alloc *a, const union turn_sa *peer)
{
	uint8_t i = a->chan_peer_head[sa_hash(peer, true) % TURN_INDEX_BUCKETS];
	for (; i; i = a->chans[i - 1].next_by_peer)
		if (turn_sa_equal(&a->chans[i - 1].peer, peer))
			return &a->chans[i - 1];
	return NULL;
}

const struct turn_chan *turn_chan_by_number(const struct turn_alloc *a, uint16_t number, time_t now)
{
	const struct turn_chan *c = chan_by_number(a, number);
	return c && c->expires >= now ? c : NULL;
}

const struct turn_chan *turn_chan_by_peer(const struct turn_alloc *a, const union turn_sa *peer,
                                          time_t now)
{
	const struct turn_chan *c = chan_by_peer(a, peer);
	return c && c->expires >= now ? c : NULL;
}

int turn_chan_bind(struct turn_alloc *a, uint16_t number, const union turn_sa *peer, time_t now)
{
	struct turn_chan *by_num = chan_by_number(a, number);
	struct turn_chan *by_peer = chan_by_peer(a, peer);
	if (by_num != by_peer)
		return EEXIST;
	if (by_num) {
		by_num->expires = now + TURN_CHAN_LIFETIME;
		return 0;
	}
	int rc = grow((void **)&a->chans, &a->chans_cap, a->n_chans, sizeof(*a->chans),
	              TURN_CHANNELS_MAX);
	if (rc)
		return rc;
	struct turn_chan *c = &a->chans[a->n_chans++];
	c->peer = *peer;
	c->number = number;
	c->expires = now + TURN_CHAN_LIFETIME;
	uint8_t *num_head = &a->chan_num_head[number % TURN_INDEX_BUCKETS];
	uint8_t *peer_head = &a->chan_peer_head[sa_hash(peer, true) % TURN_INDEX_BUCKETS];
	c->next_by_number = *num_head;
	c->next_by_peer = *peer_head;
	*num_head = *peer_head = a->n_chans;
	return 0;
}

void turn_alloc_sweep(struct turn_alloc *a, time_t now)
{
	uint8_t n = 0;
	memset(a->perm_head, 0, sizeof(a->perm_head));
	for (uint8_t i = 0; i < a->n_perms; i++) {
		if (a->perms[i].expires < now)
			continue;
		struct turn_perm p = a->perms[i];
		uint8_t *head = &a->perm_head[sa_hash(&p.peer, false) % TURN_INDEX_BUCKETS];
		p.next = *head;
		a->perms[n++] = p;
		*head = n;
	}
	a->n_perms = n;
	n = 0;
	memset(a->chan_num_head, 0, sizeof(a->chan_num_head));
	memset(a->chan_peer_head, 0, sizeof(a->chan_peer_head));
	for (uint8_t i = 0; i < a->n_chans; i++) {
		if (a->chans[i].expires < now)
			continue;
		struct turn_chan c = a->chans[i];
		uint8_t *num_head = &a->chan_num_head[c.number % TURN_INDEX_BUCKETS];
		uint8_t *peer_head =
		    &a->chan_peer_head[sa_hash(&c.peer, true) % TURN_INDEX_BUCKETS];
		c.next_by_number = *num_head;
		c.next_by_peer = *peer_head;
		a->chans[n++] = c;
		*num_head = *peer_head = n;
	}
	a->n_chans = n;
}

void turn_alloc_clear(struct turn_alloc *a)
{
	free(a->perms);
	free(a->chans);
	a->perms = NULL;
	a->chans = NULL;
	a->n_perms = a->n_chans = a->perms_cap = a->chans_cap = 0;
}
