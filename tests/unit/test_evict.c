/* core/evict.c: the lock-out policy's victim, its shrunk timeouts and its
 * log rate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/evict.h"

struct conn {
	enum evict_state state;
	uint64_t since_ms;
};

/* The victim among conns[0..n), offered in order; -1: none. */
static int pick(const struct conn *conns, int n)
{
	struct evict_pick p;
	evict_pick_init(&p);
	for (int i = 0; i < n; i++)
		evict_pick_offer(&p, (void *)&conns[i], conns[i].state, conns[i].since_ms);
	return p.victim ? (int)((const struct conn *)p.victim - conns) : -1;
}

static void test_evict_none(void **state)
{
	(void)state;
	static const struct conn keep[] = {{EVICT_KEEP, 1}, {EVICT_KEEP, 2}};
	assert_int_equal(pick(keep, 0), -1);
	assert_int_equal(pick(keep, 2), -1);
}

static void test_evict_oldest_handshake_first(void **state)
{
	(void)state;
	/* An older idle one and kept ones do not matter while one shakes hands. */
	static const struct conn c[] = {
	    {EVICT_IDLE, 1},       {EVICT_HANDSHAKE, 50}, {EVICT_KEEP, 0},
	    {EVICT_HANDSHAKE, 20}, {EVICT_IDLE, 2},       {EVICT_HANDSHAKE, 30},
	};
	assert_int_equal(pick(c, 6), 3);
}

static void test_evict_then_oldest_idle(void **state)
{
	(void)state;
	static const struct conn c[] = {
	    {EVICT_KEEP, 0}, {EVICT_IDLE, 40}, {EVICT_IDLE, 10}, {EVICT_KEEP, 1}, {EVICT_IDLE, 30},
	};
	assert_int_equal(pick(c, 5), 2);
}

/* Lists are newest first: among equals the last offered is the oldest. */
static void test_evict_ties_take_the_last(void **state)
{
	(void)state;
	static const struct conn c[] = {
	    {EVICT_HANDSHAKE, 9}, {EVICT_HANDSHAKE, 9}, {EVICT_HANDSHAKE, 10}, {EVICT_IDLE, 7}};
	assert_int_equal(pick(c, 4), 1);
}

static void test_evict_timeouts_shrink_above_half(void **state)
{
	(void)state;
	assert_false(evict_pressure(512, 1024));
	assert_true(evict_pressure(513, 1024));
	assert_int_equal(evict_timeout_ms(10, 0, 1024), 10000);
	assert_int_equal(evict_timeout_ms(10, 512, 1024), 10000);
	assert_int_equal(evict_timeout_ms(10, 513, 1024), 2500);
	assert_int_equal(evict_timeout_ms(10, 5000, 1024), 2500);
	/* The floor, and never above the configured one. */
	assert_int_equal(evict_timeout_ms(2, 1024, 1024), 1000);
	assert_int_equal(evict_timeout_ms(1, 1024, 1024), 1000);
	assert_int_equal(evict_timeout_ms(0, 1024, 1024), 0);
	assert_int_equal(evict_timeout_ms(300, 2, 2), 75000);
	/* A cap of 1: one open is full. */
	assert_int_equal(evict_timeout_ms(8, 1, 1), 2000);
	assert_int_equal(evict_timeout_ms(8, 0, 1), 8000);
}

static void test_evict_log_rate(void **state)
{
	(void)state;
	struct evict_log l = {0};
	char more[40] = "x";
	uint64_t t = 5000;
	for (int i = 0; i < EVICT_LOG_PER_S; i++) {
		assert_true(evict_log_take(&l, t + (uint64_t)i, more, sizeof(more)));
		assert_string_equal(more, "");
	}
	for (int i = 0; i < 7; i++)
		assert_false(evict_log_take(&l, t + 900, more, sizeof(more)));
	assert_true(evict_log_take(&l, t + 1000, more, sizeof(more)));
	assert_string_equal(more, " (7 more not logged)");
	assert_true(evict_log_take(&l, t + 1001, more, sizeof(more)));
	assert_string_equal(more, "");
}

static void test_evict_clock_moves_on(void **state)
{
	(void)state;
	uint64_t a = evict_now_ms(), b = evict_now_ms();
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_evict_none),
	    cmocka_unit_test(test_evict_oldest_handshake_first),
	    cmocka_unit_test(test_evict_then_oldest_idle),
	    cmocka_unit_test(test_evict_ties_take_the_last),
	    cmocka_unit_test(test_evict_timeouts_shrink_above_half),
	    cmocka_unit_test(test_evict_log_rate),
	    cmocka_unit_test(test_evict_clock_moves_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
