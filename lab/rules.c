#include "lab/rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "core/addr.h"
#include "core/rows.h"
#include "core/textout.h"

/* Bits 1..ROWS_COUNT: the rows a mask may name (bit 0 is unused). */
#define ROWS_MASK_ALL (((1u << (ROWS_COUNT + 1)) - 1) & ~1u)

/* The edge as the rules name it. */
struct edge {
	bool v6;
	char ip[INET6_ADDRSTRLEN];
};

/* An IPv4-mapped IPv6 edge is an IPv4 edge on the wire: the packets the
 * router forwards carry the IPv4 address, so the rules must too. */
static void edge_get(const struct sockaddr_storage *ss, struct edge *e)
{
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in in4;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		memset(&in4, 0, sizeof(in4));
		in4.sin_family = AF_INET;
		memcpy(&in4.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
		e->v6 = false;
		addr_ip_str((const struct sockaddr *)&in4, e->ip, sizeof(e->ip));
		return;
	}
	e->v6 = ss->ss_family == AF_INET6;
	addr_ip_str((const struct sockaddr *)ss, e->ip, sizeof(e->ip));
}

/* Conservative: nft's own identifiers allow more, but its keywords are not
 * quotable in every position of nft 1.0.6's grammar; these always parse. */
static bool table_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > RULES_TABLE_MAX || strspn(s, "0123456789-") > 0)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* A Linux interface name (IFNAMSIZ - 1 characters) that needs no quoting
 * in either tool's syntax. */
