/* An assessment's reports (assess/report.h). */
#include <string.h>
#include <time.h>

#include "assess/report.h"
#include "core/addr.h"
#include "core/escape.h"
#include "core/textout.h"

/* The caller's CPU share above which a step's misses may be its own. */
#define CALLER_BUSY 0.9

static const struct {
	unsigned bit;
	const char *name;
} metric_names[] = {
    {ASSESS_NOTHING_BACK, "nothing back"}, {ASSESS_LOSS, "loss"},
    {ASSESS_BURST, "burst loss"},          {ASSESS_JITTER, "jitter"},
    {ASSESS_REORDER, "reorder"},           {ASSESS_RTT, "RTT"},
};

const char *assess_miss_str(unsigned miss, char *buf, size_t cap)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(metric_names) / sizeof(metric_names[0]); i++) {
		if (!(miss & metric_names[i].bit) || used >= cap)
			continue;
		int n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "",
		                 metric_names[i].name);
		used += n > 0 ? (size_t)n : 0;
	}
	return buf;
}

const char *assess_transport_name(enum assess_transport t)
{
	return t == ASSESS_TRANSPORT_UDP   ? "UDP"
	       : t == ASSESS_TRANSPORT_TCP ? "TCP"
	                                   : "TCP with pseudo-TLS";
}

static const char *dialect_name(enum assess_dialect d)
{
	return d == ASSESS_DIALECT_MSTURN ? "MS-TURN" : "RFC 5766 TURN";
}

/* The worst of a step's calls that streamed. */
static void step_worst(const struct assess_step *st, struct assess_stats *w)
{
	memset(w, 0, sizeof(*w));
	for (uint32_t i = 0; i < st->calls; i++) {
		const struct assess_stats *s = &st->call[i].stats;
		if (st->call[i].error[0])
			continue;
#define WORST(f)                                                                                   \
	if (s->f > w->f)                                                                           \
	w->f = s->f
		WORST(loss_worst);
		WORST(burst_worst);
		WORST(jitter_worst_ms);
		WORST(rtt_ms);
		WORST(rtt_max_ms);
		WORST(reorder);
#undef WORST
	}
}

static void text_call(struct out *w, const struct assess_call *c)
{
	char miss[96];
	if (c->error[0]) {
		out_printf(w, "%-5u FAILED  ", c->id);
		out_escaped(w, c->error, strnlen(c->error, sizeof(c->error)), esc_text, "?");
		out_printf(w, "\n");
		return;
	}
	const struct assess_stats *s = &c->stats;
	out_printf(w, "%-5u %7.2f%% %7.2f%% %6.1f%% %7.2fms %7.2fms %7.3f%% %7u %7u  %s\n", c->id,
	           s->loss * 100, s->loss_worst * 100, s->burst_worst * 100, s->jitter_worst_ms,
	           s->rtt_ms, s->reorder * 100, s->sent, s->received,
	           c->miss ? assess_miss_str(c->miss, miss, sizeof(miss)) : "met");
}

static void text_step(struct out *w, uint32_t k, const struct assess_step *st)
{
	struct assess_stats worst;
	step_worst(st, &worst);
	out_printf(w, "%-5u %6u %6u %7u %7u %7.2f%% %6.1f%% %7.2fms %7.2fms %7.2fms %5.2f\n", k + 1,
	           st->calls, st->met, st->calls - st->met - st->failed, st->failed,
	           worst.loss_worst * 100, worst.burst_worst * 100, worst.jitter_worst_ms,
	           worst.rtt_ms, worst.rtt_max_ms, st->cpu);
}

/* Why the last step missed: the metrics its calls missed, the failures. */
static void text_why(struct out *w, const struct assess_step *st)
{
	unsigned miss = 0;
	const char *failure = NULL;
	for (uint32_t i = 0; i < st->calls; i++) {
		if (st->call[i].error[0] && !failure)
			failure = st->call[i].error;
		if (!st->call[i].error[0])
			miss |= st->call[i].miss;
	}
	char names[96];
	if (miss)
		out_printf(w, "; missed: %s", assess_miss_str(miss, names, sizeof(names)));
	if (failure) {
		out_printf(w, "; %u failed, the first: ", st->failed);
		out_escaped(w, failure, strlen(failure), esc_text, "?");
	}
}

