/* lab/fw.h: this host as the lab's fw. */
#include "lab/fw.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/addr.h"
#include "lab/lab.h"
#include "lab/proc.h"
#include "lab/rules.h"

#define FORWARD_SYSCTL  "/proc/sys/net/ipv4/ip_forward"
#define ROUTE_WORDS_MAX 24 /* words of one route line put back; more are dropped */

/* Adds path/name to f when it is a regular file (a subdirectory or a
 * dangling link is not a ruleset). */
static int take_file(const char *path, const char *name, struct lab_fw_files *f, char *err,
                     size_t len)
{
	char file[PATH_MAX];
	struct stat st;
	if (snprintf(file, sizeof(file), "%s/%s", path, name) >= (int)sizeof(file)) {
		snprintf(err, len, "%s/%s: name too long", path, name);
		return ENAMETOOLONG;
	}
	if (stat(file, &st) || !S_ISREG(st.st_mode))
		return 0;
	if (f->n == RULESET_FILES_MAX) {
		snprintf(err, len,
		         "%s: more than %d files (one nft file, or a rules.v4 and a rules.v6)",
		         path, RULESET_FILES_MAX);
		return EINVAL;
	}
	snprintf(f->path[f->n++], PATH_MAX, "%s", file);
	return 0;
}

int lab_fw_files_from(const char *path, struct lab_fw_files *f, char *err, size_t len)
{
	struct stat st;
	int rc = 0;
	f->n = 0;
	f->lab_policy = false;
	if (stat(path, &st)) {
		rc = errno;
		snprintf(err, len, "%s: %s", path, strerror(rc));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (snprintf(f->path[0], PATH_MAX, "%s", path) >= PATH_MAX) {
			snprintf(err, len, "%s: name too long", path);
			return ENAMETOOLONG;
		}
		f->n = 1;
		return 0; /* ruleset_resolve says what is wrong with a FIFO or the like */
	}
	struct dirent **names;
	int count = scandir(path, &names, NULL, alphasort);
	if (count < 0) {
		rc = errno;
		snprintf(err, len, "%s: %s", path, strerror(rc));
		return rc;
	}
	for (int i = 0; i < count; i++) {
		if (strcmp(names[i]->d_name, LAB_FW_POLICY_MARKER) == 0)
			f->lab_policy = true;
		else if (!rc && names[i]->d_name[0] != '.')
			rc = take_file(path, names[i]->d_name, f, err, len);
		free(names[i]);
	}
	free(names);
	if (!rc && f->n == 0 && !f->lab_policy) {
		/* Docker makes an empty directory for a bind mount whose path does
		 * not exist: a typo must not become a green run on our policy. */
		snprintf(err, len,
		         "%s holds no ruleset (a bind mount of a path that does not exist shows "
		         "up as an empty directory); for the lab's policy, say so with a file "
		         "named %s there",
		         path, LAB_FW_POLICY_MARKER);
		rc = ENOENT;
	}
	if (f->n)
		f->lab_policy = false; /* the user's files win over the marker */
	return rc;
}

/* Whether sa is the IPv4 address addr (dotted quad). Exact, not the /24:
 * a Docker host's bridges are in the same networks (.254) and must never
 * be taken for fw's interfaces. */
static bool is_addr(const struct sockaddr *sa, const char *addr)
{
	struct in_addr want;
	return sa && sa->sa_family == AF_INET && inet_pton(AF_INET, addr, &want) == 1 &&
	       ((const struct sockaddr_in *)sa)->sin_addr.s_addr == want.s_addr;
}

/* The name of the interface that has addr into name. */
static int iface_with(const char *addr, const char *network, char name[IF_NAMESIZE], char *err,
                      size_t len)
{
	struct ifaddrs *all;
	if (getifaddrs(&all)) {
		int rc = errno;
		snprintf(err, len, "listing interfaces: %s", strerror(rc));
		return rc;
	}
	name[0] = '\0';
	for (struct ifaddrs *i = all; i && !name[0]; i = i->ifa_next)
		if (is_addr(i->ifa_addr, addr))
			snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
	freeifaddrs(all);
	if (name[0])
		return 0;
	snprintf(err, len,
	         "no interface has %s, fw's address on the lab's %s: fw must sit on both networks "
	         "with the lab's addresses (outside 192.0.2.1/24, edge 198.51.100.1/24)",
	         addr, network);
	return ENODEV;
}

/* The interface's own IPv4 routes that a link going down takes with it
 * (all but the kernel's connected ones, which come back with the link),
 * one per line as `ip -4 -o route show dev IF` prints them (without the
 * device). */
static int routes_of(const char *dev, char *out, size_t out_len, char *err, size_t len)
{
	return proc_run_capture(
	    NULL, (char *const[]){"ip", "-4", "-o", "route", "show", "dev", (char *)dev, NULL}, out,
	    out_len, err, len);
}

