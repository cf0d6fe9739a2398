/* lab/rules: the firewall policy rendered from the port table. The expected
 * rule texts are written out here by hand, from docs/port-table.md, rather than
 * rebuilt from core/rows.c, so that a wrong table or a wrong renderer shows. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/rows.h"
#include "lab/rules.h"

typedef int (*rules_fn)(FILE *out, const struct rules_opts *o);

#define EDGE4 "198.51.100.10"
#define EDGE6 "2001:db8::10"

static void opts_init(struct rules_opts *o, const char *edge)
{
	memset(o, 0, sizeof(*o));
	assert_int_equal(addr_parse(edge, 0, &o->edge), 0);
}

/* The whole output as a string (caller frees), or NULL when fn failed. */
static char *render(rules_fn fn, const struct rules_opts *o, int *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	*err = fn(f, o);
	assert_int_equal(fclose(f), 0);
	if (*err) {
		free(buf);
		return NULL;
	}
	return buf;
}

static char *render_ok(rules_fn fn, const struct rules_opts *o)
{
	int err;
	char *s = render(fn, o, &err);
	assert_int_equal(err, 0);
	assert_non_null(s);
	return s;
}

/* The line that contains needle, which must occur exactly once. */
static void assert_once(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);
	if (!p)
		fail_msg("missing: %s\n--- in ---\n%s", needle, hay);
	if (strstr(p + 1, needle))
		fail_msg("more than once: %s", needle);
}

static void assert_absent(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("unexpected: %s\n--- in ---\n%s", needle, hay);
}

static const char *const nft_rows4[ROWS_COUNT] = {
    "\t\tip daddr " EDGE4 " tcp dport 5061 accept comment \"row 1: "
    "Access/SIP(MTLS)/TCP/5061 partner -> edge SIP/MTLS\"\n",
    "\t\tip saddr " EDGE4 " tcp dport 5061 accept comment \"row 2: "
    "Access/SIP(MTLS)/TCP/5061 edge -> partner SIP/MTLS\"\n",
    "\t\tip daddr " EDGE4 " tcp dport 443 accept comment \"row 3: "
    "Access/SIP(TLS)/TCP/443 client -> edge SIP/TLS\"\n",
    "\t\tip saddr " EDGE4 " tcp sport 50000-59999 accept comment \"row 4: "
    "A/V/RTP/TCP/50000-59999 edge -> client RTP/TCP\"\n",
    "\t\tip saddr " EDGE4 " udp dport 3478 accept comment \"row 5: "
    "A/V/STUN,MSTURN/UDP/3478 edge -> client STUN/UDP\"\n",
    "\t\tip daddr " EDGE4 " udp dport 3478 accept comment \"row 6: "
    "A/V/STUN,MSTURN/UDP/3478 client -> edge STUN/UDP\"\n",
};

static void test_rules_nft_every_row(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE4);
	char *s = render_ok(rules_write_nft, &o);

	for (int n = 1; n <= ROWS_COUNT; n++) {
		const struct row *r = rows_get(n);
		char comment[160];
		snprintf(comment, sizeof(comment), "comment \"row %d: %s %s\"", n, r->role,
		         r->flow);
		assert_once(s, comment);
		assert_once(s, nft_rows4[n - 1]);
	}
	assert_absent(s, "reject");
	free(s);
}

/* The table is replaced alone; state rules come before every row rule. */
static void test_rules_nft_structure(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE4);
	char *s = render_ok(rules_write_nft, &o);

	assert_absent(s, "flush"); /* other tables on the box stay */
	assert_non_null(strstr(s, "\ntable inet edgelab\ndelete table inet edgelab\n"
	                          "table inet edgelab {\n\tchain forward {\n"
	                          "\t\ttype filter hook forward priority filter; policy drop;\n"));
	const char *est = strstr(s, "\t\tct state established,related accept\n");
	const char *inv = strstr(s, "\t\tct state invalid drop\n");
	const char *first = strstr(s, "comment \"row 1:");
	assert_non_null(est);
	assert_non_null(inv);
	assert_non_null(first);
	assert_true(est < inv && inv < first);
	size_t len = strlen(s);
	assert_true(len > 5 && strcmp(s + len - 5, "\t}\n}\n") == 0);
	free(s);
}

