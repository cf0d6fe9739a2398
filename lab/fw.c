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

#define FORWARD_SYSCTL "/proc/sys/net/ipv4/ip_forward"

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
	f->n = 0;
	if (stat(path, &st))
		return snprintf(err, len, "%s: %s", path, strerror(errno)), errno;
	if (!S_ISDIR(st.st_mode)) {
		if (snprintf(f->path[0], PATH_MAX, "%s", path) >= PATH_MAX)
			return snprintf(err, len, "%s: name too long", path), ENAMETOOLONG;
		f->n = 1;
		return 0; /* ruleset_resolve says what is wrong with a FIFO or the like */
	}
	struct dirent **names;
	int count = scandir(path, &names, NULL, alphasort);
	if (count < 0)
		return snprintf(err, len, "%s: %s", path, strerror(errno)), errno;
	int rc = 0;
	for (int i = 0; i < count; i++) {
		if (!rc && names[i]->d_name[0] != '.')
			rc = take_file(path, names[i]->d_name, f, err, len);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Whether sa is an IPv4 address in the /24 of net (dotted quad). */
static bool in_net24(const struct sockaddr *sa, const char *net)
{
	struct in_addr want;
	if (!sa || sa->sa_family != AF_INET || inet_pton(AF_INET, net, &want) != 1)
		return false;
	uint32_t have = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	return (have >> 8) == (ntohl(want.s_addr) >> 8);
}

/* The name of the interface with an address in net's /24 into name. */
static int iface_in(const char *net, char name[IF_NAMESIZE], char *err, size_t len)
{
	struct ifaddrs *all;
	if (getifaddrs(&all))
		return snprintf(err, len, "listing interfaces: %s", strerror(errno)), errno;
	name[0] = '\0';
	for (struct ifaddrs *i = all; i && !name[0]; i = i->ifa_next)
		if (in_net24(i->ifa_addr, net))
			snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
	freeifaddrs(all);
	if (name[0])
		return 0;
	struct in_addr a = {0};
	char prefix[INET_ADDRSTRLEN] = "?";
	if (inet_pton(AF_INET, net, &a) == 1) {
		a.s_addr &= htonl(0xffffff00u);
		inet_ntop(AF_INET, &a, prefix, sizeof(prefix));
	}
	snprintf(err, len,
	         "no interface has an address in %s/24: fw must sit on the lab's outside "
	         "(192.0.2.0/24) and edge (198.51.100.0/24) networks",
	         prefix);
	return ENODEV;
}

/* Renames the interface in net's /24 to want (down, rename, up). */
static int name_iface(const char *net, const char *want, char *err, size_t len)
{
	char have[IF_NAMESIZE];
	int rc = iface_in(net, have, err, len);
	if (rc || strcmp(have, want) == 0)
		return rc;
	if (if_nametoindex(want))
		return snprintf(err, len, "%s is taken by another interface than %s's", want, net),
		       EEXIST;
	rc = proc_run(NULL, (char *const[]){"ip", "link", "set", "dev", have, "down", NULL}, NULL,
	              err, len);
	if (!rc)
		rc = proc_run(
		    NULL,
		    (char *const[]){"ip", "link", "set", "dev", have, "name", (char *)want, NULL},
		    NULL, err, len);
	if (!rc)
		rc = proc_run(NULL,
		              (char *const[]){"ip", "link", "set", "dev", (char *)want, "up", NULL},
		              NULL, err, len);
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
	f = fopen(FORWARD_SYSCTL, "w");
	if (f && fputs("1\n", f) >= 0 && fclose(f) == 0)
		return 0;
	if (f)
		fclose(f);
	return snprintf(err, len,
	                "IPv4 forwarding is off and %s is read-only: start fw with "
	                "net.ipv4.ip_forward=1 (compose: sysctls; docker run: --sysctl)",
	                FORWARD_SYSCTL),
	       EPERM;
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
	int rc = name_iface(LAB_FW_OUTSIDE_ADDR, LAB_FW_OUTSIDE_IF, err, len);
	if (!rc)
		rc = name_iface(LAB_FW_EDGE_ADDR, LAB_FW_EDGE_IF, err, len);
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
