/* media/portpool.c: the relay port range shared by every worker. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media/portpool.h"

static void test_portpool_full_range_then_508(void **state)
{
	(void)state;
	struct port_pool *p;
	static uint8_t seen[10000];
	uint16_t port;
	memset(seen, 0, sizeof(seen));
	assert_int_equal(port_pool_alloc(&p, 50000, 59999), 0);
	assert_int_equal(port_pool_size(p), 10000);
	for (int i = 0; i < 10000; i++) {
		assert_int_equal(port_pool_take(p, false, false, &port), 0);
		assert_in_range(port, 50000, 59999);
		assert_int_equal(seen[port - 50000]++, 0); /* never twice */
	}
	assert_int_equal(port_pool_in_use(p), 10000);
	assert_int_equal(port_pool_take(p, false, false, &port), ENOSPC);
	port_pool_release(p, 51234);
	assert_int_equal(port_pool_take(p, false, false, &port), 0);
	assert_int_equal(port, 51234); /* a released port can be used again */
	port_pool_release(p, 40000);   /* outside: a no-op */
	port_pool_release(p, 51234);
	port_pool_release(p, 51234); /* twice: a no-op */
	assert_int_equal(port_pool_in_use(p), 9999);
	port_pool_free(p);
}

static void test_portpool_even_and_pairs(void **state)
{
	(void)state;
	struct port_pool *p;
	uint16_t port;
	assert_int_equal(port_pool_alloc(&p, 50000, 50009), 0);
	assert_int_equal(port_pool_take(p, false, true, &port), 0);
	assert_int_equal(port % 2, 0);
	assert_int_equal(port_pool_take_exact(p, (uint16_t)(port + 1)), EADDRINUSE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(port_pool_take(p, true, false, &port), 0);
	assert_int_equal(port_pool_take(p, true, false, &port), ENOSPC); /* 5 even ports */
	assert_int_equal(port_pool_take(p, false, false, &port), 0);     /* odd ones remain */
	assert_int_equal(port % 2, 1);
	assert_int_equal(port_pool_take_exact(p, 60000), EINVAL);
	port_pool_free(p);
	assert_int_equal(port_pool_alloc(&p, 0, 10), EINVAL);
	assert_int_equal(port_pool_alloc(&p, 20, 10), EINVAL);
}

/* Two threads take and give back at once: no port is ever held twice. */
static struct port_pool *shared_pool;
static _Atomic int holders[200];

static void *churn(void *arg)
{
	(void)arg;
	for (int round = 0; round < 20000; round++) {
		uint16_t port;
		if (port_pool_take(shared_pool, false, false, &port) != 0)
			continue;
		if (holders[port - 50000]++ != 0)
			abort();
		holders[port - 50000]--;
		port_pool_release(shared_pool, port);
	}
	return NULL;
}

static void test_portpool_threads(void **state)
{
	(void)state;
	pthread_t t[2];
	assert_int_equal(port_pool_alloc(&shared_pool, 50000, 50199), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn, NULL), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(port_pool_in_use(shared_pool), 0);
	port_pool_free(shared_pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_portpool_full_range_then_508),
	    cmocka_unit_test(test_portpool_even_and_pairs),
	    cmocka_unit_test(test_portpool_threads),
	};
	return cmocka_run_group_tests_name("portpool", tests, NULL, NULL);
}
