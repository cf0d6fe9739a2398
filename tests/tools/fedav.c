/* fedav: runs fed_av_run (probe/fed_av.h) for the shell tests and prints
 * its result as "key value" lines (ok, stage, hop, why, code, detail, each
 * client's addresses, each direction's counts, seconds, deleted, and the
 * transport: tcp or udp).
 *
 *   fedav [-T] -a EDGE_A -A USER:PASS -b EDGE_B -B USER:PASS [-p PEER_EDGE_A]
 *         [-q PEER_EDGE_B] [-n PACKETS] [-s PAYLOAD] [-t TIMEOUT_MS]
 *
 * -T: the TCP variant, each EDGE the edge's MS-TURN pseudo-TLS listener.
 * EDGE: IP:PORT (3478 when no port; 443 with -T). Exit 0 when every packet arrived
 * intact both ways, 1 otherwise, 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "probe/fed_av.h"

static void print_addr(const char *key, const struct sockaddr_storage *sa)
{
	char s[ADDR_STR_MAX];
	printf("%s %s\n", key,
	       sa->ss_family == AF_UNSPEC ? "none"
	                                  : addr_str((const struct sockaddr *)sa, s, sizeof(s)));
}

static void print_client(const char *p, const struct fed_av_client *c)
{
	char key[64];
	static const char *const names[] = {"local", "mapped", "relayed", "inner_relayed",
	                                    "inner_mapped"};
	const struct sockaddr_storage *v[] = {&c->local, &c->mapped, &c->relayed, &c->inner_relayed,
	                                      &c->inner_mapped};
	for (size_t i = 0; i < sizeof(v) / sizeof(*v); i++) {
		snprintf(key, sizeof(key), "%s.%s", p, names[i]);
		print_addr(key, v[i]);
	}
	printf("%s.stray %u\n", p, c->stray);
}

static void print_dir(const char *p, const struct fed_av_dir *d)
{
	printf("%s.sent %u\n%s.received %u\n%s.intact %u\n%s.corrupt %u\n%s.duplicate %u\n"
	       "%s.out_of_order %u\n%s.lost %u\n%s.seconds %.3f\n",
	       p, d->sent, p, d->received, p, d->intact, p, d->corrupt, p, d->duplicate, p,
	       d->out_of_order, p, d->lost, p, d->seconds);
}

/* "USER:PASS" into the side (the strings stay argv's). */
static int credentials(char *s, struct fed_av_side *side)
{
	char *colon = strchr(s, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	side->user = s;
	side->pass = colon + 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct fed_av_opts o;
	struct fed_av_result r;
	int opt, bad = 0;
	fed_av_opts_default(&o);
	o.a.name = "A";
	o.b.name = "B";
	/* The addresses are parsed after the options: -T decides their
	 * default port. */
	static const char addr_opts[] = "abpq";
	struct sockaddr_storage *addrs[] = {&o.a.edge, &o.b.edge, &o.a.peer_edge, &o.b.peer_edge};
	const char *addr_args[4] = {NULL};
	while ((opt = getopt(argc, argv, "Ta:A:b:B:p:q:n:s:t:")) != -1) {
		switch (opt) {
		case 'T':
			o.tcp = true;
			break;
		case 'a':
		case 'b':
		case 'p':
		case 'q':
			addr_args[strchr(addr_opts, opt) - addr_opts] = optarg;
			break;
		case 'A':
		case 'B':
			bad |= credentials(optarg, opt == 'A' ? &o.a : &o.b);
			break;
		case 'n':
			o.packets = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 's':
			o.payload = (size_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			o.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			bad = 1;
		}
	}
	for (int i = 0; i < 4; i++)
		if (addr_args[i])
			bad |= addr_parse(addr_args[i], o.tcp ? 443 : 3478, addrs[i]);
	if (bad || optind != argc) {
		fprintf(stderr, "usage: fedav [-T] -a EDGE_A -A USER:PASS -b EDGE_B -B USER:PASS "
		                "[-p PEER_EDGE_A] [-q PEER_EDGE_B] [-n PACKETS] [-s PAYLOAD] "
		                "[-t TIMEOUT_MS]\n");
		return 2;
	}
	int rc = fed_av_run(&o, &r);
	printf("transport %s\n", o.tcp ? "tcp" : "udp");
	printf("ok %d\nreturn %d\nstage %s\nhop %s\nwhy %s\ncode %d\ndetail %s\n", r.ok, rc,
	       fed_av_stage_name(r.stage), fed_av_hop_name(r.hop), fed_av_why_name(r.why), r.code,
	       r.detail);
	print_client("a", &r.a);
	print_client("b", &r.b);
	print_dir("a_to_b", &r.a_to_b);
	print_dir("b_to_a", &r.b_to_a);
	printf("seconds %.3f\ndeleted %u\n", r.seconds, r.deleted);
	return r.ok ? 0 : 1;
}
