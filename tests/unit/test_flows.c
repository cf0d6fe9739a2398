/* control/flows.c, the flow registry: ids, the ring's eviction, waiters
 * woken by the end, by their time, by eviction and by the registry's end,
 * the bound on waiters, and the record's text. */
#include <errno.h>
#include <event2/event.h>
#include <netinet/icmp6.h>
#include <netinet/ip_icmp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control/flows.h"
#include "core/addr.h"

struct fix {
	struct event_base *base;
	struct flows *flows;
};

/* What a waiter saw. */
struct seen {
	int calls;
	uint64_t id;
	enum flow_outcome outcome;
	bool null_record;
};

static void wake_cb(const struct flow_record *r, void *arg)
{
	struct seen *s = arg;
	s->calls++;
	s->null_record = r == NULL;
	if (r) {
		s->id = r->id;
		s->outcome = r->outcome;
	}
}

static int setup(void **state)
{
	static struct fix f;
	f.base = event_base_new();
	assert_non_null(f.base);
	assert_int_equal(flows_alloc(&f.flows, f.base), 0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	flows_free(f->flows);
	event_base_free(f->base);
	return 0;
}

static void test_ids_count_up_from_one(void **state)
{
	struct fix *f = *state;
	assert_null(flows_find(f->flows, 1));
	struct flow_record *r = flows_add(f->flows, FLOW_ROW4);
	assert_int_equal(r->id, 1);
	assert_int_equal(r->outcome, FLOW_PENDING);
	assert_int_equal(flows_add(f->flows, FLOW_ROW5)->id, 2);
	assert_ptr_equal(flows_find(f->flows, 1), r);
	assert_int_equal(flows_find(f->flows, 2)->kind, FLOW_ROW5);
	assert_null(flows_find(f->flows, 0));
	assert_null(flows_find(f->flows, 3));
}

/* The last FLOWS_KEEP are kept; a waiter on the one forgotten gets it as
 * it was, once. */
static void test_eviction(void **state)
{
	struct fix *f = *state;
	struct flows_waiter *w;
	struct seen seen = {0};
	flows_add(f->flows, FLOW_ROW2);
	assert_int_equal(flows_wait(f->flows, 1, 10000, wake_cb, &seen, &w), 0);
	for (int i = 0; i < FLOWS_KEEP - 1; i++)
		flows_add(f->flows, FLOW_ROW4);
	assert_int_equal(seen.calls, 0);
	assert_non_null(flows_find(f->flows, 1));
	struct flow_record *r = flows_add(f->flows, FLOW_STRICT_TCP);
	assert_int_equal(r->id, FLOWS_KEEP + 1);
	assert_null(flows_find(f->flows, 1));
	assert_non_null(flows_find(f->flows, 2));
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.id, 1);
	assert_int_equal(seen.outcome, FLOW_PENDING);
	assert_int_equal(flows_waiting(f->flows), 0);
	assert_int_equal(flows_wait(f->flows, 1, 10, wake_cb, &seen, &w), ENOENT);
}

/* Ends record id from the loop, as a flow's done handler would. */
static void end_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct flows *flows = arg;
	struct flow_record *r = flows_find(flows, 1);
	flows_set(r, FLOW_RESET, "the edge's SYN to %s was answered with RST", r->target);
	flows_ended(flows, r);
}

/* Long polls: woken by the end (both waiters), not by another record's. */
static void test_wait_woken_by_the_end(void **state)
{
	struct fix *f = *state;
	struct flows_waiter *w1, *w2, *w3;
	struct seen a = {0}, b = {0}, other = {0};
	struct timeval soon = {0, 20000};
	snprintf(flows_add(f->flows, FLOW_ROW4)->target, ADDR_STR_MAX, "192.0.2.10:5000");
	flows_add(f->flows, FLOW_ROW4);
	assert_int_equal(flows_wait(f->flows, 1, 5000, wake_cb, &a, &w1), 0);
	assert_int_equal(flows_wait(f->flows, 1, 5000, wake_cb, &b, &w2), 0);
	assert_int_equal(flows_wait(f->flows, 2, 50, wake_cb, &other, &w3), 0);
	assert_int_equal(flows_waiting(f->flows), 3);
	event_base_once(f->base, -1, EV_TIMEOUT, end_cb, f->flows, &soon);
	event_base_dispatch(f->base); /* ends when the timers are all done */
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.outcome, FLOW_RESET);
	assert_int_equal(b.calls, 1);
	/* Record 2's waiter timed out with it pending. */
	assert_int_equal(other.calls, 1);
	assert_int_equal(other.id, 2);
	assert_int_equal(other.outcome, FLOW_PENDING);
	assert_int_equal(flows_waiting(f->flows), 0);
	const struct flow_record *r = flows_find(f->flows, 1);
	double secs = (double)(r->ended.tv_sec - r->started.tv_sec) +
	              (double)(r->ended.tv_nsec - r->started.tv_nsec) / 1e9;
	assert_true(secs >= 0.015 && secs < 2);
}

/* A cancelled waiter is never called; FLOWS_WAITERS_MAX at once; the
 * registry's end wakes the rest with their records. */
