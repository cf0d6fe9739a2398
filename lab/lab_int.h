/* What the one-shot lab (lab.c) and the standing labs (labs.c) share, and
 * nobody outside lab/ includes: a lab's names and paths, the network
 * (net.c), the edge and the probe (edge.c). A lab is identified by an id,
 * its PID for the one-shot lab and its name for a standing one; its
 * namespaces are edgelab-ID-outside, edgelab-ID-fw and edgelab-ID-edge, and
 * everything else lives in its directory:
 *
 *   DIR/edge/         the edge's: edge.conf, pki/, control.sock
 *   DIR/probe/        the probe's: the CA, partner.*, controller.*
 *   DIR/lab.log       what the lab's commands printed
 *   DIR/edge.log      what `edgelab serve` printed (the one-shot lab: lab.log)
 *   DIR/rules.nft     the generated policy, when that is what fw has */
#ifndef EDGELAB_LAB_LAB_INT_H
#define EDGELAB_LAB_LAB_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lab/fed.h"
#include "lab/lab.h"
#include "lab/ruleset.h"

enum lab_role { LAB_OUTSIDE, LAB_FW, LAB_EDGE, LAB_ROLES };

#define LAB_PATH_MAX 160

struct lab_env {
	const char *self; /* the edgelab binary run in the namespaces */
	bool verbose;
	char ns[LAB_ROLES][64];
	char dir[96];
	char edge_dir[LAB_PATH_MAX], probe_dir[LAB_PATH_MAX];
	char ctl[LAB_PATH_MAX], log[LAB_PATH_MAX], edge_log[LAB_PATH_MAX];
	char conf[LAB_PATH_MAX], pki[LAB_PATH_MAX], rules[LAB_PATH_MAX];
	/* What the generated policy names: the edge (LAB_EDGE_ADDR) and its DNS
	 * server ("": none); the federation lab sets its sites' own. */
	char edge_addr[48], dns_addr[48];
	char av_addr[48]; /* the A/V edge's TCP 443 (rules.h av_edge); "" none */
	bool counters;    /* the generated policy counts (rules.h) */
};

/* A command (argv as the arguments) run by proc_run in namespace ns (NULL:
 * the host's), its output in the lab's log. */
#define LAB_RUN(e, ns, err, len, ...)                                                              \
	proc_run((ns), (char *const[]){__VA_ARGS__, NULL}, (e)->log, (err), (len))

/* "outside", "fw", "edge"; lab_role_parse: 0 or EINVAL. */
const char *lab_role_name(enum lab_role role);
int lab_role_parse(const char *name, enum lab_role *role);

/* Names and paths only: nothing is made. */
void lab_env_init(struct lab_env *e, const char *self, const char *id, const char *dir,
                  bool verbose);
