#include "core/policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/addr.h"

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" (50 bytes) and a NUL */
#define POLICY_CIDR_MAX 64

struct policy_rule {
	sa_family_t family;
	uint8_t len;      /* prefix length in bits */
	uint8_t addr[16]; /* network byte order; bits past len are zero */
	bool allow;
};

struct policy {
	size_t nrules;
	struct policy_rule rules[POLICY_RULES_MAX];
};

/* Refused unless an allow rule covers them (see policy.h for why each). */
static const struct policy_rule builtin[] = {
    {AF_INET, 8, {0}, false},            /* 0.0.0.0/8, "this network" */
    {AF_INET, 8, {127}, false},          /* loopback */
    {AF_INET, 16, {169, 254}, false},    /* link-local */
    {AF_INET, 4, {224}, false},          /* multicast */
    {AF_INET, 4, {240}, false},          /* reserved and 255.255.255.255 */
    {AF_INET6, 96, {0}, false},          /* ::, ::1, IPv4-compatible */
    {AF_INET6, 10, {0xfe, 0x80}, false}, /* link-local */
    {AF_INET6, 8, {0xff}, false},        /* multicast */
};

static bool prefix_covers(const uint8_t *prefix, unsigned len, const uint8_t *addr)
{
	unsigned full = len / 8, rem = len % 8;

	if (memcmp(prefix, addr, full) != 0)
		return false;
	if (rem == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rem));
	return ((prefix[full] ^ addr[full]) & mask) == 0;
}

static bool rules_cover(const struct policy_rule *r, size_t n, bool allow, sa_family_t family,
                        const uint8_t *addr)
{
	for (size_t i = 0; i < n; i++) {
		if (r[i].allow == allow && r[i].family == family &&
		    prefix_covers(r[i].addr, r[i].len, addr))
			return true;
	}
	return false;
}

/* Decimal 0..max, digits only ("", "-1", "+8", " 8" are refused). */
static int prefix_len_parse(const char *s, unsigned max, uint8_t *len)
{
	unsigned v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 3)
		return EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return EINVAL;
	*len = (uint8_t)v;
	return 0;
}

/* Bits past the prefix length must be zero: "10.0.0.1/8" is more likely a
 * typo for a host or a /24 than a wish for 10/8. */
static bool host_bits_clear(const struct policy_rule *r)
{
	unsigned bytes = r->family == AF_INET ? 4 : 16;

	for (unsigned bit = r->len; bit < bytes * 8; bit++) {
		if (r->addr[bit / 8] & (0x80 >> (bit % 8)))
			return false;
	}
	return true;
}

/* ::ffff:a.b.c.d/96+n is the IPv4 rule a.b.c.d/n: peers are unmapped before
 * they are matched, so the mapped form would otherwise never match. */
static void rule_unmap(struct policy_rule *r)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (r->family != AF_INET6 || r->len < 96 || memcmp(r->addr, mapped, 12) != 0)
		return;
	r->family = AF_INET;
	r->len = (uint8_t)(r->len - 96);
	memmove(r->addr, r->addr + 12, 4);
	memset(r->addr + 4, 0, 12);
}

static int rule_parse(const char *cidr, struct policy_rule *r)
{
	char buf[POLICY_CIDR_MAX];
	size_t n = strnlen(cidr, sizeof(buf));
	unsigned max;

	if (n == 0 || n == sizeof(buf))
		return EINVAL;
	memcpy(buf, cidr, n + 1);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	memset(r, 0, sizeof(*r));
	if (inet_pton(AF_INET, buf, r->addr) == 1) {
		r->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
		r->family = AF_INET6;
		max = 128;
	} else {
		return EINVAL;
	}
	r->len = (uint8_t)max;
	if (slash && prefix_len_parse(slash + 1, max, &r->len) != 0)
		return EINVAL;
	if (!host_bits_clear(r))
		return EINVAL;
	rule_unmap(r);
	return 0;
}

int policy_alloc(struct policy **pp)
{
	if (!pp)
		return EINVAL;
	struct policy *p = calloc(1, sizeof(*p));
	if (!p)
		return ENOMEM;
	*pp = p;
	return 0;
}

int policy_add(struct policy *p, bool allow, const char *cidr)
{
	struct policy_rule r;

	if (!p || !cidr || rule_parse(cidr, &r) != 0)
		return EINVAL;
	if (p->nrules == POLICY_RULES_MAX)
		return ENOSPC;
	r.allow = allow;
	p->rules[p->nrules++] = r;
	return 0;
}

void policy_free(struct policy *p)
{
	free(p);
}

/* The address bytes of an unmapped IPv4 or IPv6 sockaddr. */
static const uint8_t *peer_bytes(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	return ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
}

enum policy_verdict policy_check(const struct policy *p, const struct sockaddr *peer,
                                 struct sockaddr_storage *normalised)
{
	struct sockaddr_storage local = {0};
	struct sockaddr_storage *n = normalised ? normalised : &local;

	memset(n, 0, sizeof(*n));
	/* fail closed on a caller's mistake, as on an unknown family */
	if (!peer || (peer->sa_family != AF_INET && peer->sa_family != AF_INET6))
		return POLICY_DENY_BUILTIN;
	addr_unmap(peer, n);
	if (addr_port((const struct sockaddr *)n) == 0)
		return POLICY_DENY_PORT;
	if (!p)
		return POLICY_DENY_BUILTIN;

	const uint8_t *a = peer_bytes(n);
	if (rules_cover(p->rules, p->nrules, true, n->ss_family, a))
		return POLICY_ALLOW;
	if (rules_cover(builtin, sizeof(builtin) / sizeof(builtin[0]), false, n->ss_family, a))
		return POLICY_DENY_BUILTIN;
	if (rules_cover(p->rules, p->nrules, false, n->ss_family, a))
		return POLICY_DENY_LIST;
	return POLICY_ALLOW;
}

const char *policy_verdict_str(enum policy_verdict v)
{
	switch (v) {
	case POLICY_ALLOW:
		return "allow";
	case POLICY_DENY_BUILTIN:
		return "deny-builtin";
	case POLICY_DENY_LIST:
		return "deny-list";
	case POLICY_DENY_PORT:
		return "deny-port";
	}
	return "?";
}
