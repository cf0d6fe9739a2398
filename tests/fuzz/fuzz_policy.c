/* libFuzzer target for the peer address policy. Input layout:
 *   byte 0      bits 0-1: peer family (0 IPv4, 1 IPv6, 2 IPv4-mapped IPv6,
 *               3 another family); bits 4-7: allow (1) or deny (0) for
 *               rules 1-4
 *   bytes 1-16  the address (IPv4 uses the first 4; mapped the first 4)
 *   bytes 17-18 the port, network order
 *   the rest    up to FUZZ_RULES rule strings, split at '\n'
 * Invariants: no crash; policy_add gives 0 or EINVAL; the verdict is in
 * range and names port 0 exactly when the port is 0; the normalised address
 * is never IPv4-mapped and keeps the port; an IPv4 peer and its mapped form
 * get the same verdict; an allow rule for the peer's own address lets it
 * through (bar port 0). ASan/UBSan catch overreads and leaks. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"
#include "core/policy.h"
#include "tests/fuzz/fuzz.h"

#define FUZZ_HEAD     19
#define FUZZ_RULES    4
#define FUZZ_RULE_MAX 80 /* longer than policy.c accepts, to test its bound */

static void fuzz_peer(const uint8_t *d, struct sockaddr_storage *sa)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
	uint16_t port_be;

	memset(sa, 0, sizeof(*sa));
	memcpy(&port_be, d + 17, 2);
	switch (d[0] & 3) {
	case 0:
		in4->sin_family = AF_INET;
		in4->sin_port = port_be;
		memcpy(&in4->sin_addr, d + 1, 4);
		break;
	case 1:
	case 2:
		in6->sin6_family = AF_INET6;
		in6->sin6_port = port_be;
		memcpy(in6->sin6_addr.s6_addr, d + 1, 16);
		if ((d[0] & 3) == 2) {
			memset(in6->sin6_addr.s6_addr, 0, 10);
			in6->sin6_addr.s6_addr[10] = 0xff;
			in6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(in6->sin6_addr.s6_addr + 12, d + 1, 4);
		}
		break;
	default:
		sa->ss_family = AF_UNIX;
		break;
	}
}

/* Adds the rules from the input to p (and, when p2 is given, to p2 too). */
static void fuzz_rules(struct policy *p, struct policy *p2, uint8_t flags, const uint8_t *d,
                       size_t size)
{
	char rule[FUZZ_RULE_MAX + 1];
	size_t pos = 0;

	for (unsigned i = 0; i < FUZZ_RULES && pos < size; i++) {
		const uint8_t *nl = memchr(d + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (d + pos)) : size - pos;
		size_t copy = len < FUZZ_RULE_MAX ? len : FUZZ_RULE_MAX;
		bool allow = (flags >> (4 + i)) & 1;

		memcpy(rule, d + pos, copy);
		rule[copy] = '\0';
		int rc = policy_add(p, allow, rule);
		FUZZ_CHECK(rc == 0 || rc == EINVAL);
		if (p2)
			FUZZ_CHECK(policy_add(p2, allow, rule) == rc);
		pos += len + 1;
	}
}

static void fuzz_normalised(const struct sockaddr_storage *peer, const struct sockaddr_storage *n,
                            enum policy_verdict v)
{
	const struct sockaddr_in6 *n6 = (const struct sockaddr_in6 *)n;

	FUZZ_CHECK(v >= POLICY_ALLOW && v <= POLICY_DENY_PORT);
	FUZZ_CHECK(strcmp(policy_verdict_str(v), "?") != 0);
	if (peer->ss_family != AF_INET && peer->ss_family != AF_INET6) {
		FUZZ_CHECK(v == POLICY_DENY_BUILTIN && n->ss_family == AF_UNSPEC);
		return;
	}
	FUZZ_CHECK(n->ss_family == AF_INET || n->ss_family == AF_INET6);
	FUZZ_CHECK(n->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&n6->sin6_addr));
	FUZZ_CHECK(addr_port((const struct sockaddr *)n) ==
	           addr_port((const struct sockaddr *)peer));
	FUZZ_CHECK((v == POLICY_DENY_PORT) == (addr_port((const struct sockaddr *)n) == 0));
}

/* The same rules plus an allow rule for the peer's own address: allowed. */
static void fuzz_allow_self(struct policy *p2, const struct sockaddr_storage *n,
                            enum policy_verdict v)
{
	char ip[ADDR_STR_MAX];
	struct sockaddr_storage n2;

	addr_ip_str((const struct sockaddr *)n, ip, sizeof(ip));
	FUZZ_CHECK(policy_add(p2, true, ip) == 0);
	enum policy_verdict v2 = policy_check(p2, (const struct sockaddr *)n, &n2);
	FUZZ_CHECK(v2 == (v == POLICY_DENY_PORT ? POLICY_DENY_PORT : POLICY_ALLOW));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_storage peer, n, n2;
	struct policy *p = NULL, *p2 = NULL;

	if (size < FUZZ_HEAD)
		return 0;
	FUZZ_CHECK(policy_alloc(&p) == 0 && policy_alloc(&p2) == 0);
	fuzz_peer(data, &peer);
	fuzz_rules(p, p2, data[0], data + FUZZ_HEAD, size - FUZZ_HEAD);

	enum policy_verdict v = policy_check(p, (const struct sockaddr *)&peer, &n);
	fuzz_normalised(&peer, &n, v);
	/* the normalised form is judged as the original was */
	if (n.ss_family != AF_UNSPEC)
		FUZZ_CHECK(policy_check(p, (const struct sockaddr *)&n, &n2) == v);
	FUZZ_CHECK(policy_check(p, (const struct sockaddr *)&peer, NULL) == v);
	if (n.ss_family != AF_UNSPEC)
		fuzz_allow_self(p2, &n, v);
	policy_free(p);
	policy_free(p2);
	return 0;
}
