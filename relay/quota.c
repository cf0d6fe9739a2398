#include "relay/quota.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "relay/hash.h"
#include "relay/turn_auth.h"

struct quota_user {
	struct quota_user *next;
	unsigned count;
	char name[TURN_USERNAME_MAX + 1];
};

static unsigned name_hash(const char *s)
{
	return fnv1a(FNV1A_INIT, s, strlen(s)) % QUOTA_BUCKETS;
}

void quota_init(struct quota *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
}

void quota_fini(struct quota *q)
{
	for (size_t i = 0; i < QUOTA_BUCKETS; i++) {
		while (q->bucket[i]) {
			struct quota_user *u = q->bucket[i];
			q->bucket[i] = u->next;
			free(u);
		}
	}
	pthread_mutex_destroy(&q->lock);
}

static struct quota_user **user_slot(struct quota *q, const char *user)
{
	struct quota_user **pp = &q->bucket[name_hash(user)];
	while (*pp && strcmp((*pp)->name, user) != 0)
		pp = &(*pp)->next;
	return pp;
}

int quota_take(struct quota *q, const char *user, unsigned user_max, unsigned total_max)
{
	int rc = 0;
	pthread_mutex_lock(&q->lock);
	struct quota_user **pp = user_slot(q, user);
	if (total_max && q->total >= total_max) {
		rc = ENOSPC;
	} else if (user_max && *pp && (*pp)->count >= user_max) {
		rc = EDQUOT;
	} else if (!*pp) {
		*pp = calloc(1, sizeof(**pp));
		if (*pp)
			snprintf((*pp)->name, sizeof((*pp)->name), "%s", user);
		else
			rc = ENOMEM;
	}
	if (!rc) {
		(*pp)->count++;
		q->total++;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void quota_release(struct quota *q, const char *user)
{
	pthread_mutex_lock(&q->lock);
	struct quota_user **pp = user_slot(q, user);
	if (*pp) {
		q->total--;
		if (--(*pp)->count == 0) {
			struct quota_user *u = *pp;
			*pp = u->next;
			free(u);
		}
	}
	pthread_mutex_unlock(&q->lock);
}

int quota_reserve(struct quota *q, const struct sockaddr *addr, time_t now, uint8_t token[8])
{
	int rc = ENOSPC;
	if (RAND_bytes(token, 8) != 1)
		return ENOSPC;
	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; i < QUOTA_RESERVATIONS_MAX; i++) {
		if (!q->res[i].expires) {
			memcpy(q->res[i].token, token, 8);
			memcpy(&q->res[i].addr, addr,
			       addr->sa_family == AF_INET ? sizeof(struct sockaddr_in)
			                                  : sizeof(struct sockaddr_in6));
			q->res[i].expires = now + QUOTA_RESERVATION_LIFE;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

int quota_claim(struct quota *q, const uint8_t token[8], time_t now, struct sockaddr_in6 *out)
{
	int rc = ENOENT;
	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; i < QUOTA_RESERVATIONS_MAX; i++) {
		struct quota_reservation *r = &q->res[i];
		if (r->expires && r->expires >= now && memcmp(r->token, token, 8) == 0) {
			memcpy(out, &r->addr, sizeof(*out));
			r->expires = 0;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

void quota_reservations_expire(struct quota *q, time_t now, void (*release)(uint16_t, void *),
                               void *arg)
{
	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; i < QUOTA_RESERVATIONS_MAX; i++) {
		if (q->res[i].expires && q->res[i].expires < now) {
			q->res[i].expires = 0;
			release(ntohs(q->res[i].addr.in.sin_port), arg);
		}
	}
	pthread_mutex_unlock(&q->lock);
}