int assess_report_text(FILE *f, const struct assess_opts *o, const struct assess_result *r)
{
	struct out w = {f, 0};
	char server[64], reflector[64];
	const struct assess_targets *t = assess_targets(o->profile);
	addr_str((const struct sockaddr *)&o->server, server, sizeof(server));
	addr_str((const struct sockaddr *)&o->reflector, reflector, sizeof(reflector));
	out_printf(&w,
	           "edgelab assess: %s over %s to %s, reflector %s%s; %u s a call, %u packets/s of "
	           "%u bytes\n",
	           dialect_name(o->dialect), assess_transport_name(o->transport), server, reflector,
	           o->reflect_here ? "" : " (elsewhere)", o->duration_s, o->rate, o->size);
	out_printf(
	    &w,
	    "%s targets: loss < %g %% in any 15 s, burst loss < %g %% in any 200 ms, jitter < "
	    "%g ms, reorder < %g %%, RTT < %g ms\n\n",
	    t->name, t->loss * 100, t->burst * 100, t->jitter_ms, t->reorder * 100, t->rtt_ms);
	for (uint32_t k = 0; k < r->nsteps && r->nsteps == 1; k++) {
		const struct assess_step *st = &r->steps[k];
		out_printf(&w, "%-5s %8s %8s %7s %9s %9s %8s %7s %7s  %s\n", "CALL", "LOSS",
		           "LOSS15", "BURST", "JITTER", "RTT", "REORDER", "SENT", "RECV",
		           "TARGETS");
		for (uint32_t i = 0; i < st->calls && i < ASSESS_TEXT_CALLS_MAX; i++)
			text_call(&w, &st->call[i]);
		if (st->calls > ASSESS_TEXT_CALLS_MAX)
			out_printf(&w, "... and %u more calls (--tsv, --json)\n",
			           st->calls - ASSESS_TEXT_CALLS_MAX);
		out_printf(&w, "\n");
	}
	out_printf(&w, "%-5s %6s %6s %7s %7s %8s %7s %9s %9s %9s %5s\n", "STEP", "CALLS", "MET",
	           "MISSED", "FAILED", "LOSS15", "BURST", "JITTER", "MEAN RTT", "MAX RTT", "CPU");
	for (uint32_t k = 0; k < r->nsteps; k++)
		text_step(&w, k, &r->steps[k]);
	out_printf(&w, "(the worst call of each step; CPU: this process's, in cores)\n\n");
	const struct assess_step *last = r->nsteps ? &r->steps[r->nsteps - 1] : NULL;
	if (!last) {
		out_printf(&w, "no step ran\n");
		return out_finish(&w);
	}
	if (last->met == last->calls)
		out_printf(&w, "%s: all %u calls met every %s target\n",
		           o->ramp_step ? "capacity" : "verdict", last->calls, t->name);
	else if (o->ramp_step)
		out_printf(
		    &w, "capacity: %u concurrent calls met every %s target; the step of %u did not",
		    r->capacity, t->name, last->calls);
	else
		out_printf(&w, "verdict: %u of %u calls met every %s target", last->met,
		           last->calls, t->name);
	if (last->met != last->calls) {
		text_why(&w, last);
		out_printf(&w, "\n");
	}
	uint32_t silent = 0;
	for (uint32_t i = 0; i < last->calls; i++)
		silent += !last->call[i].error[0] && (last->call[i].miss & ASSESS_NOTHING_BACK);
	if (silent) {
		char refl[64];
		addr_str((const struct sockaddr *)&o->reflector, refl, sizeof(refl));
		out_printf(&w,
		           "note: %u streaming call%s got nothing back: the relay's packets to the "
		           "reflector at %s (%s), or its answers, did not pass%s\n",
		           silent, silent == 1 ? "" : "s", refl,
		           assess_relays_over_tcp(o) ? "TCP" : "UDP",
		           assess_relays_over_tcp(o)
		               ? "; over TCP the relay connects out to it, and a reflector "
		                 "elsewhere must say \"reflecting on ADDR, UDP and TCP\""
		               : "");
	}
	if (last->cpu >= CALLER_BUSY && last->failed < last->calls)
		out_printf(
		    &w,
		    "note: this process used %.2f of a core in the last step: the limit may be "
		    "this host's, not the path's\n",
		    last->cpu);
	return out_finish(&w);
}

int assess_report_tsv(FILE *f, const struct assess_result *r)
{
	struct out w = {f, 0};
	out_printf(&w, "CallStartTime\tPacketLossRate\tRoundTripLatencyInMs\tPacketsSent\t"
	               "PacketsReceived\tAverageJitterInMs\tPacketReorderRatio\n");
	for (uint32_t k = 0; k < r->nsteps; k++)
		for (uint32_t i = 0; i < r->steps[k].calls; i++) {
			const struct assess_call *c = &r->steps[k].call[i];
			if (!c->start)
				continue;
			char when[32];
			struct tm tm;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&c->start, &tm));
			out_printf(&w, "%s\t%.6f\t%.3f\t%u\t%u\t%.6f\t%.6f\n", when, c->stats.loss,
			           c->stats.rtt_ms, c->stats.sent, c->stats.received,
			           c->stats.jitter_ms, c->stats.reorder);
		}
	return out_finish(&w);
}