/* "lab: ..." on stderr when verbose. */
void lab_say(const struct lab_env *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether /run/netns/NAME exists. */
bool lab_ns_exists(const char *name);

/* net.c: the namespaces, their links and addresses (lab/lab.h), fw
 * forwarding and the edge's ephemeral port range. 0 or an errno (err
 * says which command failed). */
int lab_net_build(const struct lab_env *e, char *err, size_t len);
/* Deletes whichever of the lab's namespaces exist (their links go with
 * them), after ending what runs in them; quiet (a failure is in the log),
 * safe on a half-built lab. Returns how many were deleted. */
int lab_net_destroy(const struct lab_env *e);
/* Whether any of the lab's namespaces exists; its name into which. */
bool lab_net_any(const struct lab_env *e, char *which, size_t cap);

/* The firewall: rs (n files, resolved: lab/ruleset.h) as they are, or,
 * with n == 0, the generated policy (`edgelab rules --lab`, with these
 * rows dropped or rejected). */
int lab_fw_load(const struct lab_env *e, const struct ruleset *rs, size_t n, unsigned drop_mask,
                unsigned reject_mask, char *err, size_t len);

/* edge.c: writes the edge's PKI and config (canaries unless no_canaries)
 * and starts `edgelab serve` in the edge namespace (detached: in a session
 * of its own, to outlive the caller); *pid is set at once, so that the
 * caller can record it before waiting. */
int lab_edge_spawn(const struct lab_env *e, bool no_canaries, bool detach, pid_t *pid, char *err,
                   size_t len);
/* Waits for the edge's /healthz (10 s at most); *pid becomes 0 when the
 * edge exited (and was reaped). */
int lab_edge_wait_ready(const struct lab_env *e, pid_t *pid, char *err, size_t len);
/* GET /healthz over the edge's control socket: true on a 200. */
bool lab_edge_healthy(const struct lab_env *e);

/* Runs `edgelab probe` in outside with the edge's directory hidden; its
 * report goes to stdout. 0 and the probe's exit status, or an errno. */
int lab_probe_run(const struct lab_env *e, const struct lab_probe_args *a, int *status, char *err,
                  size_t len);

/* assess.c: `edgelab assess` from outside with args after its own (server,
 * the lab's TURN user, the reflector), the reflector in the edge's
 * namespace on LAB_REFLECTOR_PORT; assess's report on stdout. 0 with its
 * exit status, or an errno with err saying why. */
int lab_assess_run(const struct lab_env *e, char *const args[], size_t nargs, int *status,
                   char *err, size_t len);
/* impair.c: the impairment of fw's two directions, in (outside to edge)
 * and out: the impairer restarted and the NFQUEUE rules put in fw for the
 * directions impaired (none: both gone). 0 or an errno with err written.
 * lab_impair_read: what the lab has now (off when nothing). */
struct impair_spec;
int lab_impair_apply(const struct lab_env *e, const struct impair_spec *in,
                     const struct impair_spec *out, char *err, size_t len);
int lab_impair_read(const struct lab_env *e, struct impair_spec *in, struct impair_spec *out);
/* The lab TURN user's password, from the edge's config (edge.c writes it). */
int lab_turn_password(const struct lab_env *e, char *pass, size_t cap);

/* labs_state.c: a standing lab's DIR/state file, `key value` lines. A
 * process is recorded by its PID and start time (proc_start_time), so that
 * `down` stops exactly it; 0, 0: none (yet). */
struct lab_proc_rec {
	long pid;
	unsigned long long start;
};
#define LAB_STATE_EDGES 2 /* a federation's two; a single-site lab uses the first */
struct lab_state {
	long created;           /* time() when `up` began */
	bool federation;        /* `topology federation`; a file without the key: single-site */
	struct lab_proc_rec up; /* the `lab up` that builds it */
	struct lab_proc_rec serve[LAB_STATE_EDGES]; /* the edge; a federation's A and B */
	struct lab_proc_rec dns;                    /* a federation's dnsmasq */
	bool ready;                                 /* `up` finished */
	char rules[LAB_STATE_EDGES][200]; /* what fw has, in words; a federation's fw A, fw B */
	char faults[120];                 /* a federation's, by name ("none") */
};
/* 0, ENOENT (no state file) or EINVAL (not a state file). */
int lab_state_read(const char *dir, struct lab_state *s);
/* Written to a temporary file and renamed: a reader sees the old state or
 * the new one. 0 or errno. */
int lab_state_write(const char *dir, const struct lab_state *s);
/* Marks the lab's state ready (`up` finished). 0 or errno. */
int lab_state_set_ready(const char *dir);
/* Whether the process is still the one recorded. */
bool lab_state_alive(const struct lab_proc_rec *p);
/* r from a process just started (0 pid: none). */
void lab_state_record(struct lab_proc_rec *r, long pid);
/* Stops a recorded process if it is still that one: SIGTERM, then SIGKILL
 * after grace_ms (reaped when it is our child). */
void lab_state_stop(const struct lab_proc_rec *p, unsigned grace_ms);
/* What fw has, in words, for `lab list`: the files (their format), the
 * scenario's name, or "generated policy" with its --drop/--reject rows. */
void lab_state_describe_rules(const struct ruleset *rs, size_t n, const char *scenario,
                              unsigned drop_mask, unsigned reject_mask, char *buf, size_t cap);

/* labs_list.c: whether the standing lab called name is a federation lab
 * (its state says so; without one, its inet namespace is there); whether
 * name is X-a or X-b of a federation lab X, whose namespaces a lab called
 * name would have. */
bool labs_is_federation(const char *name);
bool labs_fed_member(const char *name);

/* labs_fed.c: the standing federation lab's `up` in dir (claimed, with
 * its first state written): fw's rules in words into the state, then
 * lab_fed_up as a standing lab, then ready. On failure nothing is left
 * (the directory neither). 0 or an errno with err. */
int labs_fed_up(const struct lab_fed_opts *o, const char *name, const char *dir, char *err,
                size_t len);
/* Whether any of a federation lab's namespaces for name exists (its name
 * into which); deletes those that exist (after ending what runs in them)
 * and returns how many it deleted. */
bool labs_fed_any(const char *name, char *which, size_t cap);
int labs_fed_destroy(const char *name);

/* The lab's directory and everything in it; best effort. */
void lab_remove_tree(const char *dir);
/* Prints a log file to stderr, indented, under its name. */
void lab_print_log(const char *path);
/* Whether a line of the log at path starts with prefix within ms (a
 * process started detached says it is ready so). */
bool lab_log_wait(const char *path, const char *prefix, unsigned ms);

#endif