/* Puts back each route of saved (routes_of's text) on dev. */
static int routes_restore(const char *dev, char *saved, char *err, size_t len)
{
	char *lines, *words;
	for (char *line = strtok_r(saved, "\n", &lines); line;
	     line = strtok_r(NULL, "\n", &lines)) {
		char *argv[ROUTE_WORDS_MAX + 7] = {"ip", "-4", "route", "replace"};
		size_t n = 4;
		if (strstr(line, "proto kernel"))
			continue;
		for (char *w = strtok_r(line, " \t", &words); w;
		     w = strtok_r(NULL, " \t", &words)) {
			if (strcmp(w, "linkdown") == 0) /* a state, not an attribute */
				continue;
			if (n == ROUTE_WORDS_MAX + 4) {
				snprintf(err, len, "a route of %s is too long to put back", dev);
				return E2BIG;
			}
			argv[n++] = w;
		}
		argv[n++] = "dev";
		argv[n++] = (char *)dev;
		argv[n] = NULL;
		int rc = proc_run(NULL, argv, NULL, err, len);
		if (rc)
			return rc;
	}
	return 0;
}

/* Renames the interface that has addr to want: down, rename, up, and its
 * routes put back (a default route, on a VM, may be how it is reached). */
static int name_iface(const char *addr, const char *network, const char *want, char *err,
                      size_t len)
{
	char have[IF_NAMESIZE], routes[4096];
	int rc = iface_with(addr, network, have, err, len);
	if (rc || strcmp(have, want) == 0)
		return rc;
	if (if_nametoindex(want)) {
		snprintf(err, len, "%s is taken by another interface than %s's", want, addr);
		return EEXIST;
	}
	rc = routes_of(have, routes, sizeof(routes), err, len);
	if (!rc)
		rc = proc_run(NULL, (char *const[]){"ip", "link", "set", "dev", have, "down", NULL},
		              NULL, err, len);
	if (!rc)
		rc = proc_run(
		    NULL,
		    (char *const[]){"ip", "link", "set", "dev", have, "name", (char *)want, NULL},
		    NULL, err, len);
	if (!rc)
		rc = proc_run(NULL,
		              (char *const[]){"ip", "link", "set", "dev", (char *)want, "up", NULL},
		              NULL, err, len);
	if (!rc)
		rc = routes_restore(want, routes, err, len);
	return rc;
}

static int check_forwarding(char *err, size_t len)
{
	char on = '0';
	FILE *f = fopen(FORWARD_SYSCTL, "r");
	if (f) {
		on = (char)fgetc(f);
		fclose(f);
	}
	if (on == '1')
		return 0;
	int rc = 0;
	f = fopen(FORWARD_SYSCTL, "w");
	if (!f)
		rc = errno;
	else if (fputs("1\n", f) < 0 || fclose(f) != 0) /* fclose frees f either way */
		rc = errno ? errno : EIO;
	else
		return 0;
	snprintf(err, len,
	         "IPv4 forwarding is off and cannot be turned on (%s: %s): start fw with "
	         "net.ipv4.ip_forward=1 (compose: sysctls; docker run: --sysctl)",
	         FORWARD_SYSCTL, strerror(rc));
	return rc;
}

/* `edgelab rules --lab`, in memory, as a resolved ruleset. */
static int lab_policy(struct ruleset *rs, char *err, size_t len)
{
	struct rules_opts ro = {.outside_if = LAB_FW_OUTSIDE_IF, .edge_if = LAB_FW_EDGE_IF};
	addr_parse(LAB_EDGE_ADDR, 0, &ro.edge);
	FILE *f = open_memstream(&rs->text, &rs->len);
	if (!f)
		return snprintf(err, len, "out of memory"), ENOMEM;
	int rc = rules_write_nft(f, &ro);
	if (fclose(f) || rc) {
		free(rs->text);
		rs->text = NULL;
		return snprintf(err, len, "writing the lab's policy failed"), rc ? rc : EIO;
	}
	rs->path = "the lab's policy (edgelab rules --lab)";
	rs->fmt = RULESET_NFT;
	return 0;
}

int lab_fw_here(struct ruleset *rs, size_t n, char *err, size_t len)
{
	struct ruleset ours = {0};
	int rc = name_iface(LAB_FW_OUTSIDE_ADDR, "outside network", LAB_FW_OUTSIDE_IF, err, len);
	if (!rc)
		rc = name_iface(LAB_FW_EDGE_ADDR, "edge network", LAB_FW_EDGE_IF, err, len);
	if (!rc)
		rc = check_forwarding(err, len);
	if (!rc && n == 0) {
		rc = lab_policy(&ours, err, len);
		rs = &ours;
		n = 1;
	} else if (!rc) {
		rc = ruleset_resolve(rs, n, err, len);
	}
	if (!rc)
		rc = ruleset_load(NULL, rs, n, err, len);
	ruleset_release(rs, n);
	return rc;
}