static void json_num_field(struct out *w, const char *name, double v)
{
	out_printf(w, ",\"%s\":", name);
	out_json_num(w, v);
}

static void json_call(struct out *w, const struct assess_call *c)
{
	char relayed[64] = "", miss[96], when[32] = "";
	struct tm tm;
	if (c->relayed.ss_family)
		addr_str((const struct sockaddr *)&c->relayed, relayed, sizeof(relayed));
	if (c->start)
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&c->start, &tm));
	const struct assess_stats *s = &c->stats;
	out_printf(w, "{\"id\":%u,\"start\":", c->id);
	out_json_str(w, when, strlen(when));
	out_printf(w, ",\"relayed\":");
	out_json_str(w, relayed, strlen(relayed));
	out_printf(w, ",\"error\":");
	out_json_str(w, c->error, strnlen(c->error, sizeof(c->error)));
	out_printf(w, ",\"sent\":%u,\"received\":%u", s->sent, s->received);
	json_num_field(w, "loss", s->loss);
	json_num_field(w, "loss_worst_15s", s->loss_worst);
	json_num_field(w, "burst_loss_worst_200ms", s->burst_worst);
	json_num_field(w, "jitter_ms", s->jitter_ms);
	json_num_field(w, "jitter_worst_15s_ms", s->jitter_worst_ms);
	json_num_field(w, "rtt_ms", s->rtt_ms);
	json_num_field(w, "rtt_max_ms", s->rtt_max_ms);
	json_num_field(w, "reorder", s->reorder);
	assess_miss_str(c->miss, miss, sizeof(miss));
	out_printf(w, ",\"met\":%s,\"missed\":", !c->error[0] && !c->miss ? "true" : "false");
	out_json_str(w, miss, strlen(miss));
	out_printf(w, ",\"seconds\":[");
	for (uint32_t b = 0; b < c->nbins; b++) {
		const struct assess_bin *x = &c->bins[b];
		out_printf(w, "%s{\"t\":%u,\"sent\":%u,\"received\":%u", b ? "," : "", b, x->sent,
		           x->received);
		json_num_field(w, "rtt_ms", x->rtt_ms);
		json_num_field(w, "jitter_ms", x->jitter_ms);
		out_printf(w, "}");
	}
	out_printf(w, "]}");
}

int assess_report_json(FILE *f, const struct assess_opts *o, const struct assess_result *r)
{
	struct out w = {f, 0};
	char server[64], reflector[64];
	const struct assess_targets *t = assess_targets(o->profile);
	addr_str((const struct sockaddr *)&o->server, server, sizeof(server));
	addr_str((const struct sockaddr *)&o->reflector, reflector, sizeof(reflector));
	out_printf(&w, "{\"server\":");
	out_json_str(&w, server, strlen(server));
	out_printf(&w, ",\"reflector\":");
	out_json_str(&w, reflector, strlen(reflector));
	out_printf(&w,
	           ",\"dialect\":\"%s\",\"transport\":\"%s\",\"duration_s\":%u,\"rate\":%u,"
	           "\"size\":%u,\"profile\":\"%s\",\"targets\":{",
	           o->dialect == ASSESS_DIALECT_MSTURN ? "msturn" : "rfc5766",
	           o->transport == ASSESS_TRANSPORT_UDP   ? "udp"
	           : o->transport == ASSESS_TRANSPORT_TCP ? "tcp"
	                                                  : "pseudo-tls",
	           o->duration_s, o->rate, o->size, t->name);
	out_printf(&w, "\"loss_15s\":");
	out_json_num(&w, t->loss);
	json_num_field(&w, "burst_loss_200ms", t->burst);
	json_num_field(&w, "jitter_ms", t->jitter_ms);
	json_num_field(&w, "reorder", t->reorder);
	json_num_field(&w, "rtt_ms", t->rtt_ms);
	out_printf(&w, "},\"ramp_step\":%u,\"capacity\":%u,\"ramp_stopped\":%s,\"steps\":[",
	           o->ramp_step, r->capacity, r->ramp_stopped ? "true" : "false");
	for (uint32_t k = 0; k < r->nsteps; k++) {
		const struct assess_step *st = &r->steps[k];
		out_printf(&w, "%s{\"calls\":%u,\"met\":%u,\"failed\":%u,\"reflected\":%llu",
		           k ? "," : "", st->calls, st->met, st->failed,
		           (unsigned long long)st->reflected);
		json_num_field(&w, "caller_cpu", st->cpu);
		out_printf(&w, ",\"call\":[");
		for (uint32_t i = 0; i < st->calls; i++) {
			out_printf(&w, i ? "," : "");
			json_call(&w, &st->call[i]);
		}
		out_printf(&w, "]}");
	}
	out_printf(&w, "]}\n");
	return out_finish(&w);
}
