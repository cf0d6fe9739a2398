/* Prometheus metrics, `edgelab_` prefix, counters end in `_total`.
 *
 * Each module declares its own families (a name, a type, help text and at
 * most two label dimensions) next to its code and registers them once at
 * start-up with metrics_register; a family then owns a run of slots, one per
 * label value. A count is one call: metrics_inc(shard, &family, label).
 * The registry of families is process-wide (as a Prometheus client's
 * default registry is): families are declared statically, registration is
 * idempotent and done before the threads that count start, and every
 * struct metrics renders every registered family.
 *
 * One shard per thread (shard 0 is the main thread, 1..n the workers): a
 * thread only ever writes its own shard, with relaxed atomics, so the packet
 * path takes no lock and no locked instruction; a scrape sums the shards. */
#ifndef EDGELAB_CORE_METRICS_H
#define EDGELAB_CORE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define METRICS_SLOTS_MAX    512 /* all families' label values together */
#define METRICS_LABELS_MAX   64  /* label values of one family (both dimensions) */
#define METRICS_FAMILIES_MAX 96

enum metric_type { METRIC_COUNTER, METRIC_GAUGE };

struct metric_label {
	const char *name; /* NULL: no such dimension */
	const char *const *values;
	size_t n;
};

struct metric_family {
	const char *name;
	enum metric_type type;
	const char *help;
	struct metric_label label[2];
	/* Its first slot, set by metrics_register. Until then it is 0, and the
	 * first METRICS_LABELS_MAX slots are a sink that is never rendered: a
	 * count on an unregistered family is lost, never another's. */
	unsigned first;
};

/* Initialisers for a family's labels: none, one dimension, or two. */
#define METRIC_LABEL(name, values)                                                                 \
	{                                                                                          \
		name, values, sizeof(values) / sizeof((values)[0])                                 \
	}
#define METRIC_NO_LABELS                                                                           \
	{                                                                                          \
		{NULL, NULL, 0},                                                                   \
		{                                                                                  \
			NULL, NULL, 0                                                              \
		}                                                                                  \
	}

/* Registers a NULL-terminated list of families (a family already registered
 * is skipped). 0, EINVAL (no name, or more than METRICS_LABELS_MAX label
 * values) or ENOSPC (out of slots or families). Thread-safe. */
int metrics_register(struct metric_family *const *families);

/* The slot offset of label values (i, j) in a two-dimension family. */
static inline size_t metrics_label2(const struct metric_family *f, size_t i, size_t j)
{
	return i * f->label[1].n + j;
}

struct metrics_shard {
	_Atomic uint64_t v[METRICS_SLOTS_MAX];
};

struct metrics;

/* shards: 1 + workers. 0 or ENOMEM/EINVAL. */
int metrics_alloc(struct metrics **mp, size_t shards);
void metrics_free(struct metrics *m);
struct metrics_shard *metrics_shard(struct metrics *m, size_t i);

/* Single writer per shard: a plain load and store, no read-modify-write.
 * label: the label value's index (0 for a family without labels). */
static inline void metrics_add(struct metrics_shard *s, const struct metric_family *f, size_t label,
                               int64_t delta)
{
	_Atomic uint64_t *v = &s->v[f->first + label];
	atomic_store_explicit(v, atomic_load_explicit(v, memory_order_relaxed) + (uint64_t)delta,
	                      memory_order_relaxed);
}
static inline void metrics_inc(struct metrics_shard *s, const struct metric_family *f, size_t label)
{
	metrics_add(s, f, label, 1);
}

/* The sum over shards of one label value of a family (tests, the probe). */
uint64_t metrics_get(const struct metrics *m, const struct metric_family *f, size_t label);
/* Prometheus text exposition format 0.0.4: build info, workers, then every
 * registered family in registration order. 0 or errno. */
int metrics_render(const struct metrics *m, FILE *out);

#endif
