/* Standing labs: `edgelab lab up` builds a lab (lab/lab.h has the network)
 * and returns, leaving it up for training and debugging until `lab down`.
 * Each lab has a name; its namespaces are edgelab-NAME-outside, -fw and
 * -edge, and its state lives in LABS_ROOT/NAME (lab/lab_int.h has the
 * layout, plus a `state` file). A federation lab (lab/fed.h) is one too:
 * its namespaces are edgelab-NAME-inet, -a-fw, -a-edge, -b-fw and -b-edge,
 * its directory lab/fed_int.h's. Addresses and interface names are the
 * same in every lab (so that one ruleset fits all), and never clash: each
 * lab's are inside its own namespaces; nothing is added to the host's.
 * (A federation lab X's namespaces are those a lab X-a and X-b would have:
 * the one refuses the other.)
 *
 * A lab is found again from its name alone, so `down` works on whatever
 * is left: a lab whose edge died, one whose `up` was killed half-way, one
 * whose namespaces are gone (a reboot empties /run/netns, and /run). */
#ifndef EDGELAB_LAB_LABS_H
#define EDGELAB_LAB_LABS_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "lab/fed.h"
#include "lab/impair_spec.h"
#include "lab/ruleset.h"

#define LABS_ROOT     "/run/edgelab/labs"
#define LABS_NAME_MAX 16 /* [a-z][a-z0-9-]*: a namespace name's middle */
#define LABS_MAX      64 /* labs listed or taken down at once */

/* Whether name is a lab name: 1-LABS_NAME_MAX of a-z 0-9 '-', starting
 * with a letter (so that it is never taken for a one-shot lab's PID). */
bool labs_name_valid(const char *name);

struct labs_up_opts {
	const char *self; /* the edgelab binary */
	const char *name; /* NULL: the first free of lab1, lab2, ... */
	struct ruleset rules[RULESET_FILES_MAX];
	size_t nrules;        /* 0: the generated policy (with the masks), or the scenario's */
	unsigned drop_mask;   /* rows whose rule is left out of the generated policy */
	unsigned reject_mask; /* rows whose rule rejects */
	const char *scenario; /* a training scenario's faulty ruleset (lab/scenario.h) */
	/* fw's impairment (lab/impair.h), in (outside to edge) and out; zero:
	 * none. A single-site lab's. */
	struct impair_spec impair_in, impair_out;
	bool verbose;
	/* A federation lab instead, built with these (their name and dir are
	 * set here); the fields above but self and name are then unused. */
	const struct lab_fed_opts *fed;
};

/* Builds the lab and starts its edge (in a session of its own, so that it
 * stays up; a federation lab: its two edges and dnsmasq). On failure or an interrupt nothing is
 * left behind. 0 with the lab's name in name (LABS_NAME_MAX + 1 bytes), or an errno (EEXIST: a lab
 * of that name is up) with err saying why. */
int labs_up(const struct labs_up_opts *o, char *name, char *err, size_t err_len);

enum labs_health {
	LABS_READY,       /* every namespace there, the edge(s) answering (and dnsmasq up) */
	LABS_EDGE_DOWN,   /* an edge's process is gone */
	LABS_EDGE_SILENT, /* an edge runs but does not answer /healthz */
	LABS_DNS_DOWN,    /* a federation lab's dnsmasq is gone */
	LABS_BUILDING,    /* its `lab up` is still at work */
	LABS_BROKEN,      /* its `lab up` died half-way, or namespaces are missing */
};

struct labs_info {
	char name[LABS_NAME_MAX + 1];
	bool federation; /* lab/fed.h's topology */
	enum labs_health health;
	char why[400];  /* the health in words, with what to do */
	time_t created; /* 0: unknown */
	/* What fw has: "generated policy", "scenario NAME", files; a
	 * federation's "A: ...; B: ...", and its faults when it has some. */
	char rules[560];
};

const char *labs_health_name(enum labs_health h); /* "ready", "edge down", ... */
/* The lab's state; ENOENT when there is no such lab (neither directory nor
 * namespace). */
int labs_info(const char *name, struct labs_info *info);
/* The lab's state when it is ready; else an errno with err saying why
 * (ENOENT no such lab, ESRCH an edge or dnsmasq down, EAGAIN building or
 * broken). */
int labs_ready(const char *name, struct labs_info *info, char *err, size_t err_len);
/* Every lab, by name: directories in LABS_ROOT and namespaces named like
 * a standing lab's. At most max; *n is how many. */
int labs_list(struct labs_info *out, size_t max, size_t *n);

/* Stops the edge (a federation lab: the edges and dnsmasq; only the
 * processes `up` started: PID and start time must match), deletes the
 * namespaces that exist and the directory. A
 * `lab up` still at work on it is interrupted first. 0, or ENOENT when
 * there was nothing of that name. */
int labs_down(const char *name, char *err, size_t err_len);

/* The probe against a ready single-site lab (its report on stdout): 0
 * with the probe's exit status, or an errno with err saying why not (a
 * dead edge: ESRCH; a federation lab, EINVAL: lab/fed.h's lab_fed_open
 * opens one for probe/fed.h). */
struct lab_probe_args;
int labs_probe(const char *name, const char *self, const struct lab_probe_args *a, int *status,
               char *err, size_t err_len);

/* Sets a ready single-site lab's impairment (lab/impair.h); with in and
 * out NULL, only reads it. 0 or an errno with err saying why. */
int labs_impair(const char *name, const char *self, const struct impair_spec *in,
                const struct impair_spec *out, struct impair_spec *now_in,
                struct impair_spec *now_out, char *err, size_t err_len);

/* `edgelab assess` against a ready single-site lab, args after the lab's
 * own (lab/lab_int.h lab_assess_run): 0 with assess's exit status, or an
 * errno with err saying why not (EINVAL: a federation lab). */
int labs_assess(const char *name, const char *self, char *const args[], size_t nargs, int *status,
                char *err, size_t err_len);

/* Replaces fw's ruleset (checked first: a bad one changes nothing); a
 * federation lab's site "a" or "b" (NULL: a single-site lab; EINVAL when
 * that does not fit the lab), whose edges' connections to each other are
 * then cut, so that the next flows go through the new ruleset. A
 * single-site lab's impairment is put back after it (a ruleset may flush
 * every table). */
int labs_set_rules(const char *name, const char *site, struct ruleset *rs, size_t n, char *err,
                   size_t err_len);

/* The lab's namespace for role ("outside", "fw", "edge"; a federation
 * lab's "inet", "a-fw", "a-edge", "b-fw", "b-edge") into ns (64 bytes),
 * for running a command there. 0, EINVAL (no such role: err names the
 * lab's), ENOENT. */
int labs_namespace(const char *name, const char *role, char *ns, size_t ns_len, char *err,
                   size_t err_len);

#endif