static bool ifname_ok(const char *s)
{
	size_t n = strlen(s);
	return n >= 1 && n <= 15 &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Whether a and b are both IPv4 (mapped or not) or both IPv6. */
static bool same_family(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	struct edge x, y;
	if ((a->ss_family != AF_INET && a->ss_family != AF_INET6) ||
	    (b->ss_family != AF_INET && b->ss_family != AF_INET6))
		return false;
	edge_get(a, &x);
	edge_get(b, &y);
	return x.v6 == y.v6;
}

int rules_opts_check(const struct rules_opts *o)
{
	if (!o)
		return EINVAL;
	if (o->edge.ss_family != AF_INET && o->edge.ss_family != AF_INET6)
		return EINVAL;
	if ((o->drop_mask & ~ROWS_MASK_ALL) || (o->reject_mask & ~ROWS_MASK_ALL))
		return EINVAL;
	/* Both at once has no meaning: refuse rather than pick one silently. */
	if (o->drop_mask & o->reject_mask)
		return EINVAL;
	if (o->dns.ss_family && !same_family(&o->dns, &o->edge))
		return EINVAL;
	if (o->av_edge.ss_family && !same_family(&o->av_edge, &o->edge))
		return EINVAL;
	if (o->table && !table_name_ok(o->table))
		return EINVAL;
	if (!o->outside_if != !o->edge_if)
		return EINVAL;
	if (o->outside_if && (!ifname_ok(o->outside_if) || !ifname_ok(o->edge_if)))
		return EINVAL;
	return 0;
}

/* "5061" or "50000<sep>59999". */
static const char *port_range(char *buf, size_t cap, uint16_t min, uint16_t max, char sep)
{
	if (min == max)
		snprintf(buf, cap, "%u", min);
	else
		snprintf(buf, cap, "%u%c%u", min, sep, max);
	return buf;
}

static bool row_has_sport(const struct row *r)
{
	return r->src_port_min != 0;
}

/* Row 4 names every destination port: matching it would add nothing. */
static bool row_has_dport(const struct row *r)
{
	return !(r->dst_port_min <= 1 && r->dst_port_max == 65535);
}

static const char *row_proto(const struct row *r)
{
	return r->transport == ROW_TCP ? "tcp" : "udp";
}

static bool mask_has(unsigned mask, int n)
{
	return (mask >> n) & 1u;
}

/* The line that stands for a row left out, in both formats. */
static void write_dropped(struct out *w, const char *indent, const struct row *r)
{
	out_printf(w, "%s# row %d: %s %s: left out on request, the policy drops it\n", indent,
	           r->number, r->role, r->flow);
}

/* ---- nftables ---- */

/* The interface a row's packets come in on and go out of, or NULL. */
static const char *row_in_if(const struct rules_opts *o, const struct row *r)
{
	return r->direction == ROW_INBOUND ? o->outside_if : o->edge_if;
}

static const char *row_out_if(const struct rules_opts *o, const struct row *r)
{
	return r->direction == ROW_INBOUND ? o->edge_if : o->outside_if;
}

static void nft_row_match(struct out *w, const struct rules_opts *o, const struct edge *e,
                          const struct row *r)
{
	char buf[16];
	const char *proto = row_proto(r);

	if (o->outside_if)
		out_printf(w, "iifname \"%s\" oifname \"%s\" ", row_in_if(o, r), row_out_if(o, r));
	out_printf(w, "%s %s %s", e->v6 ? "ip6" : "ip",
	           r->direction == ROW_INBOUND ? "daddr" : "saddr", e->ip);
	if (row_has_sport(r))
		out_printf(w, " %s sport %s", proto,
		           port_range(buf, sizeof(buf), r->src_port_min, r->src_port_max, '-'));
	if (row_has_dport(r))
		out_printf(w, " %s dport %s", proto,
		           port_range(buf, sizeof(buf), r->dst_port_min, r->dst_port_max, '-'));
	if (!row_has_sport(r) && !row_has_dport(r))
		out_printf(w, " meta l4proto %s", proto);
}

static void nft_row(struct out *w, const struct rules_opts *o, const struct edge *e,
                    const struct row *r, bool reject)
{
	out_printf(w, "\t\t");
	nft_row_match(w, o, e, r);
	if (o->counters)
		out_printf(w, " counter");
	/* REJECTED in the probe means a TCP RST or an ICMP port unreachable;
	 * icmpx picks ICMP or ICMPv6 to suit the packet in an inet table. */
	if (!reject)
		out_printf(w, " accept");
	else if (r->transport == ROW_TCP)
		out_printf(w, " reject with tcp reset");
	else
		out_printf(w, " reject with icmpx type port-unreachable");
	out_printf(w, " comment \"row %d: %s %s\"\n", r->number, r->role, r->flow);
}

#define DNS_COMMENT "not a port-table row: the edge's DNS lookups (partners' SRV records)"

static void nft_dns(struct out *w, const struct rules_opts *o, const struct edge *e)
{
	struct edge dns;
	edge_get(&o->dns, &dns);
	out_printf(w, "\t\t");
	if (o->outside_if)
		out_printf(w, "iifname \"%s\" oifname \"%s\" ", o->edge_if, o->outside_if);
	out_printf(w,
	           "%s saddr %s %s daddr %s meta l4proto { tcp, udp } th dport 53%s accept "
	           "comment \"%s\"\n",
	           e->v6 ? "ip6" : "ip", e->ip, e->v6 ? "ip6" : "ip", dns.ip,
	           o->counters ? " counter" : "", DNS_COMMENT);
}

#define AV_COMMENT                                                                                 \
	"not a port-table row: MS-TURN over TCP 443 (pseudo-TLS) to the A/V edge, from remote "    \
	"clients and federated edges' relays"

static void nft_av_edge(struct out *w, const struct rules_opts *o)
{
	struct edge av;
	edge_get(&o->av_edge, &av);
	out_printf(w, "\t\t");
	if (o->outside_if)
		out_printf(w, "iifname \"%s\" oifname \"%s\" ", o->outside_if, o->edge_if);
	out_printf(w, "%s daddr %s tcp dport 443%s accept comment \"%s\"\n", av.v6 ? "ip6" : "ip",
	           av.ip, o->counters ? " counter" : "", AV_COMMENT);
}

/* Both formats' first lines: what the rules are for, and which interfaces
 * they name, when they do. */
static void write_title(struct out *w, const struct rules_opts *o, const struct edge *e)
{
	out_printf(w,
	           "# edgelab rules: forward policy of the router between the outside and the\n"
	           "# Lync Server 2013 Edge access interface %s:\n"
	           "# one rule per port-table row.\n",
	           e->ip);
	if (o->outside_if)
		out_printf(w,
		           "# Interfaces: %s faces the outside, %s the edge (edgelab lab's fw).\n",
		           o->outside_if, o->edge_if);
}

static void nft_head(struct out *w, const struct rules_opts *o, const struct edge *e,
                     const char *table)
{
	write_title(w, o, e);
	out_printf(w,
	           "# Load with `nft -f FILE`. Only table inet %s is replaced: it is declared\n"
	           "# before the delete so that the delete also works on a box that has no such\n"
	           "# table yet (nft 1.0.6 has no `destroy`). Nothing else is touched: other\n"
	           "# tables on the box are left alone.\n"
	           "table inet %s\n"
	           "delete table inet %s\n"
	           "table inet %s {\n"
	           "\tchain forward {\n"
	           "\t\ttype filter hook forward priority filter; policy drop;\n",
	           table, table, table, table);
	out_printf(w,
	           "\t\t# Replies of allowed flows, and the ICMP errors they cause (port\n"
	           "\t\t# unreachable, PMTU: fragmentation needed / packet too big), are\n"
	           "\t\t# established or related: PMTU discovery works without an ICMP rule\n"
	           "\t\t# of its own, and no other ICMP is opened (not in the port table).\n"
	           "\t\t# IPv6 neighbour discovery is link-local, never forwarded.\n"
	           "\t\tct state established,related%s accept\n"
	           "\t\tct state invalid drop\n",
	           o->counters ? " counter" : "");
}

int rules_write_nft(FILE *out, const struct rules_opts *o)
{
	struct out w = {out, 0};
	struct edge e;
	int err = out ? rules_opts_check(o) : EINVAL;
	if (err)
		return err;
	const char *table = o->table ? o->table : RULES_TABLE_DEFAULT;

	edge_get(&o->edge, &e);
	nft_head(&w, o, &e, table);
	for (int n = 1; n <= ROWS_COUNT; n++) {
		const struct row *r = rows_get(n);
		if (mask_has(o->drop_mask, n))
			write_dropped(&w, "\t\t", r);
		else
			nft_row(&w, o, &e, r, mask_has(o->reject_mask, n));
	}
	if (o->dns.ss_family)
		nft_dns(&w, o, &e);
	if (o->av_edge.ss_family)
		nft_av_edge(&w, o);
	if (o->counters) /* the policy's drops have no counter of their own */
		out_printf(&w, "\t\tcounter comment \"no rule matched: dropped by the policy\"\n");
	out_printf(&w, "\t}\n}\n");
	return out_finish(&w);
}

/* ---- iptables-restore ---- */

static void ipt_row(struct out *w, const struct rules_opts *o, const struct edge *e,
                    const struct row *r, bool reject)
{
	char buf[16];
	const char *proto = row_proto(r);

	out_printf(w, "-A FORWARD");
	if (o->outside_if)
		out_printf(w, " -i %s -o %s", row_in_if(o, r), row_out_if(o, r));
	out_printf(w, " %s %s/%d -p %s -m %s", r->direction == ROW_INBOUND ? "-d" : "-s", e->ip,
	           e->v6 ? 128 : 32, proto, proto);
	if (row_has_sport(r))
		out_printf(w, " --sport %s",
		           port_range(buf, sizeof(buf), r->src_port_min, r->src_port_max, ':'));
	if (row_has_dport(r))
		out_printf(w, " --dport %s",
		           port_range(buf, sizeof(buf), r->dst_port_min, r->dst_port_max, ':'));
	out_printf(w, " -m comment --comment \"row %d: %s %s\"", r->number, r->role, r->flow);
	if (!reject)
		out_printf(w, " -j ACCEPT\n");
	else if (r->transport == ROW_TCP)
		out_printf(w, " -j REJECT --reject-with tcp-reset\n");
	else
		out_printf(w, " -j REJECT --reject-with %s\n",
		           e->v6 ? "icmp6-port-unreachable" : "icmp-port-unreachable");
}

static void ipt_dns(struct out *w, const struct rules_opts *o, const struct edge *e,
                    const char *proto)
{
	struct edge dns;
	edge_get(&o->dns, &dns);
	out_printf(w, "-A FORWARD");
	if (o->outside_if)
		out_printf(w, " -i %s -o %s", o->edge_if, o->outside_if);
	out_printf(
	    w, " -s %s/%d -d %s/%d -p %s -m %s --dport 53 -m comment --comment \"%s\" -j ACCEPT\n",
	    e->ip, e->v6 ? 128 : 32, dns.ip, e->v6 ? 128 : 32, proto, proto, DNS_COMMENT);
}

static void ipt_av_edge(struct out *w, const struct rules_opts *o)
{
	struct edge av;
	edge_get(&o->av_edge, &av);
	out_printf(w, "-A FORWARD");
	if (o->outside_if)
		out_printf(w, " -i %s -o %s", o->outside_if, o->edge_if);
	out_printf(w, " -d %s/%d -p tcp -m tcp --dport 443 -m comment --comment \"%s\" -j ACCEPT\n",
	           av.ip, av.v6 ? 128 : 32, AV_COMMENT);
}

static void ipt_head(struct out *w, const struct rules_opts *o, const struct edge *e)
{
	const char *tool = e->v6 ? "ip6tables-restore" : "iptables-restore";

	write_title(w, o, e);
	out_printf(w,
	           "# Load with `%s FILE`, which replaces the whole filter table\n"
	           "# (`%s --noflush FILE` appends to FORWARD and sets its policy).\n"
	           "# Replies of allowed flows and the ICMP errors they cause (PMTU included)\n"
	           "# are ESTABLISHED or RELATED: no ICMP rule of their own is needed.\n"
	           "*filter\n"
	           ":FORWARD DROP [0:0]\n"
	           "-A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT\n"
	           "-A FORWARD -m conntrack --ctstate INVALID -j DROP\n",
	           tool, tool);
}

int rules_write_iptables(FILE *out, const struct rules_opts *o)
{
	struct out w = {out, 0};
	struct edge e;
	int err = out ? rules_opts_check(o) : EINVAL;
	if (err)
		return err;

	edge_get(&o->edge, &e);
	ipt_head(&w, o, &e);
	for (int n = 1; n <= ROWS_COUNT; n++) {
		const struct row *r = rows_get(n);
		if (mask_has(o->drop_mask, n))
			write_dropped(&w, "", r);
		else
			ipt_row(&w, o, &e, r, mask_has(o->reject_mask, n));
	}
	if (o->dns.ss_family)
		for (int i = 0; i < 2; i++)
			ipt_dns(&w, o, &e, i ? "tcp" : "udp");
	if (o->av_edge.ss_family)
		ipt_av_edge(&w, o);
	out_printf(&w, "COMMIT\n");
	return out_finish(&w);
}
