/* The internet's DNS server: dnsmasq, authoritative (answers carry the AA
 * bit; other names are REFUSED) for both sites' domains. dnsmasq because
 * it is one small binary that the tests already use, takes its whole zone
 * on the command line (nothing to write or sign) and is up in
 * milliseconds; unbound is a resolver first, and knot would need zone
 * files and a control socket for what two records need here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lab/fed_int.h"
#include "lab/proc.h"

#define DNS_READY_MS 5000
#define ARGS_MAX     24

/* SRV port per site, as the faults have it. */
static const char *srv_port(unsigned faults, int s)
{
	unsigned bit = s ? LAB_FAULT_SRV_PORT_B : LAB_FAULT_SRV_PORT_A;
	return faults & bit ? "5062" : "5061";
}

/* dnsmasq logs "started" once its sockets are bound: its log says it is
 * up without entering the namespace. */
static bool dns_started(const char *log)
{
	char buf[4096] = {0};
	FILE *f = fopen(log, "r");
	if (!f)
		return false;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strstr(buf, "started, version") != NULL;
}

int lab_fed_dns_start(struct lab_fed *f, char *err, size_t len)
{
	char records[LAB_SITES * 3][160], *argv[ARGS_MAX];
	size_t n = 0;
	const char *fixed[] = {"dnsmasq",
	                       "--keep-in-foreground",
	                       "--conf-file=/dev/null",
	                       "--no-resolv",
	                       "--no-hosts",
	                       "--log-facility=-",
	                       "--log-queries",
	                       "--pid-file=",
	                       "--bind-interfaces",
	                       "--listen-address=" LAB_FED_DNS_ADDR,
	                       "--user=root",
	                       "--auth-server=ns.example," LAB_FED_DNS_ADDR,
	                       "--auth-soa=1,hostmaster.example"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		argv[n++] = (char *)fixed[i];
	char zones[LAB_SITES][64];
	for (int s = 0; s < LAB_SITES; s++) {
		const struct lab_fed_site *st = lab_fed_site((enum lab_site)s);
		unsigned no_srv = s ? LAB_FAULT_NO_SRV_B : LAB_FAULT_NO_SRV_A;
		snprintf(zones[s], sizeof(zones[s]), "--auth-zone=%s", st->domain);
		argv[n++] = zones[s];
		char(*r)[160] = &records[3 * s];
		snprintf(r[0], sizeof(r[0]), "--host-record=%s,%s,%s", st->fqdn, st->edge_addr,
		         st->edge_addr6);
		argv[n++] = r[0];
		snprintf(r[1], sizeof(r[1]), "--host-record=%s,%s", st->av_fqdn, st->av_addr);
		argv[n++] = r[1];
		if (f->o->faults & no_srv)
			continue;
		snprintf(r[2], sizeof(r[2]), "--srv-host=_sipfederationtls._tcp.%s,%s,%s,0,100",
		         st->domain, st->fqdn, srv_port(f->o->faults, s));
		argv[n++] = r[2];
	}
	argv[n] = NULL;
	int rc = lab_fed_spawn(f, f->inet_ns, argv, f->dns_log, &f->dns);
	if (rc)
		return snprintf(err, len, "starting dnsmasq: %s", strerror(rc)), rc;
	for (unsigned waited = 0; waited < DNS_READY_MS; waited += 20) {
		int status;
		if (dns_started(f->dns_log))
			return 0;
		if (proc_exited(f->dns, &status)) {
			f->dns = 0;
			return snprintf(err, len, "dnsmasq exited with status %d (%s)", status,
			                f->dns_log),
			       EIO;
		}
		if (proc_interrupted())
			return snprintf(err, len, "interrupted"), EINTR;
		nanosleep(&(struct timespec){.tv_nsec = 20000000L}, NULL);
	}
	return snprintf(err, len, "dnsmasq did not start in %d ms (%s)", DNS_READY_MS, f->dns_log),
	       ETIMEDOUT;
}