static void test_cancel_bound_and_free(void **state)
{
	struct fix *f = *state;
	static struct seen seen[FLOWS_WAITERS_MAX];
	struct flows_waiter *w[FLOWS_WAITERS_MAX], *extra;
	struct seen cancelled = {0};
	flows_add(f->flows, FLOW_ROW5);
	for (int i = 0; i < FLOWS_WAITERS_MAX; i++)
		assert_int_equal(flows_wait(f->flows, 1, 10000, wake_cb, &seen[i], &w[i]), 0);
	assert_int_equal(flows_wait(f->flows, 1, 10000, wake_cb, &cancelled, &extra), EBUSY);
	flows_wait_cancel(w[0]);
	assert_int_equal(flows_waiting(f->flows), FLOWS_WAITERS_MAX - 1);
	flows_free(f->flows);
	f->flows = NULL;
	assert_int_equal(seen[0].calls, 0);
	for (int i = 1; i < FLOWS_WAITERS_MAX; i++) {
		assert_int_equal(seen[i].calls, 1);
		assert_int_equal(seen[i].outcome, FLOW_PENDING);
	}
	assert_int_equal(flows_alloc(&f->flows, f->base), 0); /* for teardown */
}

static void test_format_icmp(void **state)
{
	struct fix *f = *state;
	char text[FLOWS_TEXT_MAX];
	struct sockerr_icmp e = {
	    .family = AF_INET, .type = ICMP_DEST_UNREACH, .code = ICMP_PORT_UNREACH};
	struct flow_record *r = flows_add(f->flows, FLOW_ROW5);
	snprintf(r->dialect, sizeof(r->dialect), "msturn");
	snprintf(r->target, sizeof(r->target), "192.0.2.10:3478");
	snprintf(r->source, sizeof(r->source), "198.51.100.10:50123");
	assert_int_equal(addr_parse("192.0.2.1", 0, &e.from), 0);
	flows_set_icmp(r, "STUN request to 192.0.2.10:3478", &e);
	r->ended = r->started;
	size_t n = flows_format(r, text, sizeof(text));
	assert_int_equal(n, strlen(text));
	assert_string_equal(text, "id: 1\n"
	                          "kind: row5\n"
	                          "dialect: msturn\n"
	                          "target: 192.0.2.10:3478\n"
	                          "source: 198.51.100.10:50123\n"
	                          "outcome: icmp\n"
	                          "icmp-type: 3\n"
	                          "icmp-code: 3\n"
	                          "icmp-from: 192.0.2.1\n"
	                          "seconds: 0.000\n"
	                          "detail: the edge's STUN request to 192.0.2.10:3478 drew ICMP "
	                          "port unreachable (type 3 code 3) from 192.0.2.1\n");
}

/* No ICMP lines without ICMP; row 2 names its partner (and, when its
 * lookup failed, the name); the kinds and outcomes by their API names. */
static void test_format_plain(void **state)
{
	struct fix *f = *state;
	char text[FLOWS_TEXT_MAX];
	struct flow_record *r = flows_add(f->flows, FLOW_ROW2);
	snprintf(r->partner, sizeof(r->partner), "partner.example");
	flows_set(r, FLOW_TLS_FAILED, "TCP up, but the TLS handshake failed: %s",
	          "certificate verify failed");
	flows_format(r, text, sizeof(text));
	assert_non_null(
	    strstr(text, "kind: row2\npartner: partner.example\noutcome: tls-failed\n"));
	assert_null(strstr(text, "icmp"));
	assert_null(strstr(text, "dialect"));
	assert_string_equal(flows_kind_name(FLOW_STRICT_TCP), "strict-tcp");
	assert_string_equal(flows_outcome_name(FLOW_CANCELLED), "cancelled");
	assert_string_equal(flows_outcome_name(FLOW_TLS_FAILED), "tls-failed");
	assert_null(strstr(text, "dns-name"));
	/* A failed lookup names what was looked up, after the outcome. */
	r = flows_add(f->flows, FLOW_ROW2);
	snprintf(r->dns_name, sizeof(r->dns_name), "_sipfederationtls._tcp.b.example");
	flows_set(r, FLOW_DNS, "nxdomain: SRV _sipfederationtls._tcp.b.example: no such name");
	flows_format(r, text, sizeof(text));
	assert_non_null(strstr(text, "outcome: dns\ndns-name: _sipfederationtls._tcp.b.example\n"));
	assert_non_null(strstr(text, "\ndetail: nxdomain: SRV "));
}

/* The names of the common unreachable codes, ICMP and ICMPv6. */
static void test_icmp_names(void **state)
{
	(void)state;
	static const struct {
		int family;
		uint8_t type, code;
		const char *name;
	} cases[] = {
	    {AF_INET, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, "host unreachable"},
	    {AF_INET, ICMP_DEST_UNREACH, ICMP_PKT_FILTERED, "administratively prohibited"},
	    {AF_INET, ICMP_DEST_UNREACH, ICMP_NET_UNREACH, "network unreachable"},
	    {AF_INET, ICMP_DEST_UNREACH, ICMP_HOST_ANO, "host administratively prohibited"},
	    {AF_INET6, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_NOPORT, "port unreachable"},
	    {AF_INET6, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN, "administratively prohibited"},
	    {AF_INET6, ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, "address unreachable"},
	    {AF_INET6, 200, 3, "ICMPv6 type 200 code 3"},
	};
	char buf[64];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockerr_icmp e = {
		    .family = cases[i].family, .type = cases[i].type, .code = cases[i].code};
		assert_string_equal(sockerr_icmp_name(&e, buf, sizeof(buf)), cases[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ids_count_up_from_one, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eviction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_woken_by_the_end, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel_bound_and_free, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_format_icmp, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_format_plain, setup, teardown),
	    cmocka_unit_test(test_icmp_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
