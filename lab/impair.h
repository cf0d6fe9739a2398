/* Impairment of a lab's fw (`lab up --impair`, `lab impair`): each
 * direction of the traffic fw forwards between outside and edge delayed,
 * dropped or reordered as its spec (lab/impair_spec.h) says, by a process
 * in fw's namespace (the impairer) that takes the packets from NFQUEUE
 * before fw's own rules see them. tc netem would do it in the kernel, but
 * kernels are built without it (CONFIG_NET_SCH_NETEM), this project's
 * machines among them; NFQUEUE (CONFIG_NETFILTER_XT_TARGET_NFQUEUE) they
 * have. docs/lab.md. */
#ifndef EDGELAB_LAB_IMPAIR_H
#define EDGELAB_LAB_IMPAIR_H

#include <stddef.h>
#include <stdio.h>

#include "lab/impair_spec.h"

/* The queues: what fw forwards from outside0 to edge0 ("in"), and back. */
#define LAB_IMPAIR_QUEUE_IN  7301
#define LAB_IMPAIR_QUEUE_OUT 7302

/* The impairer, in the current namespace, until SIGTERM or SIGINT; once
 * bound, "impairing: in SPEC; out SPEC" goes to ready (NULL: nowhere), and
 * at the end each direction's counts. 0 or an errno with err written. */
int lab_impairer_run(const struct impair_spec *in, const struct impair_spec *out, FILE *ready,
                     char *err, size_t len);

#endif
