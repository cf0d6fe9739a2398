/* Inside the control module: the flow registry. Every flow a trigger
 * starts (rows 2, 4, 5, strict-tcp) gets an id, counting up from 1, and a
 * record of how it ended (docs/control-api.md, "A flow's record"); the last
 * FLOWS_KEEP records are kept, older ones are forgotten. A reader may wait
 * for a pending record to end (GET /flows/ID?wait=MS): a waiter is called
 * once, when the record ends, when its time is over, when the record is
 * forgotten, or when the registry is freed; at most FLOWS_WAITERS_MAX wait
 * at once. Everything runs on one event loop; nothing here logs. */
#ifndef EDGELAB_CONTROL_FLOWS_H
#define EDGELAB_CONTROL_FLOWS_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "core/addr.h"
#include "core/sockerr.h"

#define FLOWS_KEEP        1024
#define FLOWS_WAITERS_MAX 256
#define FLOWS_WAIT_MAX_MS 10000
#define FLOWS_DETAIL_MAX  400
#define FLOWS_TEXT_MAX    1024 /* a formatted record fits */

enum flow_kind { FLOW_ROW2, FLOW_ROW4, FLOW_ROW5, FLOW_STRICT_TCP };

enum flow_outcome {
	FLOW_PENDING,
	FLOW_ANSWERED,
	FLOW_CONNECTED,
	FLOW_RESET,
	FLOW_ICMP,
	FLOW_TLS_FAILED,
	FLOW_TIMEOUT,
	FLOW_ERROR,
	FLOW_CANCELLED,
	FLOW_DNS, /* row2: the partner's DNS lookup failed; detail "WORD: ..." */
};

/* One flow. The strings are empty when unknown (and then not printed). */
struct flow_record {
	uint64_t id;
	enum flow_kind kind;
	char dialect[16];   /* row5: rfc5389 or msturn */
	char partner[256];  /* row2: the partner's domain */
	char dns_name[256]; /* row2, outcome dns: the name looked up */
	char target[ADDR_STR_MAX];
	char source[ADDR_STR_MAX];
	enum flow_outcome outcome;
	bool icmp; /* outcome icmp: icmp_err says which and from whom */
	struct sockerr_icmp icmp_err;
	struct timespec started, ended; /* CLOCK_MONOTONIC */
	char detail[FLOWS_DETAIL_MAX];
};

struct flows;
struct flows_waiter;

/* r: the record as it is now (ended, or still pending when the time is
 * over or it is being forgotten), valid during the call; NULL when the
 * registry is being freed and the record is gone. */
typedef void(flows_wake_h)(const struct flow_record *r, void *arg);

int flows_alloc(struct flows **fp, struct event_base *base);
/* Wakes every waiter (with its record as it is), then frees. NULL is fine. */
void flows_free(struct flows *f);

/* A new pending record of that kind, started now, with the next id; the
 * oldest record is forgotten when FLOWS_KEEP are kept. The pointer is good
 * until the next flows_add: hold the id, not the pointer. */
struct flow_record *flows_add(struct flows *f, enum flow_kind kind);
/* The record with that id, or NULL (never given, or forgotten). */
struct flow_record *flows_find(struct flows *f, uint64_t id);
/* The caller has set r's outcome (and detail, ...): stamps its end and
 * wakes its waiters. */
void flows_ended(struct flows *f, struct flow_record *r);

/* Waits up to ms for pending record id to end; *wp is the handle for
 * flows_wait_cancel. 0, ENOENT (no such record), EBUSY (FLOWS_WAITERS_MAX
 * wait already), ENOMEM. */
int flows_wait(struct flows *f, uint64_t id, unsigned ms, flows_wake_h *wake, void *arg,
               struct flows_waiter **wp);
/* Drops a waiter without calling it (its reader went away). */
void flows_wait_cancel(struct flows_waiter *w);
size_t flows_waiting(const struct flows *f);

const char *flows_kind_name(enum flow_kind kind);
const char *flows_outcome_name(enum flow_outcome outcome);
/* The record as text: "key: value" lines (docs/control-api.md); its length. */
size_t flows_format(const struct flow_record *r, char *buf, size_t cap);
/* Sets r's outcome and its detail (printf-style). */
void flows_set(struct flow_record *r, enum flow_outcome outcome, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Outcome icmp, r->icmp_err, and the detail "the edge's WHAT drew ICMP port
 * unreachable (type 3 code 3) from 192.0.2.1". */
void flows_set_icmp(struct flow_record *r, const char *what, const struct sockerr_icmp *e);

#endif
