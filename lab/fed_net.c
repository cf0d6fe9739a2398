/* The federation lab's network (lab/fed.h has the picture): five
 * namespaces, the internet segment's bridge, the sites' links and routes,
 * and the counters on the wire. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lab/fed_int.h"
#include "lab/proc.h"

#define WIRE_TABLE "edgelab_wire"

static const struct lab_fed_site sites[LAB_SITES] = {
    {"a", "A", "a.example", "sip.a.example", "198.51.100.10", "2001:db8:a::10", "192.0.2.1",
     "198.51.100.1", "198.51.100.0/24", "alice", LAB_FED_ALICE_ADDR, "a-corp.example", "media-a",
     "lab-media-a", "198.51.100.11", "av.a.example"},
    {"b", "B", "b.example", "sip.b.example", "203.0.113.10", "2001:db8:b::10", "192.0.2.2",
     "203.0.113.1", "203.0.113.0/24", "bob", LAB_FED_BOB_ADDR, "b-corp.example", "media-b",
     "lab-media-b", "203.0.113.11", "av.b.example"},
};

const struct lab_fed_site *lab_fed_site(enum lab_site s)
{
	return &sites[s == LAB_SITE_B];
}

#define RUN(f, ns, err, len, ...)                                                                  \
	proc_run((ns), (char *const[]){__VA_ARGS__, NULL}, (f)->log, (err), (len))

static int addr_up(const struct lab_fed *f, const char *ns, const char *cidr, const char *dev,
                   char *err, size_t len)
{
	int rc = RUN(f, ns, err, len, "ip", "addr", "add", (char *)cidr, "dev", (char *)dev);
	if (!rc)
		rc = RUN(f, ns, err, len, "ip", "link", "set", (char *)dev, "up");
	return rc;
}

/* The internet segment: a bridge holding the DNS server's and the clients'
 * addresses, with routes to each site's DMZ through its firewall. */
static int build_inet(const struct lab_fed *f, char *err, size_t len)
{
	char *ns = (char *)f->inet_ns;
	int rc = RUN(f, ns, err, len, "ip", "link", "set", "lo", "up");
	if (!rc)
		rc = RUN(f, ns, err, len, "ip", "link", "add", LAB_FED_INET_IF, "type", "bridge");
	if (!rc)
		rc = addr_up(f, ns, LAB_FED_DNS_ADDR "/24", LAB_FED_INET_IF, err, len);
	for (int s = 0; s < LAB_SITES && !rc; s++) {
		char cidr[32];
		snprintf(cidr, sizeof(cidr), "%s/24", sites[s].client_addr);
		rc = RUN(f, ns, err, len, "ip", "addr", "add", cidr, "dev", LAB_FED_INET_IF);
	}
	return rc;
}

