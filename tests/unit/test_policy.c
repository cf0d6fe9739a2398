/* core/policy.c: the TURN relay's peer address policy. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/policy.h"

static int setup(void **state)
{
	struct policy *p = NULL;
	if (policy_alloc(&p) != 0)
		return -1;
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	policy_free(*state);
	return 0;
}

/* The verdict for "ip" (no port: 3478, or "[ip]:port" / "ip:port"). */
static enum policy_verdict check(const struct policy *p, const char *ip, struct sockaddr_storage *n)
{
	struct sockaddr_storage sa;
	assert_int_equal(addr_parse(ip, 3478, &sa), 0);
	return policy_check(p, (const struct sockaddr *)&sa, n);
}

static void assert_verdict(const struct policy *p, const char *ip, enum policy_verdict want)
{
	enum policy_verdict got = check(p, ip, NULL);
	if (got != want)
		fail_msg("%s: %s, wanted %s", ip, policy_verdict_str(got),
		         policy_verdict_str(want));
}

static void test_policy_builtin_denials(void **state)
{
	static const char *const denied[] = {
	    "127.0.0.1",
	    "127.0.0.2",
	    "255.255.255.255",
	    "169.254.0.1",
	    "0.0.0.0",
	    "0.1.2.3",
	    "224.0.0.1",
	    "239.255.255.250",
	    "240.0.0.1",
	    "::1",
	    "::",
	    "fe80::1",
	    "febf::1",
	    "ff02::1",
	    "::ffff:127.0.0.1",
	    "::ffff:169.254.0.1",
	    "::ffff:0.0.0.0",
	    "::127.0.0.1",
	    "::10.0.0.1",
	};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		assert_verdict(*state, denied[i], POLICY_DENY_BUILTIN);
}

static void test_policy_default_allows(void **state)
{
	static const char *const allowed[] = {
	    "10.1.2.3", "192.168.1.1", "172.16.5.4",      "192.0.2.10",      "100.64.0.1",
	    "1.1.1.1",  "2001:db8::1", "fd00::1",         "fc00::1",         "64:ff9b::7f00:1",
	    "fec0::1",  "128.0.0.1",   "126.255.255.255", "169.253.255.255", "223.255.255.255",
	};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		assert_verdict(*state, allowed[i], POLICY_ALLOW);
}

/* addr_parse refuses port 0, as config should; a peer can still carry it. */
static enum policy_verdict check_port0(const struct policy *p, const char *ip)
{
	struct sockaddr_storage sa;
	assert_int_equal(addr_parse(ip, 3478, &sa), 0);
	addr_set_port((struct sockaddr *)&sa, 0);
	return policy_check(p, (const struct sockaddr *)&sa, NULL);
}

static void test_policy_port_zero_refused(void **state)
{
	struct policy *p = *state;
	assert_int_equal(check_port0(p, "10.1.2.3"), POLICY_DENY_PORT);
	assert_int_equal(check_port0(p, "2001:db8::1"), POLICY_DENY_PORT);
	assert_int_equal(check_port0(p, "::ffff:10.1.2.3"), POLICY_DENY_PORT);
	/* no allow rule overrides it */
	assert_int_equal(policy_add(p, true, "10.0.0.0/8"), 0);
	assert_int_equal(check_port0(p, "10.1.2.3"), POLICY_DENY_PORT);
	assert_verdict(p, "10.1.2.3:1", POLICY_ALLOW);
}

static void test_policy_mapped_is_normalised(void **state)
{
	struct sockaddr_storage n;
	char s[ADDR_STR_MAX];

	assert_int_equal(check(*state, "[::ffff:10.0.0.1]:5000", &n), POLICY_ALLOW);
	assert_int_equal(n.ss_family, AF_INET);
	assert_string_equal(addr_str((struct sockaddr *)&n, s, sizeof(s)), "10.0.0.1:5000");
	/* other IPv6 is left alone, port kept */
	assert_int_equal(check(*state, "[2001:db8::1]:9", &n), POLICY_ALLOW);
	assert_string_equal(addr_str((struct sockaddr *)&n, s, sizeof(s)), "[2001:db8::1]:9");
	/* the compatible form is not unmapped: refused as IPv6 */
	assert_int_equal(check(*state, "::127.0.0.1", &n), POLICY_DENY_BUILTIN);
	assert_int_equal(n.ss_family, AF_INET6);
}

static void test_policy_allow_overrides_builtin(void **state)
{
	struct policy *p = *state;
	struct sockaddr_storage n;

	assert_int_equal(policy_add(p, true, "127.0.0.0/8"), 0);
	assert_verdict(p, "127.0.0.1", POLICY_ALLOW);
	assert_int_equal(check(p, "::ffff:127.0.0.1", &n), POLICY_ALLOW);
	assert_int_equal(n.ss_family, AF_INET);
	/* only what the rule covers */
	assert_verdict(p, "::1", POLICY_DENY_BUILTIN);
	assert_verdict(p, "169.254.0.1", POLICY_DENY_BUILTIN);
	assert_int_equal(policy_add(p, true, "::1"), 0);
	assert_verdict(p, "::1", POLICY_ALLOW);
	assert_verdict(p, "::", POLICY_DENY_BUILTIN);
}

static void test_policy_allow_wins_over_deny(void **state)
{
	struct policy *p = *state;

	assert_int_equal(policy_add(p, false, "10.0.0.0/8"), 0);
	assert_verdict(p, "10.1.2.3", POLICY_DENY_LIST);
	assert_verdict(p, "::ffff:10.1.2.3", POLICY_DENY_LIST);
	assert_verdict(p, "11.0.0.1", POLICY_ALLOW);
	assert_int_equal(policy_add(p, true, "10.1.2.0/24"), 0);
	assert_verdict(p, "10.1.2.3", POLICY_ALLOW);
	assert_verdict(p, "10.1.3.3", POLICY_DENY_LIST);
	/* not longest prefix: a narrower deny inside an allow changes nothing */
	assert_int_equal(policy_add(p, false, "10.1.2.3/32"), 0);
	assert_verdict(p, "10.1.2.3", POLICY_ALLOW);
}

