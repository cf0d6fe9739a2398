/* `edgelab lab --topology federation`: two organisations, each an edge
 * behind its own firewall, federating through DNS SRV across an internet
 * segment that also holds their DNS server and a remote client of each.
 * Five network namespaces:
 *
 *   a-edge fw0 198.51.100.10 -- edge0 198.51.100.1 a-fw outside0 192.0.2.1 --+
 *                                                                             |  inet: bridge inet0
 *   b-edge fw0 203.0.113.10  -- edge0 203.0.113.1  b-fw outside0 192.0.2.2 --+  192.0.2.53 DNS,
 *                                                                                .10 alice, .20 bob
 *
 * (documentation ranges, RFC 5737; the edges also get 2001:db8:a::10 and
 * 2001:db8:b::10, published as AAAA records, but the firewalls forward IPv4
 * only and the edges try A records first). Site A is sip.a.example in SIP
 * domain a.example, site B sip.b.example in b.example; each has its own lab
 * CA, and each edge trusts the other's CA for federation only
 * (tls_federation_ca). Each firewall carries `edgelab rules --lab` for its
 * edge plus one DNS rule (rules.h), or the user's ruleset. dnsmasq in inet
 * is authoritative for both domains (_sipfederationtls._tcp SRV, A, AAAA).
 *
 * The internet segment is a bridge, and a table of counters on it (nftables'
 * bridge family) sees every packet between the sites: whether a flow left
 * one site tells which firewall stopped it. This module builds the world
 * and tears it down; the flows and their verdicts are the probe's
 * (probe/fed.h), which runs its clients inside the internet segment. */
#ifndef EDGELAB_LAB_FED_H
#define EDGELAB_LAB_FED_H

#include <stdbool.h>
#include <stddef.h>

#include "lab/ruleset.h"

#define LAB_FED_DNS_ADDR   "192.0.2.53"
#define LAB_FED_ALICE_ADDR "192.0.2.10" /* site A's remote client, alice@a.example */
#define LAB_FED_BOB_ADDR   "192.0.2.20" /* site B's, bob@b.example */
#define LAB_FED_INET_IF    "inet0"      /* the bridge */

enum lab_site { LAB_SITE_A, LAB_SITE_B, LAB_SITES };

/* What the training scenarios break, besides rules (bits). */
enum lab_fed_fault {
	LAB_FAULT_NO_SRV_A = 1u << 0,    /* a.example's SRV record removed */
	LAB_FAULT_NO_SRV_B = 1u << 1,    /* b.example's */
	LAB_FAULT_SRV_PORT_A = 1u << 2,  /* a.example's SRV points at port 5062 */
	LAB_FAULT_SRV_PORT_B = 1u << 3,  /* b.example's */
	LAB_FAULT_DNS_SILENT = 1u << 4,  /* the DNS server drops every query */
	LAB_FAULT_CERT_NAME_A = 1u << 5, /* edge A's certificate issued for a-corp.example */
	LAB_FAULT_CERT_NAME_B = 1u << 6, /* edge B's, for b-corp.example */
};

/* "no-srv-a", "srv-port-b", "dns-silent", "cert-name-b", ... into a bit;
 * 0 or EINVAL. lab_fed_fault_list: the names, comma-separated. */
int lab_fed_fault_parse(const char *name, unsigned *bit);
const char *lab_fed_fault_list(void);
/* The faults' names, comma-separated, into buf ("none" for 0). */
void lab_fed_fault_names(unsigned bits, char *buf, size_t cap);

struct lab_fed_site_opts {
	unsigned drop_mask, reject_mask;         /* rows left out / rejected in our policy */
	struct ruleset rules[RULESET_FILES_MAX]; /* the user's (--rules-a/-b); nrules 0: ours */
	size_t nrules;
};

struct lab_fed_opts {
	const char *self; /* the edgelab binary run in the namespaces */
	struct lab_fed_site_opts site[LAB_SITES];
	unsigned faults; /* enum lab_fed_fault bits */
	bool verbose;    /* say each step */
	/* A standing lab's (lab/labs.h sets them): its name, which names its
	 * namespaces, and its directory, made by the caller with a state file
	 * in it; dnsmasq and the edges are then started detached and recorded
	 * in that state as each starts. NULL: the one-shot lab, named by its
	 * PID, in a directory of its own, its processes its children. */
	const char *name, *dir;
};

