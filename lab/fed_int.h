/* The federation lab's internals (lab/fed.h), shared by fed*.c and the
 * standing labs' files (labs*.c), which find one by its name. Each
 * site is a struct lab_env (lab_int.h) whose outside namespace is the
 * internet segment, so that the single-site lab's firewall loading and edge
 * health checks serve both sites. Its directory:
 *
 *   DIR/lab.log        what the lab's commands printed
 *   DIR/dns.log        dnsmasq's
 *   DIR/a/, DIR/b/     each site's: edge.conf, pki/, control.sock, edge.log,
 *                      rules.nft (its tls_federation_ca: the other's pki/ca.pem)
 *   DIR/clients/       the clients' CAs (the only thing they hold) */
#ifndef EDGELAB_LAB_FED_INT_H
#define EDGELAB_LAB_FED_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lab/fed.h"
#include "lab/lab_int.h"

struct lab_fed {
	const struct lab_fed_opts *o; /* &own */
	struct lab_fed_opts own;      /* a copy: an opened lab has no caller's */
	char dir[96];
	char inet_ns[64];
	char log[LAB_PATH_MAX], dns_log[LAB_PATH_MAX], clients_dir[LAB_PATH_MAX];
	struct lab_env site[LAB_SITES]; /* ns: inet, S-fw, S-edge */
	char client_ca[LAB_SITES][LAB_PATH_MAX + 16];
	pid_t serve[LAB_SITES];
	pid_t dns;
};

/* fed.c: names and paths of lab id (a PID or a standing lab's name) in
 * dir; nothing is made. f->o is left alone. */
void lab_fed_names(struct lab_fed *f, const char *self, const char *id, const char *dir,
                   bool verbose);
/* Its namespaces' names into ns: inet, a-fw, a-edge, b-fw, b-edge. */
#define LAB_FED_NS 5
void lab_fed_namespaces(const struct lab_fed *f, const char *ns[LAB_FED_NS]);
/* fed_spawn.c: starts a process of the lab's (dnsmasq, an edge) in ns,
 * its output to log: a standing lab's detached and recorded in its state
 * at once (*pid is set before that, for the teardown). 0 or an errno. */
int lab_fed_spawn(struct lab_fed *f, const char *ns, char *const argv[], const char *log,
                  pid_t *pid);

/* fed_net.c: the five namespaces, the bridge, the links, the routes and
 * the counters on the wire; 0 or an errno with err. */
int lab_fed_net_build(const struct lab_fed *f, char *err, size_t len);
/* Deletes whichever namespaces exist, after ending what runs in them;
 * returns how many are left (0: all gone). */
int lab_fed_net_destroy(const struct lab_fed *f);
/* Cuts the TCP connections between the two edges (ss -K in each edge's
 * namespace; best effort): an edge keeps its connection to its partner,
 * and one a fw let through under its old ruleset would carry the next
 * flows past its new one. The edges open new ones when they next need
 * them. */
void lab_fed_net_cut(const struct lab_fed *f);

/* fed_dns.c: dnsmasq in inet, authoritative for both domains, with the
 * faults' records; the dns-silent fault is a drop on the wire (fed_net.c).
 * Waits until it answers. */
int lab_fed_dns_start(struct lab_fed *f, char *err, size_t len);

/* fed_site.c: a site's PKI (its own CA), the federation CA bundle, its
 * config, its firewall, its edge; then waits for both edges. */
int lab_fed_sites_start(struct lab_fed *f, char *err, size_t len);

#endif