/* Site s: fw's leg on the bridge, the edge's DMZ link, the routes. */
static int build_site(const struct lab_fed *f, int s, char *err, size_t len)
{
	const struct lab_fed_site *st = &sites[s], *other = &sites[!s];
	const struct lab_env *e = &f->site[s];
	char *fw = (char *)e->ns[LAB_FW], *edge = (char *)e->ns[LAB_EDGE],
	     *inet = (char *)f->inet_ns;
	char port[8], cidr[48];
	snprintf(port, sizeof(port), "%s0", st->name);
	int rc = RUN(f, NULL, err, len, "ip", "link", "add", "name", port, "netns", inet, "type",
	             "veth", "peer", "name", LAB_FW_OUTSIDE_IF, "netns", fw);
	if (!rc)
		rc = RUN(f, inet, err, len, "ip", "link", "set", port, "master", LAB_FED_INET_IF,
		         "up");
	snprintf(cidr, sizeof(cidr), "%s/24", st->fw_outside);
	if (!rc)
		rc = addr_up(f, fw, cidr, LAB_FW_OUTSIDE_IF, err, len);
	if (!rc)
		rc = RUN(f, NULL, err, len, "ip", "link", "add", "name", LAB_HOST_FW_IF, "netns",
		         edge, "type", "veth", "peer", "name", LAB_FW_EDGE_IF, "netns", fw);
	snprintf(cidr, sizeof(cidr), "%s/24", st->fw_edge);
	if (!rc)
		rc = addr_up(f, fw, cidr, LAB_FW_EDGE_IF, err, len);
	snprintf(cidr, sizeof(cidr), "%s/24", st->edge_addr);
	if (!rc)
		rc = addr_up(f, edge, cidr, LAB_HOST_FW_IF, err, len);
	snprintf(cidr, sizeof(cidr), "%s/24", st->av_addr);
	if (!rc)
		rc = RUN(f, edge, err, len, "ip", "addr", "add", cidr, "dev", LAB_HOST_FW_IF);
	snprintf(cidr, sizeof(cidr), "%s/64", st->edge_addr6);
	if (!rc) /* nodad: usable at once; nothing else claims it */
		rc = RUN(f, edge, err, len, "ip", "addr", "add", cidr, "dev", LAB_HOST_FW_IF,
		         "nodad");
	if (!rc)
		rc = RUN(f, edge, err, len, "ip", "link", "set", "lo", "up");
	if (!rc)
		rc = RUN(f, edge, err, len, "ip", "route", "add", "default", "via",
		         (char *)st->fw_edge);
	if (!rc)
		rc = RUN(f, fw, err, len, "ip", "route", "add", (char *)other->dmz, "via",
		         (char *)other->fw_outside);
	if (!rc)
		rc = RUN(f, inet, err, len, "ip", "route", "add", (char *)st->dmz, "via",
		         (char *)st->fw_outside);
	if (!rc)
		rc = RUN(f, fw, err, len, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
	/* As in the single-site lab (net.c): the edge's own ports stay out of
	 * the media range. */
	if (!rc)
		rc = RUN(f, edge, err, len, "sysctl", "-q", "-w",
		         "net.ipv4.ip_local_port_range=32768 49999");
	return rc;
}

/* The counters between the sites, in the bridge's own table: forward sees
 * fw to fw, input what reaches the DNS server. Named counters, so that one
 * listing reads them all. */
static int write_wire(const struct lab_fed *f, char *path, size_t cap, char *err, size_t len)
{
	const char *a = sites[0].edge_addr, *b = sites[1].edge_addr;
	snprintf(path, cap, "%s/wire.nft", f->dir);
	FILE *out = fopen(path, "w");
	if (!out)
		return snprintf(err, len, "%s: %s", path, strerror(errno)), errno;
	fprintf(out, "table bridge " WIRE_TABLE " {\n");
	for (int s = 0; s < LAB_SITES; s++)
		fprintf(
		    out,
		    "\tcounter %s_syn {}\n\tcounter %s_synack {}\n\tcounter %s_turn {}\n"
		    "\tcounter %s_turn_back {}\n\tcounter %s_dns {}\n\tcounter %s_tcp {}\n"
		    "\tcounter %s_tcp_back {}\n\tcounter %s_av_syn {}\n\tcounter %s_av_synack {}\n",
		    sites[s].name, sites[s].name, sites[s].name, sites[s].name, sites[s].name,
		    sites[s].name, sites[s].name, sites[s].name, sites[s].name);
	fprintf(out,
	        "\tchain between {\n\t\ttype filter hook forward priority -200; policy accept;\n");
	for (int s = 0; s < LAB_SITES; s++) {
		const char *me = s ? b : a, *it = s ? a : b, *n = sites[s].name;
		fprintf(
		    out,
		    "\t\tip saddr %s ip daddr %s tcp flags & (syn | ack) == syn counter name "
		    "%s_syn\n"
		    "\t\tip saddr %s ip daddr %s tcp flags & (syn | ack) == syn | ack counter name "
		    "%s_synack\n"
		    "\t\tip saddr %s ip daddr %s udp dport 3478 counter name %s_turn\n"
		    "\t\tip saddr %s ip daddr %s udp sport 3478 counter name %s_turn_back\n"
		    "\t\tip saddr %s ip daddr %s meta l4proto tcp counter name %s_tcp\n"
		    "\t\tip saddr %s ip daddr %s meta l4proto tcp counter name %s_tcp_back\n",
		    me, it, n, it, me, n, me, it, n, it, me, n, me, it, n, it, me, n);
		/* The relay's connections to the other's A/V edge (TCP 443). */
		fprintf(out,
		        "\t\tip saddr %s ip daddr %s tcp dport 443 tcp flags & (syn | ack) == syn "
		        "counter name %s_av_syn\n"
		        "\t\tip saddr %s ip daddr %s tcp sport 443 tcp flags & (syn | ack) == syn "
		        "| ack "
		        "counter name %s_av_synack\n",
		        me, sites[!s].av_addr, n, sites[!s].av_addr, me, n);
	}
	fprintf(
	    out,
	    "\t}\n\tchain to_inet {\n\t\ttype filter hook input priority -200; policy accept;\n");
	for (int s = 0; s < LAB_SITES; s++)
		fprintf(out,
		        "\t\tip saddr %s ip daddr " LAB_FED_DNS_ADDR
		        " meta l4proto { tcp, udp } th dport 53 counter name %s_dns\n",
		        sites[s].edge_addr, sites[s].name);
	if (f->o->faults & LAB_FAULT_DNS_SILENT)
		fprintf(
		    out,
		    "\t\tip daddr " LAB_FED_DNS_ADDR
		    " meta l4proto { tcp, udp } th dport 53 drop comment \"fault dns-silent\"\n");
	fprintf(out, "\t}\n}\n");
	if (fclose(out))
		return snprintf(err, len, "%s: write failed", path), EIO;
	return 0;
}

int lab_fed_net_build(const struct lab_fed *f, char *err, size_t len)
{
	char wire[LAB_PATH_MAX + 16];
	int rc = RUN(f, NULL, err, len, "ip", "netns", "add", (char *)f->inet_ns);
	for (int s = 0; s < LAB_SITES && !rc; s++)
		for (int r = LAB_FW; r <= LAB_EDGE && !rc; r++)
			rc = RUN(f, NULL, err, len, "ip", "netns", "add", (char *)f->site[s].ns[r]);
	if (!rc)
		rc = build_inet(f, err, len);
	for (int s = 0; s < LAB_SITES && !rc; s++)
		rc = build_site(f, s, err, len);
	if (!rc)
		rc = RUN(f, f->inet_ns, err, len, "ip", "link", "set", LAB_FED_INET_IF, "up");
	if (!rc)
		rc = write_wire(f, wire, sizeof(wire), err, len);
	if (!rc)
		rc = RUN(f, f->inet_ns, err, len, "nft", "-f", wire);
	return rc;
}

int lab_fed_net_destroy(const struct lab_fed *f)
{
	int left = 0;
	for (int s = 0; s < LAB_SITES; s++)
		lab_net_destroy(&f->site[s]); /* its edge and fw, and inet (the first time) */
	for (int s = 0; s < LAB_SITES; s++)
		for (int r = LAB_FW; r <= LAB_EDGE; r++)
			left += lab_ns_exists(f->site[s].ns[r]);
	return left + lab_ns_exists(f->inet_ns);
}

void lab_fed_net_cut(const struct lab_fed *f)
{
	char err[256];
	for (int s = 0; s < LAB_SITES; s++) /* a failure is in the log */
		RUN(f, f->site[s].ns[LAB_EDGE], err, sizeof(err), "ss", "-K", "-4", "-t", "dst",
		    (char *)sites[!s].edge_addr);
}

/* "counter a_syn {" ... "packets N bytes M" pairs from `nft list counters`. */
static void wire_parse(const char *text, struct lab_fed_wire *w)
{
	for (const char *p = strstr(text, "counter "); p; p = strstr(p + 1, "counter ")) {
		char name[32];
		unsigned long long packets;
		const char *q = strstr(p, "packets ");
		if (sscanf(p, "counter %31s", name) != 1 || !q ||
		    sscanf(q, "packets %llu", &packets) != 1)
			continue;
		for (int s = 0; s < LAB_SITES; s++) {
			static const char *const what[] = {"syn",       "synack", "turn",
			                                   "turn_back", "dns",    "tcp",
			                                   "tcp_back",  "av_syn", "av_synack"};
			unsigned long long *slot[] = {
			    &w->syn[s],       &w->synack[s], &w->turn[s],
			    &w->turn_back[s], &w->dns[s],    &w->tcp[s],
			    &w->tcp_back[s],  &w->av_syn[s], &w->av_synack[s]};
			for (size_t i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
				char want[32];
				snprintf(want, sizeof(want), "%s_%s", sites[s].name, what[i]);
				if (strcmp(name, want) == 0)
					*slot[i] = packets;
			}
		}
	}
}

int lab_fed_wire_read(const struct lab_fed *f, struct lab_fed_wire *w, char *err, size_t len)
{
	char out[8192];
	memset(w, 0, sizeof(*w));
	int rc = proc_run_capture(
	    f->inet_ns,
	    (char *const[]){"nft", "list", "counters", "table", "bridge", WIRE_TABLE, NULL}, out,
	    sizeof(out), err, len);
	if (!rc)
		wire_parse(out, w);
	return rc;
}

/* `nft list chain`'s rule lines: the packets of the counter on each. */
static void fw_parse(const char *text, struct lab_fed_fw *c)
{
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		const char *end = strchr(line, '\n'), *q = strstr(line, "counter packets ");
		unsigned long long packets;
		int row;
		if (!q || (end && q > end) || sscanf(q, "counter packets %llu", &packets) != 1)
			continue;
		const char *row_at = strstr(line, "comment \"row ");
		if (row_at && (!end || row_at < end) &&
		    sscanf(row_at, "comment \"row %d:", &row) == 1 && row >= 1 && row <= 6)
			c->row[row] = packets;
		else if (strstr(line, "to the A/V edge") &&
		         (!end || strstr(line, "to the A/V edge") < end))
			c->av_edge = packets;
		else if (strstr(line, "established,related") &&
		         (!end || strstr(line, "established") < end))
			c->established = packets;
		else if (strstr(line, "no rule matched") &&
		         (!end || strstr(line, "no rule matched") < end))
			c->dropped = packets;
	}
}

int lab_fed_fw_read(const struct lab_fed *f, enum lab_site s, struct lab_fed_fw *c, char *err,
                    size_t len)
{
	char out[16384];
	memset(c, 0, sizeof(*c));
	if (f->o->site[s == LAB_SITE_B].nrules)
		return snprintf(err, len, "fw has your ruleset"), ENOENT;
	int rc = proc_run_capture(
	    f->site[s == LAB_SITE_B].ns[LAB_FW],
	    (char *const[]){"nft", "list", "chain", "inet", "edgelab", "forward", NULL}, out,
	    sizeof(out), err, len);
	if (rc)
		return rc;
	/* Only our counting policy has this line: a ruleset put in by hand
	 * (`lab rules`, `lab exec ... nft`) has counters of its own or none. */
	if (!strstr(out, "no rule matched: dropped by the policy"))
		return snprintf(err, len, "fw does not have our policy"), ENOENT;
	fw_parse(out, c);
	return 0;
}