/* A site's fixed names and addresses. */
struct lab_fed_site {
	const char *name;      /* "a" */
	const char *title;     /* "A" */
	const char *domain;    /* "a.example" */
	const char *fqdn;      /* "sip.a.example" */
	const char *edge_addr; /* its access address */
	const char *edge_addr6;
	const char *fw_outside, *fw_edge;  /* fw's two addresses */
	const char *dmz;                   /* the edge's /24 */
	const char *user;                  /* its remote client's user */
	const char *client_addr;           /* and where it sits in inet */
	const char *wrong_domain;          /* cert-name fault: what the certificate names */
	const char *turn_user, *turn_pass; /* its edge's turn_user (the A/V clients') */
	/* Its A/V edge's own address, as a Lync A/V edge has: MS-TURN's
	 * pseudo-TLS on TCP 443 (SIP holds 443 on edge_addr), named av_fqdn. */
	const char *av_addr, *av_fqdn;
};
const struct lab_fed_site *lab_fed_site(enum lab_site s);

struct lab_fed;

/* Builds it all: namespaces, DNS, PKI, firewalls, edges (ready when this
 * returns 0). On failure (an errno, err says why; EINTR: interrupted)
 * whatever was built is torn down (a standing lab's directory too) and
 * *fp is NULL. Interrupting signals are blocked from here on (lab/proc.h)
 * until lab_fed_down. */
int lab_fed_up(struct lab_fed **fp, const struct lab_fed_opts *o, char *err, size_t len);
/* Tears down (always to the end, whatever signals come) and frees; NULL is
 * a no-op. Returns how many namespaces could not be deleted. */
int lab_fed_down(struct lab_fed *f);
/* Frees f and leaves the lab up: a standing lab after its `up`, or
 * opened. NULL is a no-op. */
void lab_fed_close(struct lab_fed *f);
/* The standing federation lab called name (lab/labs.h), for its flows:
 * 0 when it is ready (every namespace there, both edges and dnsmasq
 * running, both edges answering), or an errno with err saying why not
 * (ENOENT no such lab, EINVAL a single-site lab, ESRCH a process down,
 * EAGAIN building or broken). Close it with lab_fed_close; `lab down`
 * takes it down. */
int lab_fed_open(const char *name, struct lab_fed **fp, char *err, size_t len);
/* Prints the lab's log, dnsmasq's and the edges' to stderr. */
void lab_fed_print_logs(const struct lab_fed *f);

/* The edge's control socket and the CA of site s's client. */
const char *lab_fed_control(const struct lab_fed *f, enum lab_site s);
const char *lab_fed_client_ca(const struct lab_fed *f, enum lab_site s);

/* What the internet segment saw between the sites (packets), counted on
 * the bridge whatever the firewalls' rules. */
struct lab_fed_wire {
	unsigned long long syn[LAB_SITES];       /* from edge S: TCP SYNs to the other edge */
	unsigned long long synack[LAB_SITES];    /* to edge S: SYN-ACKs from the other edge */
	unsigned long long turn[LAB_SITES];      /* from edge S: UDP to the other edge's 3478 */
	unsigned long long turn_back[LAB_SITES]; /* to edge S: UDP from the other edge's 3478 */
	unsigned long long dns[LAB_SITES];       /* from edge S: queries to the DNS server */
	/* Every TCP packet from edge S to the other edge, and back: what a
	 * connection already up carries (no SYN to count). */
	unsigned long long tcp[LAB_SITES], tcp_back[LAB_SITES];
	/* From edge S: SYNs to the other's A/V TCP 443 (its relay, row 4), and
	 * to edge S: SYN-ACKs from there. */
	unsigned long long av_syn[LAB_SITES], av_synack[LAB_SITES];
};
int lab_fed_wire_read(const struct lab_fed *f, struct lab_fed_wire *w, char *err, size_t len);

/* What site S's fw counted (packets), when it has our policy (with
 * counters, rules.h): each row's rule (the first packet of each new flow),
 * the replies' rule (every later packet of an allowed flow, both ways) and
 * what no rule matched (dropped by the policy). */
struct lab_fed_fw {
	unsigned long long row[7]; /* [1..6] */
	unsigned long long established, dropped;
	unsigned long long av_edge; /* the A/V edge's TCP 443 rule (rules.h av_edge) */
};
/* 0, ENOENT (fw has the user's ruleset: no counters of ours), or an errno
 * with err. */
int lab_fed_fw_read(const struct lab_fed *f, enum lab_site s, struct lab_fed_fw *c, char *err,
                    size_t len);

/* Runs fn in a child process inside the internet segment (the clients'
 * namespace): fn fills out (out_len bytes, handed back to the caller) and
 * returns 0 or an errno. Gives up after timeout_ms (the child is killed:
 * ETIMEDOUT). 0 and out filled, or an errno with err. */
typedef int lab_fed_fn(void *arg, void *out, size_t out_len);
int lab_fed_in_inet(const struct lab_fed *f, lab_fed_fn *fn, void *arg, void *out, size_t out_len,
                    unsigned timeout_ms, char *err, size_t len);

#endif
