#include "core/metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "config.h"

struct metrics {
	size_t nshards;
	struct metrics_shard shards[];
};

/* The registry: families in registration order, and the next free slot
 * (the first METRICS_LABELS_MAX are the unregistered families' sink). */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct metric_family *registry[METRICS_FAMILIES_MAX];
static size_t n_registered;
static unsigned next_slot = METRICS_LABELS_MAX;

static size_t label_count(const struct metric_family *f)
{
	size_t n1 = f->label[0].name ? f->label[0].n : 1;
	size_t n2 = f->label[1].name ? f->label[1].n : 1;
	return n1 * n2;
}

static int register_one(struct metric_family *f)
{
	size_t n = label_count(f);
	if (f->first)
		return 0;
	if (!f->name || !f->help || n == 0 || n > METRICS_LABELS_MAX ||
	    (f->label[1].name && !f->label[0].name))
		return EINVAL;
	if (n_registered == METRICS_FAMILIES_MAX || next_slot + n > METRICS_SLOTS_MAX)
		return ENOSPC;
	f->first = next_slot;
	next_slot += (unsigned)n;
	registry[n_registered++] = f;
	return 0;
}

int metrics_register(struct metric_family *const *families)
{
	int rc = 0;
	pthread_mutex_lock(&registry_lock);
	for (size_t i = 0; !rc && families[i]; i++)
		rc = register_one(families[i]);
	pthread_mutex_unlock(&registry_lock);
	return rc;
}

int metrics_alloc(struct metrics **mp, size_t shards)
{
	if (!mp || shards == 0)
		return EINVAL;
	struct metrics *m = calloc(1, sizeof(*m) + shards * sizeof(m->shards[0]));
	if (!m)
		return ENOMEM;
	m->nshards = shards;
	*mp = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	free(m);
}

struct metrics_shard *metrics_shard(struct metrics *m, size_t i)
{
	return i < m->nshards ? &m->shards[i] : NULL;
}

static uint64_t slot_sum(const struct metrics *m, size_t slot)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < m->nshards; i++)
		sum += atomic_load_explicit(&m->shards[i].v[slot], memory_order_relaxed);
	return sum;
}

uint64_t metrics_get(const struct metrics *m, const struct metric_family *f, size_t label)
{
	return f->first && label < label_count(f) ? slot_sum(m, f->first + label) : 0;
}

static void render_family(const struct metrics *m, const struct metric_family *f, FILE *out)
{
	const struct metric_label *l1 = &f->label[0], *l2 = &f->label[1];
	size_t n1 = l1->name ? l1->n : 1, n2 = l2->name ? l2->n : 1;
	fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
	        f->type == METRIC_GAUGE ? "gauge" : "counter");
	for (size_t i = 0; i < n1; i++) {
		for (size_t j = 0; j < n2; j++) {
			fprintf(out, "%s", f->name);
			if (l2->name)
				fprintf(out, "{%s=\"%s\",%s=\"%s\"}", l1->name, l1->values[i],
				        l2->name, l2->values[j]);
			else if (l1->name)
				fprintf(out, "{%s=\"%s\"}", l1->name, l1->values[i]);
			fprintf(out, " %llu\n",
			        (unsigned long long)slot_sum(m, f->first + i * n2 + j));
		}
	}
}

int metrics_render(const struct metrics *m, FILE *out)
{
	fprintf(out,
	        "# HELP edgelab_build_info edgelab version\n# TYPE edgelab_build_info gauge\n");
	fprintf(out, "edgelab_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	fprintf(out, "# HELP edgelab_workers worker threads\n# TYPE edgelab_workers gauge\n");
	fprintf(out, "edgelab_workers %zu\n", m->nshards - 1);
	pthread_mutex_lock(&registry_lock);
	size_t n = n_registered;
	pthread_mutex_unlock(&registry_lock);
	for (size_t i = 0; i < n; i++)
		render_family(m, registry[i], out);
	return ferror(out) ? EIO : 0;
}
