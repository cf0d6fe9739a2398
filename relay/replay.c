#include "relay/replay.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "relay/alloc.h"
#include "relay/hash.h"

#define KEY_LEN (16 + REPLAY_MAC_LEN) /* the longest transaction id, the MAC */

struct replay_entry {
	uint8_t key[KEY_LEN];
	union turn_sa src;
	enum turn_transport transport;
	time_t seen, expires; /* seen 0: a free slot */
	uint32_t next;        /* in its chain: index + 1, 0 ends */
};

int replay_init(struct replay *rp, size_t cap)
{
	memset(rp, 0, sizeof(*rp));
	rp->entry = calloc(cap, sizeof(*rp->entry));
	rp->bucket = calloc(cap, sizeof(*rp->bucket));
	if (!cap || !rp->entry || !rp->bucket) {
		replay_fini(rp);
		return ENOMEM;
	}
	rp->cap = cap;
	pthread_mutex_init(&rp->lock, NULL);
	return 0;
}

void replay_fini(struct replay *rp)
{
	if (rp->cap)
		pthread_mutex_destroy(&rp->lock);
	free(rp->entry);
	free(rp->bucket);
	memset(rp, 0, sizeof(*rp));
}

/* The transaction id and the MAC, zero-padded to KEY_LEN. */
static void key_of(const struct replay_req *q, uint8_t key[KEY_LEN])
{
	size_t tid_len = q->tid_len < 16 ? q->tid_len : 16;
	size_t mac_len = q->mac_len < REPLAY_MAC_LEN ? q->mac_len : REPLAY_MAC_LEN;
	memset(key, 0, KEY_LEN);
	memcpy(key, q->tid, tid_len);
	memcpy(key + 16, q->mac, mac_len);
}

static uint32_t *chain_of(struct replay *rp, const uint8_t key[KEY_LEN])
{
	return &rp->bucket[fnv1a(FNV1A_INIT, key, KEY_LEN) % rp->cap];
}

static struct replay_entry *find(struct replay *rp, const uint8_t key[KEY_LEN])
{
	for (uint32_t i = *chain_of(rp, key); i; i = rp->entry[i - 1].next)
		if (memcmp(rp->entry[i - 1].key, key, KEY_LEN) == 0)
			return &rp->entry[i - 1];
	return NULL;
}

/* Takes the oldest slot out of its chain; whether its nonce was still valid. */
static bool reuse_oldest(struct replay *rp, time_t now)
{
	struct replay_entry *e = &rp->entry[rp->next];
	if (!e->seen)
		return false;
	uint32_t *link = chain_of(rp, e->key);
	while (*link != rp->next + 1)
		link = &rp->entry[*link - 1].next;
	*link = e->next;
	return e->expires >= now;
}

static void record(struct replay *rp, const struct replay_req *q, const uint8_t key[KEY_LEN],
                   time_t now, bool *evicted)
{
	*evicted = reuse_oldest(rp, now);
	struct replay_entry *e = &rp->entry[rp->next];
	uint32_t *chain = chain_of(rp, key);
	memcpy(e->key, key, KEY_LEN);
	e->src = *q->src;
	e->transport = q->transport;
	e->seen = now ? now : 1;
	e->expires = q->expires;
	e->next = *chain;
	*chain = (uint32_t)rp->next + 1;
	rp->next = (rp->next + 1) % rp->cap;
}

enum replay_verdict replay_check(struct replay *rp, const struct replay_req *q, time_t now,
                                 bool *evicted)
{
	uint8_t key[KEY_LEN];
	enum replay_verdict v = REPLAY_NEW;
	key_of(q, key);
	*evicted = false;
	pthread_mutex_lock(&rp->lock);
	const struct replay_entry *e = find(rp, key);
	if (!e)
		record(rp, q, key, now, evicted);
	else if (e->transport == q->transport && turn_sa_equal(&e->src, q->src) &&
	         now - e->seen <= REPLAY_WINDOW)
		v = REPLAY_RETRANSMIT;
	else
		v = REPLAY_REPLAYED;
	pthread_mutex_unlock(&rp->lock);
	return v;
}