static void test_policy_deny_ipv6_and_families(void **state)
{
	struct policy *p = *state;

	assert_int_equal(policy_add(p, false, "2001:db8::/32"), 0);
	assert_int_equal(policy_add(p, false, "64:ff9b::/96"), 0);
	assert_verdict(p, "2001:db8::1", POLICY_DENY_LIST);
	assert_verdict(p, "2001:db9::1", POLICY_ALLOW);
	assert_verdict(p, "64:ff9b::a00:1", POLICY_DENY_LIST);
	/* an IPv6 rule does not match IPv4 peers, even ::/0 */
	assert_int_equal(policy_add(p, false, "::/0"), 0);
	assert_verdict(p, "fd00::1", POLICY_DENY_LIST);
	assert_verdict(p, "192.0.2.1", POLICY_ALLOW);
	assert_verdict(p, "::ffff:192.0.2.1", POLICY_ALLOW);
	assert_int_equal(policy_add(p, false, "0.0.0.0/0"), 0);
	assert_verdict(p, "192.0.2.1", POLICY_DENY_LIST);
}

/* A mapped rule is the IPv4 rule it means, as peers are unmapped. */
static void test_policy_mapped_rule(void **state)
{
	struct policy *p = *state;

	assert_int_equal(policy_add(p, false, "::ffff:192.0.2.0/120"), 0);
	assert_verdict(p, "192.0.2.7", POLICY_DENY_LIST);
	assert_verdict(p, "192.0.3.7", POLICY_ALLOW);
	assert_int_equal(policy_add(p, true, "::ffff:192.0.2.7"), 0);
	assert_verdict(p, "192.0.2.7", POLICY_ALLOW);
}

static void test_policy_bad_cidr(void **state)
{
	static const char *const bad[] = {
	    "10.0.0.0/33",
	    "::/129",
	    "x",
	    "10.0.0.1/-1",
	    "",
	    "10.0.0.0/",
	    "/8",
	    "10/8",
	    "10.0.0.0/+8",
	    "10.0.0.0/ 8",
	    "10.0.0.0/8 ",
	    "10.0.0.0/0008",
	    "10.0.0.1/8",
	    "fe80::1%lo",
	    "1.2.3.4:5",
	    "[::1]",
	    "::1/128/1",
	    "10.0.0.0/8x",
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128ffffffffffffffffffff",
	};
	struct policy *p = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (policy_add(p, false, bad[i]) != EINVAL)
			fail_msg("\"%s\" accepted", bad[i]);
	}
	assert_int_equal(policy_add(p, false, NULL), EINVAL);
	assert_int_equal(policy_add(NULL, false, "10.0.0.0/8"), EINVAL);
	assert_int_equal(policy_alloc(NULL), EINVAL);
	/* nothing was added */
	assert_verdict(p, "10.1.2.3", POLICY_ALLOW);
	/* the longest form fits, and /0 is a prefix */
	assert_int_equal(policy_add(p, true, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128"),
	                 0);
	assert_int_equal(policy_add(p, true, "0.0.0.0/0"), 0);
	assert_int_equal(policy_add(p, true, "::/0"), 0);
	assert_int_equal(policy_add(p, true, "192.0.2.7"), 0);
}

static void test_policy_rules_bounded(void **state)
{
	struct policy *p = *state;
	char cidr[32];

	for (int i = 0; i < POLICY_RULES_MAX; i++) {
		snprintf(cidr, sizeof(cidr), "10.%d.%d.0/24", i / 256, i % 256);
		assert_int_equal(policy_add(p, false, cidr), 0);
	}
	assert_int_equal(policy_add(p, true, "10.9.9.0/24"), ENOSPC);
	assert_verdict(p, "10.0.255.1", POLICY_DENY_LIST);
	assert_verdict(p, "10.9.9.1", POLICY_ALLOW);
}

static void test_policy_odd_input_fails_closed(void **state)
{
	struct sockaddr_storage sa, n;

	memset(&sa, 0, sizeof(sa));
	sa.ss_family = AF_UNIX;
	memset(&n, 0x5a, sizeof(n));
	assert_int_equal(policy_check(*state, (struct sockaddr *)&sa, &n), POLICY_DENY_BUILTIN);
	assert_int_equal(n.ss_family, AF_UNSPEC);
	assert_int_equal(policy_check(*state, NULL, &n), POLICY_DENY_BUILTIN);
	assert_int_equal(addr_parse("10.1.2.3", 1, &sa), 0);
	assert_int_equal(policy_check(NULL, (struct sockaddr *)&sa, NULL), POLICY_DENY_BUILTIN);
	assert_string_equal(policy_verdict_str(POLICY_ALLOW), "allow");
	assert_string_equal(policy_verdict_str(POLICY_DENY_BUILTIN), "deny-builtin");
	assert_string_equal(policy_verdict_str(POLICY_DENY_LIST), "deny-list");
	assert_string_equal(policy_verdict_str(POLICY_DENY_PORT), "deny-port");
	assert_string_equal(policy_verdict_str((enum policy_verdict)42), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_policy_builtin_denials, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_default_allows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_port_zero_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_mapped_is_normalised, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_allow_overrides_builtin, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_allow_wins_over_deny, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_deny_ipv6_and_families, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_mapped_rule, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_bad_cidr, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_rules_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_odd_input_fails_closed, setup, teardown),
	};
	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
