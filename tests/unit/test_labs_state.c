/* lab/labs_state.c: a standing lab's state file. A file written before
 * federation labs (no `topology` key) still reads as a single-site lab's;
 * a federation lab's carries its three processes and both fws' rules; a
 * file we did not write (a key missing or twice, a number that is not
 * one) is refused. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lab/lab_int.h"

static char dir[] = "/tmp/edgelab-state-XXXXXX";

static void put(const char *text)
{
	char path[64];
	snprintf(path, sizeof(path), "%s/state", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

#define OLD_SINGLE                                                                                 \
	"# edgelab lab up: this lab's state (edgelab lab list)\n"                                  \
	"created 1700000000\nup_pid 10\nup_start 111\nserve_pid 20\nserve_start 222\n"             \
	"ready 1\nrules generated policy --drop 3\n"

static void test_old_single(void **state)
{
	struct lab_state s;
	(void)state;
	put(OLD_SINGLE);
	assert_int_equal(lab_state_read(dir, &s), 0);
	assert_false(s.federation);
	assert_int_equal(s.created, 1700000000);
	assert_int_equal(s.up.pid, 10);
	assert_int_equal(s.up.start, 111);
	assert_int_equal(s.serve[0].pid, 20);
	assert_int_equal(s.serve[0].start, 222);
	assert_true(s.ready);
	assert_string_equal(s.rules[0], "generated policy --drop 3");
	/* Written back: the same keys, and the topology. */
	assert_int_equal(lab_state_write(dir, &s), 0);
	struct lab_state again;
	assert_int_equal(lab_state_read(dir, &again), 0);
	assert_memory_equal(&s, &again, sizeof(s));
}

static void test_federation(void **state)
{
	struct lab_state s = {.created = 5, .federation = true, .ready = false}, back;
	(void)state;
	s.up = (struct lab_proc_rec){1, 11};
	s.serve[0] = (struct lab_proc_rec){2, 22};
	s.serve[1] = (struct lab_proc_rec){3, 33};
	s.dns = (struct lab_proc_rec){4, 44};
	snprintf(s.rules[0], sizeof(s.rules[0]), "generated policy");
	snprintf(s.rules[1], sizeof(s.rules[1]), "/tmp/b.nft (nft)");
	snprintf(s.faults, sizeof(s.faults), "no-srv-b,dns-silent");
	assert_int_equal(lab_state_write(dir, &s), 0);
	memset(&back, 0xff, sizeof(back));
	assert_int_equal(lab_state_read(dir, &back), 0);
	assert_memory_equal(&s, &back, sizeof(s));
	assert_int_equal(lab_state_set_ready(dir), 0);
	assert_int_equal(lab_state_read(dir, &back), 0);
	assert_true(back.ready);
	assert_int_equal(back.dns.pid, 4);
}

static void test_refused(void **state)
{
	struct lab_state s;
	(void)state;
	put("created 1\nup_pid 1\nup_start 1\nserve_pid 1\nready 1\nrules x\n");
	assert_int_equal(lab_state_read(dir, &s), EINVAL); /* serve_start missing */
	put(OLD_SINGLE "ready 0\n");
	assert_int_equal(lab_state_read(dir, &s), EINVAL); /* twice */
	put("created 1\nup_pid 1x\nup_start 1\nserve_pid 1\nserve_start 1\nready 1\nrules x\n");
	assert_int_equal(lab_state_read(dir, &s), EINVAL); /* not a number */
	put("topology federation\n" OLD_SINGLE);
	assert_int_equal(lab_state_read(dir, &s), EINVAL); /* a federation's keys missing */
	put("topology ring\n" OLD_SINGLE);
	assert_int_equal(lab_state_read(dir, &s), EINVAL);
	put(OLD_SINGLE "later_key 7\n");
	assert_int_equal(lab_state_read(dir, &s), 0); /* a later version's key: left alone */
}

static void test_describe(void **state)
{
	char buf[200];
	struct ruleset rs[2] = {{.path = "a\nb.nft", .fmt = RULESET_NFT},
	                        {.path = "v6", .fmt = RULESET_IP6TABLES}};
	(void)state;
	lab_state_describe_rules(NULL, 0, NULL, 1u << 1 | 1u << 3, 1u << 2, buf, sizeof(buf));
	assert_string_equal(buf, "generated policy --drop 1,3 --reject 2");
	lab_state_describe_rules(NULL, 0, "tcp-stun", 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "scenario tcp-stun");
	lab_state_describe_rules(rs, 2, NULL, 0, 0, buf, sizeof(buf));
	assert_string_equal(buf, "a?b.nft (nft), v6 (ip6tables)");
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[64];
	(void)state;
	snprintf(path, sizeof(path), "%s/state", dir);
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_old_single),
	    cmocka_unit_test(test_federation),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
