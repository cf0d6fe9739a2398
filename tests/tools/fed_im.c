/* fed_im: probe/fed_im.h's fed_im_run for the shell tests. Each user is one
 * option, comma-separated fields:
 *
 *   -a EDGE,FQDN,CA,USER@DOMAIN[,password=P][,skip][,external]
 *   -b the same for the other site's user
 *   -d ab|ba|both   directions (both)
 *   -t MS           timeout of each step (fed_im's default)
 *
 * EDGE is the edge's TLS listener, IP:PORT. skip: connect without REGISTER;
 * external: another client plays the user (EDGE, FQDN and CA may be "-").
 * Prints one line per client and per direction, key=value, the texts
 * quoted, then exits 0 when every direction asked for was delivered, 1
 * when one was not, 2 on bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/addr.h"
#include "probe/fed_im.h"

#define FIELD_MAX 512

struct user_arg {
	char buf[FIELD_MAX];
};

static int usage(void)
{
	fprintf(stderr, "usage: fed_im -a EDGE,FQDN,CA,USER@DOMAIN[,password=P][,skip][,external]\n"
	                "              -b ... [-d ab|ba|both] [-t MS]\n");
	return 2;
}

/* Splits arg (kept in ua) into u; 0 or -1. */
static int parse_user(const char *arg, struct user_arg *ua, struct fed_im_user *u)
{
	char *f[8], *save = NULL;
	size_t n = 0;
	snprintf(ua->buf, sizeof(ua->buf), "%s", arg);
	for (char *t = strtok_r(ua->buf, ",", &save); t && n < 8; t = strtok_r(NULL, ",", &save))
		f[n++] = t;
	if (n < 4)
		return -1;
	for (size_t i = 4; i < n; i++) {
		if (strncmp(f[i], "password=", 9) == 0)
			u->password = f[i] + 9;
		else if (strcmp(f[i], "skip") == 0)
			u->skip_register = true;
		else if (strcmp(f[i], "external") == 0)
			u->external = true;
		else
			return -1;
	}
	char *at = strchr(f[3], '@');
	if (!at)
		return -1;
	*at = '\0';
	u->aor_user = f[3];
	u->domain = at + 1;
	if (u->external)
		return 0;
	u->edge_fqdn = f[1];
	u->ca_file = f[2];
	return addr_parse(f[0], 443, &u->edge) ? -1 : 0;
}

static void print_client(const char *name, const struct fed_im_client *c)
{
	printf("client %s: connected=%d registered=%d status=%d reason=\"%s\" connect_ms=%.2f "
	       "register_ms=%.2f why=\"%s\"\n",
	       name, c->connected, c->registered, c->status, c->reason, c->connect_ms,
	       c->register_ms, c->why);
}

static void print_dir(const char *name, const struct fed_im_dir *d)
{
	printf("%s: ran=%d stage=%s checked=%d status=%d reason=\"%s\" fault=%s hop=%s "
	       "delivery_ms=%.2f rtt_ms=%.2f body=\"%s\" why=\"%s\"\n",
	       name, d->ran, fed_im_stage_name(d->stage), d->checked, d->status, d->reason,
	       fed_im_fault_name(d->fault), fed_im_hop_name(fed_im_fault_hop(d->fault)),
	       d->delivery_ms, d->rtt_ms, d->body, d->why);
}

int main(int argc, char **argv)
{
	struct fed_im_opts o = {0};
	struct user_arg ua, ub;
	bool have_a = false, have_b = false;
	int opt;
	while ((opt = getopt(argc, argv, "a:b:d:t:")) != -1) {
		switch (opt) {
		case 'a':
			if (parse_user(optarg, &ua, &o.a))
				return usage();
			have_a = true;
			break;
		case 'b':
			if (parse_user(optarg, &ub, &o.b))
				return usage();
			have_b = true;
			break;
		case 'd':
			o.directions = strcmp(optarg, "ab") == 0   ? FED_IM_A_TO_B
			               : strcmp(optarg, "ba") == 0 ? FED_IM_B_TO_A
			                                           : FED_IM_BOTH;
			break;
		case 't':
			o.timeout_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		default:
			return usage();
		}
	}
	if (!have_a || !have_b || optind != argc)
		return usage();
	struct fed_im_result r;
	int rc = fed_im_run(&o, &r);
	print_client("a", &r.a);
	print_client("b", &r.b);
	print_dir("a->b", &r.a_to_b);
	print_dir("b->a", &r.b_to_a);
	return rc == 0 ? 0 : rc == EINVAL ? 2 : 1;
}