static void test_rules_nft_drop_reject(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE4);
	o.drop_mask = 1u << 3;
	o.reject_mask = (1u << 1) | (1u << 6);
	char *s = render_ok(rules_write_nft, &o);

	assert_absent(s, "tcp dport 443");
	assert_once(s, "# row 3: Access/SIP(TLS)/TCP/443 client -> edge SIP/TLS: left out");
	assert_once(s, "ip daddr " EDGE4 " tcp dport 5061 reject with tcp reset comment \"row 1:");
	assert_once(s, "ip daddr " EDGE4 " udp dport 3478 reject with icmpx type "
	               "port-unreachable comment \"row 6:");
	assert_once(s, nft_rows4[1]);
	assert_once(s, nft_rows4[3]);
	assert_once(s, nft_rows4[4]);
	free(s);
}

static void test_rules_nft_ipv6(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE6);
	o.reject_mask = 1u << 5;
	char *s = render_ok(rules_write_nft, &o);

	assert_absent(s, "ip daddr");
	assert_absent(s, "ip saddr");
	assert_once(s, "\t\tip6 daddr " EDGE6 " tcp dport 5061 accept comment \"row 1:");
	assert_once(s, "\t\tip6 saddr " EDGE6 " tcp sport 50000-59999 accept comment \"row 4:");
	assert_once(s, "\t\tip6 saddr " EDGE6 " udp dport 3478 reject with icmpx type "
	               "port-unreachable comment \"row 5:");
	free(s);
}

/* What crosses the router is IPv4: a mapped edge must be written as one. */
static void test_rules_nft_v4mapped(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, "::ffff:" EDGE4);
	char *s = render_ok(rules_write_nft, &o);
	for (int n = 0; n < ROWS_COUNT; n++)
		assert_once(s, nft_rows4[n]);
	assert_absent(s, "ip6");
	free(s);
}

static void test_rules_nft_table_name(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE4);
	o.table = "el_lab-2";
	char *s = render_ok(rules_write_nft, &o);
	assert_non_null(strstr(s, "\ntable inet el_lab-2\ndelete table inet el_lab-2\n"
	                          "table inet el_lab-2 {\n"));
	assert_absent(s, "inet edgelab");
	free(s);
}

/* --lab: every row also names fw's interfaces, in its own direction. */
static void test_rules_interfaces(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE4);
	o.outside_if = "outside0";
	o.edge_if = "edge0";
	char *s = render_ok(rules_write_nft, &o);
	assert_once(s, "\t\tiifname \"outside0\" oifname \"edge0\" ip daddr " EDGE4
	               " tcp dport 5061 accept comment \"row 1:");
	assert_once(s, "\t\tiifname \"edge0\" oifname \"outside0\" ip saddr " EDGE4
	               " tcp dport 5061 accept comment \"row 2:");
	assert_once(s, "\t\tiifname \"edge0\" oifname \"outside0\" ip saddr " EDGE4
	               " tcp sport 50000-59999 accept");
	assert_once(s, "# Interfaces: outside0 faces the outside, edge0 the edge");
	free(s);
	s = render_ok(rules_write_iptables, &o);
	assert_once(s,
	            "-A FORWARD -i outside0 -o edge0 -d " EDGE4 "/32 -p udp -m udp --dport 3478 ");
	assert_once(s,
	            "-A FORWARD -i edge0 -o outside0 -s " EDGE4 "/32 -p udp -m udp --dport 3478 ");
	free(s);
	/* Both or neither, and names the tools take unquoted. */
	o.edge_if = NULL;
	assert_int_equal(rules_opts_check(&o), EINVAL);
	static const char *const bad[] = {"", "a b", "x\"y", "sixteen-chars-xx", "a;b"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o.edge_if = bad[i];
		assert_int_equal(rules_opts_check(&o), EINVAL);
	}
	o.edge_if = "fifteen-chars-x";
	assert_int_equal(rules_opts_check(&o), 0);
}

static void test_rules_bad_opts(void **state)
{
	(void)state;
	static const char *const bad_tables[] = {
	    "", "1abc", "-x", "a b", "a;b", "a\"b", "abcdefghijklmnopqrstuvwxyz0123456"};
	struct rules_opts o;
	int err;

	opts_init(&o, EDGE4);
	assert_int_equal(rules_opts_check(&o), 0);
	assert_int_equal(rules_opts_check(NULL), EINVAL);
	for (size_t i = 0; i < sizeof(bad_tables) / sizeof(bad_tables[0]); i++) {
		o.table = bad_tables[i];
		assert_int_equal(rules_opts_check(&o), EINVAL);
		assert_null(render(rules_write_nft, &o, &err));
		assert_int_equal(err, EINVAL);
	}
	o.table = "abcdefghijklmnopqrstuvwxyz012345"; /* RULES_TABLE_MAX exactly */
	assert_int_equal(rules_opts_check(&o), 0);
	o.table = NULL;
	o.drop_mask = o.reject_mask = 1u << 2; /* both at once */
	assert_int_equal(rules_opts_check(&o), EINVAL);
	o.reject_mask = 0;
	o.drop_mask = 1u << (ROWS_COUNT + 1); /* no such row */
	assert_null(render(rules_write_iptables, &o, &err));
	assert_int_equal(err, EINVAL);
	o.drop_mask = 1u; /* bit 0 is no row */
	assert_int_equal(rules_opts_check(&o), EINVAL);
	o.drop_mask = 0;
	o.edge.ss_family = AF_UNIX;
	assert_int_equal(rules_opts_check(&o), EINVAL);
	assert_int_equal(rules_write_nft(NULL, &o), EINVAL);
}

