/* The TURN relay's peer address policy (docs/security.md):
 * may the relay send to this peer (CreatePermission, ChannelBind, Send,
 * Connect)? Pure: no sockets, no logging, no globals.
 *
 * Order of evaluation, for a peer:
 *  1. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes IPv4 first, so
 *     that ::ffff:127.0.0.1 is judged as 127.0.0.1. Nothing else is
 *     rewritten: IPv4-compatible ::a.b.c.d (deprecated, RFC 4291 2.5.5.1)
 *     is refused as part of ::/96, and NAT64 64:ff9b::/96 (RFC 6052) is
 *     judged as the IPv6 address it is (add a deny rule where a NAT64
 *     translator could reach something the relay must not).
 *  2. Port 0 is refused (POLICY_DENY_PORT); no rule lets it through.
 *  3. An allow rule that covers the address lets it through, whatever deny
 *     rule or built-in denial also covers it ("allow wins"; not longest
 *     prefix: a deny inside an allow cannot punch a hole in it).
 *  4. Built-in denials (POLICY_DENY_BUILTIN): 0.0.0.0/8 (with 0.0.0.0),
 *     127.0.0.0/8, 169.254.0.0/16, 224.0.0.0/4 (multicast), 240.0.0.0/4
 *     (reserved, RFC 1112 4; with 255.255.255.255), ::/96 (::, ::1 and
 *     IPv4-compatible), fe80::/10, ff00::/8. Families other than IPv4 and
 *     IPv6 are refused here too.
 *  5. Deny rules (POLICY_DENY_LIST).
 *  6. Anything else is allowed: public addresses and the private ranges
 *     (10/8, 172.16/12, 192.168/16, fc00::/7), which are lab networks.
 *
 * Checks walk every rule (at most POLICY_RULES_MAX): meant for permission
 * and channel set-up, not for every relayed packet. */
#ifndef EDGELAB_CORE_POLICY_H
#define EDGELAB_CORE_POLICY_H

#include <stdbool.h>
#include <sys/socket.h>

#define POLICY_RULES_MAX 256 /* allow and deny rules together */

struct policy; /* built by policy_alloc + policy_add, then shared const */

enum policy_verdict {
	POLICY_ALLOW,
	POLICY_DENY_BUILTIN,
	POLICY_DENY_LIST,
	POLICY_DENY_PORT,
};

/* A policy with the built-in denials and no rules. 0, EINVAL or ENOMEM. */
int policy_alloc(struct policy **pp);
/* Adds an allow or deny rule: "10.0.0.0/8", "2001:db8::/32", or a host
 * ("192.0.2.7", "::1"). The prefix must have no bits set past its length
 * ("10.0.0.1/8" is refused as a likely typo). A rule inside ::ffff:0:0/96
 * with a length of at least 96 becomes the IPv4 rule it means, as peers are
 * normalised. 0, EINVAL (bad input) or ENOSPC (POLICY_RULES_MAX reached). */
int policy_add(struct policy *p, bool allow, const char *cidr);
void policy_free(struct policy *p);

/* The verdict for peer (an IPv4 or IPv6 sockaddr). normalised, when not
 * NULL, receives the address the verdict is about and that the relay should
 * use: unmapped to IPv4 where it was IPv4-mapped, the port kept; for another
 * family it is zeroed (AF_UNSPEC). A NULL peer or policy is refused
 * (POLICY_DENY_BUILTIN): fail closed. */
enum policy_verdict policy_check(const struct policy *p, const struct sockaddr *peer,
                                 struct sockaddr_storage *normalised);
/* "allow", "deny-builtin", "deny-list", "deny-port" (for logs and reports). */
const char *policy_verdict_str(enum policy_verdict v);

#endif
