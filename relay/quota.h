/* What every worker's relay shares, besides the port pool: allocation
 * counts per user and in total (the 486 and 508 quotas) and EVEN-PORT
 * reservations, which a later Allocate may claim from another 5-tuple and
 * so from another worker. One mutex, taken on Allocate and on release,
 * never on the packet path. */
#ifndef EDGELAB_RELAY_QUOTA_H
#define EDGELAB_RELAY_QUOTA_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define QUOTA_BUCKETS          256
#define QUOTA_RESERVATIONS_MAX 1024
#define QUOTA_RESERVATION_LIFE 30 /* seconds, RFC 8656 section 7.2 */

struct quota_user;

struct quota_reservation {
	uint8_t token[8];
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} addr;         /* the reserved relayed address: family, IP and port */
	time_t expires; /* 0: free slot */
};

struct quota {
	pthread_mutex_t lock;
	struct quota_user *bucket[QUOTA_BUCKETS];
	unsigned total;
	struct quota_reservation res[QUOTA_RESERVATIONS_MAX];
};

void quota_init(struct quota *q);
/* Frees the counts; reservations' ports are the caller's to release
 * (quota_reservations_expire with a time far ahead). */
void quota_fini(struct quota *q);

/* Counts an allocation for user: 0, EDQUOT (user_max reached: 486) or
 * ENOSPC (total_max reached: 508) or ENOMEM. A max of 0 is no limit. */
int quota_take(struct quota *q, const char *user, unsigned user_max, unsigned total_max);
void quota_release(struct quota *q, const char *user);

/* Stores a reservation of a relayed address (IPv4 or IPv6, port set),
 * writing its token. 0 or ENOSPC. */
int quota_reserve(struct quota *q, const struct sockaddr *addr, time_t now, uint8_t token[8]);
/* Claims the address of a live reservation into out (sockaddr_in6-sized):
 * 0, or ENOENT. */
int quota_claim(struct quota *q, const uint8_t token[8], time_t now, struct sockaddr_in6 *out);
/* Removes reservations expired at now, calling release(port, arg) for each. */
void quota_reservations_expire(struct quota *q, time_t now, void (*release)(uint16_t, void *),
                               void *arg);

#endif