static const char *const ipt_rows4[ROWS_COUNT] = {
    "\n-A FORWARD -d " EDGE4 "/32 -p tcp -m tcp --dport 5061 -m comment --comment \"row 1: "
    "Access/SIP(MTLS)/TCP/5061 partner -> edge SIP/MTLS\" -j ACCEPT\n",
    "\n-A FORWARD -s " EDGE4 "/32 -p tcp -m tcp --dport 5061 -m comment --comment \"row 2: "
    "Access/SIP(MTLS)/TCP/5061 edge -> partner SIP/MTLS\" -j ACCEPT\n",
    "\n-A FORWARD -d " EDGE4 "/32 -p tcp -m tcp --dport 443 -m comment --comment \"row 3: "
    "Access/SIP(TLS)/TCP/443 client -> edge SIP/TLS\" -j ACCEPT\n",
    "\n-A FORWARD -s " EDGE4 "/32 -p tcp -m tcp --sport 50000:59999 -m comment --comment "
    "\"row 4: A/V/RTP/TCP/50000-59999 edge -> client RTP/TCP\" -j ACCEPT\n",
    "\n-A FORWARD -s " EDGE4 "/32 -p udp -m udp --dport 3478 -m comment --comment \"row 5: "
    "A/V/STUN,MSTURN/UDP/3478 edge -> client STUN/UDP\" -j ACCEPT\n",
    "\n-A FORWARD -d " EDGE4 "/32 -p udp -m udp --dport 3478 -m comment --comment \"row 6: "
    "A/V/STUN,MSTURN/UDP/3478 client -> edge STUN/UDP\" -j ACCEPT\n",
};

static void test_rules_iptables_every_row(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE4);
	char *s = render_ok(rules_write_iptables, &o);

	for (int n = 0; n < ROWS_COUNT; n++)
		assert_once(s, ipt_rows4[n]);
	const char *filter = strstr(s, "\n*filter\n:FORWARD DROP [0:0]\n"
	                               "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED "
	                               "-j ACCEPT\n"
	                               "-A FORWARD -m conntrack --ctstate INVALID -j DROP\n");
	assert_non_null(filter);
	assert_true(filter < strstr(s, "row 1:"));
	size_t len = strlen(s);
	assert_true(len > 8 && strcmp(s + len - 8, "\nCOMMIT\n") == 0);
	assert_absent(s, "REJECT");
	free(s);
}

static void test_rules_iptables_drop_reject(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE4);
	o.drop_mask = (1u << 2) | (1u << 4);
	o.reject_mask = (1u << 3) | (1u << 5);
	char *s = render_ok(rules_write_iptables, &o);

	assert_absent(s, "-A FORWARD -s " EDGE4 "/32 -p tcp");
	assert_once(s, "\n# row 2: Access/SIP(MTLS)/TCP/5061 edge -> partner SIP/MTLS: left out");
	assert_once(s, "\n# row 4: A/V/RTP/TCP/50000-59999 edge -> client RTP/TCP: left out");
	assert_once(s, "--dport 443 -m comment --comment \"row 3: Access/SIP(TLS)/TCP/443 "
	               "client -> edge SIP/TLS\" -j REJECT --reject-with tcp-reset\n");
	assert_once(s, "-s " EDGE4 "/32 -p udp -m udp --dport 3478 -m comment --comment \"row 5: "
	               "A/V/STUN,MSTURN/UDP/3478 edge -> client STUN/UDP\" -j REJECT "
	               "--reject-with icmp-port-unreachable\n");
	assert_once(s, ipt_rows4[0]);
	assert_once(s, ipt_rows4[5]);
	free(s);
}

static void test_rules_iptables_ipv6(void **state)
{
	(void)state;
	struct rules_opts o;
	opts_init(&o, EDGE6);
	o.reject_mask = 1u << 6;
	char *s = render_ok(rules_write_iptables, &o);

	assert_once(s, "ip6tables-restore FILE");
	assert_once(s, "\n-A FORWARD -d " EDGE6 "/128 -p tcp -m tcp --dport 5061 ");
	assert_once(s, "\n-A FORWARD -d " EDGE6 "/128 -p udp -m udp --dport 3478 -m comment "
	               "--comment \"row 6: A/V/STUN,MSTURN/UDP/3478 client -> edge STUN/UDP\" "
	               "-j REJECT --reject-with icmp6-port-unreachable\n");
	assert_absent(s, "/32");
	free(s);
}

/* The DNS rule: after the rows, in both formats; a server of the other
 * family than the edge is refused. */
static void test_rules_dns(void **state)
{
	struct rules_opts o;
	int err;
	(void)state;
	opts_init(&o, EDGE4);
	assert_int_equal(addr_parse("192.0.2.53", 0, &o.dns), 0);
	char *s = render_ok(rules_write_nft, &o);
	assert_once(s, "\t\tip saddr " EDGE4 " ip daddr 192.0.2.53 meta l4proto { tcp, udp } th "
	               "dport 53 accept comment \"not a port-table row");
	assert_true(strstr(s, "th dport 53") > strstr(s, "row 6:"));
	free(s);
	s = render_ok(rules_write_iptables, &o);
	assert_once(s, "-A FORWARD -s " EDGE4 "/32 -d 192.0.2.53/32 -p udp -m udp --dport 53 ");
	assert_once(s, "-A FORWARD -s " EDGE4 "/32 -d 192.0.2.53/32 -p tcp -m tcp --dport 53 ");
	free(s);
	assert_int_equal(addr_parse("2001:db8::53", 0, &o.dns), 0);
	assert_null(render(rules_write_nft, &o, &err));
	assert_int_equal(err, EINVAL);
	opts_init(&o, EDGE4);
	s = render_ok(rules_write_nft, &o);
	assert_absent(s, "dport 53");
	free(s);
}

/* The A/V edge's TCP 443 rule: inbound, after the rows, in both formats,
 * with the lab's interfaces when they are named; the other family is
 * refused. */
static void test_rules_av_edge(void **state)
{
	struct rules_opts o;
	int err;
	(void)state;
	opts_init(&o, EDGE4);
	o.outside_if = "outside0";
	o.edge_if = "edge0";
	assert_int_equal(addr_parse("192.0.2.11", 0, &o.av_edge), 0);
	char *s = render_ok(rules_write_nft, &o);
	assert_once(s, "\t\tiifname \"outside0\" oifname \"edge0\" ip daddr 192.0.2.11 tcp dport "
	               "443 accept comment \"not a port-table row: MS-TURN over TCP 443");
	assert_true(strstr(s, "192.0.2.11") > strstr(s, "row 6:"));
	free(s);
	s = render_ok(rules_write_iptables, &o);
	assert_once(s, "-A FORWARD -i outside0 -o edge0 -d 192.0.2.11/32 -p tcp -m tcp --dport 443 "
	               "-m comment --comment \"not a port-table row");
	free(s);
	assert_int_equal(addr_parse("2001:db8::11", 0, &o.av_edge), 0);
	assert_null(render(rules_write_nft, &o, &err));
	assert_int_equal(err, EINVAL);
	opts_init(&o, EDGE4);
	s = render_ok(rules_write_nft, &o);
	assert_absent(s, "A/V edge");
	free(s);
}

/* /dev/full accepts the buffered writes and fails the flush: the error
 * must come back, not be lost in the FILE. */
static void test_rules_write_error(void **state)
{
	(void)state;
	struct rules_opts o;
	FILE *f = fopen("/dev/full", "w");
	if (!f)
		skip();
	opts_init(&o, EDGE4);
	assert_int_equal(rules_write_nft(f, &o), ENOSPC);
	clearerr(f);
	assert_int_equal(rules_write_iptables(f, &o), ENOSPC);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rules_nft_every_row),
	    cmocka_unit_test(test_rules_nft_structure),
	    cmocka_unit_test(test_rules_nft_drop_reject),
	    cmocka_unit_test(test_rules_nft_ipv6),
	    cmocka_unit_test(test_rules_nft_v4mapped),
	    cmocka_unit_test(test_rules_nft_table_name),
	    cmocka_unit_test(test_rules_interfaces),
	    cmocka_unit_test(test_rules_bad_opts),
	    cmocka_unit_test(test_rules_iptables_every_row),
	    cmocka_unit_test(test_rules_iptables_drop_reject),
	    cmocka_unit_test(test_rules_iptables_ipv6),
	    cmocka_unit_test(test_rules_dns),
	    cmocka_unit_test(test_rules_av_edge),
	    cmocka_unit_test(test_rules_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
